//! The shell's events to the UI, behind a small trait so command bodies run without a window.
//!
//! The same trait opens the system browser, the one other window-side effect.
//!
//! Invariant: events carry only what a view needs to refresh one row or badge (ids, types,
//! modes, counts); never a secret and never a whole list.
use crate::dto::{
    AppliedEvent, ConnectionStatus, HubFeedStatus, OnlineChanged, SignInEnded, SyncProgress,
};

pub const EVENT_APPLIED: &str = "event_applied";
pub const SYNC_PROGRESS: &str = "sync_progress";
pub const ONLINE_CHANGED: &str = "online_changed";
pub const ACCOUNT_CHANGED: &str = "account_changed";
pub const SIGN_IN_ENDED: &str = "sign_in_ended";
pub const HUB_FEED_CHANGED: &str = "hub_feed_changed";

/// Where shell events go: the Tauri window in the app, a recorder in tests.
pub trait Notify: Send + Sync + 'static {
    fn event_applied(&self, event: &AppliedEvent);
    fn sync_progress(&self, progress: &SyncProgress);
    fn online_changed(&self, online: OnlineChanged);
    fn account_changed(&self, status: &ConnectionStatus);
    /// A Connect sign-in ended (connected or not): the UI leaves its waiting state.
    fn sign_in_ended(&self, ended: &SignInEnded);
    /// A mode's live feed through the hub changed (its state, or a doorbell answered).
    fn hub_feed_changed(&self, status: &HubFeedStatus);
    /// Open a checked https URL in the system browser.
    fn open_in_browser(&self, url: &str) -> Result<(), String>;
}

/// Emits to every window of the app.
pub struct TauriNotify(pub tauri::AppHandle);

impl TauriNotify {
    fn emit<T: serde::Serialize + Clone>(&self, name: &str, payload: T) {
        use tauri::Emitter;
        if let Err(e) = self.0.emit(name, payload) {
            tracing::warn!(event = name, error = %e, "could not emit an event to the window");
        }
    }
}

impl Notify for TauriNotify {
    fn event_applied(&self, event: &AppliedEvent) {
        self.emit(EVENT_APPLIED, event.clone());
    }
    fn sync_progress(&self, progress: &SyncProgress) {
        self.emit(SYNC_PROGRESS, progress.clone());
    }
    fn online_changed(&self, online: OnlineChanged) {
        self.emit(ONLINE_CHANGED, online);
    }
    fn account_changed(&self, status: &ConnectionStatus) {
        self.emit(ACCOUNT_CHANGED, status.clone());
    }
    fn sign_in_ended(&self, ended: &SignInEnded) {
        self.emit(SIGN_IN_ENDED, ended.clone());
    }
    fn hub_feed_changed(&self, status: &HubFeedStatus) {
        self.emit(HUB_FEED_CHANGED, status.clone());
    }
    fn open_in_browser(&self, url: &str) -> Result<(), String> {
        use tauri_plugin_opener::OpenerExt;
        self.0
            .opener()
            .open_url(url, None::<&str>)
            .map_err(|e| e.to_string())
    }
}
