/**
 * What counts as an order in the in-memory backend, with the mirror's rules: a Checkout
 * Session narrowed by the owner's marker; other payments are counted once their wait for a
 * session is over; the look-up's comparison and its words are the gateway's.
 */
import { CHARGEBACK_DISPUTE_STATUSES, DISPUTE_WON_STATUS, MINOR_UNIT_EXPONENTS, ORDER_SESSION_WAIT_SECS } from './generated/facts';
import type { OrderRecord, StoreData } from './memory-seed';
import { fail } from './memory-views';
import type { CurrencyRevenue, Mode, OrderFacts, OrderMarker, OtherActivity, RevenueSummary } from './types';

/** True when the record is one of the owner's orders under `marker`. */
export function isOrder(rec: OrderRecord, marker: OrderMarker | null): boolean {
  if (!marker) return true;
  if (marker.kind === 'metadata') return rec.metadata.some((f) => f.key === marker.key && f.value === marker.value);
  return (rec.order.client_reference_id ?? '').startsWith(marker.prefix);
}

export function ownOrders(d: StoreData): OrderRecord[] {
  return d.orders.filter((r) => isOrder(r, d.marker));
}

export function otherActivity(d: StoreData, mode: Mode, now: number): OtherActivity {
  const cutoff = now - ORDER_SESSION_WAIT_SECS;
  const mine = d.otherPayments.filter((p) => p.mode === mode);
  const unmarked = d.orders.filter((r) => r.order.mode === mode && !isOrder(r, d.marker)).length;
  return {
    count: mine.filter((p) => p.created <= cutoff).length + unmarked,
    waiting: mine.filter((p) => p.created > cutoff).length,
  };
}

/** The mirror's marker validation, in its words. */
export function validateMarker(m: OrderMarker): OrderMarker {
  if (m.kind === 'metadata') {
    const key = m.key.trim();
    const value = m.value.trim();
    if (!key || !value)
      fail('invalid_input', "The order marker needs both a metadata key and the value FluxStore's checkout writes under it (for example store_id and your store's id).");
    if ([...key].length > 40 || /[[\]]/.test(key))
      fail('invalid_input', 'The metadata key must be at most 40 characters without square brackets, as Stripe stores it.');
    if ([...value].length > 500) fail('invalid_input', 'The metadata value must be at most 500 characters, as Stripe stores it.');
    return { kind: 'metadata', key, value };
  }
  const prefix = m.prefix.trim();
  if (!prefix) fail('invalid_input', "The order marker needs the start of the client reference id FluxStore's checkout writes (for example fs_).");
  if ([...prefix].length > 200) fail('invalid_input', 'The client reference id prefix must be at most 200 characters, as Stripe stores it.');
  return { kind: 'client_reference_prefix', prefix };
}

/** An amount in a message, as the gateway and the mirror's notices write it (`12.340 KWD`). */
export function money(minor: number, currency: string | null): string {
  if (!currency) return String(minor);
  const exp = MINOR_UNIT_EXPONENTS[currency.toUpperCase()] ?? 2;
  const text = exp === 0 ? String(minor) : `${Math.trunc(minor / 10 ** exp)}.${String(Math.abs(minor % 10 ** exp)).padStart(exp, '0')}`;
  return `${text} ${currency.toUpperCase()}`;
}

/** Where Stripe and the mirror differ, in the gateway's words. */
export function differences(stripe: OrderFacts, mirror: OrderFacts, currency: string | null): string[] {
  const out: string[] = [];
  if (stripe.paid !== mirror.paid)
    out.push(
      stripe.paid
        ? 'Stripe says the payment succeeded; this app did not know yet.'
        : 'This app shows the order as paid, but Stripe does not show a successful payment.',
    );
  if (stripe.amount_refunded !== mirror.amount_refunded)
    out.push(`Stripe has refunded ${money(stripe.amount_refunded, currency)} of this order; this app knew of ${money(mirror.amount_refunded, currency)}.`);
  for (const d of stripe.disputes) {
    const m = mirror.disputes.find((x) => x.id === d.id);
    if (!m) out.push(`Stripe has a dispute ${d.id} (${d.status}) that this app did not know of.`);
    else if (m.status !== d.status) out.push(`Stripe says dispute ${d.id} is ${d.status}; this app shows ${m.status}.`);
  }
  for (const m of mirror.disputes)
    if (!stripe.disputes.some((d) => d.id === m.id)) out.push(`This app shows dispute ${m.id}, which Stripe does not list for this payment.`);
  return out;
}

/**
 * The mirror's revenue summary (crates/mirror/src/query/summary.rs): the owner's orders of
 * `mode` paid in `[from, to)`, per currency; refunds as the order's refunded amount; chargebacks
 * of those orders (inquiries not counted) as disputed, won ones as won back.
 */
export function revenueSummary(d: StoreData, mode: Mode, from: number | null, to: number | null): RevenueSummary {
  if (from !== null && to !== null && to < from)
    fail('invalid_input', 'The period ends before it starts; pick an end date after the start date.');
  const rows = new Map<string, CurrencyRevenue>();
  for (const rec of ownOrders(d)) {
    const o = rec.order;
    if (o.mode !== mode || rec.paidAt === null || o.amount === null || !o.currency) continue;
    if ((from !== null && rec.paidAt < from) || (to !== null && rec.paidAt >= to)) continue;
    const cur = o.currency.toLowerCase();
    const row = rows.get(cur) ?? { currency: cur, orders: 0, gross: 0, refunded: 0, disputed: 0, won_back: 0, net: 0 };
    row.orders += 1;
    row.gross += o.amount;
    row.refunded += Math.min(o.amount_refunded, o.amount);
    for (const x of d.disputes) {
      if (x.order_session_id !== o.session_id || x.mode !== mode || !CHARGEBACK_DISPUTE_STATUSES.includes(x.status)) continue;
      row.disputed += x.amount;
      if (x.status === DISPUTE_WON_STATUS) row.won_back += x.amount;
    }
    rows.set(cur, row);
  }
  const currencies = [...rows.values()]
    .sort((a, b) => (a.currency < b.currency ? -1 : 1))
    .map((r) => ({ ...r, net: r.gross - r.refunded - r.disputed + r.won_back }));
  return { mode, from, to, currencies };
}
