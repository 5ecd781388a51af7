// The in-memory backend's state transitions, which the browser tests and `npm run dev` rely on.
import { describe, expect, test } from 'vitest';
import type { Order, OrderStatus, Page } from '../../src/lib/backend/types';
import { deriveChecklist } from '../../src/lib/checklist';
import { fresh, NOW, PK, record, rejection, sample, SK } from './memory-helpers';

const ALL = { statuses: [], currency: null, created_from: null, created_to: null, search: null, after: null, limit: 500 };

describe('keys and secrets', () => {
  test('invalid keys are refused with the reason, nothing stored', async () => {
    const b = fresh();
    const cases: [string, string, RegExp][] = [
      ['', SK, /Paste the publishable key/],
      [SK, PK, /secret key in the publishable key field/],
      [PK, PK, /publishable key in the secret key field/],
      [PK, 'whsec_abc', /webhook signing secret, not a secret key/],
      [PK, 'sk_live_51AbCdEfGhIjKlMnOpQrStUv', /test key but the secret key is a live key/],
      ['pk_demo_1', SK, /must start with pk_test_ or pk_live_/],
      [PK, 'sk_test_short', /looks cut off/],
    ];
    for (const [pk, sk, msg] of cases) {
      const e = await rejection(b.call('save_keys', { publishable_key: pk, secret_key: sk }));
      expect(e.code).toBe('invalid_key');
      expect(e.message).toMatch(msg);
      // No key value is ever echoed back in an error.
      expect(e.message).not.toContain('AbCdEfGh');
    }
    expect((await b.call('connection_status')).test.connected).toBe(false);
  });

  test('saving keys connects that mode, trims, records where the secret lives, never its value', async () => {
    const b = fresh();
    const changes = record(b, 'account_changed');
    const s = await b.call('save_keys', { publishable_key: ` ${PK} `, secret_key: `${SK}\n` });
    expect(s.method).toBe('keys');
    expect(s.test.connected).toBe(true);
    expect(s.live.connected).toBe(false);
    expect(s.test.publishable_key).toBe(PK);
    expect(s.test.secrets).toEqual([{ kind: 'secret_key', store: 'Secret Service (GNOME Keyring or KWallet)' }]);
    expect(JSON.stringify(s)).not.toContain(SK);
    expect(changes).toHaveLength(1);
    // Stripe was asked first: the account and its status are in the mirror.
    expect(s.test.account_id).toBe('acct_1FluxTestStore');
    expect(s.test.account).toMatchObject({ account_id: 'acct_1FluxTestStore', mode: 'test', charges_enabled: true, payouts_enabled: false });
    expect(s.live.account).toBeNull();
    const r = await b.call('save_keys', { publishable_key: PK, secret_key: 'rk_test_51AbCdEfGhIjKlMnOpQrStUv' });
    expect(r.test.secrets.map((x) => x.kind)).toEqual(['restricted_key']);
  });

  test('the relay starts with the signing secret; a delivery before it is rejected as no_signing_secret', async () => {
    const b = fresh();
    await b.call('save_keys', { publishable_key: PK, secret_key: SK });
    expect(b.simulatePayment('test')).toBeNull();
    expect(b.simulatePayment('test')).toBeNull();
    let facts = await b.call('checklist_facts');
    expect(facts.last_rejection?.code).toBe('no_signing_secret');
    // Refusals of one code within the hour add to one row's count, as in the mirror.
    const rows = await b.call('list_rejections', { limit: 10 });
    expect(rows.map((r) => [r.code, r.count])).toEqual([['no_signing_secret', 2]]);
    expect(facts.test.event_count).toBe(0);
    expect((await rejection(b.call('save_webhook_secret', { mode: 'test', webhook_secret: SK }))).code).toBe('invalid_key');
    const s = await b.call('save_webhook_secret', { mode: 'test', webhook_secret: 'whsec_0123456789abcdef' });
    expect(s.relay.listening).toBe(true);
    expect(s.relay.local_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/webhooks\/stripe$/);
    const applied = record(b, 'event_applied');
    const session = b.simulatePayment('test', 1200, 'jpy');
    expect(session).toMatch(/^cs_test_/);
    expect(applied).toEqual([{ event_id: expect.any(String), event_type: 'checkout.session.completed', mode: 'test', projected: true }]);
    facts = await b.call('checklist_facts');
    expect(facts.test.first_paid_order).toEqual([session, NOW]);
    expect(facts.live.first_paid_order).toBeNull();
  });

  test('keys saved offline are kept on their format alone: no account status until Stripe answers', async () => {
    const b = fresh();
    b.setOnline(false);
    const s = await b.call('save_keys', { publishable_key: PK, secret_key: SK });
    expect(s.test).toMatchObject({ connected: true, via: 'keys', account_id: null, account: null });
    expect((await b.call('list_api_calls', { limit: 1 }))[0]).toMatchObject({ path: '/v1/account', status: null, error_code: 'offline' });
    expect((await rejection(b.call('account_status', { mode: 'test', refresh: true }))).code).toBe('offline');
    b.setOnline(true);
    expect(await b.call('account_status', { mode: 'test', refresh: true })).toMatchObject({ account_id: 'acct_1FluxTestStore' });
    expect((await b.call('connection_status')).test.account_id).toBe('acct_1FluxTestStore');
  });

  test('creating the webhook endpoint needs a connection, the internet and a public https URL', async () => {
    const b = fresh();
    expect((await rejection(b.call('create_webhook_endpoint', { mode: 'test', url: 'https://relay.example.com/api/webhooks/stripe' }))).code).toBe('not_connected');
    await b.call('save_keys', { publishable_key: PK, secret_key: SK });
    const bad = await rejection(b.call('create_webhook_endpoint', { mode: 'test', url: 'relay dot example' }));
    expect(bad).toEqual({ code: 'invalid_input', message: 'The webhook URL is not a valid web address (https://…).' });
    expect((await rejection(b.call('create_webhook_endpoint', { mode: 'test', url: 'http://127.0.0.1/x' }))).code).toBe('stripe_error');
    b.setOnline(false);
    expect((await rejection(b.call('create_webhook_endpoint', { mode: 'test', url: 'https://relay.example.com/api/webhooks/stripe' }))).code).toBe('offline');
    b.setOnline(true);
    const r = await b.call('create_webhook_endpoint', { mode: 'test', url: 'https://relay.example.com/api/webhooks/stripe' });
    expect(r.secret_stored).toBe(true);
    expect(r.enabled_events).toHaveLength(15);
    expect((await b.call('connection_status')).test.secrets.some((s) => s.kind === 'webhook_secret')).toBe(true);
    expect((await b.call('list_api_calls', { limit: 1 }))[0]).toMatchObject({ method: 'POST', path: '/v1/webhook_endpoints' });
  });
});

describe('orders', () => {
  test('modes never mix and keyset paging covers every row exactly once', async () => {
    const b = sample();
    for (const mode of ['test', 'live'] as const) {
      const seen: Order[] = [];
      let after: string | null = null;
      for (let i = 0; i < 50; i++) {
        const page: Page<Order> = await b.call('list_orders', { mode, statuses: [], currency: null, created_from: null, created_to: null, search: null, after, limit: 7 });
        seen.push(...page.items);
        after = page.next;
        if (!after) break;
      }
      expect(seen.every((o) => o.mode === mode)).toBe(true);
      expect(new Set(seen.map((o) => o.session_id)).size).toBe(seen.length);
      expect(seen.length).toBe(mode === 'test' ? 64 : 18);
      for (let i = 1; i < seen.length; i++) expect(seen[i - 1].created).toBeGreaterThanOrEqual(seen[i].created);
    }
  });

  test('the sample store has the promised variety', async () => {
    const b = sample();
    const page = await b.call('list_orders', { mode: 'test', statuses: [], currency: null, created_from: null, created_to: null, search: null, after: null, limit: 500 });
    const currencies = new Set(page.items.map((o) => o.currency));
    const statuses = new Set(page.items.map((o) => o.status));
    for (const c of ['usd', 'eur', 'jpy', 'kwd']) expect(currencies).toContain(c);
    for (const s of ['paid', 'failed', 'pending', 'refunded', 'partially_refunded', 'disputed', 'dispute_won']) expect(statuses).toContain(s);
    expect(page.items.every((o) => o.currency !== 'kwd' || (o.amount ?? 0) % 10 === 0)).toBe(true);
    const disputes = await b.call('list_disputes', { mode: 'test' });
    expect(disputes.some((d) => d.due_by !== null && d.due_by < NOW && d.needs_response)).toBe(true);
    expect(disputes.every((d) => d.order_session_id && page.items.some((o) => o.session_id === d.order_session_id))).toBe(true);
    const invoices = await b.call('list_invoices', { mode: 'test' });
    expect(invoices.some((i) => i.status === 'paid')).toBe(true);
    expect(invoices.some((i) => i.status === 'open' && i.amount_paid === 0)).toBe(true);
    expect((await b.call('list_subscriptions', { mode: 'live' })).every((s) => s.mode === 'live')).toBe(true);
  });

  test('filters: status, currency, date range and search', async () => {
    const b = sample();
    const q = { mode: 'test' as const, statuses: [] as OrderStatus[], currency: null as string | null, created_from: null as number | null, created_to: null as number | null, search: null as string | null, after: null, limit: 500 };
    const failed = await b.call('list_orders', { ...q, statuses: ['failed'] });
    expect(failed.items.length).toBeGreaterThan(0);
    expect(failed.items.every((o) => o.status === 'failed' && o.failure_message)).toBe(true);
    expect((await b.call('list_orders', { ...q, currency: 'JPY' })).items.every((o) => o.currency === 'jpy')).toBe(true);
    const recent = await b.call('list_orders', { ...q, created_from: NOW - 7 * 86400, created_to: NOW });
    expect(recent.items.every((o) => o.created >= NOW - 7 * 86400)).toBe(true);
    const any = (await b.call('list_orders', q)).items[3];
    const byId = await b.call('list_orders', { ...q, search: any.payment_intent_id!.toUpperCase() });
    expect(byId.items.map((o) => o.session_id)).toEqual([any.session_id]);
  });

  test('refunds: partial then full, never more than remains, audit row and timeline entry', async () => {
    const b = sample();
    const paid = (await b.call('list_orders', { mode: 'test', statuses: ['paid'], currency: 'usd', created_from: null, created_to: null, search: null, after: null, limit: 1 })).items[0];
    const total = paid.amount!;
    let d = await b.call('refund_order', { mode: 'test', session_id: paid.session_id, amount: 100, reason: 'requested_by_customer' });
    expect(d.order.status).toBe('partially_refunded');
    expect(d.order.amount_refunded).toBe(100);
    expect(d.timeline.at(-1)).toMatchObject({ event_type: 'charge.refunded', source: 'api' });
    // Amounts out of range are refused before anything is sent (the owner's to fix).
    const over = await rejection(b.call('refund_order', { mode: 'test', session_id: paid.session_id, amount: total, reason: null }));
    expect(over.code).toBe('invalid_input');
    expect(over.message).toContain(`at most what remains of the order (${total - 100} in the currency's smallest unit)`);
    expect((await rejection(b.call('refund_order', { mode: 'test', session_id: paid.session_id, amount: 0, reason: null }))).code).toBe('invalid_input');
    d = await b.call('refund_order', { mode: 'test', session_id: paid.session_id, amount: null, reason: null });
    expect(d.order.status).toBe('refunded');
    expect(d.order.amount_refunded).toBe(total);
    const again = await rejection(b.call('refund_order', { mode: 'test', session_id: paid.session_id, amount: null, reason: null }));
    expect(again).toEqual({ code: 'refused', message: 'This order has already been refunded in full.' });
    const audit = await b.call('list_api_calls', { limit: 2 });
    expect(audit.map((a) => a.path)).toEqual(['/v1/refunds', '/v1/refunds']);
    expect(audit.every((a) => a.idempotency_key)).toBe(true);
  });

  test('offline: reads work, refund and account refresh fail as offline; the other mode is not_found', async () => {
    const b = sample();
    // The sample store's account was set up long ago: the mirror holds its status already.
    expect((await b.call('account_status', { mode: 'test', refresh: false }))?.charges_enabled).toBe(true);
    expect((await b.call('account_status', { mode: 'test', refresh: true }))?.charges_enabled).toBe(true);
    const online = record(b, 'online_changed');
    b.setOnline(false);
    expect(online).toEqual([{ online: false }]);
    const o = (await b.call('list_orders', { mode: 'test', statuses: ['paid'], currency: null, created_from: null, created_to: null, search: null, after: null, limit: 1 })).items[0];
    expect((await b.call('order_detail', { mode: 'test', session_id: o.session_id })).order.session_id).toBe(o.session_id);
    expect((await rejection(b.call('refund_order', { mode: 'test', session_id: o.session_id, amount: null, reason: null }))).code).toBe('offline');
    expect((await rejection(b.call('account_status', { mode: 'test', refresh: true }))).code).toBe('offline');
    expect((await b.call('account_status', { mode: 'test', refresh: false }))?.charges_enabled).toBe(true);
    expect((await rejection(b.call('order_detail', { mode: 'live', session_id: o.session_id }))).code).toBe('not_found');
    expect((await b.call('connection_status')).online).toBe(false);
  });
});

describe('disconnect and the sample store', () => {
  test('disconnect removes the secrets of that mode only and keeps every order', async () => {
    const b = fresh();
    await b.call('save_keys', { publishable_key: PK, secret_key: SK });
    await b.call('save_keys', { publishable_key: 'pk_live_51AbCdEfGhIjKlMnOpQrStUv', secret_key: 'sk_live_51AbCdEfGhIjKlMnOpQrStUv' });
    await b.call('save_webhook_secret', { mode: 'live', webhook_secret: 'whsec_0123456789abcdef' });
    const session = b.simulatePayment('live')!;
    const s = await b.call('disconnect', { mode: 'live' });
    expect(s.live).toMatchObject({ connected: false, via: null, secrets: [], publishable_key: null, disconnected_reason: null });
    expect(s.test).toMatchObject({ connected: true, via: 'keys' });
    // The relay keeps listening (with the remaining secrets), as the shell's does.
    expect(s.relay.listening).toBe(true);
    const after = await b.call('list_orders', { mode: 'live', ...ALL });
    expect(after.items.map((o) => o.session_id)).toEqual([session]);
    // Disconnecting a mode that is not connected changes nothing and is not an error.
    expect((await b.call('disconnect', { mode: 'live' })).live.connected).toBe(false);
    const e = await rejection(b.call('refund_order', { mode: 'live', session_id: session, amount: null, reason: null }));
    expect(e).toEqual({ code: 'not_connected', message: 'Stripe is not connected for live mode yet. Connect with Stripe or enter your live mode keys first.' });
  });

  test('the sample store acts like the shell’s: set up in both modes, refunds in test to its stand-in, nothing in the keyring', async () => {
    const b = sample();
    const s = await b.call('connection_status');
    expect(s).toMatchObject({ method: 'keys', sample_store: true, relay: { listening: true, public_url: null } });
    const inMemory = [
      { kind: 'secret_key', store: 'Memory (sample store only)' },
      { kind: 'webhook_secret', store: 'Memory (sample store only)' },
    ];
    for (const m of [s.test, s.live]) {
      expect(m).toMatchObject({ connected: true, via: 'keys', secrets: inMemory });
      expect(m.account).toMatchObject({ charges_enabled: true, payouts_enabled: true });
    }
    // The store is fully set up, test and live: 7 of 7.
    const checklist = deriveChecklist({ connection: s, facts: await b.call('checklist_facts') });
    expect(checklist.steps.filter((x) => x.state !== 'done')).toEqual([]);
    expect(checklist.done).toBe(true);
    expect(checklist.steps.find((x) => x.id === 'webhook')?.detail).not.toMatch(/will not process payments/);
    // Nothing of the sample store is in the keyring, and the checklist does not say it is.
    expect(checklist.steps.map((x) => x.detail).join(' ')).not.toMatch(/keyring/);
    for (const p of [
      b.call('disconnect', { mode: 'test' }),
      b.call('save_keys', { publishable_key: PK, secret_key: SK }),
      b.call('connect_start', { mode: 'test' }),
    ])
      expect((await rejection(p)).message).toMatch(/^The sample store is open\. Close it/);
    const live = (await b.call('list_orders', { mode: 'live', ...ALL, statuses: ['paid'] })).items[0];
    const e = await rejection(b.call('refund_order', { mode: 'live', session_id: live.session_id, amount: null, reason: null }));
    expect(e.code).toBe('not_connected');
    expect(e.message).toMatch(/acts in test mode only/);
    expect((await rejection(b.call('account_status', { mode: 'live', refresh: true }))).code).toBe('not_connected');
  });

  test('the sample store is separate: opening and closing it leaves the own store untouched', async () => {
    const b = fresh();
    await b.call('save_keys', { publishable_key: PK, secret_key: SK });
    const s = await b.call('open_sample_store');
    expect(s.sample_store).toBe(true);
    expect((await b.call('checklist_facts')).test.event_count).toBeGreaterThan(50);
    const closed = await b.call('close_sample_store');
    expect(closed.sample_store).toBe(false);
    expect(closed.test.publishable_key).toBe(PK);
    expect((await b.call('checklist_facts')).test.event_count).toBe(0);
  });

});

describe('what counts as an order', () => {
  test('the marker narrows orders, counts the rest as other activity, and refuses what Stripe could not match', async () => {
    const b = sample();
    const all = (await b.call('list_orders', { mode: 'test', ...ALL })) as Page<Order>;
    const before = await b.call('other_activity', { mode: 'test' });
    expect(before).toEqual({ count: 2, waiting: 1 });
    const bad = await rejection(b.call('set_order_marker', { marker: { kind: 'metadata', key: ' ', value: 'x' } }));
    expect(bad.code).toBe('invalid_input');
    expect(bad.message).toMatch(/metadata key/);
    const kept = all.items[0];
    const set = await b.call('set_order_marker', { marker: { kind: 'client_reference_prefix', prefix: ` ${kept.client_reference_id} ` } });
    expect(set).toEqual({ kind: 'client_reference_prefix', prefix: kept.client_reference_id });
    const narrowed = (await b.call('list_orders', { mode: 'test', ...ALL })) as Page<Order>;
    expect(narrowed.items.map((o) => o.session_id)).toEqual([kept.session_id]);
    expect((await b.call('other_activity', { mode: 'test' })).count).toBe(2 + all.items.length - 1);
    const other = all.items[1];
    expect((await rejection(b.call('lookup_order', { mode: 'test', session_id: other.session_id }))).code).toBe('not_found');
    await b.call('set_order_marker', { marker: null });
    expect(((await b.call('list_orders', { mode: 'test', ...ALL })) as Page<Order>).items.length).toBe(all.items.length);
  });
});

describe('the revenue summary', () => {
  test('counts paid orders per currency, takes refunds and chargebacks off and adds won disputes back', async () => {
    const b = sample();
    const orders = ((await b.call('list_orders', { mode: 'test', ...ALL })) as Page<Order>).items;
    const disputes = await b.call('list_disputes', { mode: 'test' });
    const s = await b.call('revenue_summary', { mode: 'test', from: null, to: null });
    expect(s.mode).toBe('test');
    expect(s.currencies.length).toBeGreaterThan(0);
    for (const c of s.currencies) {
      const paid = orders.filter((o) => o.currency === c.currency && !['pending', 'failed'].includes(o.status));
      expect(c.orders).toBe(paid.length);
      expect(c.gross).toBe(paid.reduce((n, o) => n + (o.amount ?? 0), 0));
      expect(c.refunded).toBe(paid.reduce((n, o) => n + o.amount_refunded, 0));
      const mine = disputes.filter((d) => paid.some((o) => o.session_id === d.order_session_id));
      const chargebacks = mine.filter((d) => !d.status.startsWith('warning_') && d.status !== 'prevented');
      expect(c.disputed).toBe(chargebacks.reduce((n, d) => n + d.amount, 0));
      expect(c.won_back).toBe(chargebacks.filter((d) => d.status === 'won').reduce((n, d) => n + d.amount, 0));
      expect(c.net).toBe(c.gross - c.refunded - c.disputed + c.won_back);
    }
    // A period after every order is empty; one that ends before it starts is refused in words.
    expect((await b.call('revenue_summary', { mode: 'test', from: NOW + 86_400, to: null })).currencies).toEqual([]);
    const bad = await rejection(b.call('revenue_summary', { mode: 'test', from: NOW, to: NOW - 1 }));
    expect(bad.code).toBe('invalid_input');
    expect(bad.message).toMatch(/ends before it starts/);
  });
});

describe('notices', () => {
  test('the first live order is told once, with a link target to the order, in the mirror’s words', async () => {
    const b = fresh();
    const shown = record(b, 'notice_shown');
    await b.call('save_keys', { publishable_key: 'pk_live_51AbCdEfGhIjKlMnOpQrStUv', secret_key: 'sk_live_51AbCdEfGhIjKlMnOpQrStUv' });
    await b.call('save_webhook_secret', { mode: 'live', webhook_secret: 'whsec_0123456789abcdef' });
    const session = b.simulatePayment('live', 1500, 'jpy')!;
    b.simulatePayment('live', 2500, 'usd');
    expect(shown).toEqual([
      {
        kind: 'first_live_order',
        mode: 'live',
        fact: 'first_live_order',
        title: 'Your first live order',
        body: 'A real customer paid 1500 JPY. Your store takes live payments.',
        target: { view: 'order', session_id: session },
      },
    ]);
  });

  test('a kind turned off is not told', async () => {
    const b = fresh();
    const shown = record(b, 'notice_shown');
    await b.call('set_preferences', { notices: [{ kind: 'first_live_order', on: false }], keep_in_tray: null });
    await b.call('save_keys', { publishable_key: 'pk_live_51AbCdEfGhIjKlMnOpQrStUv', secret_key: 'sk_live_51AbCdEfGhIjKlMnOpQrStUv' });
    await b.call('save_webhook_secret', { mode: 'live', webhook_secret: 'whsec_0123456789abcdef' });
    b.simulatePayment('live');
    expect(shown).toEqual([]);
  });
});
