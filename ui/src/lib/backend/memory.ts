/**
 * The in-memory `Backend`: the shell's commands (`memory-shell.ts`) plus controls that play the
 * outside world's part — Stripe (payments, events, account verification, a deauthorization), the
 * owner's browser during a Connect sign-in (approve, deny, time out) and the network. Used by
 * `npm run dev` outside Tauri (as `window.__fluxstoreMemory`) and by the browser tests.
 *
 * Invariant: a control changes only what the outside world changes; the app learns of it the
 * way the shell would tell it (an event stored and announced, a sign-in ending, a connection
 * change), never by a shortcut into the UI's state.
 */
import { WEBHOOK_EVENTS } from '../webhook';
import { denied, SERVICE_UNREACHABLE, STRIPE_DENIED_DESCRIPTION, TIMED_OUT, wrongMode } from './memory-connect';
import type { PickedFile } from './memory-disputes';
import type { OrderRecord } from './memory-seed';
import { MemoryShell } from './memory-shell';
import { accountStatus, putAccount, REASON_DEAUTHORIZED, REASON_TOKEN_REJECTED } from './memory-state';
import { REJECTION_BUCKET_SECS } from './generated/facts';
import type { BackendEvents, Mode, RejectionCode } from './types';

export type { MemoryOptions } from './memory-shell';

export class MemoryBackend extends MemoryShell {
  /** The mirror's upgrade at start is done: the store opens and waiting commands answer. */
  finishUpgrade(): void {
    this.upgrading = null;
    this.endUpgrade();
  }

  /** Go offline or online, as the shell reports it. */
  setOnline(online: boolean): void {
    this.online = online;
    this.emit('online_changed', { online });
  }

  /**
   * The browser came back from Stripe with the owner's approval (optionally in the other mode,
   * optionally for a given account: one Stripe account has both modes).
   */
  approveSignIn(opts: { livemode?: boolean; accountId?: string } = {}): boolean {
    const sign = this.signIn;
    if (!sign) return false;
    const got: Mode = opts.livemode === undefined ? sign.mode : opts.livemode ? 'live' : 'test';
    // Redeeming the code needs the Connect service.
    if (!this.online) return this.finishSignIn(sign, SERVICE_UNREACHABLE);
    if (got !== sign.mode) return this.finishSignIn(sign, wrongMode(got, sign.mode));
    const c = this.own.conn;
    const s = c.modes[sign.mode];
    const id = opts.accountId ?? (sign.mode === 'test' ? 'acct_1FluxConnectTest' : 'acct_1FluxConnectLive');
    s.token = true;
    s.accountId = id;
    s.publishableKey = `pk_${sign.mode}_51FluxConnectPublishableKey`;
    // A mode that becomes connected again starts counting afresh (the profile's rule).
    if (s.connectState !== 'connected') s.connectedSince = null;
    s.connectedSince ??= this.now();
    s.connectState = 'connected';
    s.connectReason = null;
    c.method ??= 'connect';
    // The status right after connecting (a test account is verified at once; a live one waits).
    this.fetchAccount(this.own, sign.mode, id, sign.mode === 'test');
    return this.finishSignIn(sign, { accountId: id });
  }

  /** The owner clicked "Deny" at Stripe; Stripe's own description comes back. */
  denySignIn(description = STRIPE_DENIED_DESCRIPTION): boolean {
    return this.signIn ? this.finishSignIn(this.signIn, denied(description)) : false;
  }

  /** Nobody came back from the browser within the 5 minutes. */
  timeOutSignIn(): boolean {
    return this.signIn ? this.finishSignIn(this.signIn, TIMED_OUT) : false;
  }

  /** The pending sign-in's mode, or null (for tests). */
  pendingSignIn(): Mode | null {
    return this.signIn?.mode ?? null;
  }

  /**
   * The owner removed FluxStore in Stripe (Connected applications): the
   * `account.application.deauthorized` event reaches the mirror and ends that mode's Connect
   * connection with its reason.
   */
  simulateDeauthorization(mode: Mode): void {
    const s = this.own.conn.modes[mode];
    this.storeEvent(this.own, mode, 'account.application.deauthorized', 'events_api', s.accountId, false);
    if (s.connectState === 'connected') {
      s.connectState = 'disconnected';
      s.connectReason = REASON_DEAUTHORIZED;
      this.changed();
    }
  }

  /** Stripe answered 401 to the mode's Connect token during a sync (access revoked). */
  simulateTokenRevoked(mode: Mode): void {
    const s = this.own.conn.modes[mode];
    // A 401 on a pasted key is the key's problem, not Connect's.
    if (s.apiKey || s.connectState !== 'connected') return;
    s.connectState = 'disconnected';
    s.connectReason = REASON_TOKEN_REJECTED;
    this.changed();
  }

  /**
   * Stripe finished verifying the mode's account: charges and payouts enabled, announced by an
   * `account.updated` event (the mirror's status changes only when that event is stored).
   */
  completeAccountOnboarding(mode: Mode): boolean {
    const id = this.cur.conn.modes[mode].accountId ?? (this.sample ? this.stripeAccountId(mode) : null);
    if (!id) return false;
    this.cur.verified.set(`${mode}:${id}`, true);
    const source = this.route(mode);
    if (!source || (this.sample && mode === 'live')) return false;
    putAccount(this.cur.data.accounts, accountStatus(this.now(), mode, id, true));
    this.storeEvent(this.cur, mode, 'account.updated', source, null, true);
    return true;
  }

  /**
   * A checkout paid with card 4242 4242 4242 4242 (test) or a real card (live): a pending
   * order, then its `checkout.session.completed`. Without a way in (keys mode, no signing
   * secret) it is rejected exactly as the relay would: `no_signing_secret`.
   */
  /**
   * The owner adds a webhook endpoint in the Stripe Dashboard (by default with the 12 events,
   * enabled); returns its id. Stripe then lists it to `check_webhook_endpoint`.
   */
  addWebhookEndpoint(mode: Mode, url: string, events: string[] = WEBHOOK_EVENTS.map((e) => e.type), enabled = true): string {
    const id = `we_dash_${mode}_${this.endpoints.length + 1}`;
    this.endpoints.push({ id, url, mode, events, enabled });
    return id;
  }

  simulatePayment(mode: Mode, amount = 999, currency = 'usd'): string | null {
    const source = this.route(mode);
    if (!source) {
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
        customer_country: null,
        customer_id: null,
        client_reference_id: null,
        card_brand: null,
        card_last4: null,
        risk_level: null,
        failure_message: null,
        mode,
        account: this.cur.conn.modes[mode].accountId,
        created: now,
        updated: now,
      },
      timeline: [],
      paidAt: now,
      refunds: [],
      metadata: [],
      lineItems: null,
      stripe: { lineItems: [], amountRefunded: 0 },
    };
    this.cur.data.orders.push(rec);
    this.applyEvent(rec, 'checkout.session.completed', source);
    if (mode === 'live') this.firstLiveOrderNotice(rec);
    return session;
  }

  /** A customer subscribed: its `customer.subscription.created` reaches the mirror. */
  /**
   * The owner refunds an order in Stripe's Dashboard and the event never reaches this app:
   * Stripe's side moves on, the mirror does not (until a look-up or a sync heals it).
   */
  refundInDashboard(mode: Mode, session: string, amount: number): void {
    const rec = this.cur.data.orders.find((o) => o.order.mode === mode && o.order.session_id === session);
    if (rec) rec.stripe.amountRefunded = Math.min((rec.order.amount ?? 0), rec.stripe.amountRefunded + amount);
  }

  simulateSubscription(mode: Mode, status = 'active'): string | null {
    const source = this.route(mode);
    if (!source) {
      this.simulateRejection('no_signing_secret');
      return null;
    }
    const now = this.now();
    const n = (++this.seq).toString(36).padStart(8, '0');
    const id = `sub_${n}`;
    this.cur.data.subscriptions.push({
      id,
      customer: `cus_${n}`,
      status,
      current_period_end: now + 30 * 86_400,
      cancel_at_period_end: false,
      mode,
      created: now,
      updated: now,
    });
    this.storeEvent(this.cur, mode, 'customer.subscription.created', source, null, true);
    return id;
  }

  /**
   * A verified event that changes no order (e.g. Stripe's "Send test webhook"), so the "events
   * arriving" step can tick before any payment. Rejected without a way in.
   */
  simulateVerifiedEvent(mode: Mode, type = 'charge.succeeded'): boolean {
    const source = this.route(mode);
    if (!source) {
      this.simulateRejection('no_signing_secret');
      return false;
    }
    this.storeEvent(this.cur, mode, type, source, null, false);
    return true;
  }

  /** Progress of an events sync (GET /v1/events), as the shell reports it. */
  simulateSyncProgress(progress: BackendEvents['sync_progress']): void {
    this.emit('sync_progress', progress);
  }

  /** A delivery the relay turned away, with its reason code: counted into its (hour, code) row, as the mirror does. */
  simulateRejection(code: RejectionCode): void {
    const d = this.cur.data;
    const at = this.now();
    const bucket_start = at - (at % REJECTION_BUCKET_SECS);
    const row = d.rejections.find((r) => r.bucket_start === bucket_start && r.code === code);
    if (row) {
      row.count += 1;
      row.last_at = Math.max(row.last_at, at);
      row.last_peer = '127.0.0.1:50000';
      row.last_size = 2048;
    } else {
      d.rejections.push({ id: d.rejections.length + 1, bucket_start, code, count: 1, first_at: at, last_at: at, last_peer: '127.0.0.1:50000', last_size: 2048 });
    }
    this.emit('event_applied', { event_id: '', event_type: 'rejection', mode: 'test', projected: false });
  }

  /** The owner picks this file in the next OS file dialog (no pick queued: they close it). */
  pickFile(file: PickedFile): void {
    this.filePicks.push(file);
  }
}
