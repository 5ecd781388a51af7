/**
 * Words and colour tones for statuses: the mirror's closed order statuses, and the open
 * status strings Stripe sends for disputes, refunds, subscriptions and invoices.
 *
 * Invariant: the set of order statuses is the generated `OrderStatus` union (a word and a
 * tone for each, checked by the compiler); the lists of statuses come from the mirror's facts.
 */
import type { OrderStatus } from './backend/types';

export { ORDER_STATUSES, RENEWING_SUBSCRIPTION_STATUSES } from './backend/generated/facts';

export type Tone = 'ok' | 'warn' | 'bad' | 'neutral';

const ORDER_STATUS: Record<OrderStatus, { label: string; tone: Tone }> = {
  pending: { label: 'Pending', tone: 'warn' },
  paid: { label: 'Paid', tone: 'ok' },
  failed: { label: 'Failed', tone: 'bad' },
  refunded: { label: 'Refunded', tone: 'neutral' },
  partially_refunded: { label: 'Partially refunded', tone: 'warn' },
  disputed: { label: 'Disputed', tone: 'bad' },
  dispute_won: { label: 'Dispute won', tone: 'ok' },
  dispute_lost: { label: 'Dispute lost', tone: 'bad' },
};

/** Stripe's own statuses (disputes, subscriptions, invoices): open, so unknown ones still read. */
const STRIPE_LABELS: Record<string, string> = {
  needs_response: 'Needs response',
  warning_needs_response: 'Inquiry: needs response',
  under_review: 'Under review',
  warning_under_review: 'Inquiry under review',
  warning_closed: 'Inquiry closed',
  won: 'Won',
  lost: 'Lost',
  prevented: 'Prevented',
  active: 'Active',
  trialing: 'Trialing',
  past_due: 'Past due',
  canceled: 'Canceled',
  unpaid: 'Unpaid',
  incomplete: 'Incomplete',
  incomplete_expired: 'Incomplete (expired)',
  paused: 'Paused',
  open: 'Open',
  draft: 'Draft',
  void: 'Void',
  uncollectible: 'Uncollectible',
  // Refunds (`pending` and `failed` read as the order statuses of the same name).
  succeeded: 'Succeeded',
  requires_action: 'Requires action',
};

const STRIPE_TONES: Record<string, Tone> = {
  won: 'ok',
  active: 'ok',
  trialing: 'ok',
  lost: 'bad',
  past_due: 'bad',
  unpaid: 'bad',
  needs_response: 'bad',
  warning_needs_response: 'bad',
  uncollectible: 'bad',
  open: 'warn',
  under_review: 'warn',
  warning_under_review: 'warn',
  incomplete: 'warn',
  succeeded: 'ok',
  requires_action: 'warn',
};

/** A table's own entry only (never an inherited `constructor` or `toString`). */
function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export function statusLabel(status: OrderStatus | string): string {
  return own(ORDER_STATUS, status)?.label ?? own(STRIPE_LABELS, status) ?? status.replace(/_/g, ' ');
}

export function statusTone(status: OrderStatus | string): Tone {
  return own(ORDER_STATUS, status)?.tone ?? own(STRIPE_TONES, status) ?? 'neutral';
}
