// Generated from the Rust shell (src-tauri) by ts-rs. Do not edit by hand.
import type { AccountStatus } from './AccountStatus';
import type { AccountStatusArgs } from './AccountStatusArgs';
import type { ApiCall } from './ApiCall';
import type { AppliedEvent } from './AppliedEvent';
import type { ChecklistFacts } from './ChecklistFacts';
import type { ChooseMethodArgs } from './ChooseMethodArgs';
import type { ConnectServiceArgs } from './ConnectServiceArgs';
import type { ConnectStarted } from './ConnectStarted';
import type { ConnectionStatus } from './ConnectionStatus';
import type { CreateWebhookArgs } from './CreateWebhookArgs';
import type { Dispute } from './Dispute';
import type { DisputeArgs } from './DisputeArgs';
import type { DisputeTextArgs } from './DisputeTextArgs';
import type { DisputeTextValue } from './DisputeTextValue';
import type { DisputeWorkbench } from './DisputeWorkbench';
import type { DraftTextArgs } from './DraftTextArgs';
import type { EvidenceFileArgs } from './EvidenceFileArgs';
import type { ExportCsvArgs } from './ExportCsvArgs';
import type { ExportDone } from './ExportDone';
import type { HubArgs } from './HubArgs';
import type { HubFeedStatus } from './HubFeedStatus';
import type { Invoice } from './Invoice';
import type { KeyHubArgs } from './KeyHubArgs';
import type { KeyHubChange } from './KeyHubChange';
import type { KeyHubStatus } from './KeyHubStatus';
import type { LimitArgs } from './LimitArgs';
import type { ListEventsArgs } from './ListEventsArgs';
import type { ListOrdersArgs } from './ListOrdersArgs';
import type { LookupReport } from './LookupReport';
import type { ModeArgs } from './ModeArgs';
import type { Notice } from './Notice';
import type { OnlineChanged } from './OnlineChanged';
import type { OpenDashboardArgs } from './OpenDashboardArgs';
import type { OpenUrlArgs } from './OpenUrlArgs';
import type { Order } from './Order';
import type { OrderDetail } from './OrderDetail';
import type { OrderDetailArgs } from './OrderDetailArgs';
import type { OrderMarker } from './OrderMarker';
import type { OrderMarkerArgs } from './OrderMarkerArgs';
import type { OtherActivity } from './OtherActivity';
import type { Page } from './Page';
import type { Preferences } from './Preferences';
import type { RefundArgs } from './RefundArgs';
import type { Rejection } from './Rejection';
import type { RevenueSummary } from './RevenueSummary';
import type { RevenueSummaryArgs } from './RevenueSummaryArgs';
import type { SaveKeysArgs } from './SaveKeysArgs';
import type { SaveWebhookSecretArgs } from './SaveWebhookSecretArgs';
import type { SetPreferencesArgs } from './SetPreferencesArgs';
import type { SignInEnded } from './SignInEnded';
import type { StartupStatus } from './StartupStatus';
import type { StoredEvent } from './StoredEvent';
import type { SubmitEvidenceArgs } from './SubmitEvidenceArgs';
import type { Subscription } from './Subscription';
import type { SyncProgress } from './SyncProgress';
import type { WebhookCheck } from './WebhookCheck';
import type { WebhookEndpointCreated } from './WebhookEndpointCreated';

/** Command name → [argument (sent as `{ args }`), result]. `void`: no argument. */
export interface Commands {
  startup_status: [void, StartupStatus];
  connection_status: [void, ConnectionStatus];
  choose_method: [ChooseMethodArgs, ConnectionStatus];
  save_keys: [SaveKeysArgs, ConnectionStatus];
  save_webhook_secret: [SaveWebhookSecretArgs, ConnectionStatus];
  create_webhook_endpoint: [CreateWebhookArgs, WebhookEndpointCreated];
  connect_start: [ModeArgs, ConnectStarted];
  connect_cancel: [void, null];
  set_connect_service: [ConnectServiceArgs, ConnectionStatus];
  hub_feed: [void, Array<HubFeedStatus>];
  set_hub: [HubArgs, Array<HubFeedStatus>];
  sync_now: [void, Array<HubFeedStatus>];
  key_hub: [void, Array<KeyHubStatus>];
  set_key_hub: [KeyHubArgs, KeyHubChange];
  disconnect: [ModeArgs, ConnectionStatus];
  account_status: [AccountStatusArgs, AccountStatus | null];
  checklist_facts: [void, ChecklistFacts];
  check_webhook_endpoint: [ModeArgs, WebhookCheck];
  list_orders: [ListOrdersArgs, Page<Order>];
  order_detail: [OrderDetailArgs, OrderDetail];
  refund_order: [RefundArgs, OrderDetail];
  fetch_line_items: [OrderDetailArgs, OrderDetail];
  lookup_order: [OrderDetailArgs, LookupReport];
  other_activity: [ModeArgs, OtherActivity];
  revenue_summary: [RevenueSummaryArgs, RevenueSummary];
  order_marker: [void, OrderMarker | null];
  set_order_marker: [OrderMarkerArgs, OrderMarker | null];
  list_disputes: [ModeArgs, Array<Dispute>];
  dispute_workbench: [DisputeArgs, DisputeWorkbench];
  save_dispute_draft: [DraftTextArgs, DisputeWorkbench];
  attach_evidence_file: [EvidenceFileArgs, DisputeWorkbench];
  remove_evidence_file: [EvidenceFileArgs, DisputeWorkbench];
  submit_dispute_evidence: [SubmitEvidenceArgs, DisputeWorkbench];
  dispute_texts: [void, Array<DisputeTextValue>];
  set_dispute_text: [DisputeTextArgs, Array<DisputeTextValue>];
  list_subscriptions: [ModeArgs, Array<Subscription>];
  list_invoices: [ModeArgs, Array<Invoice>];
  list_events: [ListEventsArgs, Array<StoredEvent>];
  list_rejections: [LimitArgs, Array<Rejection>];
  list_api_calls: [LimitArgs, Array<ApiCall>];
  open_sample_store: [void, ConnectionStatus];
  close_sample_store: [void, ConnectionStatus];
  open_url: [OpenUrlArgs, null];
  open_dashboard: [OpenDashboardArgs, string];
  export_csv: [ExportCsvArgs, ExportDone];
  preferences: [void, Preferences];
  set_preferences: [SetPreferencesArgs, Preferences];
}

export const COMMAND_NAMES = [
  'startup_status',
  'connection_status',
  'choose_method',
  'save_keys',
  'save_webhook_secret',
  'create_webhook_endpoint',
  'connect_start',
  'connect_cancel',
  'set_connect_service',
  'hub_feed',
  'set_hub',
  'sync_now',
  'key_hub',
  'set_key_hub',
  'disconnect',
  'account_status',
  'checklist_facts',
  'check_webhook_endpoint',
  'list_orders',
  'order_detail',
  'refund_order',
  'fetch_line_items',
  'lookup_order',
  'other_activity',
  'revenue_summary',
  'order_marker',
  'set_order_marker',
  'list_disputes',
  'dispute_workbench',
  'save_dispute_draft',
  'attach_evidence_file',
  'remove_evidence_file',
  'submit_dispute_evidence',
  'dispute_texts',
  'set_dispute_text',
  'list_subscriptions',
  'list_invoices',
  'list_events',
  'list_rejections',
  'list_api_calls',
  'open_sample_store',
  'close_sample_store',
  'open_url',
  'open_dashboard',
  'export_csv',
  'preferences',
  'set_preferences',
] as const;

/** Shell → UI events and their payloads. */
export interface BackendEvents {
  event_applied: AppliedEvent;
  sync_progress: SyncProgress;
  online_changed: OnlineChanged;
  account_changed: ConnectionStatus;
  sign_in_ended: SignInEnded;
  notice_shown: Notice;
  hub_feed_changed: HubFeedStatus;
}

export const EVENT_NAMES = [
  'event_applied',
  'sync_progress',
  'online_changed',
  'account_changed',
  'sign_in_ended',
  'notice_shown',
  'hub_feed_changed',
] as const;
