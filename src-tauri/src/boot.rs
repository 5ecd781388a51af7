//! The app while its store opens: opening a mirror whose upgrade re-derives every order takes
//! seconds on a large store, so the window comes up first and says so, instead of freezing.
//!
//! Invariants: every command but `startup_status` waits until the store is open and then runs
//! against it (or fails with the opening's error); `startup_status` answers at once, and says
//! `updating` only while an upgrade the mirror announced ([`Mirror::pending_update`]) runs.
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};

use fluxstore_gateway::SecretStore;
use fluxstore_mirror::{Mirror, PendingUpdate};
use tokio::sync::watch;

use crate::dto::StartupStatus;
use crate::error::{IpcError, IpcResult};
use crate::notify::Notify;
use crate::state::{AppState, MIRROR_FILE};

type Opened = Option<IpcResult<Arc<AppState>>>;

pub struct Boot {
    opened: watch::Receiver<Opened>,
    /// The upgrade under way, until the store is open.
    updating: Arc<Mutex<Option<PendingUpdate>>>,
}

impl Boot {
    /// A store that is open already.
    pub fn ready(state: Arc<AppState>) -> Boot {
        let (_tx, opened) = watch::channel(Some(Ok(state)));
        Boot {
            opened,
            updating: Arc::new(Mutex::new(None)),
        }
    }

    /// Open the owner's store under `data_dir`: at once when its mirror is up to date (the
    /// common case, before the window shows anything), else in the background while the
    /// window says the order history is being updated. `opened` runs once the store is open,
    /// before any command sees it (e.g. opening the sample store the app was started with).
    pub fn open<F, Fut>(
        data_dir: &Path,
        notify: Arc<dyn Notify>,
        keyring: Option<SecretStore>,
        opened: F,
    ) -> IpcResult<Boot>
    where
        F: FnOnce(Arc<AppState>) -> Fut + Send + 'static,
        Fut: Future<Output = IpcResult<()>> + Send,
    {
        let pending = Mirror::pending_update(&data_dir.join(MIRROR_FILE)).unwrap_or_else(|e| {
            // Not knowing is no reason to stop: the open below reports a real problem.
            tracing::warn!(error = %e, "could not tell whether the mirror needs an upgrade");
            None
        });
        let Some(pending) = pending else {
            let state = tauri::async_runtime::block_on(async {
                let state = AppState::open(data_dir, notify, keyring).await?;
                opened(state.clone()).await?;
                Ok::<_, IpcError>(state)
            })?;
            return Ok(Boot::ready(state));
        };
        tracing::info!(
            from = pending.from_version,
            to = pending.to_version,
            events = pending.events,
            "updating the order history: the mirror re-derives its orders from the stored events"
        );
        let (tx, rx) = watch::channel(None);
        let updating = Arc::new(Mutex::new(Some(pending)));
        let done = updating.clone();
        let data_dir = data_dir.to_path_buf();
        tauri::async_runtime::spawn(async move {
            let started = std::time::Instant::now();
            let result = async {
                let state = AppState::open(&data_dir, notify, keyring).await?;
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "order history updated"
                );
                opened(state.clone()).await?;
                Ok(state)
            }
            .await;
            if let Err(e) = &result {
                tracing::error!(error = %e, "the store could not be opened");
            }
            *done.lock().unwrap_or_else(|p| p.into_inner()) = None;
            let _ = tx.send(Some(result));
        });
        Ok(Boot {
            opened: rx,
            updating,
        })
    }

    /// The open store, once it is open (waiting while an upgrade runs).
    pub async fn ready_state(&self) -> IpcResult<Arc<AppState>> {
        let mut rx = self.opened.clone();
        let opened = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|e| IpcError::internal("The store stopped opening", &e))?;
        opened.clone().expect("waited for Some")
    }

    /// The store if it is open now (the exit handler: nothing to wait for).
    pub fn state_now(&self) -> Option<Arc<AppState>> {
        self.opened.borrow().as_ref()?.as_ref().ok().cloned()
    }

    /// What the window shows while the store opens.
    pub fn startup_status(&self) -> StartupStatus {
        StartupStatus {
            updating: self
                .updating
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }
}
