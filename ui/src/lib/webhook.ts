/**
 * Webhook facts the owner needs: the 12 events from the Stripe Setup page, the public path,
 * and for every rejection code the reason in words and the fix.
 *
 * Invariant: the events and the advice are the mirror's facts, generated from Rust with the
 * bindings (`backend/generated/facts.ts`); nothing here lists them again. The rejection code
 * is a closed union: a code from a newer build already reads as `unknown` on the Rust side.
 */
import type { RejectionCode } from './backend/types';
import { EXTRA_WEBHOOK_EVENTS, REJECTION_ADVICE, WEBHOOK_EVENTS, WEBHOOK_PATH } from './backend/generated/facts';

export { EXTRA_WEBHOOK_EVENTS, WEBHOOK_EVENTS, WEBHOOK_PATH };

/** An event type the endpoint FluxStore creates subscribes to (the 12 and the extras). */
export type SubscribedEventType =
  | (typeof WEBHOOK_EVENTS)[number]['type']
  | (typeof EXTRA_WEBHOOK_EVENTS)[number]['type'];

/** Every type a created endpoint subscribes to, in Stripe's `enabled_events` order. */
export const SUBSCRIBED_EVENT_TYPES: readonly SubscribedEventType[] = [...WEBHOOK_EVENTS, ...EXTRA_WEBHOOK_EVENTS].map(
  (e) => e.type,
);


export interface RejectionAdvice {
  reason: string;
  fix: string;
}

export function rejectionAdvice(code: RejectionCode): RejectionAdvice {
  return REJECTION_ADVICE[code];
}

/** The Stripe account onboarding page (R12). */
export const STRIPE_ONBOARDING_URL = 'https://dashboard.stripe.com/account/onboarding';
export const STRIPE_WEBHOOKS_URL = 'https://dashboard.stripe.com/webhooks';
export const STRIPE_APIKEYS_URL = 'https://dashboard.stripe.com/apikeys';
export const TEST_CARD = '4242 4242 4242 4242';
