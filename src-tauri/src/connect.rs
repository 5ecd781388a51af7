//! Stripe Connect from the desktop, per mode: the profile starts the sign-in (system browser,
//! loopback listener), this shell opens the browser and reports how it ended.
//!
//! Invariants: the shell never sees the platform key (the Connect service holds it); the
//! authorize URL is returned before waiting, so the UI can show it for copying; at most one
//! sign-in is pending, and `connect_cancel` ends it; every ending (connected, denied, timed
//! out, cancelled, service unreachable) reaches the UI as `sign_in_ended`, so the waiting
//! state never outlives the sign-in.
use std::sync::Arc;

use fluxstore_gateway::oauth::CancelHandle;
use fluxstore_mirror::Mode;

use crate::dto::{ConnectStarted, ModeArgs};
use crate::error::IpcResult;
use crate::state::AppState;

impl AppState {
    /// Open Stripe's authorize page for `mode` and wait for the answer in the background;
    /// the result arrives as `sign_in_ended` and `account_changed`.
    pub async fn connect_start(self: &Arc<Self>, args: ModeArgs) -> IpcResult<ConnectStarted> {
        self.refuse_in_sample().await?;
        let sign_in = self.profile.start_sign_in(args.mode).await?;
        let authorize_url = sign_in.authorize_url().to_string();
        let id = rand::random::<u64>();
        if let Some(previous) = self.sign_in.lock().await.replace(PendingSignIn {
            id,
            mode: args.mode,
            cancel: sign_in.cancel_handle(),
        }) {
            previous.cancel.cancel();
        }
        if let Err(e) = self.notify.open_in_browser(&authorize_url) {
            // The UI shows the URL for copying; the listener keeps waiting.
            tracing::warn!(error = %e, "no browser opened for Connect");
        }
        let state = self.clone();
        tokio::spawn(async move {
            let (ended, outcome) = state.profile.finish_sign_in(sign_in).await;
            if let Err(e) = &outcome {
                tracing::warn!(code = e.code(), error = %e, "Connect did not complete");
            }
            {
                // Forget it only if no newer sign-in replaced it meanwhile.
                let mut pending = state.sign_in.lock().await;
                if pending.as_ref().is_some_and(|p| p.id == id) {
                    pending.take();
                }
            }
            state.notify.sign_in_ended(&ended);
            if ended.connected {
                state.wake_feed().await;
            }
            let _ = state.changed().await;
        });
        Ok(ConnectStarted { authorize_url })
    }

    pub async fn connect_cancel(&self) -> IpcResult<()> {
        if let Some(pending) = self.sign_in.lock().await.take() {
            pending.cancel.cancel();
        }
        Ok(())
    }
}

/// The sign-in waiting for the browser.
pub struct PendingSignIn {
    /// Tells this sign-in from a newer one that replaced it.
    id: u64,
    pub mode: Mode,
    cancel: CancelHandle,
}
