/**
 * Connection state of the in-memory backend: what the shell would know is stored (never a
 * secret's value), the relay, and Stripe's account status per mode.
 */
import type { AccountStatus, ConnectionMethod, Mode, ModeConnection, SecretInfo } from './types';

export const KEYRING_NAME = 'Secret Service (GNOME Keyring)';
export const RELAY_URL = 'http://127.0.0.1:4343/api/webhooks/stripe';

export interface Connection {
  method: ConnectionMethod | null;
  test: ModeConnection;
  live: ModeConnection;
  relayListening: boolean;
  publicUrl: string | null;
  accounts: Record<Mode, AccountStatus | null>;
}

export function modeConnection(mode: Mode): ModeConnection {
  return { mode, connected: false, account_id: null, publishable_key: null, secrets: [] };
}

export function freshConnection(): Connection {
  return {
    method: null,
    test: modeConnection('test'),
    live: modeConnection('live'),
    relayListening: false,
    publicUrl: null,
    accounts: { test: null, live: null },
  };
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

/** The sample store's connection: manual keys in both modes; live payouts still pending. */
export function sampleConnection(now: number): Connection {
  const conn = freshConnection();
  conn.method = 'keys';
  for (const mode of ['test', 'live'] as Mode[]) {
    const secrets: SecretInfo[] = [
      { kind: 'secret_key', store: KEYRING_NAME },
      { kind: 'webhook_secret', store: KEYRING_NAME },
    ];
    const id = `acct_1Sample${mode === 'test' ? 'Test' : 'Live'}`;
    conn[mode] = { mode, connected: true, account_id: id, publishable_key: `pk_${mode}_51SampleStorePublishableKey`, secrets };
    conn.accounts[mode] = accountStatus(now, mode, id, mode === 'test');
  }
  conn.relayListening = true;
  conn.publicUrl = 'https://relay.blockhaven.example/api/webhooks/stripe';
  return conn;
}
