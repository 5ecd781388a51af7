//! Shared pieces: a recorder in place of the window (bounded waiting, the clock and the
//! secret scan come from the shared test support).
use std::sync::{Arc, Mutex};

use fluxstore_desktop::dto::{
    AppliedEvent, ConnectionStatus, HubFeedStatus, Notice, OnlineChanged, SignInEnded, SyncProgress,
};
use fluxstore_desktop::notify::Notify;

#[derive(Default)]
pub struct Recorder {
    pub applied: Mutex<Vec<AppliedEvent>>,
    pub sign_ins: Mutex<Vec<SignInEnded>>,
    pub progress: Mutex<Vec<SyncProgress>>,
    pub online: Mutex<Vec<bool>>,
    pub accounts: Mutex<Vec<ConnectionStatus>>,
    pub opened: Mutex<Vec<String>>,
    /// The files the OS file dialog "picks", in turn (empty: the owner closes it).
    pub picks: Mutex<Vec<std::path::PathBuf>>,
    /// Every notice the app would have shown.
    pub notices: Mutex<Vec<Notice>>,
    /// What the save dialog answers (None: the owner cancels).
    pub save_to: Mutex<Option<std::path::PathBuf>>,
    pub hub_feed: Mutex<Vec<HubFeedStatus>>,
}

impl Recorder {
    pub fn new() -> Arc<Recorder> {
        Arc::new(Recorder::default())
    }
    pub fn applied_ids(&self) -> Vec<String> {
        self.applied
            .lock()
            .unwrap()
            .iter()
            .map(|a| a.event_id.clone())
            .collect()
    }
}

impl Notify for Recorder {
    fn event_applied(&self, event: &AppliedEvent) {
        self.applied.lock().unwrap().push(event.clone());
    }
    fn sync_progress(&self, progress: &SyncProgress) {
        self.progress.lock().unwrap().push(progress.clone());
    }
    fn online_changed(&self, online: OnlineChanged) {
        self.online.lock().unwrap().push(online.online);
    }
    fn account_changed(&self, status: &ConnectionStatus) {
        self.accounts.lock().unwrap().push(status.clone());
    }
    fn sign_in_ended(&self, ended: &SignInEnded) {
        self.sign_ins.lock().unwrap().push(ended.clone());
    }
    fn hub_feed_changed(&self, status: &HubFeedStatus) {
        self.hub_feed.lock().unwrap().push(status.clone());
    }
    fn open_in_browser(&self, url: &str) -> Result<(), String> {
        self.opened.lock().unwrap().push(url.to_owned());
        Ok(())
    }
    fn pick_file(
        &self,
        _title: &str,
        _filter: &str,
        _extensions: &[&str],
    ) -> Result<Option<std::path::PathBuf>, String> {
        let mut picks = self.picks.lock().unwrap();
        Ok((!picks.is_empty()).then(|| picks.remove(0)))
    }

    fn show_notice(&self, notice: &Notice) {
        self.notices.lock().unwrap().push(notice.clone());
    }
    fn choose_save_path(&self, _suggested_name: &str) -> Option<std::path::PathBuf> {
        self.save_to.lock().unwrap().clone()
    }
}

/// The real OS keyring (Secret Service) under a service name of this test process's own, so
/// suites running side by side never share entries; `purpose` names the suite.
pub fn keyring(purpose: &str) -> fluxstore_gateway::SecretStore {
    let store = fluxstore_gateway::SecretStore::with_service(&format!(
        "FluxStore Desktop {purpose} {}",
        std::process::id()
    ))
    .expect("a keyring backend");
    if let Err(e) = store.probe() {
        panic!(
            "no usable Secret Service ({e}); run inside scripts/with-secret-service.sh (FLUXSTORE_REQUIRE_SECRET_SERVICE={:?})",
            std::env::var("FLUXSTORE_REQUIRE_SECRET_SERVICE").ok()
        );
    }
    store
}
