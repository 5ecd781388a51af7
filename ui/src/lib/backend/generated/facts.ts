// Generated from the mirror's facts (crates/mirror/src/facts.rs) by the shell's bindings. Do not edit by hand.
import type { OrderStatus } from './OrderStatus';
import type { RejectionCode } from './RejectionCode';
import type { EvidenceField } from './EvidenceField';
import type { ReasonGuidance } from './ReasonGuidance';
import type { DisputeText } from './DisputeText';
import type { NoticeKind } from './NoticeKind';

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

/** Dispute statuses of a chargeback (money taken when opened); the revenue summary counts only these. */
export const CHARGEBACK_DISPUTE_STATUSES: readonly string[] = ["needs_response", "under_review", "won", "lost"];

/** The dispute status whose amount came back to the balance. */
export const DISPUTE_WON_STATUS = "won";

/** Every notice kind, in the order the preferences list them. */
export const NOTICE_KINDS = [
  "new_dispute",
  "dispute_due_soon",
  "renewal_failed",
  "first_live_order",
] as const satisfies readonly NoticeKind[];

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

/** A key-mode store's webhook address at the FluxStore hub: this path, then its store key. */
export const STORE_WEBHOOK_PREFIX = "/api/webhooks/stripe/s/";

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

/** The dispute evidence form: Stripe's evidence fields that fit digital goods, in the form's order. */
export const EVIDENCE_FIELDS: readonly EvidenceField[] = [
  { name: "product_description", kind: "text", label: "What the customer bought" },
  { name: "customer_name", kind: "text", label: "Customer's name" },
  { name: "customer_email_address", kind: "text", label: "Customer's e-mail address" },
  { name: "customer_purchase_ip", kind: "text", label: "Customer's IP address at purchase" },
  { name: "billing_address", kind: "text", label: "Billing address" },
  { name: "service_date", kind: "text", label: "Date of purchase or delivery" },
  { name: "access_activity_log", kind: "text", label: "Proof of use (delivery and activity)" },
  { name: "refund_policy_disclosure", kind: "text", label: "How the refund policy was shown" },
  { name: "refund_refusal_explanation", kind: "text", label: "Why the customer is not owed a refund" },
  { name: "cancellation_policy_disclosure", kind: "text", label: "How the cancellation terms were shown" },
  { name: "cancellation_rebuttal", kind: "text", label: "Why the subscription was not canceled" },
  { name: "uncategorized_text", kind: "text", label: "Anything else" },
  { name: "receipt", kind: "file", label: "Receipt" },
  { name: "customer_communication", kind: "file", label: "Messages with the customer" },
  { name: "refund_policy", kind: "file", label: "Refund policy (document)" },
  { name: "cancellation_policy", kind: "file", label: "Cancellation policy (document)" },
  { name: "service_documentation", kind: "file", label: "Proof of delivery (document)" },
  { name: "uncategorized_file", kind: "file", label: "Other document" },
];

/** Largest evidence file Stripe's Files API takes (bytes). */
export const EVIDENCE_FILE_MAX_BYTES = 5242880;

/** Evidence file types Stripe takes: [MIME type, file extensions]. */
export const EVIDENCE_FILE_TYPES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["application/pdf", ["pdf"]],
  ["image/jpeg", ["jpg", "jpeg"]],
  ["image/png", ["png"]],
];

/** Stripe's limit on all text evidence of one dispute together (characters). */
export const EVIDENCE_TEXT_MAX_CHARS = 150000;

/** Stripe's free-text evidence fields (up to EVIDENCE_LONG_TEXT_MAX_CHARS each); every other field takes up to EVIDENCE_SHORT_TEXT_MAX_CHARS. */
export const EVIDENCE_LONG_TEXT_FIELDS: readonly string[] = ["access_activity_log", "cancellation_policy_disclosure", "cancellation_rebuttal", "duplicate_charge_explanation", "product_description", "refund_policy_disclosure", "refund_refusal_explanation", "uncategorized_text"];
export const EVIDENCE_LONG_TEXT_MAX_CHARS = 20000;
export const EVIDENCE_SHORT_TEXT_MAX_CHARS = 5000;

/** The owner's reusable evidence texts (kept in settings) and the field each pre-fills. */
export const DISPUTE_TEXTS: ReadonlyArray<{ text: DisputeText; label: string; field: string }> = [
  { text: "refund_policy", label: "Refund policy", field: "refund_policy_disclosure" },
  { text: "terms", label: "Terms of sale and cancellation", field: "cancellation_policy_disclosure" },
  { text: "delivery", label: "How the store delivers", field: "access_activity_log" },
];

/** Stripe's dispute reasons in plain words, with what helps to answer each. */
export const REASON_GUIDANCE: readonly ReasonGuidance[] = [
  { code: "fraudulent", words: "The cardholder says they did not make this purchase", advice: "Show that the cardholder did buy and use it: their name and e-mail, the player name the order was delivered to, their IP address, earlier orders they did not dispute, and a log of the delivery and of their activity since.", key_fields: ["customer_name", "customer_email_address", "customer_purchase_ip", "access_activity_log", "uncategorized_text"] },
  { code: "product_not_received", words: "The customer says they did not receive what they bought", advice: "Show that it was delivered: when and to which player or account, and any activity after delivery (logins, use of the rank or items).", key_fields: ["product_description", "service_date", "access_activity_log", "service_documentation"] },
  { code: "product_unacceptable", words: "The customer says what they bought was not as described", advice: "Show what the store page promised and what was delivered, that it matched, and your refund policy as the customer saw it.", key_fields: ["product_description", "refund_policy_disclosure", "refund_refusal_explanation", "customer_communication"] },
  { code: "subscription_canceled", words: "The customer says they canceled the subscription", advice: "Show the cancellation terms the customer agreed to and that they had not canceled before this renewal (or used the service after it).", key_fields: ["cancellation_policy_disclosure", "cancellation_rebuttal", "access_activity_log", "cancellation_policy"] },
  { code: "credit_not_processed", words: "The customer says a promised refund never arrived", advice: "Show that no refund was owed (your refund policy) or that the refund was made, and your messages with the customer.", key_fields: ["refund_policy_disclosure", "refund_refusal_explanation", "customer_communication"] },
  { code: "duplicate", words: "The customer says they were charged twice", advice: "Show that each payment was for a separate order, with what each one delivered.", key_fields: ["product_description", "uncategorized_text", "receipt"] },
  { code: "unrecognized", words: "The cardholder does not recognise the payment", advice: "Show who bought it and what: the receipt, the customer's name and e-mail, and the player it was delivered to.", key_fields: ["customer_name", "customer_email_address", "receipt", "access_activity_log"] },
  { code: "general", words: "The customer disputed the payment for another reason", advice: "Explain the purchase and its delivery, and attach the receipt and any messages with the customer.", key_fields: ["product_description", "receipt", "uncategorized_text"] },
  { code: "customer_initiated", words: "The customer asked their bank to reverse the payment", advice: "Explain the purchase and its delivery, and attach the receipt and any messages with the customer.", key_fields: ["product_description", "receipt", "customer_communication"] },
  { code: "bank_cannot_process", words: "The customer's bank could not process the payment", advice: "Show the purchase and that the payment was authorised (the receipt).", key_fields: ["receipt", "uncategorized_text"] },
  { code: "debit_not_authorized", words: "The account holder says they did not authorise the debit", advice: "Show that the account holder bought and used it, as for a fraud claim.", key_fields: ["customer_name", "customer_email_address", "access_activity_log"] },
  { code: "incorrect_account_details", words: "The payment went to or from wrong account details", advice: "Show the order and the payment details the customer entered (the receipt).", key_fields: ["receipt", "uncategorized_text"] },
  { code: "insufficient_funds", words: "The customer's account did not have enough money", advice: "Show the purchase and its delivery; the customer still owes the amount.", key_fields: ["product_description", "receipt"] },
  { code: "noncompliant", words: "The customer's bank says the payment broke network rules", advice: "Explain the purchase and attach the receipt.", key_fields: ["receipt", "uncategorized_text"] },
];

/** The guidance for a reason this build does not know. */
export const GENERAL_GUIDANCE: ReasonGuidance = { code: "", words: "The customer disputed the payment", advice: "Explain the purchase and its delivery, and attach the receipt and any messages with the customer.", key_fields: ["product_description", "receipt", "uncategorized_text"] };

/** How long (seconds) a payment seen without its Checkout Session waits for it before it counts as other activity. */
export const ORDER_SESSION_WAIT_SECS = 86400;
