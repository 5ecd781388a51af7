/**
 * A typed in-memory `Backend` with the same state transitions as the real shell: choose a
 * method, save keys (validated), save the signing secret (relay starts), events arriving
 * (orders turn paid live), refund, disconnect, offline. Used by `npm run dev` outside Tauri
 * and by the browser tests.
 *
 * Invariant: every read takes a mode and returns only that mode's rows; the sample store is a
 * separate `StoreData` swapped in and out whole, never merged with the owner's own store.
 */
import type { ArgsOf, Backend, BackendError, CommandName, EventName, ResultOf, Unsubscribe } from './api';
import { isBackendError, validateKeys, validateWebhookSecret } from './memory-keys';
import { queryOrders } from './memory-query';
import { call, emptyStore, sampleStore, type OrderRecord, type StoreData } from './memory-seed';
import {
  accountStatus,
  freshConnection,
  KEYRING_NAME,
  modeConnection,
  RELAY_URL,
  sampleConnection,
  type Connection,
} from './memory-state';
import type {
  AccountStatus,
  BackendEvents,
  ChecklistFacts,
  ConnectionMethod,
  ConnectionStatus,
  Mode,
  ModeFacts,
  OrderDetail,
  RefundArgs,
  RejectionCode,
  Source,
} from './types';
import { SUBSCRIBED_EVENT_TYPES, type SubscribedEventType } from '../webhook';

function fail(code: BackendError['code'], message: string): never {
  throw { code, message } satisfies BackendError;
}

export interface MemoryOptions {
  /** Unix seconds; injectable so tests are deterministic. */
  now?: () => number;
  /** Start with the sample store open (as after "Explore with a sample store"). */
  sample?: boolean;
}

type Handler = (payload: unknown) => void;

export class MemoryBackend implements Backend {
  readonly kind = 'memory' as const;
  private readonly now: () => number;
  private own = { conn: freshConnection(), data: emptyStore() };
  private sample: { conn: Connection; data: StoreData } | null = null;
  private online = true;
  private handlers = new Map<EventName, Set<Handler>>();
  /** URLs the UI asked to open (the dev build also opens them in a new tab). */
  readonly openedUrls: string[] = [];
  private seq = 0;

  constructor(opts: MemoryOptions = {}) {
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    if (opts.sample) this.openSample();
  }

  private get cur(): { conn: Connection; data: StoreData } {
    return this.sample ?? this.own;
  }

  // ---- Backend ----

  async call<C extends CommandName>(
    command: C,
    ...args: ArgsOf<C> extends void ? [] : [ArgsOf<C>]
  ): Promise<ResultOf<C>> {
    // A structured clone keeps callers from mutating the backend's state by accident,
    // exactly as JSON over IPC would.
    const result = this.dispatch(command, args[0] as never);
    return structuredClone(result) as ResultOf<C>;
  }

  async on<E extends EventName>(event: E, handler: (payload: BackendEvents[E]) => void): Promise<Unsubscribe> {
    const set = this.handlers.get(event) ?? new Set<Handler>();
    set.add(handler as Handler);
    this.handlers.set(event, set);
    return () => set.delete(handler as Handler);
  }

  private emit<E extends EventName>(event: E, payload: BackendEvents[E]): void {
    for (const h of this.handlers.get(event) ?? []) h(structuredClone(payload));
  }

  private dispatch(command: CommandName, a: never): unknown {
    const args = a as Record<string, unknown> & { mode: Mode };
    switch (command) {
      case 'connection_status':
        return this.status();
      case 'choose_method':
        this.cur.conn.method = args.method as ConnectionMethod;
        return this.changed();
      case 'save_keys':
        return this.saveKeys(args.publishable_key as string, args.secret_key as string);
      case 'save_webhook_secret':
        return this.saveWebhookSecret(args.mode, args.webhook_secret as string);
      case 'create_webhook_endpoint':
        return this.createWebhook(args.mode, args.url as string);
      case 'connect_start':
        return this.connectStart(args.mode);
      case 'connect_cancel':
        return null;
      case 'disconnect':
        return this.disconnect(args.mode);
      case 'account_status':
        return this.readAccount(args.mode, args.refresh as boolean);
      case 'checklist_facts':
        return this.checklistFacts();
      case 'list_orders':
        return queryOrders(this.cur.data.orders, args.mode, args as never);
      case 'order_detail':
        return this.detail(args.mode, args.session_id as string);
      case 'refund_order':
        return this.refund(args as unknown as RefundArgs);
      case 'list_disputes':
        return this.cur.data.disputes.filter((d) => d.mode === args.mode);
      case 'list_subscriptions':
        return this.cur.data.subscriptions.filter((s) => s.mode === args.mode);
      case 'list_invoices':
        return this.cur.data.invoices.filter((i) => i.mode === args.mode).sort((x, y) => y.created - x.created);
      case 'list_events':
        return this.cur.data.events
          .filter((e) => e.mode === args.mode)
          .sort((x, y) => y.received_at - x.received_at)
          .slice(0, args.limit as number);
      case 'list_rejections':
        return [...this.cur.data.rejections].reverse().slice(0, args.limit as number);
      case 'list_api_calls':
        // Newest first; equal times keep the later call first (the sort is stable).
        return [...this.cur.data.apiCalls].reverse().sort((x, y) => y.at - x.at).slice(0, args.limit as number);
      case 'open_sample_store':
        this.openSample();
        return this.changed();
      case 'close_sample_store':
        this.sample = null;
        return this.changed();
      case 'open_url':
        this.openUrl(args.url as string);
        return null;
    }
  }

  // ---- commands ----

  private status(): ConnectionStatus {
    const c = this.cur.conn;
    return {
      method: c.method,
      test: c.test,
      live: c.live,
      relay: { listening: c.relayListening, local_url: c.relayListening ? RELAY_URL : null, public_url: c.publicUrl },
      sample_store: this.sample !== null,
      online: this.online,
    };
  }

  private changed(): ConnectionStatus {
    const s = this.status();
    this.emit('account_changed', s);
    return s;
  }

  private saveKeys(pk: string, sk: string): ConnectionStatus {
    const v = validateKeys(pk ?? '', sk ?? '');
    if (isBackendError(v)) throw v;
    const c = this.cur.conn;
    if (!c.method) c.method = 'keys';
    const mc = c[v.mode];
    mc.connected = true;
    mc.publishable_key = v.publishable;
    mc.account_id = v.mode === 'test' ? 'acct_1FluxTestStore' : 'acct_1FluxLiveStore';
    mc.secrets = [...mc.secrets.filter((s) => s.kind === 'webhook_secret'), { kind: v.secretKind, store: KEYRING_NAME }];
    c.accounts[v.mode] = accountStatus(this.now(), v.mode, mc.account_id, false);
    this.audit('GET', '/v1/account', null, 200, v.mode);
    return this.changed();
  }

  private saveWebhookSecret(mode: Mode, secret: string): ConnectionStatus {
    const err = validateWebhookSecret(secret ?? '');
    if (err) throw err;
    this.storeWebhookSecret(mode);
    return this.changed();
  }

  private storeWebhookSecret(mode: Mode): void {
    const mc = this.cur.conn[mode];
    mc.secrets = [...mc.secrets.filter((s) => s.kind !== 'webhook_secret'), { kind: 'webhook_secret', store: KEYRING_NAME }];
    this.cur.conn.relayListening = true;
  }

  private createWebhook(mode: Mode, url: string) {
    if (!this.online) fail('offline', 'Stripe cannot be reached: this computer is offline. The endpoint was not created.');
    if (!this.cur.conn[mode].connected) fail('not_connected', `Save your ${mode} keys first.`);
    if (!/^https:\/\/[^/\s]+\/\S*$/.test(url ?? ''))
      fail('refused', 'Stripe needs a public https:// URL for a webhook endpoint.');
    const endpoint = `we_${mode === 'test' ? 'test_' : ''}${(++this.seq).toString().padStart(6, '0')}`;
    this.audit('POST', '/v1/webhook_endpoints', endpoint, 200, mode);
    this.storeWebhookSecret(mode);
    this.changed();
    return { endpoint_id: endpoint, url, enabled_events: [...SUBSCRIBED_EVENT_TYPES], secret_stored: true };
  }

  private connectStart(mode: Mode) {
    if (!this.online) fail('offline', 'The Connect service cannot be reached: this computer is offline.');
    const state = (++this.seq).toString(36);
    // The real shell completes when the browser comes back to the loopback; here at once.
    setTimeout(() => {
      const c = this.cur.conn;
      c.method = 'connect';
      const mc = c[mode];
      mc.connected = true;
      mc.account_id = mode === 'test' ? 'acct_1FluxConnectTest' : 'acct_1FluxConnectLive';
      mc.secrets = [{ kind: 'connect_token', store: KEYRING_NAME }];
      c.accounts[mode] = accountStatus(this.now(), mode, mc.account_id, mode === 'test');
      this.changed();
    }, 10);
    return { authorize_url: `https://connect.fluxstore.example/authorize?state=${state}` };
  }

  private disconnect(mode: Mode): ConnectionStatus {
    const c = this.cur.conn;
    if (!c[mode].connected) fail('not_connected', `There is no ${mode} connection to remove.`);
    if (c.method === 'connect' && !this.online)
      fail('offline', 'Disconnecting Stripe Connect needs the internet to revoke access. Nothing changed.');
    c[mode] = modeConnection(mode);
    c.accounts[mode] = null;
    if (!c.test.connected && !c.live.connected) c.relayListening = false;
    return this.changed();
  }

  private readAccount(mode: Mode, refresh: boolean): AccountStatus | null {
    const acc = this.cur.conn.accounts[mode];
    if (!acc) return null;
    if (refresh) {
      if (!this.online) fail('offline', 'Stripe cannot be reached: showing the last known status.');
      acc.checked_at = this.now();
      this.audit('GET', '/v1/account', null, 200, mode);
    }
    return acc;
  }

  private checklistFacts(): ChecklistFacts {
    const d = this.cur.data;
    const facts = (mode: Mode): ModeFacts => {
      const ev = d.events.filter((e) => e.mode === mode);
      const paid = d.orders
        .filter((o) => o.order.mode === mode && o.paidAt !== null)
        .sort((x, y) => (x.paidAt as number) - (y.paidAt as number))[0];
      return {
        first_event_at: ev.length ? Math.min(...ev.map((e) => e.received_at)) : null,
        first_paid_order: paid ? [paid.order.session_id, paid.paidAt as number] : null,
        last_event_at: ev.length ? Math.max(...ev.map((e) => e.received_at)) : null,
        event_count: ev.length,
      };
    };
    return { test: facts('test'), live: facts('live'), last_rejection: d.rejections.at(-1) ?? null };
  }

  private record(mode: Mode, session: string): OrderRecord {
    const rec = this.cur.data.orders.find((o) => o.order.mode === mode && o.order.session_id === session);
    if (!rec) fail('not_found', `There is no ${mode} order ${session}.`);
    return rec;
  }

  private detail(mode: Mode, session: string): OrderDetail {
    const rec = this.record(mode, session);
    return {
      order: rec.order,
      timeline: [...rec.timeline].sort((x, y) => x.created - y.created),
      disputes: this.cur.data.disputes.filter((d) => d.mode === mode && d.order_session_id === session),
    };
  }

  private refund(a: RefundArgs): OrderDetail {
    const rec = this.record(a.mode, a.session_id);
    const o = rec.order;
    if (!this.online) fail('offline', 'Refunds need the internet: Stripe cannot be reached. Nothing was refunded.');
    if (!this.cur.conn[a.mode].connected) fail('not_connected', `Connect your ${a.mode} Stripe account to refund.`);
    if (o.status !== 'paid' && o.status !== 'partially_refunded')
      fail('refused', `Only a paid order can be refunded; this one is ${o.status.replace(/_/g, ' ')}.`);
    const remaining = (o.amount ?? 0) - o.amount_refunded;
    const amount = a.amount ?? remaining;
    if (!Number.isInteger(amount) || amount <= 0) fail('refused', 'The refund amount must be more than zero.');
    if (amount > remaining) fail('refused', 'The refund is larger than what remains on this order.');
    o.amount_refunded += amount;
    o.status = o.amount_refunded >= (o.amount ?? 0) ? 'refunded' : 'partially_refunded';
    o.updated = this.now();
    this.audit('POST', '/v1/refunds', o.payment_intent_id, 200, a.mode);
    this.applyEvent(rec, 'charge.refunded', 'api');
    return this.detail(a.mode, a.session_id);
  }

  private openSample(): void {
    const now = this.now();
    this.sample = { conn: sampleConnection(now), data: sampleStore(now) };
  }

  private openUrl(url: string): void {
    this.openedUrls.push(url);
    if (typeof window !== 'undefined' && !navigator.webdriver) window.open(url, '_blank', 'noopener');
  }

  private audit(method: string, path: string, objectId: string | null, status: number | null, mode: Mode): void {
    this.cur.data.apiCalls.push(call(this.now(), method, path, objectId, status, mode));
  }

  private applyEvent(rec: OrderRecord, type: SubscribedEventType, source: Source): void {
    const now = this.now();
    const id = `evt_${rec.order.mode === 'test' ? 'test_' : ''}${(++this.seq).toString(36).padStart(8, '0')}`;
    rec.timeline.push({ event_id: id, event_type: type, created: now, source, received_at: now });
    this.cur.data.events.push({
      id,
      event_type: type,
      created: now,
      mode: rec.order.mode,
      account: null,
      api_version: '2025-03-31.basil',
      source,
      received_at: now,
    });
    this.emit('event_applied', { event_id: id, event_type: type, mode: rec.order.mode, projected: true });
  }

  // ---- simulation controls (memory only: what Stripe or the network would do) ----

  /** Go offline or online, as the shell reports it. */
  setOnline(online: boolean): void {
    this.online = online;
    this.emit('online_changed', { online });
  }

  /**
   * A checkout paid with card 4242 4242 4242 4242 (test) or a real card (live): a pending
   * order, then its `checkout.session.completed`. Delivered through the relay, so without a
   * signing secret (keys mode) it is rejected exactly as the relay would: `no_signing_secret`.
   */
  simulatePayment(mode: Mode, amount = 999, currency = 'usd'): string | null {
    const c = this.cur.conn;
    if (c.method !== 'connect' && !c[mode].secrets.some((s) => s.kind === 'webhook_secret')) {
      this.simulateRejection('no_signing_secret');
      return null;
    }
    const now = this.now();
    const session = `cs_${mode === 'test' ? 'test_' : ''}${(++this.seq).toString(36).padStart(10, 'a')}`;
    const rec: OrderRecord = {
      order: {
        session_id: session,
        payment_intent_id: session.replace('cs_', 'pi_'),
        charge_id: session.replace('cs_', 'ch_'),
        subscription_id: null,
        status: 'paid',
        amount,
        amount_refunded: 0,
        currency,
        customer_email: 'owner@example.com',
        customer_name: 'Store owner',
        client_reference_id: null,
        failure_message: null,
        mode,
        account: c[mode].account_id,
        created: now,
        updated: now,
      },
      timeline: [],
      paidAt: now,
    };
    this.cur.data.orders.push(rec);
    this.applyEvent(rec, 'checkout.session.completed', c.method === 'connect' ? 'events_api' : 'webhook');
    return session;
  }

  /**
   * A verified event that is not an order's (e.g. Stripe's "Send test webhook"), so the
   * "events arriving" step can tick before any payment. Rejected without a signing secret.
   */
  simulateVerifiedEvent(mode: Mode, type = 'account.updated'): boolean {
    const c = this.cur.conn;
    if (c.method !== 'connect' && !c[mode].secrets.some((s) => s.kind === 'webhook_secret')) {
      this.simulateRejection('no_signing_secret');
      return false;
    }
    const now = this.now();
    const id = `evt_${mode === 'test' ? 'test_' : ''}${(++this.seq).toString(36).padStart(8, '0')}`;
    const source: Source = c.method === 'connect' ? 'events_api' : 'webhook';
    this.cur.data.events.push({ id, event_type: type, created: now, mode, account: null, api_version: '2025-03-31.basil', source, received_at: now });
    this.emit('event_applied', { event_id: id, event_type: type, mode, projected: false });
    return true;
  }

  /** Progress of an events sync (GET /v1/events), as the shell reports it. */
  simulateSyncProgress(progress: BackendEvents['sync_progress']): void {
    this.emit('sync_progress', progress);
  }

  /** A delivery the relay turned away, with its reason code. */
  simulateRejection(code: RejectionCode): void {
    const d = this.cur.data;
    d.rejections.push({ id: d.rejections.length + 1, received_at: this.now(), code, size: 2048, peer: '127.0.0.1' });
    this.emit('event_applied', { event_id: '', event_type: 'rejection', mode: 'test', projected: false });
  }

  /** Stripe finished verifying the account: charges and payouts enabled. */
  completeAccountOnboarding(mode: Mode): void {
    const acc = this.cur.conn.accounts[mode];
    if (!acc) return;
    this.cur.conn.accounts[mode] = accountStatus(this.now(), mode, acc.account_id, true);
    this.changed();
  }
}
