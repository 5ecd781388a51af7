//! The shell's events to the UI, behind a small trait so command bodies run without a window.
//!
//! The same trait opens the system browser and the OS file dialog, the other window-side
//! effects.
//!
//! Invariant: events carry only what a view needs to refresh one row or badge (ids, types,
//! modes, counts); never a secret and never a whole list.
use crate::dto::{
    AppliedEvent, ConnectionStatus, HubFeedStatus, Notice, OnlineChanged, SignInEnded, SyncProgress,
};

pub const EVENT_APPLIED: &str = "event_applied";
pub const SYNC_PROGRESS: &str = "sync_progress";
pub const ONLINE_CHANGED: &str = "online_changed";
pub const ACCOUNT_CHANGED: &str = "account_changed";
pub const SIGN_IN_ENDED: &str = "sign_in_ended";
pub const NOTICE_SHOWN: &str = "notice_shown";
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
    /// Ask the owner for one file with the OS file dialog (blocking: call it off the async
    /// runtime). `Ok(None)`: the owner closed the dialog without picking one.
    fn pick_file(
        &self,
        title: &str,
        filter: &str,
        extensions: &[&str],
    ) -> Result<Option<std::path::PathBuf>, String>;
    /// Tell the owner one fact (an OS notification, and the window's `notice_shown` event).
    fn show_notice(&self, notice: &Notice);
    /// Ask the owner where to save a file (the OS save dialog), suggesting `suggested_name`.
    /// None when the owner cancelled. Blocks until answered: call it off the async runtime.
    fn choose_save_path(&self, suggested_name: &str) -> Option<std::path::PathBuf>;
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
    fn pick_file(
        &self,
        title: &str,
        filter: &str,
        extensions: &[&str],
    ) -> Result<Option<std::path::PathBuf>, String> {
        use tauri_plugin_dialog::DialogExt;
        let picked = self
            .0
            .dialog()
            .file()
            .set_title(title)
            .add_filter(filter, extensions)
            .blocking_pick_file();
        match picked {
            None => Ok(None),
            Some(path) => path.into_path().map(Some).map_err(|e| e.to_string()),
        }
    }
    fn show_notice(&self, notice: &Notice) {
        use tauri_plugin_notification::NotificationExt;
        // The window learns of it too: it lists recent notices with a link to each item
        // (the notification plugin reports no click on desktop systems).
        self.emit(NOTICE_SHOWN, notice.clone());
        if let Err(e) = self
            .0
            .notification()
            .builder()
            .title(&notice.title)
            .body(&notice.body)
            .show()
        {
            // No notification service (a server without a desktop, a test display): the
            // window's list still has it.
            tracing::warn!(error = %e, "the system notification could not be shown");
        }
    }
    fn choose_save_path(&self, suggested_name: &str) -> Option<std::path::PathBuf> {
        use tauri_plugin_dialog::DialogExt;
        self.0
            .dialog()
            .file()
            .add_filter("CSV", &["csv"])
            .set_file_name(suggested_name)
            .blocking_save_file()
            .and_then(|p| p.into_path().ok())
    }
}
