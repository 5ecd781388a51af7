//! The app config lives at the repository root (layout A): point tauri-build at it.
//!
//! The app's own commands are declared to Tauri's ACL here, so each one needs an explicit
//! `allow-<command>` in a capability file (least privilege). The list must equal the `ipc!`
//! table in src/commands.rs; a unit test (`build_rs_lists_every_command`) checks that.
const COMMANDS: &[&str] = &[
    "startup_status",
    "connection_status",
    "choose_method",
    "save_keys",
    "save_webhook_secret",
    "create_webhook_endpoint",
    "connect_start",
    "connect_cancel",
    "set_connect_service",
    "hub_feed",
    "set_hub",
    "sync_now",
    "key_hub",
    "set_key_hub",
    "disconnect",
    "account_status",
    "checklist_facts",
    "check_webhook_endpoint",
    "list_orders",
    "order_detail",
    "refund_order",
    "fetch_line_items",
    "lookup_order",
    "other_activity",
    "revenue_summary",
    "order_marker",
    "set_order_marker",
    "list_disputes",
    "dispute_workbench",
    "save_dispute_draft",
    "attach_evidence_file",
    "remove_evidence_file",
    "submit_dispute_evidence",
    "dispute_texts",
    "set_dispute_text",
    "list_subscriptions",
    "list_invoices",
    "list_events",
    "list_rejections",
    "list_api_calls",
    "open_sample_store",
    "close_sample_store",
    "open_url",
    "open_dashboard",
    "export_csv",
    "preferences",
    "set_preferences",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build could not read ../tauri.conf.json");
}
