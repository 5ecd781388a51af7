/**
 * Turning whatever a command rejected with into a `BackendError`.
 *
 * Invariant: the UI only ever sees one of the closed codes; an unknown code or shape becomes
 * `internal` with a message a store owner can act on, never a stack trace.
 */
import { ERROR_CODES, type BackendError, type ErrorCode } from './api';

const KNOWN = new Set<string>(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN.has(value);
}

const FALLBACK = 'Something went wrong inside FluxStore. The details are in the app log.';

export function toBackendError(raw: unknown): BackendError {
  if (raw && typeof raw === 'object') {
    const o = raw as { code?: unknown; message?: unknown };
    const message = typeof o.message === 'string' && o.message.trim() !== '' ? o.message : FALLBACK;
    if (isErrorCode(o.code)) return { code: o.code, message };
    // An unknown code from a newer shell: keep its words, branch as internal.
    if (typeof o.code === 'string') return { code: 'internal', message };
    if (raw instanceof Error) return { code: 'internal', message: FALLBACK };
  }
  if (typeof raw === 'string' && raw.trim() !== '') {
    // Tauri rejects with a bare string when a command is missing or its args do not parse.
    return { code: 'internal', message: FALLBACK };
  }
  return { code: 'internal', message: FALLBACK };
}

/** What the owner can do about each kind of failure (shown under the message). */
export function errorAdvice(code: ErrorCode): string {
  switch (code) {
    case 'offline':
      return 'Check the internet connection and try again. Everything already mirrored stays readable.';
    case 'invalid_key':
      return 'Copy the value again from the Stripe Dashboard (Developers → API keys or Webhooks).';
    case 'invalid_input':
      return 'Nothing was sent. Correct what the message points at and try again.';
    case 'keyring_unavailable':
      return 'Unlock your system keyring (or log in to your desktop session) and try again. Nothing was saved in plain text.';
    case 'not_connected':
      return 'Connect Stripe for this mode first (Payment Gateways).';
    case 'not_found':
      return 'It is not in this mode’s mirror. Check the test/live switch.';
    case 'stripe_error':
      return 'Stripe refused the request. The message above is Stripe’s answer.';
    case 'refused':
      return 'Nothing was sent to Stripe.';
    case 'cancelled':
      return 'Nothing changed. Start again when ready.';
    case 'internal':
      return 'Try again; if it keeps failing, the app log has the details.';
  }
}
