/**
 * Realistic, deterministic sample data for the in-memory backend: orders in several
 * currencies (incl. zero-decimal JPY and three-decimal KWD), failures and retries, refunds,
 * disputes with evidence due dates, subscriptions with paid and failed invoices, both modes.
 *
 * Invariant: the same `now` always yields the same store, so browser tests and screenshots
 * are stable; every row carries its mode and no id is shared between modes.
 */
import type { SubscribedEventType } from '../webhook';
import { REJECTION_BUCKET_SECS } from './generated/facts';
import { accountStatus, SAMPLE_ACCOUNT, SAMPLE_SET_UP_AGO } from './memory-state';
import type {
  AccountStatus,
  ApiCall,
  Dispute,
  DraftFile,
  Invoice,
  LineItem,
  MetadataField,
  Mode,
  Order,
  OrderMarker,
  OrderStatus,
  Refund,
  Rejection,
  RejectionCode,
  Source,
  StoredEvent,
  Subscription,
  TimelineEntry,
} from './types';

export interface OrderRecord {
  order: Order;
  timeline: TimelineEntry[];
  /** When the order first turned paid (for the checklist's "first paid order"). */
  paidAt: number | null;
  /** The session's metadata, sorted by key (as the mirror keeps it). */
  metadata: MetadataField[];
  /** The order's refunds as the mirror folds them, oldest first. */
  refunds: Refund[];
  /** The line items kept in the mirror: null until fetched from Stripe. */
  lineItems: LineItem[] | null;
  /** What Stripe holds for this order (the outside world the shell asks). */
  stripe: { lineItems: LineItem[]; amountRefunded: number };
}

/** A payment on the account without a FluxStore checkout: only its mode and time are known. */
export interface OtherPayment {
  mode: Mode;
  created: number;
}

export interface StoreData {
  orders: OrderRecord[];
  disputes: Dispute[];
  subscriptions: Subscription[];
  invoices: Invoice[];
  events: StoredEvent[];
  rejections: Rejection[];
  apiCalls: ApiCall[];
  /** The mirror's account statuses (from fetches and `account.updated` events). */
  accounts: AccountStatus[];
  /** Payments that are not orders (the mirror's `other_payments`). */
  otherPayments: OtherPayment[];
  /** The owner's order marker (a mirror setting). */
  marker: OrderMarker | null;
  /** The owner's evidence drafts (the mirror's `dispute_drafts`), by dispute id. */
  drafts: Record<string, MemoryDraft>;
  /** What Stripe last said of a dispute's evidence (`evidence_details`), by dispute id. */
  evidence: Record<string, DisputeEvidence>;
  /** Settings other than the marker (the reusable evidence texts), by key. */
  settings: Record<string, string>;
}

/** The owner's draft of one dispute's evidence, as the mirror keeps it. */
export interface MemoryDraft {
  /** Text fields the owner typed (an empty text clears a pre-filled value). */
  fields: Record<string, string>;
  files: DraftFile[];
  revision: number;
  updated_at: number;
}

export interface DisputeEvidence {
  has_evidence: boolean | null;
  submission_count: number | null;
  past_due: boolean | null;
}

export function emptyStore(): StoreData {
  return { orders: [], disputes: [], subscriptions: [], invoices: [], events: [], rejections: [], apiCalls: [], accounts: [], otherPayments: [], marker: null, drafts: {}, evidence: {}, settings: {} };
}

/** What a game-server store sells, who buys it and where it is delivered. */
const PACKAGES = ['VIP Rank (30 days)', 'MVP+ Rank (lifetime)', 'Legend Rank', 'Mythic Crate Key x5', '10,000 Coins', 'Baby Dragon Pet', 'Island Upgrade: Tier 3'];
const ADDONS = ['Vote Crate Key', '500 Coins', 'Name Tag Colour'];
const PLAYERS = ['xX_Steve_Xx', 'CreeperSlayer99', 'DiamondDigger', 'BlazeRunner', 'EnderQueen', 'RedstoneRay', 'PixelPanda', 'NetherNomad'];
const SERVERS = ['Survival EU #1', 'Skyblock', 'Factions US', 'Prison (Season 7)', 'Creative'];

/** A basket adding up to `amount`: a package, sometimes with two or three add-ons. */
export function basket(session: string, amount: number, currency: string, i: number): LineItem[] {
  const step = currency === 'kwd' ? 10 : 1;
  const item = (n: number, description: string, quantity: number, total: number): LineItem => ({
    id: `li_${session.slice(-10)}${n}`,
    description,
    quantity,
    amount_subtotal: total,
    amount_total: total,
    currency,
    price_id: `price_${description.replace(/[^A-Za-z0-9]/g, '').slice(0, 12)}_${currency}`,
    product_id: `prod_${description.replace(/[^A-Za-z0-9]/g, '').slice(0, 14)}`,
  });
  const qty = 2 + (i % 2);
  const unit = Math.floor(amount / 5 / qty / step) * step;
  if (i % 3 !== 0 || unit <= 0) return [item(0, PACKAGES[i % PACKAGES.length], 1, amount)];
  return [item(0, PACKAGES[i % PACKAGES.length], 1, amount - unit * qty), item(1, ADDONS[i % ADDONS.length], qty, unit * qty)];
}

export function checkoutMetadata(i: number, items: LineItem[]): MetadataField[] {
  return [
    { key: 'fluxstore_order', value: `order-${1000 + i}` },
    { key: 'package', value: items[0]?.description ?? '' },
    { key: 'player', value: PLAYERS[i % PLAYERS.length] },
    { key: 'server', value: SERVERS[(i * 3) % SERVERS.length] },
  ];
}

const DAY = 86_400;
const HOUR = 3_600;

/** mulberry32: tiny seeded PRNG so the sample store is reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The buyers' countries, one per customer below. */
const COUNTRIES = ['BR', 'JP', 'KW', 'DE', 'FR', 'GB', 'IN', 'SE', 'IT', 'JP'];

const CUSTOMERS: [string, string][] = [
  ['Ana Silva', 'ana.silva@example.com'],
  ['Kenji Sato', 'kenji.sato@example.jp'],
  ['Fatima Al-Sabah', 'fatima.alsabah@example.com'],
  ['Lukas Becker', 'lukas.becker@example.de'],
  ['Chloé Martin', 'chloe.martin@example.fr'],
  ['Sam Okafor', 'sam.okafor@example.com'],
  ['Priya Nair', 'priya.nair@example.in'],
  ['Jonas Berg', 'jonas.berg@example.se'],
  ['Mia Rossi', 'mia.rossi@example.it'],
  ['Yuki Tanaka', 'yuki.tanaka@example.jp'],
];

/** Prices per currency in minor units, as a store would set them. */
const PRICES: Record<string, number[]> = {
  USD: [499, 999, 1999, 4999, 9999],
  EUR: [499, 1499, 2999, 7999],
  GBP: [399, 1299, 2499],
  JPY: [500, 1200, 3000, 9800],
  KWD: [1500, 3250, 9990],
};

let idCounter = 0;
function makeId(prefix: string, mode: Mode, r: () => number): string {
  idCounter += 1;
  const body = Math.floor(r() * 36 ** 8).toString(36).padStart(8, '0');
  return `${prefix}_${mode === 'test' ? 'test_' : ''}${body}${idCounter.toString(36)}`;
}

/** A refund of an order, as the mirror lists it; its id follows from the order's session. */
export function refundOf(
  session: string,
  k: number,
  pi: string | null,
  ch: string | null,
  amount: number,
  currency: string | null,
  status: string,
  created: number,
  reason: string | null = 'requested_by_customer',
): Refund {
  return {
    id: `re_${session.slice(3)}${k}`,
    charge_id: ch,
    payment_intent_id: pi,
    amount,
    currency,
    status,
    reason,
    failure_reason: null,
    created,
  };
}

function entry(type: SubscribedEventType, created: number, source: Source, r: () => number): TimelineEntry {
  return { event_id: `evt_${Math.floor(r() * 36 ** 10).toString(36)}`, event_type: type, created, source, received_at: created + 1 };
}

function seedOrders(mode: Mode, count: number, now: number, r: () => number): OrderRecord[] {
  const currencies = Object.keys(PRICES);
  const out: OrderRecord[] = [];
  for (let i = 0; i < count; i++) {
    const [name, email] = CUSTOMERS[i % CUSTOMERS.length];
    const currency = currencies[(i * 7 + Math.floor(r() * 3)) % currencies.length];
    const prices = PRICES[currency];
    const amount = prices[Math.floor(r() * prices.length)];
    const created = now - Math.floor(i * 0.8 * DAY + r() * 6 * HOUR) - 600;
    const roll = r();
    let status: OrderStatus = 'paid';
    if (roll < 0.08) status = 'pending';
    else if (roll < 0.18) status = 'failed';
    else if (roll < 0.24) status = 'refunded';
    else if (roll < 0.28) status = 'partially_refunded';
    const session = makeId('cs', mode, r);
    const items = basket(session, amount, currency.toLowerCase(), i);
    const pi = makeId('pi', mode, r);
    const ch = status === 'pending' || status === 'failed' ? null : makeId('ch', mode, r);
    const src: Source = mode === 'live' ? 'feed' : 'webhook';
    const timeline: TimelineEntry[] = [];
    let paidAt: number | null = null;
    let failure: string | null = null;
    if (status === 'failed' || (status === 'paid' && roll > 0.9)) {
      // A decline, then (for the paid ones) a retry that succeeded.
      timeline.push(entry('payment_intent.payment_failed', created + 20, src, r));
      failure = 'Your card was declined.';
    }
    if (status !== 'pending' && status !== 'failed') {
      timeline.push(entry('checkout.session.completed', created + 40, src, r));
      timeline.push(entry('payment_intent.succeeded', created + 41, src, r));
      timeline.push(entry('charge.succeeded', created + 41, src, r));
      paidAt = created + 42;
      if (status === 'paid') failure = null;
    }
    let refunded = 0;
    const refunds: Refund[] = [];
    if (status === 'refunded' || status === 'partially_refunded') {
      refunded = status === 'refunded' ? amount : Math.round(amount / 2 / 10) * 10 || amount - 1;
      timeline.push(entry('charge.refunded', created + 3 * HOUR, 'api', r));
      refunds.push(refundOf(session, 0, pi, ch, refunded, currency.toLowerCase(), 'succeeded', created + 3 * HOUR));
    }
    out.push({
      order: {
        session_id: session,
        payment_intent_id: pi,
        charge_id: ch,
        subscription_id: null,
        status,
        amount,
        amount_refunded: refunded,
        currency: currency.toLowerCase(),
        customer_email: email,
        customer_name: name,
        customer_country: COUNTRIES[i % CUSTOMERS.length],
        customer_id: `cus_${session.slice(3)}`,
        client_reference_id: `order-${1000 + i}`,
        card_brand: ch ? (i % 4 === 1 ? 'mastercard' : 'visa') : null,
        card_last4: ch ? (i % 4 === 1 ? '4444' : '4242') : null,
        risk_level: ch ? (i % 11 === 5 ? 'elevated' : 'normal') : null,
        failure_message: failure,
        mode,
        account: null,
        created,
        updated: timeline.length ? timeline[timeline.length - 1].created : created,
      },
      timeline,
      paidAt,
      refunds,
      metadata: checkoutMetadata(i, items),
      // Kept for the orders opened online before; the rest are fetched when opened.
      lineItems: i % 2 === 0 ? items : null,
      stripe: { lineItems: items, amountRefunded: refunded },
    });
  }
  return out;
}

function disputeFor(
  rec: OrderRecord,
  status: string,
  reason: string,
  dueIn: number | null,
  now: number,
  r: () => number,
): Dispute {
  const o = rec.order;
  const created = Math.max(o.created + HOUR, now - 5 * DAY);
  const won = status === 'won';
  o.status = won ? 'dispute_won' : status === 'lost' ? 'dispute_lost' : 'disputed';
  rec.timeline.push(entry('charge.dispute.created', created, rec.timeline[0]?.source ?? 'webhook', r));
  if (won || status === 'lost') rec.timeline.push(entry('charge.dispute.closed', created + 3 * DAY, 'webhook', r));
  return {
    id: makeId('dp', o.mode, r),
    charge_id: o.charge_id,
    payment_intent_id: o.payment_intent_id,
    order_session_id: o.session_id,
    status,
    reason,
    amount: o.amount ?? 0,
    currency: o.currency ?? 'usd',
    due_by: dueIn === null ? null : now + dueIn,
    needs_response: status === 'needs_response' || status === 'warning_needs_response',
    mode: o.mode,
    created,
    updated: created,
  };
}

function seedSubscriptions(mode: Mode, now: number, r: () => number): [Subscription[], Invoice[]] {
  const statuses = mode === 'test' ? ['active', 'active', 'active', 'past_due', 'trialing', 'canceled'] : ['active', 'active', 'past_due'];
  const subs: Subscription[] = [];
  const invoices: Invoice[] = [];
  statuses.forEach((status, i) => {
    const [, email] = CUSTOMERS[(i + 3) % CUSTOMERS.length];
    const currency = i % 3 === 1 ? 'eur' : i % 3 === 2 ? 'jpy' : 'usd';
    const price = currency === 'jpy' ? 980 : 999;
    const created = now - (40 + i * 9) * DAY;
    const sub: Subscription = {
      id: makeId('sub', mode, r),
      customer: makeId('cus', mode, r),
      status,
      current_period_end: status === 'canceled' ? null : now + (3 + i * 4) * DAY,
      cancel_at_period_end: status === 'active' && i === 2,
      mode,
      created,
      updated: now - i * DAY,
    };
    subs.push(sub);
    const cycles = status === 'trialing' ? 0 : 2;
    for (let c = 0; c < cycles; c++) {
      const failed = status === 'past_due' && c === cycles - 1;
      invoices.push({
        id: makeId('in', mode, r),
        subscription_id: sub.id,
        customer_email: email,
        status: failed ? 'open' : 'paid',
        amount_due: price,
        amount_paid: failed ? 0 : price,
        currency,
        billing_reason: c === 0 ? 'subscription_create' : 'subscription_cycle',
        hosted_invoice_url: null,
        mode,
        created: created + c * 30 * DAY,
        updated: created + c * 30 * DAY + 60,
      });
    }
  });
  return [subs, invoices];
}

/** The sample store: both modes, realistic volume and variety. */
export function sampleStore(now: number): StoreData {
  const r = rng(20261126);
  idCounter = 0;
  const test = seedOrders('test', 64, now, r);
  const live = seedOrders('live', 18, now, r);
  const paidTest = test.filter((o) => o.order.status === 'paid');
  const paidLive = live.filter((o) => o.order.status === 'paid');
  const disputes = [
    disputeFor(paidTest[1], 'needs_response', 'fraudulent', -1 * DAY, now, r),
    disputeFor(paidTest[3], 'needs_response', 'product_not_received', 30 * HOUR, now, r),
    disputeFor(paidTest[5], 'needs_response', 'duplicate', 6 * DAY, now, r),
    disputeFor(paidTest[9], 'under_review', 'product_unacceptable', 2 * DAY, now, r),
    disputeFor(paidTest[7], 'won', 'subscription_canceled', -10 * DAY, now, r),
    disputeFor(paidLive[1], 'warning_needs_response', 'general', 50 * HOUR, now, r),
  ];
  const [subsT, invT] = seedSubscriptions('test', now, r);
  const [subsL, invL] = seedSubscriptions('live', now, r);
  const orders = [...test, ...live];
  const events: StoredEvent[] = orders.flatMap((rec) =>
    rec.timeline.map((t) => ({
      id: t.event_id,
      event_type: t.event_type,
      created: t.created,
      mode: rec.order.mode,
      account: null,
      api_version: '2025-03-31.basil',
      source: t.source,
      received_at: t.received_at,
    })),
  );
  const rejections: Rejection[] = [
    rejected(1, now - 3 * DAY, 'timestamp_outside_tolerance', 1, 2411),
    rejected(2, now - 2 * HOUR, 'signature_invalid', 14, 3120),
  ];
  const apiCalls: ApiCall[] = [
    call(now - 2 * DAY, 'GET', '/v1/account', null, 200, 'test'),
    call(now - 1 * DAY, 'POST', '/v1/refunds', paidTest[0]?.order.payment_intent_id ?? null, 200, 'test'),
    call(now - 20 * HOUR, 'GET', '/v1/events', null, 200, 'test'),
    call(now - 3 * HOUR, 'GET', '/v1/account', null, null, 'live', 'offline'),
    call(now - HOUR, 'GET', '/v1/account', null, 200, 'live'),
  ];
  return {
    orders,
    disputes,
    subscriptions: [...subsT, ...subsL],
    invoices: [...invT, ...invL],
    events,
    rejections,
    apiCalls,
    // The sample store's account is fully set up in both modes (its account.updated events).
    accounts: (['test', 'live'] as const).map((mode) => accountStatus(now - SAMPLE_SET_UP_AGO, mode, SAMPLE_ACCOUNT, true)),
    // Another shop's payments on the same account: counted, never shown.
    otherPayments: [
      { mode: 'test', created: now - 3 * DAY },
      { mode: 'test', created: now - 9 * DAY },
      { mode: 'test', created: now - HOUR },
    ],
    marker: null,
    drafts: {},
    evidence: {},
    settings: {},
  };
}

/** One (hour, code) aggregate as the mirror stores it: `count` refusals, the last at `at`. */
export function rejected(id: number, at: number, code: RejectionCode, count: number, size: number): Rejection {
  const bucket_start = at - (at % REJECTION_BUCKET_SECS);
  return { id, bucket_start, code, count, first_at: bucket_start, last_at: at, last_peer: '127.0.0.1:50000', last_size: size };
}

export function call(
  at: number,
  method: string,
  path: string,
  objectId: string | null,
  status: number | null,
  mode: Mode,
  errorCode: string | null = null,
): ApiCall {
  return {
    at,
    method,
    path,
    object_id: objectId,
    status,
    request_id: status === null ? null : `req_${(at % 1_000_000).toString(36)}${path.length}`,
    idempotency_key: method === 'POST' ? `fluxstore-${objectId ?? 'x'}-${at}` : null,
    duration_ms: 120 + (at % 200),
    mode,
    error_code: errorCode,
  };
}
