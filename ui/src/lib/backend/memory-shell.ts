/**
 * The shell's half of the in-memory backend: every command with the shell's state transitions —
 * choose a method, save keys (validated; Stripe asked first when online), save the signing
 * secret (relay starts), Connect per mode (one pending sign-in; every ending reported as
 * `sign_in_ended`, then `account_changed`), disconnect per mode, the account status as the
 * mirror holds it, the Connect service address, refunds. `memory.ts` adds the outside world
 * (Stripe, the browser, the network) as test controls.
 *
 * Invariants: every read takes a mode and returns only that mode's rows; the sample store is a
 * separate store swapped in and out whole, never merged with the owner's own store, and it acts
 * like the shell's: connected in test mode only, to its own stand-in, nothing in the keyring;
 * nothing here is kinder than the shell — a status appears only where the shell puts it.
 */
import type { ArgsOf, Backend, CommandName, EventName, ResultOf, Unsubscribe } from './api';
import {
  authorizeUrl,
  CANCELLED,
  checkConnectServiceUrl,
  checkHubUrl,
  ended,
  SERVICE_UNREACHABLE,
  type Failure,
} from './memory-connect';
import { isBackendError, validateKeys, validateWebhookSecret } from './memory-keys';
import {
  alreadyOff,
  connectFollowsAlready,
  hubUnreachable,
  keyHubStatus,
  randomPart,
  turnedOff,
  turnedOn,
} from './memory-keyhub';
import { call, emptyStore, refundOf, sampleStore, type OrderRecord, type StoreData } from './memory-seed';
import {
  accountFor,
  accountStatus,
  connectService,
  emptyMode,
  freshConnection,
  hubFeed,
  modeConnection,
  putAccount,
  REASON_OWNER_DISCONNECTED,
  REASON_TOKEN_REJECTED,
  RELAY_URL,
  SAMPLE_NO_FEED,
  SAMPLE_SECRETS,
  sampleConnection,
  type Connection,
} from './memory-state';
import { differences, money, ownOrders, validateMarker } from './memory-orders';
import { queryOrders } from './memory-query';
import { checklistFacts, fail, orderDetail, orderRecord, readCommand } from './memory-views';
import {
  attachFile,
  disputeTexts,
  removeFile,
  saveText,
  setDisputeText,
  utcText,
  workbench,
  type PickedFile,
} from './memory-disputes';
import type {
  AccountStatus,
  BackendEvents,
  ExportCsvArgs,
  ExportDone,
  NoticeKind,
  Preferences,
  SetPreferencesArgs,
  ConnectionMethod,
  ConnectionStatus,
  LookupReport,
  KeyHubChange,
  Mode,
  OrderDetail,
  OrderFacts,
  OrderMarker,
  PendingUpdate,
  RefundArgs,
  Source,
  WebhookCheck,
  WebhookEndpointCreated,
} from './types';
import { DASHBOARD_ORIGIN, DASHBOARD_PAGES, NOTICE_KINDS, STORE_WEBHOOK_PREFIX, WEBHOOK_PATH } from './generated/facts';
import { SUBSCRIBED_EVENT_TYPES, WEBHOOK_EVENTS, type SubscribedEventType } from '../webhook';

const STRIPE_OFFLINE = 'Stripe could not be reached. Check the internet connection and try again.';
const SAMPLE_REFUSES =
  'The sample store is open. Close it (Payment Gateways → Leave the sample store) before connecting your own Stripe account.';
const SAMPLE_HAS_NO_ENDPOINT =
  'The sample store has no webhook endpoint at Stripe to check: its events arrive signed through its own relay.';
const SAMPLE_TEST_ONLY =
  'The sample store acts in test mode only. Switch to test mode to try refunds and account status.';

const notConnected = (mode: Mode) =>
  `Stripe is not connected for ${mode} mode yet. Connect with Stripe or enter your ${mode} mode keys first.`;

/** One store: its connection facts, its mirror, and what its Stripe knows of each account. */
export interface Store {
  conn: Connection;
  data: StoreData;
  /** Stripe's side: whether verification of `${mode}:${account}` is complete. */
  verified: Map<string, boolean>;
}

export interface PendingSignIn {
  id: number;
  mode: Mode;
}

export interface MemoryOptions {
  /** Unix seconds; injectable so tests are deterministic. */
  now?: () => number;
  /** Start with the sample store open (as after "Explore with a sample store"). */
  sample?: boolean;
  /**
   * Start while the mirror's upgrade re-derives the orders (as a new version's first start on
   * a large store): `startup_status` says so and every other command waits, as in the shell,
   * until `finishUpgrade()`.
   */
  upgrading?: PendingUpdate;
}

type Handler = (payload: unknown) => void;

function token(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, (c) => (c === '+' ? '-' : c === '/' ? '_' : ''));
}

export class MemoryShell implements Backend {
  readonly kind = 'memory' as const;
  protected readonly now: () => number;
  protected own: Store = { conn: freshConnection(), data: emptyStore(), verified: new Map() };
  protected sample: Store | null = null;
  protected online = true;
  private handlers = new Map<EventName, Set<Handler>>();
  /** URLs the shell would open in the system browser (the dev build also opens Stripe's pages). */
  readonly openedUrls: string[] = [];
  /** The webhook endpoints created at Stripe for the owner's account. */
  protected readonly endpoints: { id: string; url: string; mode: Mode; events: string[]; enabled: boolean }[] = [];
  protected seq = 0;
  protected signIn: PendingSignIn | null = null;
  /** What the OS file dialog hands over next, in turn (none left: the owner closes it). */
  protected filePicks: PickedFile[] = [];

  /** The upgrade under way at start, and what ends it. */
  protected upgrading: PendingUpdate | null = null;
  protected upgraded: Promise<void> = Promise.resolve();
  protected endUpgrade: () => void = () => {};

  constructor(opts: MemoryOptions = {}) {
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    if (opts.sample) this.openSample();
    if (opts.upgrading) {
      this.upgrading = opts.upgrading;
      this.upgraded = new Promise((resolve) => (this.endUpgrade = resolve));
    }
  }

  protected get cur(): Store {
    return this.sample ?? this.own;
  }

  // ---- Backend ----

  async call<C extends CommandName>(
    command: C,
    ...args: ArgsOf<C> extends void ? [] : [ArgsOf<C>]
  ): Promise<ResultOf<C>> {
    if (command === 'startup_status') return structuredClone({ updating: this.upgrading }) as ResultOf<C>;
    // Every other command waits for the store to open, as the shell's do.
    await this.upgraded;
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

  protected emit<E extends EventName>(event: E, payload: BackendEvents[E]): void {
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
        return this.connectCancel();
      case 'set_connect_service':
        return this.setConnectService(args.url as string | null);
      case 'hub_feed':
      case 'sync_now':
        return hubFeed(this.own.conn, this.sample !== null);
      case 'set_hub':
        return this.setHub(args.url as string | null);
      case 'key_hub':
        return (['test', 'live'] as const).map((m) => keyHubStatus(m, this.sample ? null : this.own.conn.modes[m].keyHub));
      case 'set_key_hub':
        return this.setKeyHub(args.mode, args.on as boolean);
      case 'disconnect':
        return this.disconnect(args.mode);
      case 'account_status':
        return this.accountStatus(args.mode, args.refresh as boolean);
      case 'refund_order':
        return this.refund(args as unknown as RefundArgs);
      case 'fetch_line_items':
        return this.fetchLineItems(args.mode, args.session_id as string);
      case 'lookup_order':
        return this.lookupOrder(args.mode, args.session_id as string);
      case 'set_order_marker':
        this.cur.data.marker = args.marker ? validateMarker(args.marker as OrderMarker) : null;
        return this.cur.data.marker;
      case 'open_sample_store':
        this.openSample();
        return this.changed();
      case 'close_sample_store':
        this.sample = null;
        return this.changed();
      case 'open_url':
        this.openUrl(args.url as string);
        return null;
      case 'open_dashboard':
        return this.openDashboard(args.mode, args.id as string);
      case 'checklist_facts':
        return checklistFacts(this.cur.data, {
          test: this.cur.conn.modes.test.connectedSince,
          live: this.cur.conn.modes.live.connectedSince,
        });
      case 'check_webhook_endpoint':
        return this.checkWebhook(args.mode);
      case 'dispute_workbench':
        return workbench(this.cur.data, args.mode, args.dispute_id as string, this.now());
      case 'save_dispute_draft':
        saveText(this.cur.data, args.mode, args.dispute_id as string, args.field as string, args.value as string | null, this.now());
        return workbench(this.cur.data, args.mode, args.dispute_id as string, this.now());
      case 'attach_evidence_file': {
        workbench(this.cur.data, args.mode, args.dispute_id as string, this.now());
        const file = this.filePicks.shift();
        if (!file) fail('cancelled', 'No file was picked; the draft is unchanged.');
        attachFile(this.cur.data, args.mode, args.dispute_id as string, args.field as string, file, this.now(), ++this.seq);
        return workbench(this.cur.data, args.mode, args.dispute_id as string, this.now());
      }
      case 'remove_evidence_file':
        removeFile(this.cur.data, args.mode, args.dispute_id as string, args.field as string, this.now());
        return workbench(this.cur.data, args.mode, args.dispute_id as string, this.now());
      case 'submit_dispute_evidence':
        return this.submitEvidence(args.mode, args.dispute_id as string, args.submit as boolean);
      case 'dispute_texts':
        return disputeTexts(this.cur.data);
      case 'set_dispute_text':
        return setDisputeText(this.cur.data, args.text as never, args.value as string);
      case 'preferences':
        return this.preferences();
      case 'set_preferences':
        return this.setPreferences(args as unknown as SetPreferencesArgs);
      case 'export_csv':
        return this.exportCsv(args as unknown as ExportCsvArgs);
    }
    return readCommand(this.cur.data, command, args, this.now());
  }

  // ---- the desktop's own ----

  /** What the save dialog answers next (a test control): a path, or null when the owner cancels. */
  saveDialogAnswer: string | null = null;
  /** The owner's notice kinds turned off, and the tray choice (the shell keeps them in the owner's mirror). */
  protected noticesOff = new Set<NoticeKind>();
  protected keepInTray = true;

  private preferences(): Preferences {
    // A browser has no tray: as on a desktop without a tray host, closing the window quits.
    return {
      notices: NOTICE_KINDS.map((kind) => ({ kind, on: !this.noticesOff.has(kind) })),
      keep_in_tray: this.keepInTray,
      tray_available: false,
    };
  }

  private setPreferences(a: SetPreferencesArgs): Preferences {
    for (const p of a.notices ?? []) {
      if (p.on) this.noticesOff.delete(p.kind);
      else this.noticesOff.add(p.kind);
    }
    if (a.keep_in_tray !== null && a.keep_in_tray !== undefined) this.keepInTray = a.keep_in_tray;
    return this.preferences();
  }

  /** Facts already raised (the shell keeps them in the owner's mirror). */
  protected noticesShown = new Set<string>();

  /**
   * The mirror's first-live-order notice (crates/mirror/src/notices.rs), the one notice this
   * backend can meet: raised once, when the store's first paid live order arrives.
   */
  protected firstLiveOrderNotice(rec: OrderRecord): void {
    const fact = 'first_live_order';
    if (this.sample || this.noticesOff.has(fact) || this.noticesShown.has(fact)) return;
    const earlier = ownOrders(this.cur.data).some((o) => o !== rec && o.order.mode === 'live' && o.paidAt !== null);
    if (earlier) return;
    this.noticesShown.add(fact);
    const o = rec.order;
    const what = o.amount !== null && o.currency ? ` ${money(o.amount, o.currency)}` : '';
    this.emit('notice_shown', {
      kind: 'first_live_order',
      mode: 'live',
      fact,
      title: 'Your first live order',
      body: `A real customer paid${what}. Your store takes live payments.`,
      target: { view: 'order', session_id: o.session_id },
    });
  }

  /** The rows the shell would write (it writes the file; here nothing is written anywhere). */
  private exportCsv(a: ExportCsvArgs): ExportDone {
    const d = this.cur.data;
    let rows = 0;
    if (a.list === 'orders') {
      let after: string | null = null;
      do {
        const page = queryOrders(ownOrders(d), a.mode, { ...a, after, limit: 500 });
        rows += page.items.length;
        after = page.next;
      } while (after);
    } else if (a.list === 'disputes') {
      rows = (readCommand(d, 'list_disputes', { mode: a.mode }) as unknown[]).length;
    } else {
      rows = d.subscriptions.filter((x) => x.mode === a.mode).length;
    }
    const path = this.saveDialogAnswer;
    return path === null ? { path: null, rows: 0 } : { path, rows };
  }

  // ---- connection ----

  private status(): ConnectionStatus {
    const { conn, data } = this.cur;
    const test = modeConnection(conn.modes.test, 'test', data.accounts);
    const live = modeConnection(conn.modes.live, 'live', data.accounts);
    let method = conn.method;
    if (this.sample) {
      // The sample store shows a store set up with keys in both modes; its test mode acts on
      // the local Stripe stand-in, its keys and signing secret live in memory.
      method = 'keys';
      for (const c of [test, live]) {
        c.connected = true;
        c.via = 'keys';
        c.secrets = (['secret_key', 'webhook_secret'] as const).map((kind) => ({ kind, store: SAMPLE_SECRETS }));
      }
    }
    return {
      method,
      test,
      live,
      connect_service: connectService(conn),
      relay: { listening: conn.relayUrl !== null, local_url: conn.relayUrl, public_url: null },
      sample_store: this.sample !== null,
      online: this.online,
    };
  }

  protected changed(): ConnectionStatus {
    const s = this.status();
    this.emit('account_changed', s);
    return s;
  }

  private refuseInSample(): void {
    if (this.sample) fail('refused', SAMPLE_REFUSES);
  }

  /** What a Stripe call in `mode` would authenticate with; fails as the profile does. */
  private requireCredential(mode: Mode): void {
    if (this.sample) {
      if (mode === 'live') fail('not_connected', SAMPLE_TEST_ONLY);
      return;
    }
    const s = this.cur.conn.modes[mode];
    if (s.apiKey) return;
    if (s.connectState === 'connected' && s.token) return;
    if (s.connectState === 'disconnected') fail('not_connected', s.connectReason ?? REASON_TOKEN_REJECTED);
    fail('not_connected', notConnected(mode));
  }

  /** The account a credential of `mode` acts for, as Stripe would name it. */
  protected stripeAccountId(mode: Mode): string {
    const known = this.cur.conn.modes[mode].accountId;
    if (known) return known;
    if (this.sample) return `acct_1Sample${mode === 'test' ? 'Test' : 'Live'}`;
    return mode === 'test' ? 'acct_1FluxTestStore' : 'acct_1FluxLiveStore';
  }

  /**
   * `GET /v1/account`: Stripe's answer is recorded in the mirror (and audited); offline the
   * failed call is audited and nothing is recorded.
   */
  protected fetchAccount(store: Store, mode: Mode, id: string, firstSeenComplete: boolean): AccountStatus | null {
    if (!this.online) {
      this.audit(store, 'GET', '/v1/account', null, null, mode, 'offline');
      return null;
    }
    this.audit(store, 'GET', '/v1/account', null, 200, mode);
    const key = `${mode}:${id}`;
    if (!store.verified.has(key)) store.verified.set(key, firstSeenComplete);
    const status = accountStatus(this.now(), mode, id, store.verified.get(key) as boolean);
    putAccount(store.data.accounts, status);
    return status;
  }

  private saveKeys(pk: string, sk: string): ConnectionStatus {
    this.refuseInSample();
    const v = validateKeys(pk ?? '', sk ?? '');
    if (isBackendError(v)) throw v;
    const c = this.own.conn;
    const s = c.modes[v.mode];
    // Stripe is asked first; offline the keys are kept on their format alone.
    const id = v.mode === 'test' ? 'acct_1FluxTestStore' : 'acct_1FluxLiveStore';
    if (this.fetchAccount(this.own, v.mode, id, false)) s.accountId = id;
    s.apiKey = v.secretKind;
    s.connectedSince ??= this.now();
    s.publishableKey = v.publishable;
    c.method ??= 'keys';
    return this.changed();
  }

  private saveWebhookSecret(mode: Mode, secret: string): ConnectionStatus {
    this.refuseInSample();
    const err = validateWebhookSecret(secret ?? '');
    if (err) throw err;
    this.storeWebhookSecret(mode);
    return this.changed();
  }

  private storeWebhookSecret(mode: Mode): void {
    this.own.conn.modes[mode].webhookSecret = true;
    this.own.conn.relayUrl ??= RELAY_URL;
  }

  private createWebhook(mode: Mode, url: string): WebhookEndpointCreated {
    this.refuseInSample();
    this.requireCredential(mode);
    let parsed: URL;
    try {
      parsed = new URL((url ?? '').trim());
    } catch {
      fail('invalid_input', 'The webhook URL is not a valid web address (https://…).');
    }
    if (!this.online) {
      this.audit(this.own, 'POST', '/v1/webhook_endpoints', null, null, mode, 'offline');
      fail('offline', STRIPE_OFFLINE);
    }
    if (parsed.protocol !== 'https:' || /^(localhost|127\.|\[::1\])/.test(parsed.hostname)) {
      this.audit(this.own, 'POST', '/v1/webhook_endpoints', null, 400, mode, 'invalid_request');
      fail('stripe_error', 'Stripe refused the request: Invalid URL: URL must be publicly accessible over https.');
    }
    const endpoint = `we_${mode === 'test' ? 'test_' : ''}${(++this.seq).toString().padStart(6, '0')}`;
    this.audit(this.own, 'POST', '/v1/webhook_endpoints', endpoint, 200, mode);
    this.endpoints.push({ id: endpoint, url: parsed.href, mode, events: [...SUBSCRIBED_EVENT_TYPES], enabled: true });
    this.storeWebhookSecret(mode);
    this.changed();
    return { endpoint_id: endpoint, url: parsed.href, enabled_events: [...SUBSCRIBED_EVENT_TYPES], secret_stored: true };
  }

  /**
   * Live updates through the hub for a mode's API keys: register the store at the hub the mode
   * follows, create its webhook endpoint there with the 14 events, keep the feed token; off
   * deletes the endpoint. Turning on twice registers once.
   */
  private setKeyHub(mode: Mode, on: boolean): KeyHubChange {
    if (this.sample) fail('refused', SAMPLE_NO_FEED);
    const c = this.own.conn;
    const m = c.modes[mode];
    if (!on) {
      const rec = m.keyHub;
      if (!rec) return alreadyOff(mode);
      const path = `/v1/webhook_endpoints/${rec.endpointId}`;
      if (!this.online) {
        this.audit(this.own, 'DELETE', path, rec.endpointId, null, mode, 'offline');
        fail('offline', STRIPE_OFFLINE);
      }
      this.audit(this.own, 'DELETE', path, rec.endpointId, 200, mode);
      const at = this.endpoints.findIndex((e) => e.id === rec.endpointId);
      if (at >= 0) this.endpoints.splice(at, 1);
      m.keyHub = null;
      return turnedOff(mode, rec.endpointId);
    }
    if (m.keyHub) return turnedOn(mode, m.keyHub);
    this.requireCredential(mode);
    if (!m.apiKey) fail('refused', connectFollowsAlready(mode));
    const hub = checkHubUrl(c.hub ?? connectService(c).url);
    if (typeof hub !== 'string') throw hub;
    if (!this.online) fail('offline', hubUnreachable(hub));
    const url = `${hub.replace(/\/+$/, '')}${STORE_WEBHOOK_PREFIX}hsk_${randomPart()}`;
    const endpointId = `we_${(++this.seq).toString().padStart(6, '0')}${randomPart().slice(0, 8)}`;
    this.audit(this.own, 'POST', '/v1/webhook_endpoints', endpointId, 200, mode);
    this.endpoints.push({ id: endpointId, url, mode, events: [...SUBSCRIBED_EVENT_TYPES], enabled: true });
    m.keyHub = { hub, storeId: `st_${randomPart()}`, endpointId };
    return turnedOn(mode, m.keyHub);
  }

  private setConnectService(url: string | null): ConnectionStatus {
    const text = url?.trim() ?? '';
    let value: string | null = null;
    if (text !== '') {
      const checked = checkConnectServiceUrl(text);
      if (typeof checked !== 'string') throw checked;
      value = checked;
    }
    // The owner's profile keeps it, as in the shell, even while the sample store is shown.
    this.own.conn.connectService = value;
    return this.changed();
  }

  private setHub(url: string | null) {
    const text = url?.trim() ?? '';
    let value: string | null = null;
    if (text !== '') {
      const checked = checkHubUrl(text);
      if (typeof checked !== 'string') throw checked;
      value = checked;
    }
    this.own.conn.hub = value;
    return hubFeed(this.own.conn, this.sample !== null);
  }

  private connectStart(mode: Mode) {
    this.refuseInSample();
    const previous = this.signIn;
    const sign: PendingSignIn = { id: ++this.seq, mode };
    this.signIn = sign;
    // A newer sign-in ends the older one, which reports itself as cancelled.
    if (previous) setTimeout(() => this.finishSignIn(previous, CANCELLED), 0);
    const url = authorizeUrl(connectService(this.own.conn).url, token(), token(), 40_000 + (sign.id % 20_000), mode);
    // The shell opens the system browser itself; here the "browser" is the test hooks below.
    this.openedUrls.push(url);
    return { authorize_url: url };
  }

  private connectCancel(): null {
    const pending = this.signIn;
    if (pending) {
      this.signIn = null;
      setTimeout(() => this.finishSignIn(pending, CANCELLED), 0);
    }
    return null;
  }

  /** Report how a sign-in ended, then the connection as it now is (the shell's order). */
  protected finishSignIn(sign: PendingSignIn, outcome: { accountId: string } | Failure): boolean {
    if (this.signIn?.id === sign.id) this.signIn = null;
    this.emit('sign_in_ended', ended(sign.mode, outcome));
    this.changed();
    return true;
  }

  private disconnect(mode: Mode): ConnectionStatus {
    this.refuseInSample();
    const c = this.own.conn;
    const wasConnect = c.modes[mode].connectState === 'connected';
    // Live updates through the hub end with the keys: their endpoint is deleted first.
    const hubEndpoint = c.modes[mode].keyHub?.endpointId;
    if (hubEndpoint && this.online) {
      this.audit(this.own, 'DELETE', `/v1/webhook_endpoints/${hubEndpoint}`, hubEndpoint, 200, mode);
      const at = this.endpoints.findIndex((e) => e.id === hubEndpoint);
      if (at >= 0) this.endpoints.splice(at, 1);
    }
    // A Connect connection is revoked through the Connect service first; the mirror stays.
    if (wasConnect && !this.online) fail('offline', SERVICE_UNREACHABLE.message);
    c.modes[mode] = emptyMode();
    if (wasConnect) {
      c.modes[mode].connectState = 'disconnected';
      c.modes[mode].connectReason = REASON_OWNER_DISCONNECTED;
    }
    return this.changed();
  }

  private accountStatus(mode: Mode, refresh: boolean): AccountStatus | null {
    const store = this.cur;
    if (!refresh) return accountFor(store.data.accounts, mode, store.conn.modes[mode].accountId);
    if (this.sample && mode === 'live') fail('not_connected', SAMPLE_TEST_ONLY);
    this.requireCredential(mode);
    const id = this.stripeAccountId(mode);
    const fetched = this.fetchAccount(store, mode, id, this.sample !== null);
    if (!fetched) fail('offline', STRIPE_OFFLINE);
    store.conn.modes[mode].accountId = id;
    this.changed();
    return fetched;
  }

  // ---- refund ----

  private refund(a: RefundArgs): OrderDetail {
    if (this.sample && a.mode === 'live') fail('not_connected', SAMPLE_TEST_ONLY);
    const rec = orderRecord(this.cur.data, a.mode, a.session_id);
    const o = rec.order;
    if (!o.payment_intent_id && !o.charge_id)
      fail('refused', 'This order has no payment yet, so there is nothing to refund.');
    const remaining = (o.amount ?? 0) - o.amount_refunded;
    if (remaining <= 0) fail('refused', 'This order has already been refunded in full.');
    if (a.amount !== null && (!Number.isInteger(a.amount) || a.amount <= 0 || a.amount > remaining))
      fail(
        'invalid_input',
        `The refund amount must be more than zero and at most what remains of the order (${remaining} in the currency's smallest unit).`,
      );
    this.requireCredential(a.mode);
    if (!this.online) {
      this.audit(this.cur, 'POST', '/v1/refunds', o.payment_intent_id, null, a.mode, 'offline');
      fail('offline', STRIPE_OFFLINE);
    }
    if (o.status !== 'paid' && o.status !== 'partially_refunded') {
      this.audit(this.cur, 'POST', '/v1/refunds', o.payment_intent_id, 400, a.mode, 'invalid_request');
      fail('stripe_error', `Stripe refused the request: This PaymentIntent (${o.payment_intent_id}) does not have a successful charge to refund.`);
    }
    const amount = a.amount ?? remaining;
    rec.refunds.push(refundOf(o.session_id, rec.refunds.length, o.payment_intent_id, o.charge_id, amount, o.currency, 'succeeded', this.now(), a.reason));
    o.amount_refunded += amount;
    rec.stripe.amountRefunded = o.amount_refunded;
    o.status = o.amount_refunded >= (o.amount ?? 0) ? 'refunded' : 'partially_refunded';
    o.updated = this.now();
    this.audit(this.cur, 'POST', '/v1/refunds', o.payment_intent_id, 200, a.mode);
    this.applyEvent(rec, 'charge.refunded', 'api');
    return orderDetail(this.cur.data, a.mode, a.session_id);
  }

  /**
   * Upload the draft's files, then `POST /v1/disputes/{id}` with its evidence and `submit`;
   * refused before any request when Stripe no longer takes evidence (as the gateway).
   */
  private submitEvidence(mode: Mode, id: string, submit: boolean) {
    const d = this.cur.data;
    const bench = workbench(d, mode, id, this.now());
    const x = bench.dispute;
    if (this.sample && mode === 'live') fail('not_connected', SAMPLE_TEST_ONLY);
    // The profile finds the mode's credential first, then the gateway judges the dispute.
    this.requireCredential(mode);
    if (!bench.accepts_evidence) {
      const why =
        x.due_by !== null && (x.due_by <= this.now() || bench.past_due === true)
          ? `its deadline passed on ${utcText(x.due_by)}, and Stripe no longer takes evidence for it`
          : (bench.submission_count ?? 0) > 0
            ? `its evidence was already submitted (Stripe's status: ${x.status})`
            : `Stripe no longer takes evidence for it (its status is ${x.status})`;
      fail('invalid_input', `Nothing was sent for dispute ${x.id}: ${why}.`);
    }
    if (bench.values.every((v) => !v.value.trim()) && bench.files.length === 0)
      fail(
        'invalid_input',
        `The evidence for dispute ${x.id} is empty: nothing was sent. Fill in at least one field or attach a document, then send it again.`,
      );
    const draft = d.drafts[x.id];
    for (const f of draft?.files ?? []) {
      if (f.stripe_file_id) continue;
      if (!this.online) {
        this.audit(this.cur, 'POST', '/v1/files', x.id, null, mode, 'offline');
        fail('offline', STRIPE_OFFLINE);
      }
      this.audit(this.cur, 'POST', '/v1/files', x.id, 200, mode);
      f.stripe_file_id = `file_${f.sha256.slice(-24)}`;
    }
    if (!this.online) {
      this.audit(this.cur, 'POST', `/v1/disputes/${x.id}`, x.id, null, mode, 'offline');
      fail('offline', STRIPE_OFFLINE);
    }
    this.audit(this.cur, 'POST', `/v1/disputes/${x.id}`, x.id, 200, mode);
    const ev = d.evidence[x.id] ?? { has_evidence: null, submission_count: null, past_due: null };
    d.evidence[x.id] = { has_evidence: true, submission_count: (ev.submission_count ?? 0) + (submit ? 1 : 0), past_due: ev.past_due ?? false };
    if (submit) {
      x.status = x.status.startsWith('warning_') ? 'warning_under_review' : 'under_review';
      x.needs_response = false;
    }
    x.updated = this.now();
    this.storeEvent(this.cur, mode, 'charge.dispute.updated', 'api', null, true);
    return workbench(d, mode, x.id, this.now());
  }

  /** `GET /v1/checkout/sessions/{id}/line_items`, kept in the mirror. */
  private fetchLineItems(mode: Mode, session: string): OrderDetail {
    if (this.sample && mode === 'live') fail('not_connected', SAMPLE_TEST_ONLY);
    const rec = orderRecord(this.cur.data, mode, session);
    this.requireCredential(mode);
    const path = `/v1/checkout/sessions/${rec.order.session_id}/line_items`;
    if (!this.online) {
      this.audit(this.cur, 'GET', path, rec.order.session_id, null, mode, 'offline');
      fail('offline', STRIPE_OFFLINE);
    }
    this.audit(this.cur, 'GET', path, rec.order.session_id, 200, mode);
    rec.lineItems = structuredClone(rec.stripe.lineItems);
    return orderDetail(this.cur.data, mode, rec.order.session_id);
  }

  /** "Look it up on Stripe's side", healing the mirror from the events it missed. */
  private lookupOrder(mode: Mode, session: string): LookupReport {
    if (this.sample && mode === 'live') fail('not_connected', SAMPLE_TEST_ONLY);
    const rec = orderRecord(this.cur.data, mode, session);
    const o = rec.order;
    this.requireCredential(mode);
    if (!o.payment_intent_id && !o.charge_id)
      fail('invalid_input', 'This order has no payment at Stripe yet, so there is nothing to look up. It changes once the buyer pays.');
    const first = o.payment_intent_id ? `/v1/payment_intents/${o.payment_intent_id}` : `/v1/charges/${o.charge_id}`;
    if (!this.online) {
      this.audit(this.cur, 'GET', first, o.payment_intent_id ?? o.charge_id, null, mode, 'offline');
      fail('offline', STRIPE_OFFLINE);
    }
    if (o.payment_intent_id) this.audit(this.cur, 'GET', `/v1/payment_intents/${o.payment_intent_id}`, o.payment_intent_id, 200, mode);
    if (o.charge_id) {
      this.audit(this.cur, 'GET', `/v1/charges/${o.charge_id}`, o.charge_id, 200, mode);
      this.audit(this.cur, 'GET', '/v1/refunds', o.charge_id, 200, mode);
      this.audit(this.cur, 'GET', '/v1/disputes', o.charge_id, 200, mode);
    }
    const paid = o.status !== 'pending' && o.status !== 'failed';
    const disputes = this.cur.data.disputes
      .filter((d) => d.mode === mode && d.order_session_id === o.session_id)
      .map((d) => ({ id: d.id, status: d.status }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const mirror: OrderFacts = { paid, amount_refunded: o.amount_refunded, disputes };
    const stripe: OrderFacts = { paid, amount_refunded: rec.stripe.amountRefunded, disputes };
    const diff = differences(stripe, mirror, o.currency);
    let healed: LookupReport['healed'] = null;
    if (diff.length) {
      this.audit(this.cur, 'GET', '/v1/events', null, 200, mode);
      // As in the shell: the charge's events bring the refunded total; the Dashboard's refund
      // object itself comes in no event the heal fetches, so it is not listed.
      o.amount_refunded = rec.stripe.amountRefunded;
      o.status = o.amount_refunded >= (o.amount ?? 0) ? 'refunded' : 'partially_refunded';
      o.updated = this.now();
      this.applyEvent(rec, 'charge.refunded', 'events_api');
      const after: OrderFacts = { ...mirror, amount_refunded: o.amount_refunded };
      healed = { events_applied: 1, mirror: after, differences: differences(stripe, after, o.currency) };
    }
    return {
      session_id: o.session_id,
      stripe: {
        payment_intent_id: o.payment_intent_id,
        payment_intent_status: o.payment_intent_id ? (paid ? 'succeeded' : 'requires_payment_method') : null,
        charge_id: o.charge_id,
        charge_status: o.charge_id ? (paid ? 'succeeded' : 'failed') : null,
        refunds:
          rec.stripe.amountRefunded > 0
            ? [{ id: `re_${o.session_id.slice(-12)}`, amount: rec.stripe.amountRefunded, status: 'succeeded', created: o.updated }]
            : [],
        facts: stripe,
      },
      mirror,
      differences: diff,
      healed,
    };
  }

  // ---- helpers ----

  private openSample(): void {
    const now = this.now();
    this.sample = { conn: sampleConnection(now), data: sampleStore(now), verified: new Map() };
  }

  /**
   * The endpoints Stripe holds for the owner's account (created here or, as a test control,
   * "in the Dashboard"), judged as the gateway's `check_endpoints` judges them.
   */
  private checkWebhook(mode: Mode): WebhookCheck {
    if (this.sample) fail('refused', SAMPLE_HAS_NO_ENDPOINT);
    this.requireCredential(mode);
    if (!this.online) {
      this.audit(this.own, 'GET', '/v1/webhook_endpoints', null, null, mode, 'offline');
      fail('offline', STRIPE_OFFLINE);
    }
    this.audit(this.own, 'GET', '/v1/webhook_endpoints', null, 200, mode);
    const mine = this.endpoints.filter((e) => e.mode === mode).reverse();
    const missing = (e: { events: string[] }) =>
      e.events.includes('*') ? [] : WEBHOOK_EVENTS.map((w) => w.type as string).filter((t) => !e.events.includes(t));
    // The relay's path on any host, or anything on the hub's host (the hub the mode follows,
    // and the Connect service), as the shell judges.
    const c = this.own.conn;
    const hubs = [c.modes[mode].keyHub?.hub ?? c.hub ?? connectService(c).url, connectService(c).url];
    const hosts = hubs.map((u) => new URL(u).hostname);
    const best =
      mine
        .filter((e) => {
          const u = new URL(e.url);
          return u.pathname.replace(/\/+$/, '').endsWith(WEBHOOK_PATH) || hosts.includes(u.hostname);
        })
        .sort((x, y) => Number(!x.enabled) - Number(!y.enabled) || missing(x).length - missing(y).length)[0] ?? null;
    const lacking = best ? missing(best) : [];
    const message = !best
      ? mine.length === 0
        ? `Your ${mode} Stripe account has no webhook endpoint. Add one whose address ends in ${WEBHOOK_PATH} with the 12 events, or let FluxStore create it.`
        : `None of the ${mine.length} webhook endpoints of your ${mode} Stripe account points at FluxStore (an address ending in ${WEBHOOK_PATH}). Add one with the 12 events.`
      : !best.enabled
        ? `The webhook endpoint ${best.url} is disabled in Stripe, so nothing is delivered. Enable it in the Stripe Dashboard (Developers → Webhooks).`
        : lacking.length
          ? `The webhook endpoint ${best.url} does not send ${lacking.join(', ')}. Add ${lacking.length === 1 ? 'this event' : 'these events'} to it in the Stripe Dashboard.`
          : `Stripe sends all 12 events to ${best.url}, and the endpoint is enabled.`;
    return {
      mode,
      ok: !!best && best.enabled && lacking.length === 0,
      endpoint_id: best?.id ?? null,
      url: best?.url ?? null,
      disabled: !!best && !best.enabled,
      missing_events: lacking,
      endpoints: mine.length,
      message,
    };
  }

  /** The Dashboard page of a Stripe object, from the generated page table (the shell's rule). */
  private openDashboard(mode: Mode, id: string): string {
    const clean = (id ?? '').trim();
    const page = DASHBOARD_PAGES.find(([prefix]) => clean.startsWith(prefix) && clean.length > prefix.length);
    if (!page || !/^[A-Za-z0-9_]+$/.test(clean))
      fail('invalid_input', `“${clean}” is not a Stripe id FluxStore can show in the Stripe Dashboard.`);
    const url = `${DASHBOARD_ORIGIN}${mode === 'test' ? '/test' : ''}/${page[1]}/${clean}`;
    this.openUrl(url);
    return url;
  }

  private openUrl(url: string): void {
    const allowed = ['dashboard.stripe.com', 'connect.stripe.com', new URL(connectService(this.own.conn).url).hostname];
    let parsed: URL;
    try {
      parsed = new URL(url.trim());
    } catch {
      fail('refused', 'That is not a web address FluxStore can open.');
    }
    if (parsed.protocol !== 'https:') fail('refused', 'FluxStore only opens secure (https) web pages.');
    if (!allowed.includes(parsed.hostname))
      fail(
        'refused',
        `FluxStore opens only Stripe’s pages (${allowed.join(', ')}) from here, not ${parsed.hostname}. Open other sites from your browser yourself.`,
      );
    this.openedUrls.push(url);
    if (typeof window !== 'undefined' && !navigator.webdriver) window.open(url, '_blank', 'noopener');
  }

  protected audit(
    store: Store,
    method: string,
    path: string,
    objectId: string | null,
    status: number | null,
    mode: Mode,
    errorCode: string | null = null,
  ): void {
    store.data.apiCalls.push(call(this.now(), method, path, objectId, status, mode, errorCode));
  }

  private eventId(mode: Mode): string {
    return `evt_${mode === 'test' ? 'test_' : ''}${(++this.seq).toString(36).padStart(8, '0')}`;
  }

  /** Store a verified event of `mode` and announce it, as the relay or the feed does. */
  protected storeEvent(store: Store, mode: Mode, type: string, source: Source, account: string | null, projected: boolean): string {
    const now = this.now();
    const id = this.eventId(mode);
    store.data.events.push({ id, event_type: type, created: now, mode, account, api_version: '2025-03-31.basil', source, received_at: now });
    this.emit('event_applied', { event_id: id, event_type: type, mode, projected });
    return id;
  }

  protected applyEvent(rec: OrderRecord, type: SubscribedEventType, source: Source): void {
    const now = this.now();
    const id = this.storeEvent(this.cur, rec.order.mode, type, source, null, true);
    rec.timeline.push({ event_id: id, event_type: type, created: now, source, received_at: now });
  }

  /**
   * How an event of `mode` reaches the mirror: the sample store's relay verifies everything;
   * a Connect connection is fed by Stripe's events API; keys need the webhook signing secret.
   * Null when a delivery would be rejected.
   */
  protected route(mode: Mode): Source | null {
    if (this.sample) return 'webhook';
    const s = this.own.conn.modes[mode];
    const via = modeConnection(s, mode, []).via;
    if (via === 'connect') return 'events_api';
    return s.webhookSecret ? 'webhook' : null;
  }
}
