/**
 * The in-memory backend's reads over one store's data, with the mirror's semantics.
 *
 * Invariant: every read names its mode and returns only that mode's rows.
 */
import type { BackendError } from './api';
import { otherActivity, ownOrders, revenueSummary } from './memory-orders';
import { queryOrders } from './memory-query';
import type { OrderRecord, StoreData } from './memory-seed';
import type { ChecklistFacts, Mode, ModeFacts, OrderDetail, Rejection, Source } from './types';

export function fail(code: BackendError['code'], message: string): never {
  throw { code, message } satisfies BackendError;
}

/**
 * The mirror's checklist facts; `since` is when each mode was connected (the profile's
 * setting): a paid order counts only when created at or after it, as in the mirror.
 */
export function checklistFacts(d: StoreData, since: Record<Mode, number | null>): ChecklistFacts {
  const facts = (mode: Mode): ModeFacts => {
    // Events synthesised from API answers (source `api`) are not arrivals.
    const ev = d.events.filter((e) => e.mode === mode && e.source !== 'api');
    const newest = (source: Source) => {
      const at = ev.filter((e) => e.source === source).map((e) => e.received_at);
      return at.length ? Math.max(...at) : null;
    };
    const first = ev.length ? Math.min(...ev.map((e) => e.received_at)) : null;
    const from = since[mode] ?? first;
    const paidOrders = ownOrders(d).filter((o) => o.order.mode === mode && o.paidAt !== null);
    const paid = paidOrders
      .filter((o) => from !== null && o.order.created >= from)
      .sort((x, y) => (x.paidAt as number) - (y.paidAt as number) || (x.order.session_id < y.order.session_id ? -1 : 1))[0];
    return {
      first_event_at: first,
      connected_at: from,
      first_paid_order: paid ? [paid.order.session_id, paid.paidAt as number] : null,
      // Counted only while no newer order proves the mode, up to the mirror's bound.
      earlier_paid_orders: paid || from === null ? 0 : Math.min(1000, paidOrders.filter((o) => o.order.created < from).length),
      last_event_at: ev.length ? Math.max(...ev.map((e) => e.received_at)) : null,
      last_webhook_at: newest('webhook'),
      last_feed_at: newest('feed'),
      last_polled_at: newest('events_api'),
      event_count: ev.length,
    };
  };
  return { test: facts('test'), live: facts('live'), last_rejection: newestRejections(d.rejections)[0] ?? null };
}

export function orderRecord(d: StoreData, mode: Mode, session: string): OrderRecord {
  const id = session.trim();
  // By its session or any of its Stripe ids, as the mirror finds it; never one the marker leaves out.
  const rec = ownOrders(d).find(
    (o) => o.order.mode === mode && [o.order.session_id, o.order.payment_intent_id, o.order.charge_id].includes(id),
  );
  if (!rec) fail('not_found', `The order ${session} is not in this mode's mirror. Check the test/live switch.`);
  return rec;
}

export function orderDetail(d: StoreData, mode: Mode, session: string): OrderDetail {
  const rec = orderRecord(d, mode, session);
  return {
    order: rec.order,
    metadata: rec.metadata,
    line_items: rec.lineItems,
    timeline: [...rec.timeline].sort((x, y) => x.created - y.created),
    refunds: [...rec.refunds].sort((x, y) => x.created - y.created || (x.id < y.id ? -1 : 1)),
    disputes: d.disputes.filter((x) => x.mode === mode && x.order_session_id === session),
  };
}

/** Plain reads that need nothing but the store's data; undefined for any other command. */
export function readCommand(d: StoreData, command: string, args: Record<string, unknown> & { mode: Mode }, now = 0): unknown {
  switch (command) {
    case 'list_orders':
      return queryOrders(ownOrders(d), args.mode, args as never);
    case 'other_activity':
      return otherActivity(d, args.mode, now);
    case 'order_marker':
      return d.marker;
    case 'revenue_summary':
      return revenueSummary(d, args.mode, (args.from as number | null) ?? null, (args.to as number | null) ?? null);
    case 'order_detail':
      return orderDetail(d, args.mode, args.session_id as string);
    case 'list_disputes':
      // With a marker set, only disputes of orders it counts stay in the queue (as the mirror).
      return d.disputes.filter(
        (x) => x.mode === args.mode && (d.marker === null || ownOrders(d).some((o) => o.order.session_id === x.order_session_id)),
      );
    case 'list_subscriptions':
      return d.subscriptions.filter((s) => s.mode === args.mode);
    case 'list_invoices':
      return d.invoices.filter((i) => i.mode === args.mode).sort((x, y) => y.created - x.created);
    case 'list_events':
      return d.events
        .filter((e) => e.mode === args.mode)
        .sort((x, y) => y.received_at - x.received_at)
        .slice(0, args.limit as number);
    case 'list_rejections':
      return newestRejections(d.rejections).slice(0, args.limit as number);
    case 'list_api_calls':
      // Newest first; equal times keep the later call first (the sort is stable).
      return [...d.apiCalls].reverse().sort((x, y) => y.at - x.at).slice(0, args.limit as number);
  }
  return undefined;
}

/** The mirror's order: the most recently refused first (last time, then the newer row). */
function newestRejections(rows: readonly Rejection[]): Rejection[] {
  return [...rows].sort((x, y) => y.last_at - x.last_at || y.id - x.id);
}
