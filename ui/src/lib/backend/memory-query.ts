/**
 * Order listing for the in-memory backend with the mirror's semantics: one mode only, filters
 * on status/currency/created range, a substring search over email and Stripe ids, newest first,
 * keyset paging by (created, session_id) with an opaque cursor.
 */
import type { OrderRecord } from './memory-seed';
import type { Mode, Order, OrderQuery, Page } from './types';

function encodeCursor(o: Order): string {
  return btoa(`${o.created}|${o.session_id}`);
}

function decodeCursor(cursor: string): [number, string] | null {
  try {
    const [created, id] = atob(cursor).split('|');
    const n = Number(created);
    return Number.isFinite(n) && id ? [n, id] : null;
  } catch {
    return null;
  }
}

/** Newer first; ties broken by id so the order is total and paging never skips a row. */
function newerFirst(a: Order, b: Order): number {
  return b.created - a.created || (a.session_id < b.session_id ? 1 : a.session_id > b.session_id ? -1 : 0);
}

export function queryOrders(rows: OrderRecord[], mode: Mode, q: Partial<OrderQuery>): Page<Order> {
  const search = q.search?.trim().toLowerCase() ?? '';
  const statuses = q.statuses ?? [];
  const currency = q.currency?.toLowerCase() ?? null;
  const after = q.after ? decodeCursor(q.after) : null;
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
  const matching = rows
    .map((r) => r.order)
    .filter((o) => o.mode === mode)
    .filter((o) => statuses.length === 0 || statuses.includes(o.status))
    .filter((o) => currency === null || o.currency === currency)
    .filter((o) => q.created_from == null || o.created >= q.created_from)
    .filter((o) => q.created_to == null || o.created <= q.created_to)
    .filter(
      (o) =>
        search === '' ||
        [o.customer_email, o.customer_name, o.session_id, o.payment_intent_id, o.charge_id].some((v) =>
          v?.toLowerCase().includes(search),
        ),
    )
    .sort(newerFirst)
    .filter((o) => !after || o.created < after[0] || (o.created === after[0] && o.session_id < after[1]));
  const items = matching.slice(0, limit);
  const next = matching.length > limit ? encodeCursor(items[items.length - 1]) : null;
  return { items, next };
}
