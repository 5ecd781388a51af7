// Generated from the mirror's facts (crates/mirror/src/facts.rs) by the shell's bindings. Do not edit by hand.
import type { OrderStatus } from './OrderStatus';
import type { RejectionCode } from './RejectionCode';

/** The 12 webhook events of the product page (R8), in the page's order. */
export const WEBHOOK_EVENTS = [
  { type: "checkout.session.completed", purpose: "Payment completed (one-time and subscription)" },
  { type: "payment_intent.succeeded", purpose: "Payment confirmed" },
  { type: "payment_intent.payment_failed", purpose: "Payment failed" },
  { type: "charge.succeeded", purpose: "Charge confirmed" },
  { type: "charge.dispute.created", purpose: "Chargeback filed" },
  { type: "charge.dispute.updated", purpose: "Dispute status changed" },
  { type: "charge.dispute.closed", purpose: "Dispute resolved" },
  { type: "customer.subscription.created", purpose: "Subscription started" },
  { type: "customer.subscription.updated", purpose: "Subscription modified" },
  { type: "customer.subscription.deleted", purpose: "Subscription cancelled" },
  { type: "invoice.paid", purpose: "Subscription invoice paid" },
  { type: "invoice.payment_failed", purpose: "Subscription invoice failed" },
] as const;

/** Also subscribed by the endpoint FluxStore creates itself. */
export const EXTRA_WEBHOOK_EVENTS = [
  { type: "charge.refunded", purpose: "Refund made (also in the Dashboard)" },
  { type: "charge.refund.updated", purpose: "Refund status changed (a refund that failed no longer counts)" },
  { type: "account.updated", purpose: "Account readiness changed" },
] as const;

/** Every rejection code, in the order the UI explains them. */
export const REJECTION_CODES = [
  "signature_invalid",
  "timestamp_outside_tolerance",
  "mode_mismatch",
  "no_signing_secret",
  "signature_header_missing",
  "malformed_payload",
  "payload_too_large",
  "storage_unavailable",
  "request_timeout",
  "method_not_allowed",
  "not_found",
  "doorbell_unverified",
  "unknown",
] as const satisfies readonly RejectionCode[];

/** What each rejection code means to the store owner, and what to do about it. */
export const REJECTION_ADVICE: Readonly<Record<RejectionCode, { reason: string; fix: string }>> = {
  signature_invalid: {
    reason: "Signature mismatch: the signing secret does not match this endpoint.",
    fix: "Copy the signing secret (whsec_…) from this endpoint’s page in the Stripe Dashboard and paste it again under Payment Gateways.",
  },
  timestamp_outside_tolerance: {
    reason: "The delivery’s timestamp is more than 5 minutes away from this computer’s clock (or it is a replay of an old delivery).",
    fix: "Check the computer’s clock and time zone (turn on automatic time); Stripe will retry the delivery.",
  },
  mode_mismatch: {
    reason: "A delivery was signed with the signing secret of one mode (test or live) but says it is an event of the other, so it was not stored: a test secret cannot vouch for live payments.",
    fix: "Check that each signing secret is saved under its own mode: the test endpoint’s secret under Test, the live endpoint’s under Live. If you did not send it, someone may be forging live events with your test secret.",
  },
  no_signing_secret: {
    reason: "No signing secret is saved, so Stripe’s deliveries cannot be verified and are refused; until one is, orders arrive only when FluxStore reads Stripe’s events.",
    fix: "Paste the webhook signing secret (whsec_…) in the onboarding checklist or under Payment Gateways.",
  },
  signature_header_missing: {
    reason: "The delivery had no Stripe-Signature header: it did not come from Stripe.",
    fix: "Point only your Stripe webhook endpoint (or `stripe listen`) at this address.",
  },
  malformed_payload: {
    reason: "The delivery was not a Stripe event.",
    fix: "Make sure only Stripe sends to this address; nothing needs to change in Stripe.",
  },
  payload_too_large: {
    reason: "The delivery was larger than the relay accepts.",
    fix: "Nothing to do for Stripe events; something else is posting to this address.",
  },
  storage_unavailable: {
    reason: "The event could not be saved (disk full or the database is busy); Stripe was told to retry.",
    fix: "Free some disk space. Stripe retries deliveries for up to 3 days.",
  },
  request_timeout: {
    reason: "The delivery’s body did not arrive in time (a slow or stalled sender).",
    fix: "Nothing to do if it happens once: Stripe retries. If it repeats, check the network or proxy in front of the relay.",
  },
  method_not_allowed: {
    reason: "Something other than a POST arrived at the webhook address.",
    fix: "Nothing to do for Stripe, which only POSTs; something else is calling this address.",
  },
  not_found: {
    reason: "A delivery was posted to a wrong path on the relay, so it was not stored.",
    fix: "Make the webhook URL in the Stripe Dashboard end in /api/webhooks/stripe.",
  },
  doorbell_unverified: {
    reason: "The FluxStore hub announced an event that Stripe does not confirm (it does not exist, or it belongs to another account or mode), so nothing was stored.",
    fix: "Nothing to do: FluxStore asks Stripe itself about every announced event. If it repeats, someone is posting made-up events to your store's hub address; check the webhook endpoints in the Stripe Dashboard.",
  },
  unknown: {
    reason: "The relay refused a delivery for a reason this version of FluxStore does not know.",
    fix: "Update FluxStore to see the reason; meanwhile check the endpoint and signing secret in the Stripe Dashboard.",
  },
};

/** Refused deliveries are counted per code in buckets of this many seconds (one row each). */
export const REJECTION_BUCKET_SECS = 3600;

/**
 * Stripe's currencies whose minor unit is not a hundredth (upper-case ISO code → exponent);
 * every other currency has two decimals in Stripe's API.
 */
export const MINOR_UNIT_EXPONENTS: Readonly<Record<string, number>> = Object.freeze({
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  MGA: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  JOD: 3,
  KWD: 3,
  OMR: 3,
  TND: 3,
});

/** Subscription statuses that will try to renew, so a disconnect breaks them (R14). */
export const RENEWING_SUBSCRIPTION_STATUSES: readonly string[] = ["active", "trialing", "past_due"];

/** Every order status, in the order the UI offers them as filters. */
export const ORDER_STATUSES = [
  "pending",
  "paid",
  "failed",
  "refunded",
  "partially_refunded",
  "disputed",
  "dispute_won",
  "dispute_lost",
] as const satisfies readonly OrderStatus[];

/** The path Stripe posts webhooks to on the relay. */
export const WEBHOOK_PATH = "/api/webhooks/stripe";

/** The Stripe Dashboard (the shell's `open_dashboard` builds its links; `/test` in test mode). */
export const DASHBOARD_ORIGIN = "https://dashboard.stripe.com";

/** Stripe id prefix → the Dashboard page of that kind of object. */
export const DASHBOARD_PAGES: ReadonlyArray<readonly [string, string]> = [
  ["pi_", "payments"],
  ["ch_", "payments"],
  ["py_", "payments"],
  ["re_", "refunds"],
  ["dp_", "disputes"],
  ["du_", "disputes"],
  ["sub_", "subscriptions"],
  ["cus_", "customers"],
  ["in_", "invoices"],
  ["we_", "webhooks"],
];

/** How long (seconds) a payment seen without its Checkout Session waits for it before it counts as other activity. */
export const ORDER_SESSION_WAIT_SECS = 86400;
