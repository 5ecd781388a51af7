/** Words and colour tones for the open status strings the mirror stores. */

const LABELS: Record<string, string> = {
  pending: 'Pending',
  paid: 'Paid',
  failed: 'Failed',
  refunded: 'Refunded',
  partially_refunded: 'Partially refunded',
  disputed: 'Disputed',
  dispute_won: 'Dispute won',
  dispute_lost: 'Dispute lost',
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
};

export function statusLabel(status: string): string {
  return LABELS[status] ?? status.replace(/_/g, ' ');
}

export type Tone = 'ok' | 'warn' | 'bad' | 'neutral';

export function statusTone(status: string): Tone {
  if (['paid', 'won', 'dispute_won', 'active', 'trialing'].includes(status)) return 'ok';
  if (['failed', 'dispute_lost', 'lost', 'past_due', 'unpaid', 'needs_response', 'warning_needs_response', 'disputed', 'open', 'uncollectible'].includes(status))
    return status === 'open' ? 'warn' : 'bad';
  if (['pending', 'partially_refunded', 'under_review', 'warning_under_review', 'incomplete'].includes(status)) return 'warn';
  return 'neutral';
}

/** Subscriptions that renew and would fail to after a disconnect (R14). */
export const RENEWING_SUBSCRIPTION_STATUSES = ['active', 'trialing', 'past_due'];

export const ORDER_STATUSES = [
  'pending',
  'paid',
  'failed',
  'refunded',
  'partially_refunded',
  'disputed',
  'dispute_won',
  'dispute_lost',
] as const;
