//! The IPC surface: every Tauri command, declared once in [`ipc!`], which also yields the
//! handler and the command table the TypeScript `commands.ts` is generated from.
//!
//! Invariant: a command takes at most one argument, named `args` (a serde struct with
//! snake_case fields), calls one `AppState` method, and fails only with `IpcError`.
use std::sync::Arc;

use tauri::State;

use crate::boot::Boot;
use crate::dto::*;
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::state::AppState;

type App<'a> = State<'a, Boot>;

/// The one command answered before the store is open: whether the mirror is being upgraded,
/// so the window can say so while every other command waits for the store.
#[tauri::command]
pub async fn startup_status(boot: App<'_>) -> IpcResult<StartupStatus> {
    Ok(boot.startup_status())
}

/// Declares the commands: `name(ArgsType) -> ResultType;` (empty parentheses: no argument).
/// Each command calls the `AppState` method of the same name.
macro_rules! ipc {
    ($( $name:ident ( $($arg:ty)? ) -> $ret:ty ; )*) => {
        $( ipc!(@command $name ( $($arg)? ) -> $ret); )*

        /// The Tauri handler for every command.
        pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![startup_status, $( $name ),*]
        }

        /// Run a command by name with its JSON arguments, as the window's invoke would: the
        /// same argument type, the same `AppState` method, the result as JSON. Contract tests
        /// drive the shell through this so a recorded transcript is the handler's own answer.
        pub async fn dispatch(
            state: &Arc<AppState>,
            name: &str,
            args: serde_json::Value,
        ) -> IpcResult<serde_json::Value> {
            match name {
                // An `AppState` is an open store: nothing is being upgraded any more.
                "startup_status" => to_json(StartupStatus::default()),
                $( stringify!($name) => ipc!(@dispatch state, $name, args, ( $($arg)? )), )*
                _ => Err(IpcError::new(ErrorCode::InvalidInput, format!("There is no command named {name}."))),
            }
        }

        /// (command, TypeScript argument type, TypeScript result type), in declaration order.
        pub fn table() -> Vec<(&'static str, String, String)> {
            vec![
                ("startup_status", ipc!(@ts), <StartupStatus as ts_rs::TS>::name()),
                $( (stringify!($name), ipc!(@ts $($arg)?), <$ret as ts_rs::TS>::name()) ),*
            ]
        }
    };
    (@command $name:ident () -> $ret:ty) => {
        #[tauri::command]
        #[tracing::instrument(name = "ipc", level = "debug", fields(command = stringify!($name)), skip_all)]
        pub async fn $name(boot: App<'_>) -> IpcResult<$ret> {
            boot.ready_state().await?.$name().await
        }
    };
    (@command $name:ident ($arg:ty) -> $ret:ty) => {
        #[tauri::command]
        #[tracing::instrument(name = "ipc", level = "debug", fields(command = stringify!($name)), skip_all)]
        pub async fn $name(boot: App<'_>, args: $arg) -> IpcResult<$ret> {
            boot.ready_state().await?.$name(args).await
        }
    };
    (@dispatch $state:ident, $name:ident, $args:ident, ()) => {{
        let _ = $args;
        to_json($state.$name().await?)
    }};
    (@dispatch $state:ident, $name:ident, $args:ident, ($arg:ty)) => {{
        let parsed: $arg = serde_json::from_value($args).map_err(|e| {
            IpcError::new(
                ErrorCode::InvalidInput,
                format!("The arguments of {} are not what it takes: {e}", stringify!($name)),
            )
        })?;
        to_json($state.$name(parsed).await?)
    }};
    (@ts) => { "void".to_owned() };
    (@ts $t:ty) => { <$t as ts_rs::TS>::name() };
}

ipc! {
    connection_status() -> ConnectionStatus;
    choose_method(ChooseMethodArgs) -> ConnectionStatus;
    save_keys(SaveKeysArgs) -> ConnectionStatus;
    save_webhook_secret(SaveWebhookSecretArgs) -> ConnectionStatus;
    create_webhook_endpoint(CreateWebhookArgs) -> WebhookEndpointCreated;
    connect_start(ModeArgs) -> ConnectStarted;
    connect_cancel() -> ();
    set_connect_service(ConnectServiceArgs) -> ConnectionStatus;
    hub_feed() -> Vec<HubFeedStatus>;
    set_hub(HubArgs) -> Vec<HubFeedStatus>;
    sync_now() -> Vec<HubFeedStatus>;
    key_hub() -> Vec<KeyHubStatus>;
    set_key_hub(KeyHubArgs) -> KeyHubChange;
    disconnect(ModeArgs) -> ConnectionStatus;
    account_status(AccountStatusArgs) -> Option<AccountStatus>;
    checklist_facts() -> ChecklistFacts;
    check_webhook_endpoint(ModeArgs) -> WebhookCheck;
    list_orders(ListOrdersArgs) -> Page<Order>;
    order_detail(OrderDetailArgs) -> OrderDetail;
    refund_order(RefundArgs) -> OrderDetail;
    fetch_line_items(OrderDetailArgs) -> OrderDetail;
    lookup_order(OrderDetailArgs) -> LookupReport;
    other_activity(ModeArgs) -> OtherActivity;
    revenue_summary(RevenueSummaryArgs) -> RevenueSummary;
    order_marker() -> Option<OrderMarker>;
    set_order_marker(OrderMarkerArgs) -> Option<OrderMarker>;
    list_disputes(ModeArgs) -> Vec<Dispute>;
    dispute_workbench(DisputeArgs) -> DisputeWorkbench;
    save_dispute_draft(DraftTextArgs) -> DisputeWorkbench;
    attach_evidence_file(EvidenceFileArgs) -> DisputeWorkbench;
    remove_evidence_file(EvidenceFileArgs) -> DisputeWorkbench;
    submit_dispute_evidence(SubmitEvidenceArgs) -> DisputeWorkbench;
    dispute_texts() -> Vec<DisputeTextValue>;
    set_dispute_text(DisputeTextArgs) -> Vec<DisputeTextValue>;
    list_subscriptions(ModeArgs) -> Vec<Subscription>;
    list_invoices(ModeArgs) -> Vec<Invoice>;
    list_events(ListEventsArgs) -> Vec<StoredEvent>;
    list_rejections(LimitArgs) -> Vec<Rejection>;
    list_api_calls(LimitArgs) -> Vec<ApiCall>;
    open_sample_store() -> ConnectionStatus;
    close_sample_store() -> ConnectionStatus;
    open_url(OpenUrlArgs) -> ();
    open_dashboard(OpenDashboardArgs) -> String;
    export_csv(ExportCsvArgs) -> ExportDone;
    preferences() -> Preferences;
    set_preferences(SetPreferencesArgs) -> Preferences;
}

fn to_json<T: serde::Serialize>(value: T) -> IpcResult<serde_json::Value> {
    serde_json::to_value(value)
        .map_err(|e| IpcError::internal("A command's answer could not be encoded", &e))
}

impl AppState {
    /// Open an https link on an allowed host in the system browser (the Stripe Dashboard,
    /// Connect's pages, the Connect service the owner set).
    pub async fn open_url(&self, args: OpenUrlArgs) -> IpcResult<()> {
        let service = self.profile.connect_service().await?;
        let url = checked_url(&args.url, &allowed_hosts(&service.url))?;
        self.notify
            .open_in_browser(url.as_str())
            .map_err(|e| IpcError::internal("The browser could not be opened", &e))
    }

    /// Open a Stripe object's page in the Stripe Dashboard; returns the address opened. The
    /// page rule is the mirror's (`facts::dashboard_url`), the same for both ways to connect.
    pub async fn open_dashboard(&self, args: OpenDashboardArgs) -> IpcResult<String> {
        let url = fluxstore_mirror::facts::dashboard_url(args.mode, &args.id).ok_or_else(|| {
            IpcError::new(
                ErrorCode::InvalidInput,
                format!(
                    "“{}” is not a Stripe id FluxStore can show in the Stripe Dashboard.",
                    args.id.trim()
                ),
            )
        })?;
        self.open_url(OpenUrlArgs { url: url.clone() }).await?;
        Ok(url)
    }
}

/// The hosts FluxStore opens pages on: Stripe's Dashboard and Connect pages, and the host of
/// the Connect service in use (its sign-in and help pages).
pub fn allowed_hosts(connect_service: &str) -> Vec<String> {
    let mut hosts = vec![
        "dashboard.stripe.com".to_owned(),
        "connect.stripe.com".to_owned(),
    ];
    if let Some(host) = url::Url::parse(connect_service)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
    {
        hosts.push(host);
    }
    hosts
}

/// Only https links to an allowed host leave the app; anything else is refused, saying why,
/// before a program runs.
pub fn checked_url(text: &str, allowed: &[String]) -> IpcResult<url::Url> {
    let url = url::Url::parse(text.trim()).map_err(|_| {
        IpcError::new(
            ErrorCode::Refused,
            "That is not a web address FluxStore can open.",
        )
    })?;
    let Some(host) = url.host_str() else {
        return Err(IpcError::new(
            ErrorCode::Refused,
            "That web address names no site, so FluxStore does not open it.",
        ));
    };
    if url.scheme() != "https" {
        return Err(IpcError::new(
            ErrorCode::Refused,
            "FluxStore only opens secure (https) web pages.",
        ));
    }
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(host)) {
        return Err(IpcError::new(
            ErrorCode::Refused,
            format!(
                "FluxStore opens only Stripe’s pages ({}) from here, not {host}. Open other sites from your browser yourself.",
                allowed.join(", ")
            ),
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn crate_file(rel: &str) -> String {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn build_rs_lists_every_command() {
        let build = crate_file("build.rs");
        let listed: Vec<&str> = build
            .lines()
            .filter_map(|l| {
                l.trim()
                    .strip_prefix('"')
                    .and_then(|l| l.strip_suffix("\","))
            })
            .collect();
        let declared: Vec<&str> = super::table().into_iter().map(|(n, _, _)| n).collect();
        assert_eq!(
            listed, declared,
            "build.rs COMMANDS must equal the ipc! table"
        );
    }

    #[test]
    fn every_command_is_granted_by_exactly_one_capability() {
        let mut granted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("capabilities");
        for entry in std::fs::read_dir(&dir).expect("capabilities dir") {
            let path = entry.expect("entry").path();
            let json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
            assert_eq!(
                json["windows"],
                serde_json::json!(["main"]),
                "{}",
                path.display()
            );
            for p in json["permissions"].as_array().expect("permissions") {
                let p = p.as_str().expect("string permission");
                assert!(!p.starts_with("shell:"), "no shell plugin permission");
                assert!(
                    !p.starts_with("opener:"),
                    "the webview opens URLs only via open_url"
                );
                if let Some(cmd) = p.strip_prefix("allow-") {
                    granted
                        .entry(cmd.replace('-', "_"))
                        .or_default()
                        .push(path.display().to_string());
                }
            }
        }
        for (name, _, _) in super::table() {
            let files = granted.remove(name).unwrap_or_default();
            assert_eq!(files.len(), 1, "{name} granted by {files:?}");
        }
        assert!(
            granted.is_empty(),
            "permissions for unknown commands: {granted:?}"
        );
    }

    #[test]
    fn only_https_urls_on_allowed_hosts_open() {
        let allowed = super::allowed_hosts("https://api.fluxstore.net");
        for good in [
            "https://dashboard.stripe.com/account/onboarding",
            "https://connect.stripe.com/oauth/authorize?client_id=ca_1",
            "https://api.fluxstore.net/help",
        ] {
            assert!(super::checked_url(good, &allowed).is_ok(), "{good}");
        }
        for bad in [
            "http://example.com",
            "http://dashboard.stripe.com/payments/pi_1",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "not a url",
            "https://",
            "https://example.com/phish",
            "https://dashboard.stripe.com.evil.example/payments",
        ] {
            let e = super::checked_url(bad, &allowed).expect_err(bad);
            assert_eq!(e.code, crate::error::ErrorCode::Refused);
        }
        let e = super::checked_url("https://example.com/x", &allowed).unwrap_err();
        assert!(e.message.contains("not example.com"), "{}", e.message);
    }
}
