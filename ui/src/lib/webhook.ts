/**
 * Webhook facts the owner needs: the 12 events from the Stripe Setup page, the public path,
 * and for every rejection code the reason in words and the fix.
 *
 * Invariant: unknown rejection codes still get a sentence (the code is open on the Rust side).
 */

export const WEBHOOK_PATH = '/api/webhooks/stripe';

export const WEBHOOK_EVENTS: readonly { type: string; purpose: string }[] = [
  { type: 'checkout.session.completed', purpose: 'Payment completed (one-time and subscription)' },
  { type: 'payment_intent.succeeded', purpose: 'Payment confirmed' },
  { type: 'payment_intent.payment_failed', purpose: 'Payment failed' },
  { type: 'charge.succeeded', purpose: 'Charge confirmed' },
  { type: 'charge.dispute.created', purpose: 'Chargeback filed' },
  { type: 'charge.dispute.updated', purpose: 'Dispute status changed' },
  { type: 'charge.dispute.closed', purpose: 'Dispute resolved' },
  { type: 'customer.subscription.created', purpose: 'Subscription started' },
  { type: 'customer.subscription.updated', purpose: 'Subscription modified' },
  { type: 'customer.subscription.deleted', purpose: 'Subscription cancelled' },
  { type: 'invoice.paid', purpose: 'Subscription invoice paid' },
  { type: 'invoice.payment_failed', purpose: 'Subscription invoice failed' },
];

export interface RejectionAdvice {
  reason: string;
  fix: string;
}

const ADVICE: Record<string, RejectionAdvice> = {
  signature_invalid: {
    reason: 'Signature mismatch: the signing secret does not match this endpoint.',
    fix: 'Copy the signing secret (whsec_…) from this endpoint’s page in the Stripe Dashboard and paste it again under Payment Gateways.',
  },
  timestamp_outside_tolerance: {
    reason: 'The delivery’s timestamp is more than 5 minutes away from this computer’s clock.',
    fix: 'Check the computer’s clock and time zone (turn on automatic time); Stripe will retry the delivery.',
  },
  no_signing_secret: {
    reason: 'No signing secret is saved, so deliveries cannot be verified and the gateway will not process payments.',
    fix: 'Paste the webhook signing secret (whsec_…) in the onboarding checklist or under Payment Gateways.',
  },
  signature_header_missing: {
    reason: 'The delivery had no Stripe-Signature header: it did not come from Stripe.',
    fix: 'Point only your Stripe webhook endpoint (or `stripe listen`) at this address.',
  },
  malformed_payload: {
    reason: 'The delivery was not a Stripe event.',
    fix: 'Make sure only Stripe sends to this address; nothing needs to change in Stripe.',
  },
  payload_too_large: {
    reason: 'The delivery was larger than the relay accepts.',
    fix: 'Nothing to do for Stripe events; something else is posting to this address.',
  },
  storage_unavailable: {
    reason: 'The event could not be saved (disk full or the database is busy); Stripe was told to retry.',
    fix: 'Free some disk space. Stripe retries deliveries for up to 3 days.',
  },
};

export function rejectionAdvice(code: string): RejectionAdvice {
  return (
    ADVICE[code] ?? {
      reason: `The relay rejected the delivery (${code.replace(/_/g, ' ')}).`,
      fix: 'Check the endpoint and signing secret in the Stripe Dashboard.',
    }
  );
}

/** The Stripe account onboarding page (R12). */
export const STRIPE_ONBOARDING_URL = 'https://dashboard.stripe.com/account/onboarding';
export const STRIPE_WEBHOOKS_URL = 'https://dashboard.stripe.com/webhooks';
export const STRIPE_APIKEYS_URL = 'https://dashboard.stripe.com/apikeys';
export const TEST_CARD = '4242 4242 4242 4242';
