//! Notices to the owner, decided in one place from the mirror's state after each ingest.
//!
//! Every road into the mirror (the in-process relay, the events sync, the hub's feed, a
//! refund's answer) reports through the shell's [`Notify`] as `event_applied`. [`AlertingNotify`]
//! wraps the window's `Notify`: it passes each report on and asks [`Alerts`] to look again.
//! Bursts coalesce into one look; looks never overlap. A look claims the facts the owner has
//! not been told yet (the mirror records them, so a fact is raised once, never again after a
//! restart) and hands each to `Notify::show_notice` (the OS notification in the app, a recorder
//! in tests). Time alone can make a dispute due soon, so the app also looks on start and every
//! [`LOOK_EVERY`].
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fluxstore_mirror::Notice;

use crate::dto::{
    AppliedEvent, ConnectionStatus, HubFeedStatus, OnlineChanged, SignInEnded, SyncProgress,
};
use crate::error::IpcResult;
use crate::notify::Notify;
use crate::store::Store;

/// How long a burst of ingests may go on before the look (a sync commits page by page).
const SETTLE: Duration = Duration::from_millis(200);
/// How often the app looks without an ingest (a dispute becomes due soon by time alone).
pub const LOOK_EVERY: Duration = Duration::from_secs(15 * 60);

pub struct Alerts {
    store: Arc<Store>,
    sink: Arc<dyn Notify>,
    pending: AtomicBool,
    looking: tokio::sync::Mutex<()>,
}

impl Alerts {
    pub fn new(store: Arc<Store>, sink: Arc<dyn Notify>) -> Arc<Alerts> {
        Arc::new(Alerts {
            store,
            sink,
            pending: AtomicBool::new(false),
            looking: tokio::sync::Mutex::new(()),
        })
    }

    /// Claim the facts not raised yet (of the kinds the owner left on) and show each.
    pub async fn look(&self) -> IpcResult<Vec<Notice>> {
        let _one_at_a_time = self.looking.lock().await;
        let now = unix_now();
        let notices = self
            .store
            .write(move |m| {
                let kinds = m.notice_kinds_on()?;
                m.claim_notices(&kinds, now)
            })
            .await?;
        for n in &notices {
            tracing::info!(kind = %n.kind, fact = %n.fact, "notice raised");
            self.sink.show_notice(n);
        }
        Ok(notices)
    }

    /// Look soon (bursts of pokes make one look).
    pub fn poke(self: &Arc<Self>) {
        if self.pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let me = self.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(SETTLE).await;
            me.pending.store(false, Ordering::Release);
            if let Err(e) = me.look().await {
                tracing::warn!(error = %e.message, "notices could not be decided");
            }
        });
    }
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The window's [`Notify`], with a look for notices after every applied event.
pub struct AlertingNotify {
    inner: Arc<dyn Notify>,
    alerts: std::sync::OnceLock<Arc<Alerts>>,
}

impl AlertingNotify {
    pub fn new(inner: Arc<dyn Notify>) -> Arc<AlertingNotify> {
        Arc::new(AlertingNotify {
            inner,
            alerts: std::sync::OnceLock::new(),
        })
    }

    /// Start looking for notices in `store`'s mirror after each applied event.
    pub fn watch(&self, store: Arc<Store>) -> Arc<Alerts> {
        self.alerts
            .get_or_init(|| Alerts::new(store, self.inner.clone()))
            .clone()
    }
}

impl Notify for AlertingNotify {
    fn event_applied(&self, event: &AppliedEvent) {
        self.inner.event_applied(event);
        if event.projected
            && let Some(alerts) = self.alerts.get()
        {
            alerts.poke();
        }
    }
    fn sync_progress(&self, progress: &SyncProgress) {
        self.inner.sync_progress(progress);
    }
    fn online_changed(&self, online: OnlineChanged) {
        self.inner.online_changed(online);
    }
    fn account_changed(&self, status: &ConnectionStatus) {
        self.inner.account_changed(status);
    }
    fn sign_in_ended(&self, ended: &SignInEnded) {
        self.inner.sign_in_ended(ended);
    }
    fn hub_feed_changed(&self, status: &HubFeedStatus) {
        self.inner.hub_feed_changed(status);
    }
    fn open_in_browser(&self, url: &str) -> Result<(), String> {
        self.inner.open_in_browser(url)
    }
    fn pick_file(
        &self,
        title: &str,
        filter: &str,
        extensions: &[&str],
    ) -> Result<Option<std::path::PathBuf>, String> {
        self.inner.pick_file(title, filter, extensions)
    }
    fn show_notice(&self, notice: &Notice) {
        self.inner.show_notice(notice);
    }
    fn choose_save_path(&self, suggested_name: &str) -> Option<std::path::PathBuf> {
        self.inner.choose_save_path(suggested_name)
    }
}
