/**
 * A Connect sign-in as the window sees it: which mode is waiting for Stripe (with the authorize
 * URL for copying), and per mode the last attempt's failure with what to do.
 *
 * Invariants: at most one sign-in waits at a time, as in the shell (a second Connect click is
 * refused here rather than silently replacing the first); the waiting state ends only on the
 * shell's `sign_in_ended` for that mode (so Cancel keeps waiting until the shell confirms), or
 * when `connect_start` itself fails; a mode's failure stays until that mode's next attempt.
 */
import type { Backend } from './backend/api';
import { errorAdvice, toBackendError } from './backend/errors';
import type { Mode, SignInEnded } from './backend/types';

export interface Waiting {
  mode: Mode;
  /** Null until `connect_start` answered. */
  authorizeUrl: string | null;
  /** Cancel was asked for; the shell's confirmation has not arrived yet. */
  cancelling: boolean;
}

export interface SignInFailure {
  code: string;
  message: string;
  /** What the owner can do about it. */
  advice: string;
}

const FALLBACK = 'The connection did not complete. The details are in the app log.';

/** What to do after a sign-in ended without connecting, by the code `sign_in_ended` carries. */
export function signInAdvice(code: string | null): string {
  switch (code) {
    case 'access_denied':
      return 'Nothing was connected. Click Connect again when you want to allow FluxStore at Stripe.';
    case 'timed_out':
      return 'Click Connect again and finish on Stripe’s page before the time runs out.';
    case 'cancelled':
      return 'Nothing changed. Click Connect again when you are ready.';
    case 'state_mismatch':
      return 'Nothing was kept. Click Connect again and finish in the browser page it opens.';
    case 'service_unreachable':
      return 'Check the internet connection and the Connect service address (Payment Gateways), then click Connect again.';
    case 'service_refused':
      return 'Check the Connect service address on Payment Gateways, then click Connect again.';
    case 'invalid_input':
      return 'Nothing was kept. Click Connect again and choose the account in the mode you asked for.';
    default:
      return 'Nothing was connected. Click Connect again; if it keeps failing, the app log has the details.';
  }
}

export class SignInFlow {
  waiting = $state<Waiting | null>(null);
  failures = $state<Record<Mode, SignInFailure | null>>({ test: null, live: null });
  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /** Open Stripe's authorize page for `mode` (the shell opens the browser). */
  async start(mode: Mode): Promise<void> {
    if (this.waiting) return;
    this.failures[mode] = null;
    this.waiting = { mode, authorizeUrl: null, cancelling: false };
    try {
      const { authorize_url } = await this.backend.call('connect_start', { mode });
      if (this.waiting?.mode === mode) this.waiting.authorizeUrl = authorize_url;
    } catch (e) {
      const err = toBackendError(e);
      if (this.waiting?.mode === mode) this.waiting = null;
      this.failures[mode] = { code: err.code, message: err.message, advice: errorAdvice(err.code) };
    }
  }

  /** Ask the shell to end the wait; `sign_in_ended` (cancelled) follows and ends it here. */
  async cancel(): Promise<void> {
    if (!this.waiting) return;
    this.waiting.cancelling = true;
    try {
      await this.backend.call('connect_cancel');
    } catch (e) {
      const err = toBackendError(e);
      const mode = this.waiting.mode;
      this.waiting = null;
      this.failures[mode] = { code: err.code, message: err.message, advice: errorAdvice(err.code) };
    }
  }

  /** The shell's `sign_in_ended`. */
  ended(e: SignInEnded): void {
    if (this.waiting?.mode === e.mode) this.waiting = null;
    this.failures[e.mode] = e.connected
      ? null
      : { code: e.code ?? 'internal', message: e.message ?? FALLBACK, advice: signInAdvice(e.code) };
  }
}
