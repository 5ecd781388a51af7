/**
 * IPC types: the JSON shapes that cross between the Rust shell and the UI.
 *
 * Invariant: these mirror the Rust serde shapes exactly (snake_case fields, `Option<T>` as
 * `T | null`, amounts as integer minor units, times as unix seconds). The mirror types follow
 * `fluxstore-mirror`; the rest are the shell's. When the shell generates them with ts-rs into
 * `./generated/`, this file becomes a re-export of that folder and nothing else changes.
 */

/** Test or live data. Never mixed in one query, list or count. */
export type Mode = 'test' | 'live';

/** Where a verified event came from. */
export type Source = 'webhook' | 'feed' | 'events_api' | 'api';

/** Known statuses; the type stays open because rows written by a newer build still read. */
export type KnownOrderStatus =
  | 'pending'
  | 'paid'
  | 'failed'
  | 'refunded'
  | 'partially_refunded'
  | 'disputed'
  | 'dispute_won'
  | 'dispute_lost';
export type OrderStatus = KnownOrderStatus | (string & {});

export interface Order {
  session_id: string;
  payment_intent_id: string | null;
  charge_id: string | null;
  subscription_id: string | null;
  status: OrderStatus;
  /** Minor units. */
  amount: number | null;
  amount_refunded: number;
  currency: string | null;
  customer_email: string | null;
  customer_name: string | null;
  client_reference_id: string | null;
  failure_message: string | null;
  mode: Mode;
  account: string | null;
  created: number;
  updated: number;
}

export interface OrderQuery {
  mode: Mode | null;
  statuses: OrderStatus[];
  currency: string | null;
  created_from: number | null;
  created_to: number | null;
  search: string | null;
  /** Opaque keyset cursor from a previous page's `next`. */
  after: string | null;
  limit: number;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface TimelineEntry {
  event_id: string;
  event_type: string;
  created: number;
  source: Source;
  received_at: number;
}

export interface Dispute {
  id: string;
  charge_id: string | null;
  payment_intent_id: string | null;
  order_session_id: string | null;
  status: string;
  reason: string | null;
  amount: number;
  currency: string;
  due_by: number | null;
  needs_response: boolean;
  mode: Mode;
  created: number;
  updated: number;
}

export interface OrderDetail {
  order: Order;
  timeline: TimelineEntry[];
  disputes: Dispute[];
}

export interface Subscription {
  id: string;
  customer: string | null;
  status: string;
  current_period_end: number | null;
  cancel_at_period_end: boolean;
  mode: Mode;
  created: number;
  updated: number;
}

export interface Invoice {
  id: string;
  subscription_id: string | null;
  customer_email: string | null;
  status: string | null;
  amount_due: number;
  amount_paid: number;
  currency: string;
  billing_reason: string | null;
  hosted_invoice_url: string | null;
  mode: Mode;
  created: number;
  updated: number;
}

export interface StoredEvent {
  id: string;
  event_type: string;
  created: number;
  mode: Mode;
  account: string | null;
  api_version: string | null;
  source: Source;
  received_at: number;
}

export interface Rejection {
  id: number;
  received_at: number;
  /** e.g. signature_invalid, timestamp_outside_tolerance, no_signing_secret. Open. */
  code: string;
  size: number;
  peer: string | null;
}

export interface ModeFacts {
  first_event_at: number | null;
  /** Rust `Option<(String, i64)>`: [session id, time]. */
  first_paid_order: [string, number] | null;
  last_event_at: number | null;
  event_count: number;
}

export interface ChecklistFacts {
  test: ModeFacts;
  live: ModeFacts;
  last_rejection: Rejection | null;
}

export interface ApiCall {
  at: number;
  method: string;
  path: string;
  object_id: string | null;
  status: number | null;
  request_id: string | null;
  idempotency_key: string | null;
  duration_ms: number;
  mode: Mode | null;
  error_code: string | null;
}

// ---- shell types (not in the mirror) ----

export type ConnectionMethod = 'connect' | 'keys';

export type SecretKind = 'secret_key' | 'restricted_key' | 'webhook_secret' | 'connect_token';

/** That a secret exists and where it is kept. Never its value. */
export interface SecretInfo {
  kind: SecretKind;
  /** Human name of the store, e.g. "Secret Service (GNOME Keyring)". */
  store: string;
}

export interface ModeConnection {
  mode: Mode;
  /** True when a secret/restricted key or a Connect token for this mode is stored. */
  connected: boolean;
  account_id: string | null;
  /** The publishable key is not a secret; shown so the owner can recognise it. */
  publishable_key: string | null;
  secrets: SecretInfo[];
}

export interface RelayStatus {
  listening: boolean;
  /** The intake URL on this computer, e.g. http://127.0.0.1:4343/api/webhooks/stripe. */
  local_url: string | null;
  /**
   * The webhook URL of the owner's public relay (`fluxstore serve` on a server, which this
   * desktop pulls the feed from), when one is configured: the URL Stripe must be given.
   */
  public_url: string | null;
}

export interface ConnectionStatus {
  /** Chosen in onboarding; null until chosen. */
  method: ConnectionMethod | null;
  test: ModeConnection;
  live: ModeConnection;
  relay: RelayStatus;
  /** True while the separate sample-store mirror is open. */
  sample_store: boolean;
  online: boolean;
}

export interface Requirements {
  currently_due: string[];
  past_due: string[];
  eventually_due: string[];
  disabled_reason: string | null;
}

export interface AccountStatus {
  account_id: string;
  business_name: string | null;
  mode: Mode;
  charges_enabled: boolean;
  payouts_enabled: boolean;
  details_submitted: boolean;
  requirements: Requirements;
  /** When Stripe was last asked (unix seconds); the value is cached for offline use. */
  checked_at: number;
}

export interface SaveKeysArgs {
  publishable_key: string;
  /** sk_ or rk_. Crosses into the shell once and goes to the OS keyring; never returned. */
  secret_key: string;
}

export interface SaveWebhookSecretArgs {
  mode: Mode;
  webhook_secret: string;
}

export interface CreateWebhookArgs {
  mode: Mode;
  url: string;
}

export interface WebhookEndpointCreated {
  endpoint_id: string;
  url: string;
  enabled_events: string[];
  /** The returned whsec_ went straight to the keyring; only this fact comes back. */
  secret_stored: boolean;
}

export interface ConnectStarted {
  /** Shown for copying in case no browser opens. */
  authorize_url: string;
}

export type RefundReason = 'requested_by_customer' | 'duplicate' | 'fraudulent';

export interface RefundArgs {
  mode: Mode;
  session_id: string;
  /** Minor units; null refunds what remains. */
  amount: number | null;
  reason: RefundReason | null;
}

// ---- events (shell → UI) ----

export interface EventApplied {
  event_id: string;
  event_type: string;
  mode: Mode;
  projected: boolean;
}

export interface SyncProgress {
  mode: Mode;
  pages: number;
  events: number;
  newest: number | null;
  done: boolean;
  /** A gap older than Stripe's 30 days that could not be filled, in words. */
  gap: string | null;
}

export interface OnlineChanged {
  online: boolean;
}

export interface BackendEvents {
  event_applied: EventApplied;
  sync_progress: SyncProgress;
  online_changed: OnlineChanged;
  account_changed: ConnectionStatus;
}
