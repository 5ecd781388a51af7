/**
 * The one IPC surface between the UI and the shell: every command with its typed argument and
 * result, the closed error-code union, and the event subscriptions.
 *
 * Invariant: views talk to a `Backend` only; `tauri.ts` and `memory.ts` are the two
 * implementations and nothing outside `lib/backend/` imports `@tauri-apps/*`.
 */
import type {
  AccountStatus,
  ApiCall,
  BackendEvents,
  ChecklistFacts,
  ConnectionMethod,
  ConnectionStatus,
  ConnectStarted,
  CreateWebhookArgs,
  Dispute,
  Invoice,
  Mode,
  Order,
  OrderDetail,
  OrderQuery,
  Page,
  RefundArgs,
  Rejection,
  SaveKeysArgs,
  SaveWebhookSecretArgs,
  StoredEvent,
  Subscription,
  WebhookEndpointCreated,
} from './types';

/**
 * The codes the UI branches on. Closed on purpose: a new code is a UI change.
 * - offline: Stripe or the Connect service cannot be reached; nothing changed.
 * - invalid_key: a pasted key or secret failed validation (message says which and why).
 * - keyring_unavailable: the OS keyring is locked, missing or unreachable; nothing stored.
 * - not_connected: the command needs a connection in that mode.
 * - not_found: the order/dispute is not in this mode's mirror.
 * - stripe_error: Stripe answered with an error (message is Stripe's, in owner words).
 * - refused: the app will not do it (e.g. refund above the remaining amount, not a FluxStore order).
 * - cancelled: the owner or a timeout ended a long operation (e.g. Connect authorisation).
 * - internal: anything else; details are in the log.
 */
export const ERROR_CODES = [
  'offline',
  'invalid_key',
  'keyring_unavailable',
  'not_connected',
  'not_found',
  'stripe_error',
  'refused',
  'cancelled',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** How every command fails across IPC: `{code, message}`. */
export interface BackendError {
  code: ErrorCode;
  message: string;
}

/** Command name → [argument, result]. `void` means the command takes no argument. */
export interface Commands {
  connection_status: [void, ConnectionStatus];
  choose_method: [{ method: ConnectionMethod }, ConnectionStatus];
  save_keys: [SaveKeysArgs, ConnectionStatus];
  save_webhook_secret: [SaveWebhookSecretArgs, ConnectionStatus];
  create_webhook_endpoint: [CreateWebhookArgs, WebhookEndpointCreated];
  connect_start: [{ mode: Mode }, ConnectStarted];
  connect_cancel: [void, null];
  disconnect: [{ mode: Mode }, ConnectionStatus];
  account_status: [{ mode: Mode; refresh: boolean }, AccountStatus | null];
  checklist_facts: [void, ChecklistFacts];
  list_orders: [OrderQuery & { mode: Mode }, Page<Order>];
  order_detail: [{ mode: Mode; session_id: string }, OrderDetail];
  refund_order: [RefundArgs, OrderDetail];
  list_disputes: [{ mode: Mode }, Dispute[]];
  list_subscriptions: [{ mode: Mode }, Subscription[]];
  list_invoices: [{ mode: Mode }, Invoice[]];
  list_events: [{ mode: Mode; limit: number }, StoredEvent[]];
  list_rejections: [{ limit: number }, Rejection[]];
  list_api_calls: [{ limit: number }, ApiCall[]];
  open_sample_store: [void, ConnectionStatus];
  close_sample_store: [void, ConnectionStatus];
  open_url: [{ url: string }, null];
}
export type CommandName = keyof Commands;
export type ArgsOf<C extends CommandName> = Commands[C][0];
export type ResultOf<C extends CommandName> = Commands[C][1];

export type EventName = keyof BackendEvents;
export type Unsubscribe = () => void;

export interface Backend {
  readonly kind: 'tauri' | 'memory';
  /** Run one command. Rejects with a `BackendError` only. */
  call<C extends CommandName>(
    command: C,
    ...args: ArgsOf<C> extends void ? [] : [ArgsOf<C>]
  ): Promise<ResultOf<C>>;
  /** Subscribe to a shell event. */
  on<E extends EventName>(event: E, handler: (payload: BackendEvents[E]) => void): Promise<Unsubscribe>;
}
