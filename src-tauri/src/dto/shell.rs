//! The shell's own IPC shapes: command arguments, connection state, and the events it emits.
//!
//! Invariant: a secret crosses IPC at most once, inbound, as a [`SecretInput`] (redacted
//! `Debug`, no `Serialize`); nothing outbound ever carries a secret's value, only the fact that
//! it exists and where it is kept.
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use ts_rs::TS;

pub use fluxstore_gateway::RefundReason;
pub use fluxstore_gateway::profile::{
    ConnectService, ConnectServiceSource, ConnectionMethod, ModeConnection, ProfileStatus,
    SecretInfo, SecretShown, SignInEnded,
};
pub use fluxstore_gateway::webhook::WebhookCheck;
pub use fluxstore_mirror::{AccountRequirements, AccountStatus};

use fluxstore_mirror::{Mode, NoticeKind, OrderQuery, OrderStatus};

/// A pasted key or secret on its way to the OS keyring (a `string` in TypeScript).
pub struct SecretInput(SecretString);

impl SecretInput {
    pub fn new(text: &str) -> SecretInput {
        SecretInput(SecretString::from(text.to_owned()))
    }
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for SecretInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SecretInput, D::Error> {
        String::deserialize(d).map(|s| SecretInput(SecretString::from(s)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RelayStatus {
    pub listening: bool,
    /// The intake URL on this computer, e.g. http://127.0.0.1:4343/api/webhooks/stripe.
    pub local_url: Option<String>,
    /// The webhook URL of the owner's public relay whose feed this desktop pulls. Always null
    /// in this build: pulling a public relay's feed is not implemented yet.
    pub public_url: Option<String>,
}

/// The store's connection (the profile's view of both modes) and the app's own facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConnectionStatus {
    #[serde(flatten)]
    #[ts(flatten)]
    pub profile: ProfileStatus,
    pub relay: RelayStatus,
    /// True while the separate sample-store mirror is open.
    pub sample_store: bool,
    pub online: bool,
}

/// The profile's fields read as the status's own, as they do in TypeScript (flattened).
impl std::ops::Deref for ConnectionStatus {
    type Target = ProfileStatus;
    fn deref(&self) -> &ProfileStatus {
        &self.profile
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WebhookEndpointCreated {
    pub endpoint_id: String,
    pub url: String,
    pub enabled_events: Vec<String>,
    /// The returned whsec_ went straight to the keyring; only this fact comes back.
    pub secret_stored: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConnectStarted {
    /// Shown for copying in case no browser opens.
    pub authorize_url: String,
}

// ---- command arguments (each command takes one `args` object) ----

#[derive(Debug, Deserialize, TS)]
pub struct ChooseMethodArgs {
    pub method: ConnectionMethod,
}

#[derive(Debug, Deserialize, TS)]
pub struct SaveKeysArgs {
    pub publishable_key: String,
    /// sk_ or rk_; goes to the OS keyring and is never returned.
    #[ts(type = "string")]
    pub secret_key: SecretInput,
}

#[derive(Debug, Deserialize, TS)]
pub struct SaveWebhookSecretArgs {
    pub mode: Mode,
    #[ts(type = "string")]
    pub webhook_secret: SecretInput,
}

#[derive(Debug, Deserialize, TS)]
pub struct CreateWebhookArgs {
    pub mode: Mode,
    pub url: String,
}

#[derive(Debug, Clone, Copy, Deserialize, TS)]
pub struct ModeArgs {
    pub mode: Mode,
}

#[derive(Debug, Clone, Copy, Deserialize, TS)]
pub struct AccountStatusArgs {
    pub mode: Mode,
    pub refresh: bool,
}

/// The Orders view's filters, the same for its pages and for its CSV export.
#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct OrderFilters {
    #[serde(default)]
    pub statuses: Vec<OrderStatus>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    #[ts(type = "number | null")]
    pub created_from: Option<i64>,
    #[serde(default)]
    #[ts(type = "number | null")]
    pub created_to: Option<i64>,
    #[serde(default)]
    pub search: Option<String>,
}

impl OrderFilters {
    /// As the mirror's query for `mode`: blank text filters nothing, and a currency compares
    /// in lowercase (Stripe's form). No cursor, no limit.
    pub fn query(self, mode: Mode) -> OrderQuery {
        OrderQuery {
            mode: Some(mode),
            statuses: self.statuses,
            currency: non_blank(self.currency).map(|c| c.to_ascii_lowercase()),
            created_from: self.created_from,
            created_to: self.created_to,
            search: non_blank(self.search),
            ..OrderQuery::default()
        }
    }
}

/// Text the owner left blank (or only spaces) is no value.
pub fn non_blank(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ListOrdersArgs {
    pub mode: Mode,
    #[serde(flatten)]
    #[ts(flatten)]
    pub filters: OrderFilters,
    /// Opaque keyset cursor from a previous page's `next`.
    #[serde(default)]
    pub after: Option<String>,
    pub limit: u32,
}

/// What the window shows while the owner's store opens (`startup_status`, answered at once).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct StartupStatus {
    /// The mirror's upgrade under way (it re-reads every stored event once to re-derive the
    /// orders): the window says "Updating your order history…" until the store is open.
    /// None once it is open, or when nothing needed updating.
    pub updating: Option<fluxstore_mirror::PendingUpdate>,
}

/// The revenue summary of `mode` for the orders paid in `[from, to)` (unix seconds; null:
/// unbounded).
#[derive(Debug, Clone, Copy, Deserialize, TS)]
pub struct RevenueSummaryArgs {
    pub mode: Mode,
    #[serde(default)]
    #[ts(type = "number | null")]
    pub from: Option<i64>,
    #[serde(default)]
    #[ts(type = "number | null")]
    pub to: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct OrderDetailArgs {
    pub mode: Mode,
    pub session_id: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct OrderMarkerArgs {
    /// null: every Checkout Session of the account is a FluxStore order.
    pub marker: Option<fluxstore_mirror::OrderMarker>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct RefundArgs {
    pub mode: Mode,
    pub session_id: String,
    /// Minor units; null refunds what remains.
    #[ts(type = "number | null")]
    pub amount: Option<i64>,
    pub reason: Option<RefundReason>,
}

#[derive(Debug, Clone, Copy, Deserialize, TS)]
pub struct ListEventsArgs {
    pub mode: Mode,
    pub limit: u32,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ConnectServiceArgs {
    /// The Connect service's address; null returns to the default.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct HubArgs {
    /// The FluxStore hub's address for the live feed; null returns to the default (the
    /// Connect service a mode's token came from).
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, TS)]
pub struct KeyHubArgs {
    pub mode: Mode,
    /// Turn live updates through the FluxStore hub on (true) or off (false) for the mode's
    /// API keys.
    pub on: bool,
}

#[derive(Debug, Clone, Copy, Deserialize, TS)]
pub struct LimitArgs {
    pub limit: u32,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct OpenUrlArgs {
    pub url: String,
}

/// A Stripe object to open in the Stripe Dashboard: its id (`pi_…`, `ch_…`, `re_…`, `dp_…`,
/// `sub_…`, `cus_…`, `in_…`, `we_…`) and the mode it lives in.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct OpenDashboardArgs {
    pub mode: Mode,
    pub id: String,
}

// ---- events (shell → UI; `event_applied` carries the mirror's `AppliedEvent`) ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SyncProgress {
    pub mode: Mode,
    #[ts(type = "number")]
    pub pages: u64,
    #[ts(type = "number")]
    pub events: u64,
    #[ts(type = "number | null")]
    pub newest: Option<i64>,
    pub done: bool,
    /// A gap older than Stripe's 30 days that could not be filled, in words.
    pub gap: Option<String>,
}

impl SyncProgress {
    /// A page of a run is done.
    pub fn running(mode: Mode, p: &fluxstore_gateway::SyncProgress) -> SyncProgress {
        SyncProgress {
            mode,
            pages: u64::from(p.pages),
            events: p.events,
            newest: p.newest_created,
            done: false,
            gap: None,
        }
    }

    /// A run ended; a gap older than Stripe's 30 days is said in words.
    pub fn done(mode: Mode, report: &fluxstore_gateway::SyncReport) -> SyncProgress {
        let gap = report.gap.as_ref().map(|g| {
            format!(
                "Stripe keeps events for 30 days. The mirror was last updated before that, so changes between then and {} may be missing; open those orders in the Stripe Dashboard to check.",
                crate::time::date_words(g.retention_starts)
            )
        });
        SyncProgress {
            done: true,
            gap,
            ..SyncProgress::running(mode, &report.progress)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OnlineChanged {
    pub online: bool,
}

/// One dispute of a mode.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct DisputeArgs {
    pub mode: Mode,
    pub dispute_id: String,
}

/// One text field of a dispute's evidence draft, as typed.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct DraftTextArgs {
    pub mode: Mode,
    pub dispute_id: String,
    /// Stripe's evidence field name (a text field of the form).
    pub field: String,
    /// The owner's text (empty clears a pre-filled value); null forgets the owner's text so
    /// the pre-filled value shows again.
    pub value: Option<String>,
}

/// One file field of a dispute's evidence draft.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct EvidenceFileArgs {
    pub mode: Mode,
    pub dispute_id: String,
    /// Stripe's evidence field name (a file field of the form).
    pub field: String,
}

/// Send a dispute's draft to Stripe.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct SubmitEvidenceArgs {
    pub mode: Mode,
    pub dispute_id: String,
    /// true: submitted to the bank (final); false: saved at Stripe without submitting.
    pub submit: bool,
}

/// A reusable evidence text as the settings show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct DisputeTextValue {
    pub text: fluxstore_mirror::evidence::DisputeText,
    pub label: String,
    /// The evidence field it pre-fills.
    pub field: String,
    /// Empty when the owner has not written it.
    pub value: String,
}

/// Write (or, with an empty value, forget) a reusable evidence text.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct DisputeTextArgs {
    pub text: fluxstore_mirror::evidence::DisputeText,
    pub value: String,
}

/// Which list a CSV export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportList {
    Orders,
    Disputes,
    Subscriptions,
}

/// Export a list of `mode` to a CSV file the owner picks in the save dialog. For orders, the
/// filters of the Orders view (every matching order, not only the loaded page).
#[derive(Debug, Clone, Deserialize, TS)]
pub struct ExportCsvArgs {
    pub list: ExportList,
    pub mode: Mode,
    #[serde(flatten)]
    #[ts(flatten)]
    pub filters: OrderFilters,
}

/// Where the export went: `path` null when the owner cancelled the dialog (nothing written).
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportDone {
    pub path: Option<String>,
    pub rows: u32,
}

/// One notice kind and whether the owner wants it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct NoticePreference {
    pub kind: NoticeKind,
    pub on: bool,
}

/// The desktop's own preferences.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Preferences {
    /// Every notice kind, in the order the UI lists them.
    pub notices: Vec<NoticePreference>,
    /// Keep running in the tray (menu bar) when the window is closed, so notices still arrive.
    pub keep_in_tray: bool,
    /// Whether this desktop shows a tray at all (false: closing the window quits).
    pub tray_available: bool,
}

/// Change preferences; a field left null stays as it is.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct SetPreferencesArgs {
    #[serde(default)]
    pub notices: Vec<NoticePreference>,
    #[serde(default)]
    pub keep_in_tray: Option<bool>,
}
