/**
 * Connection state of the in-memory backend, kept the way the shell's store profile keeps it:
 * per mode, which secrets are present (never their values), the account id, the publishable
 * key and the Connect connection's state and reason; the status the UI sees is derived from
 * those facts by the same rules as the profile's `mode_connection`.
 *
 * Invariant: nothing here is shown that the shell would not show — an account status exists
 * only where a fetch or an `account.updated` event put it in the mirror (`accounts`), and a
 * Connect connection counts only while its state is `connected`.
 */
import type {
  AccountStatus,
  ConnectionMethod,
  ConnectService,
  HubFeedStatus,
  Mode,
  ModeConnection,
  SecretInfo,
} from './types';
import { liveThrough, noLiveFeed, type KeyHubRecord } from './memory-keyhub';

/** The name the shell gives the Secret Service keyring (the gateway's `SecretStore`). */
export const KEYRING_NAME = 'Secret Service (GNOME Keyring or KWallet)';
/** The owner's relay listens on 127.0.0.1:8787 like `fluxstore serve`. */
export const RELAY_URL = 'http://127.0.0.1:8787/api/webhooks/stripe';
/** The sample store's relay takes any free port. */
export const SAMPLE_RELAY_URL = 'http://127.0.0.1:41873/api/webhooks/stripe';
export const DEFAULT_CONNECT_SERVICE = 'https://api.fluxstore.net';

export const REASON_OWNER_DISCONNECTED = 'You disconnected FluxStore from Stripe.';
export const REASON_DEAUTHORIZED =
  'FluxStore was disconnected in Stripe (Settings → Connected applications). Connect again to resume.';
export const REASON_TOKEN_REJECTED =
  "Stripe no longer accepts FluxStore's access to this account (it was revoked). Connect again to resume.";

/** One mode's facts, as the profile's settings and the keyring's presence records hold them. */
export interface ModeSettings {
  /** Which API key is in the keyring, if any. */
  apiKey: 'secret_key' | 'restricted_key' | null;
  webhookSecret: boolean;
  /** A Connect access token is in the keyring. */
  token: boolean;
  connectState: 'connected' | 'disconnected' | null;
  connectReason: string | null;
  accountId: string | null;
  publishableKey: string | null;
  /** When the mode became connected (the profile's `connected_since` setting). */
  connectedSince: number | null;
  /** Live updates through the hub are on for this mode's API keys (the profile's `hub.store`). */
  keyHub: KeyHubRecord | null;
}

export interface Connection {
  method: ConnectionMethod | null;
  modes: Record<Mode, ModeSettings>;
  /** The owner's Connect service setting; null: FluxStore's default. */
  connectService: string | null;
  /** The owner's hub setting for the live feed; null: the Connect service. */
  hub: string | null;
  relayUrl: string | null;
}

export function emptyMode(): ModeSettings {
  return {
    apiKey: null,
    webhookSecret: false,
    token: false,
    connectState: null,
    connectReason: null,
    accountId: null,
    publishableKey: null,
    connectedSince: null,
    keyHub: null,
  };
}

export function freshConnection(): Connection {
  return { method: null, modes: { test: emptyMode(), live: emptyMode() }, connectService: null, hub: null, relayUrl: null };
}

/** Where the sample store's key and signing secret are kept (as the shell names it). */
export const SAMPLE_SECRETS = 'Memory (sample store only)';
/** How long ago the sample store was set up (before all its orders), as the shell's. */
export const SAMPLE_SET_UP_AGO = 60 * 86_400;
/** The sample store's Stripe account (the same id in both modes, as at Stripe). */
export const SAMPLE_ACCOUNT = 'acct_1FluxSampleStore';

/**
 * The sample store's own profile: set up with keys in both modes long ago, on its stand-in's
 * account (no keyring: its run-only key and signing secret live in memory), and its relay is
 * running with a per-session signing secret.
 */
export function sampleConnection(now: number): Connection {
  const mode = (): ModeSettings => ({
    ...emptyMode(),
    accountId: SAMPLE_ACCOUNT,
    connectedSince: now - SAMPLE_SET_UP_AGO,
  });
  return { ...freshConnection(), method: 'keys', modes: { test: mode(), live: mode() }, relayUrl: SAMPLE_RELAY_URL };
}

/**
 * The mirror's account status for `mode`: the row of the mode's account when it is known, else
 * the newest row of that mode (what the profile shows before the account id is known, and after
 * a disconnect forgot it: the mirror keeps every row).
 */
export function accountFor(accounts: AccountStatus[], mode: Mode, id: string | null): AccountStatus | null {
  const rows = accounts.filter((a) => a.mode === mode && (id === null || a.account_id === id));
  return rows.sort((x, y) => y.checked_at - x.checked_at)[0] ?? null;
}

/** Record an account's status in the mirror (one row per mode and account). */
export function putAccount(accounts: AccountStatus[], status: AccountStatus): void {
  const i = accounts.findIndex((a) => a.mode === status.mode && a.account_id === status.account_id);
  if (i >= 0) accounts[i] = status;
  else accounts.push(status);
}

/** One mode's connection as the profile derives it from the settings. */
export function modeConnection(s: ModeSettings, mode: Mode, accounts: AccountStatus[]): ModeConnection {
  const secrets: SecretInfo[] = [];
  if (s.apiKey) secrets.push({ kind: s.apiKey, store: KEYRING_NAME });
  if (s.token) secrets.push({ kind: 'connect_token', store: KEYRING_NAME });
  if (s.webhookSecret) secrets.push({ kind: 'webhook_secret', store: KEYRING_NAME });
  const via: ConnectionMethod | null = s.apiKey ? 'keys' : s.token && s.connectState === 'connected' ? 'connect' : null;
  const account = accountFor(accounts, mode, s.accountId);
  return {
    mode,
    connected: via !== null,
    via,
    account_id: s.accountId ?? account?.account_id ?? null,
    publishable_key: s.publishableKey,
    secrets,
    account,
    disconnected_reason: s.connectState === null || s.connectState === 'connected' ? null : s.connectReason,
  };
}

export function connectService(c: Connection): ConnectService {
  return c.connectService === null
    ? { url: DEFAULT_CONNECT_SERVICE, source: 'default' }
    : { url: c.connectService, source: 'setting' };
}

/** Stripe's account status; `complete` means verification is done (charges and payouts on). */
export function accountStatus(now: number, mode: Mode, id: string, complete: boolean): AccountStatus {
  const due = complete ? [] : ['external_account', 'individual.verification.document'];
  return {
    account_id: id,
    business_name: 'Blockhaven Game Store',
    mode,
    charges_enabled: true,
    payouts_enabled: complete,
    details_submitted: complete,
    requirements: {
      currently_due: due,
      past_due: [],
      eventually_due: due,
      disabled_reason: complete ? null : 'requirements.past_due',
    },
    checked_at: now,
  };
}

export const SAMPLE_NO_FEED = 'The sample store has no live feed: its events come from its own stand-in for Stripe.';

/**
 * Each mode's live feed as the shell's feed reports it in this world, whose Connect service has
 * no feed: a mode connected through Connect polls; a key-mode store registered at a hub (live
 * updates on) follows that hub's feed; any other mode has none. Nothing is counted: no doorbell
 * ever rings here.
 */
export function hubFeed(c: Connection, sample: boolean): HubFeedStatus[] {
  return (['test', 'live'] as const).map((mode) => {
    const off: HubFeedStatus = {
      mode,
      state: 'off',
      hub: null,
      hub_source: null,
      detail: 'Not following the FluxStore hub yet.',
      last_doorbell_at: null,
      last_delay_secs: null,
      doorbells: 0,
      refused: 0,
    };
    if (sample) return { ...off, detail: SAMPLE_NO_FEED };
    const m = c.modes[mode];
    const connect = m.token && m.connectState === 'connected';
    if (!connect && m.keyHub)
      return { ...off, state: 'live', hub: m.keyHub.hub, hub_source: 'registration', detail: liveThrough(m.keyHub.hub) };
    if (!connect) return { ...off, detail: noLiveFeed(mode) };
    const url = c.hub ?? connectService(c).url;
    return {
      ...off,
      state: 'polling',
      hub: url,
      hub_source: c.hub === null ? 'connect_service' : 'setting',
      detail: `${new URL(url).hostname} has no live feed, so FluxStore reads Stripe's events every 2 minutes.`,
    };
  });
}
