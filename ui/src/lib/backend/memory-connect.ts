/**
 * Connect in the in-memory backend, worded as the gateway words it: the rules for the Connect
 * service address, the authorize URL, and every way a sign-in ends (as `sign_in_ended` carries
 * it: a code and the owner-facing message).
 *
 * Invariant: at most one sign-in is pending, as in the shell; a newer one or `connect_cancel`
 * ends the older one with `cancelled`, and every ending is reported exactly once.
 */
import type { BackendError } from './api';
import { DEFAULT_CONNECT_SERVICE } from './memory-state';
import type { Mode, SignInEnded } from './types';

const CLIENT_ID = 'fluxstore-desktop';

function invalid(message: string): BackendError {
  return { code: 'invalid_input', message };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Check a Connect service address: https, or http to this computer only (tokens must not
 * travel in clear). Returns the normalised address or the refusal.
 */
export function checkConnectServiceUrl(text: string): string | BackendError {
  const trimmed = text.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return invalid(`"${trimmed}" is not a web address. Enter the Connect service's address, e.g. ${DEFAULT_CONNECT_SERVICE}.`);
  }
  if ((url.protocol === 'https:' && url.hostname !== '') || (url.protocol === 'http:' && isLoopback(url.hostname)))
    return url.href;
  return invalid(
    'The Connect service address must start with https:// (plain http is allowed only for an address on this computer), so your Stripe tokens never travel unencrypted.',
  );
}

/** The hub address the owner enters, checked as the gateway's `hub_url` does; the href, or an error. */
export function checkHubUrl(text: string): string | BackendError {
  const trimmed = text.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return invalid(`"${trimmed}" is not a web address. Enter the FluxStore hub's address, e.g. ${DEFAULT_CONNECT_SERVICE}.`);
  }
  if ((url.protocol === 'https:' && url.hostname !== '') || (url.protocol === 'http:' && isLoopback(url.hostname)))
    return url.href;
  return invalid(
    'The hub address must start with https:// (plain http is allowed only for an address on this computer): the live feed carries your Stripe access token.',
  );
}

/**
 * The service's authorize page with PKCE, the loopback redirect and the mode asked for (the
 * service picks its platform key by it), as the desktop builds it.
 */
export function authorizeUrl(service: string, state: string, challenge: string, port: number, mode: Mode): string {
  const base = new URL(service);
  base.pathname = `${base.pathname.replace(/\/+$/, '')}/oauth/authorize`;
  base.search = '';
  base.hash = '';
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    redirect_uri: `http://127.0.0.1:${port}/callback`,
    mode,
  });
  return `${base.href}?${query}`;
}

/** A sign-in that did not connect: its code and message. */
export interface Failure {
  code: string;
  message: string;
}

/** An OAuth error's text as the profile shows it: capitalised, ending with a full stop. */
function sentence(text: string): string {
  const s = text.charAt(0).toUpperCase() + text.slice(1);
  return s.endsWith('.') ? s : `${s}.`;
}

export const CANCELLED: Failure = { code: 'cancelled', message: sentence('the connection was cancelled') };
export const TIMED_OUT: Failure = {
  code: 'timed_out',
  message: sentence('the connection was not finished within 5 minutes; start it again'),
};
export const SERVICE_UNREACHABLE: Failure = {
  code: 'service_unreachable',
  message: sentence('the Connect service could not be reached: the connection failed'),
};
/** What Stripe sends back when the owner clicks "Deny" (its `error_description`). */
export const STRIPE_DENIED_DESCRIPTION = 'The user denied your request';

export function denied(description: string): Failure {
  return { code: 'access_denied', message: sentence(`Stripe did not connect the account: ${description}`) };
}

export function wrongMode(got: Mode, asked: Mode): Failure {
  return {
    code: 'invalid_input',
    message: `Stripe connected the account in ${got} mode, but ${asked} mode was asked for, so the connection was not kept. Start again and choose the matching mode.`,
  };
}

export function ended(mode: Mode, outcome: { accountId: string } | Failure): SignInEnded {
  return 'accountId' in outcome
    ? { mode, connected: true, account_id: outcome.accountId, code: null, message: null }
    : { mode, connected: false, account_id: null, code: outcome.code, message: outcome.message };
}
