import { describe, expect, test } from 'vitest';
import type { AccountStatus, ChecklistFacts, ConnectionStatus, KeyHubStatus, ModeConnection, ModeFacts, WebhookCheck } from '../../src/lib/backend/types';
import { checklistAccount, deriveChecklist, type StepId } from '../../src/lib/checklist';

const mc = (mode: 'test' | 'live', over: Partial<ModeConnection> = {}): ModeConnection => ({
  mode,
  connected: false,
  via: null,
  account_id: null,
  publishable_key: null,
  secrets: [],
  account: null,
  disconnected_reason: null,
  ...over,
});
const conn = (over: Partial<ConnectionStatus> = {}): ConnectionStatus => ({
  method: null,
  test: mc('test'),
  live: mc('live'),
  connect_service: { url: 'https://api.fluxstore.net', source: 'default' },
  relay: { listening: false, local_url: null, public_url: null },
  sample_store: false,
  online: true,
  ...over,
});
const noModeFacts = (): ModeFacts => ({
  first_event_at: null,
  connected_at: null,
  first_paid_order: null,
  earlier_paid_orders: 0,
  last_event_at: null,
  last_webhook_at: null,
  last_feed_at: null,
  last_polled_at: null,
  event_count: 0,
});
const noFacts = (): ChecklistFacts => ({
  test: noModeFacts(),
  live: noModeFacts(),
  last_rejection: null,
});
const account = (ok: boolean, mode: 'test' | 'live' = 'test'): AccountStatus => ({
  account_id: 'acct_1',
  business_name: null,
  mode,
  charges_enabled: true,
  payouts_enabled: ok,
  details_submitted: ok,
  requirements: { currently_due: ok ? [] : ['external_account'], past_due: [], eventually_due: [], disabled_reason: null },
  checked_at: 0,
});
const keyed = (mode: 'test' | 'live', whsec = false) =>
  mc(mode, {
    connected: true,
    via: 'keys',
    account_id: 'acct_1',
    secrets: [{ kind: 'secret_key', store: 'Secret Service (GNOME Keyring)' }, ...(whsec ? [{ kind: 'webhook_secret' as const, store: 'Secret Service (GNOME Keyring)' }] : [])],
  });

const connected = (mode: 'test' | 'live', acc: AccountStatus | null = null) =>
  mc(mode, {
    connected: true,
    via: 'connect',
    account_id: `acct_1Connect${mode}`,
    publishable_key: `pk_${mode}_1`,
    secrets: [{ kind: 'connect_token', store: 'Secret Service (GNOME Keyring)' }],
    account: acc,
  });

/** The checklist of `c`; `acc` is the test mode's account status as the mirror holds it. */
function states(c: ConnectionStatus, f = noFacts(), acc: AccountStatus | null = null, checks: Partial<Record<'test' | 'live', WebhookCheck>> = {}) {
  if (acc) c = { ...c, test: { ...c.test, account: acc } };
  const cl = deriveChecklist({ connection: c, facts: f, webhookChecks: checks });
  return { cl, s: Object.fromEntries(cl.steps.map((x) => [x.id, x.state])) as Record<StepId, string>, d: Object.fromEntries(cl.steps.map((x) => [x.id, x.detail])) as Record<StepId, string> };
}

describe('checklist derivation', () => {
  test('a fresh install: choose a method, everything else waits and says why', () => {
    const { cl, s, d } = states(conn());
    expect(cl.current).toBe('method');
    expect(cl.done).toBe(false);
    expect(s).toMatchObject({ method: 'todo', credentials: 'blocked', webhook: 'blocked', receiving: 'blocked', test_payment: 'blocked', account: 'blocked' });
    expect(d.credentials).toBe('Choose a method first.');
    for (const step of cl.steps) expect(step.detail.length).toBeGreaterThan(5);
  });
  test('keys chosen → keys asked for; keys saved → the signing secret is missing and why it matters', () => {
    expect(states(conn({ method: 'keys' })).d.credentials).toMatch(/No keys saved yet/);
    const { s, d, cl } = states(conn({ method: 'keys', test: keyed('test') }));
    expect(s.credentials).toBe('done');
    expect(cl.current).toBe('webhook');
    // Without a secret, deliveries cannot be verified; polling still brings orders (no false "will not process").
    expect(d.webhook).toMatch(/cannot be verified until it is/);
    expect(d.webhook).toMatch(/events API \(every 2 minutes\)/);
    expect(d.webhook).not.toMatch(/will not process payments/);
  });
  test('secret saved, relay listening, nothing arrived → the webhook is not reaching FluxStore', () => {
    const { s, d, cl } = states(conn({ method: 'keys', test: keyed('test', true), relay: { listening: true, local_url: 'http://127.0.0.1:1/api/webhooks/stripe', public_url: null } }));
    expect(s.webhook).toBe('done');
    expect(cl.current).toBe('receiving');
    expect(d.receiving).toMatch(/not reaching FluxStore/);
  });
  test('a rejected delivery explains the receiving step', () => {
    const f = noFacts();
    f.last_rejection = { id: 1, bucket_start: 0, code: 'signature_invalid', count: 1, first_at: 5, last_at: 5, last_peer: null, last_size: 10 };
    const { d } = states(conn({ method: 'keys', test: keyed('test', true), relay: { listening: true, local_url: 'x', public_url: null } }), f);
    expect(d.receiving).toBe('Signature mismatch: the signing secret does not match this endpoint.');
  });
  test('an old no_signing_secret rejection stops mattering once a secret is saved', () => {
    const f = noFacts();
    f.last_rejection = { id: 1, bucket_start: 0, code: 'no_signing_secret', count: 1, first_at: 5, last_at: 5, last_peer: null, last_size: 10 };
    expect(states(conn({ method: 'keys', test: keyed('test') }), f).d.receiving).toMatch(/No signing secret/);
    expect(states(conn({ method: 'keys', test: keyed('test', true), relay: { listening: true, local_url: 'x', public_url: null } }), f).d.receiving).toMatch(/not reaching/);
  });
  test('events then a paid test order tick receiving and test payment', () => {
    const f = noFacts();
    f.test.last_event_at = 100;
    let r = states(conn({ method: 'keys', test: keyed('test', true) }), f);
    expect(r.s.receiving).toBe('done');
    expect(r.s.test_payment).toBe('todo');
    expect(r.d.test_payment).toMatch(/4242 4242 4242 4242/);
    f.test.first_paid_order = ['cs_test_1', 120];
    r = states(conn({ method: 'keys', test: keyed('test', true) }), f);
    expect(r.s.test_payment).toBe('done');
    expect(r.d.test_payment).toMatch(/cs_test_1/);
  });
  test('account requirements are named; enabled ticks', () => {
    const r = states(conn({ method: 'keys', test: keyed('test', true) }), noFacts(), account(false));
    expect(r.s.account).toBe('todo');
    expect(r.d.account).toMatch(/Payouts are not enabled yet\. Stripe still needs a bank account for payouts/);
    expect(states(conn({ method: 'keys', test: keyed('test', true) }), noFacts(), account(true)).s.account).toBe('done');
  });
  test('Connect needs no webhook; go-live asks for the live account, then its first paid order', () => {
    const token = connected('test');
    let r = states(conn({ method: 'connect', test: token }));
    expect(r.s.webhook).toBe('done');
    expect(r.d.go_live).toBe('Connect your live Stripe account.');
    expect(r.d.receiving).toMatch(/right after connecting and every 2 minutes/);
    const f = noFacts();
    f.test.last_event_at = 1;
    f.test.first_paid_order = ['cs_test_1', 1];
    f.live.last_event_at = 2;
    f.live.first_paid_order = ['cs_live_1', 2];
    r = states(conn({ method: 'connect', test: token, live: connected('live', account(true, 'live')) }), f);
    expect(r.cl.done).toBe(true);
    expect(r.cl.current).toBeNull();
  });

  test('All set for an owner who connected a test account and then a live one through Connect', () => {
    // 1. Connect chosen, nothing connected yet.
    let c = conn({ method: 'connect' });
    const f = noFacts();
    expect(states(c, f).cl.current).toBe('credentials');
    // 2. The test account is connected; its status was fetched right after connecting.
    c = { ...c, test: connected('test', account(true, 'test')) };
    f.test.last_event_at = 100;
    f.test.first_paid_order = ['cs_test_1', 110];
    let r = states(c, f);
    expect(r.s).toMatchObject({ method: 'done', credentials: 'done', webhook: 'done', receiving: 'done', test_payment: 'done', account: 'done', go_live: 'todo' });
    expect(r.d.credentials).toBe('Test account connected through Stripe Connect.');
    expect(r.d.go_live).toBe('Connect your live Stripe account.');
    // 3. The live account is connected too: the checklist now judges the live account.
    c = { ...c, live: connected('live', account(false, 'live')) };
    r = states(c, f);
    expect(r.d.credentials).toBe('Test and live accounts connected through Stripe Connect.');
    expect(r.s.account).toBe('todo');
    expect(r.d.account).toMatch(/Payouts are not enabled yet/);
    // 4. Stripe verified it (an account.updated), and the first live order is paid: all set.
    c = { ...c, live: { ...c.live, account: account(true, 'live') } };
    f.live.last_event_at = 200;
    f.live.first_paid_order = ['cs_live_1', 210];
    r = states(c, f);
    expect(r.cl.done).toBe(true);
    expect(r.cl.current).toBeNull();
    expect(r.cl.steps.every((s) => s.state === 'done')).toBe(true);
  });

  test('a connected mode whose status was not read yet asks for a Refresh; the live account is judged once live is connected', () => {
    let r = states(conn({ method: 'connect', test: connected('test') }));
    expect(r.s.account).toBe('todo');
    expect(r.d.account).toBe('FluxStore has not read the test account’s status from Stripe yet. Refresh to ask Stripe now.');
    const c = conn({ method: 'connect', test: connected('test', account(true)), live: connected('live') });
    expect(checklistAccount(c)).toEqual({ mode: 'live', account: null });
    r = states(c);
    expect(r.d.account).toMatch(/live account’s status/);
    expect(checklistAccount(conn())).toBeNull();
  });

  test('a Connect connection that ended says why, and the last known status does not count', () => {
    const ended = mc('test', { disconnected_reason: 'FluxStore was disconnected in Stripe (Settings → Connected applications). Connect again to resume.', account: account(true) });
    const r = states(conn({ method: 'connect', test: ended }));
    expect(r.s.credentials).toBe('todo');
    expect(r.d.credentials).toMatch(/disconnected in Stripe/);
    expect(r.s.account).toBe('blocked');
    const live = states(conn({ method: 'connect', test: ended, live: connected('live', account(true, 'live')) }));
    expect(live.s.test_payment).toBe('blocked');
    expect(live.d.test_payment).toMatch(/Connect again to resume/);
  });

  test('keys mode: live keys without the live endpoint’s secret say so', () => {
    const r = states(conn({ method: 'keys', test: keyed('test', true), live: keyed('live') }));
    expect(r.d.go_live).toMatch(/Live mode has its own webhook endpoint/);
    expect(states(conn({ method: 'keys', test: keyed('test', true), live: keyed('live', true) })).d.go_live).toMatch(/smallest package/);
  });

  test('the payment steps name the history that does not count', () => {
    const f = noFacts();
    f.test.last_event_at = 100;
    f.test.last_polled_at = 100;
    f.test.connected_at = Date.UTC(2026, 10, 20) / 1000;
    f.test.earlier_paid_orders = 3;
    const r = states(conn({ method: 'keys', test: keyed('test', true) }), f);
    expect(r.s.test_payment).toBe('todo');
    expect(r.d.test_payment).toMatch(/^No paid test order since you connected on .*2026; the 3 paid orders from before that do not prove today’s setup\./);
  });

  test('events arriving says which road works: webhook deliveries apart from polled events', () => {
    const relay = { listening: true, local_url: 'http://127.0.0.1:8787/api/webhooks/stripe', public_url: null };
    const f = noFacts();
    f.test.last_event_at = 100;
    f.test.last_polled_at = 100;
    let r = states(conn({ method: 'keys', test: keyed('test', true), relay }), f);
    expect(r.s.receiving).toBe('done');
    expect(r.d.receiving).toMatch(/Stripe’s events API every 2 minutes/);
    expect(r.d.receiving).toMatch(/No webhook delivery has reached FluxStore yet, so a new order shows up within about 2 minutes, not seconds\./);
    f.test.last_webhook_at = 120;
    r = states(conn({ method: 'keys', test: keyed('test', true), relay }), f);
    expect(r.d.receiving).toMatch(/^Webhook deliveries from Stripe reach the relay and are verified\./);
    expect(r.d.receiving).not.toMatch(/No webhook delivery/);
    // Connect: polling is the road, and no webhook is expected.
    const g = noFacts();
    g.test.last_event_at = 100;
    g.test.last_polled_at = 100;
    r = states(conn({ method: 'connect', test: connected('test') }), g);
    expect(r.d.receiving).toBe('Events arrive by reading Stripe’s events API every 2 minutes.');
  });

  test('key mode: Stripe’s endpoint check names a missing event, and passes with all 12', () => {
    const c = conn({ method: 'keys', test: keyed('test', true) });
    const missing: WebhookCheck = {
      mode: 'test',
      ok: false,
      endpoint_id: 'we_1',
      url: 'https://shop.example/api/webhooks/stripe',
      disabled: false,
      missing_events: ['invoice.payment_failed'],
      endpoints: 1,
      message: 'The webhook endpoint https://shop.example/api/webhooks/stripe does not send invoice.payment_failed. Add this event to it in the Stripe Dashboard.',
    };
    let r = states(c, noFacts(), null, { test: missing });
    expect(r.s.webhook).toBe('todo');
    expect(r.d.webhook).toMatch(/does not send invoice\.payment_failed/);
    r = states(c, noFacts(), null, { test: { ...missing, ok: true, missing_events: [], message: 'Stripe sends all 12 events to https://shop.example/api/webhooks/stripe, and the endpoint is enabled.' } });
    expect(r.s.webhook).toBe('done');
    expect(r.d.webhook).toMatch(/^Signing secret saved in the keyring\. Stripe sends all 12 events/);
  });

  test('key mode with live updates through the hub: the hub\'s endpoint is the app\'s, no signing secret needed', () => {
    const c = conn({ method: 'keys', test: keyed('test') });
    const hub: KeyHubStatus[] = [{ mode: 'test', on: true, hub: 'https://hub.example/', store_id: 'st_1', endpoint_id: 'we_1' }];
    const check: WebhookCheck = {
      mode: 'test',
      ok: true,
      endpoint_id: 'we_1',
      url: 'https://hub.example/api/webhooks/stripe/s/hsk_1',
      disabled: false,
      missing_events: [],
      endpoints: 1,
      message: 'Stripe sends all 12 events to https://hub.example/api/webhooks/stripe/s/hsk_1, and the endpoint is enabled.',
    };
    // Off, the signing secret is still what is missing.
    expect(deriveChecklist({ connection: c, facts: noFacts(), webhookChecks: { test: check } }).steps.find((x) => x.id === 'webhook')?.state).toBe('todo');
    const on = deriveChecklist({ connection: c, facts: noFacts(), webhookChecks: { test: check }, keyHub: hub });
    const step = (id: StepId) => on.steps.find((x) => x.id === id)!;
    expect(step('webhook').state).toBe('done');
    expect(step('webhook').detail).toMatch(/^Live updates through the FluxStore hub are on for test mode \(no signing secret needed.* Stripe sends all 12 events to https:\/\/hub\.example/);
    // Nothing arrived yet: the step says what to do, not that a relay is missing.
    expect(step('receiving').state).toBe('todo');
    expect(step('receiving').detail).toMatch(/through the FluxStore hub yet/);
    // The hub's endpoint disabled in Stripe: the step says so.
    const disabled = { ...check, ok: false, disabled: true, message: 'The webhook endpoint https://hub.example/api/webhooks/stripe/s/hsk_1 is disabled in Stripe, so nothing is delivered.' };
    const off = deriveChecklist({ connection: c, facts: noFacts(), webhookChecks: { test: disabled }, keyHub: hub });
    expect(off.steps.find((x) => x.id === 'webhook')?.state).toBe('todo');
    expect(off.steps.find((x) => x.id === 'webhook')?.detail).toMatch(/But: The webhook endpoint .* is disabled/);
    // Events announced by the hub: the receiving step names the hub, not a missing webhook.
    const f = noFacts();
    f.test.last_feed_at = 100;
    f.test.last_event_at = 100;
    const arrived = deriveChecklist({ connection: c, facts: f, webhookChecks: { test: check }, keyHub: hub });
    const receiving = arrived.steps.find((x) => x.id === 'receiving')!;
    expect(receiving.state).toBe('done');
    expect(receiving.detail).toMatch(/hub announces new events/);
    expect(receiving.detail).not.toMatch(/No webhook delivery/);
  });

  test('key mode: verified deliveries without a listed endpoint (stripe listen) are done, the check still shown', () => {
    const c = conn({ method: 'keys', test: keyed('test', true) });
    const none: WebhookCheck = {
      mode: 'test',
      ok: false,
      endpoint_id: null,
      url: null,
      disabled: false,
      missing_events: [],
      endpoints: 0,
      message: 'Stripe lists no webhook endpoint for this account.',
    };
    const f = noFacts();
    expect(states(c, f, null, { test: none }).s.webhook).toBe('todo');
    f.test.last_webhook_at = 100;
    f.test.last_event_at = 100;
    const r = states(c, f, null, { test: none });
    expect(r.s.webhook).toBe('done');
    expect(r.d.webhook).toMatch(/verified deliveries arrive .*stripe listen.* Stripe lists no webhook endpoint/);
  });
});
