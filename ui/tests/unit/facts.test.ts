import { describe, expect, test } from 'vitest';
import { REJECTION_CODES } from '../../src/lib/backend/generated/facts';
import { ORDER_STATUSES, RENEWING_SUBSCRIPTION_STATUSES, statusLabel, statusTone } from '../../src/lib/labels';
import { rejectionAdvice, SUBSCRIBED_EVENT_TYPES, WEBHOOK_EVENTS } from '../../src/lib/webhook';

// The facts are generated from Rust; these check that the UI's helpers cover every one of them.
describe('generated facts in the UI', () => {
  test('the 12 events of the setup page, then the extras a created endpoint asks for', () => {
    expect(WEBHOOK_EVENTS).toHaveLength(12);
    expect(WEBHOOK_EVENTS[0].type).toBe('checkout.session.completed');
    expect(SUBSCRIBED_EVENT_TYPES.slice(12)).toEqual(['charge.refunded', 'charge.refund.updated', 'account.updated']);
    expect(new Set(SUBSCRIBED_EVENT_TYPES).size).toBe(15);
  });

  test('every rejection code has a reason and a fix', () => {
    for (const code of REJECTION_CODES) {
      const advice = rejectionAdvice(code);
      expect(advice.reason.length, code).toBeGreaterThan(10);
      expect(advice.fix.length, code).toBeGreaterThan(10);
    }
  });

  test('every order status has its own words; Stripe statuses and unknown ones still read', () => {
    for (const s of ORDER_STATUSES) {
      expect(statusLabel(s), s).not.toContain('_');
      expect(statusLabel(s).length).toBeGreaterThan(3);
    }
    expect(statusLabel('partially_refunded')).toBe('Partially refunded');
    expect(statusTone('dispute_won')).toBe('ok');
    expect(statusTone('dispute_lost')).toBe('bad');
    expect(statusLabel('warning_needs_response')).toBe('Inquiry: needs response');
    expect(statusLabel('some_new_status')).toBe('some new status');
    expect(statusLabel('constructor')).toBe('constructor');
    expect(statusTone('constructor')).toBe('neutral');
    expect(RENEWING_SUBSCRIPTION_STATUSES).toEqual(['active', 'trialing', 'past_due']);
  });
});
