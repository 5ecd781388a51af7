//! Stripe Connect from the desktop: the system browser and a one-shot loopback listener (the
//! gateway's `oauth`), the tokens into the keyring (the gateway's `connect`).
//!
//! Invariants: the shell never sees the platform key (the Connect service holds it); the
//! authorize URL is returned before waiting, so the UI can show it for copying; at most one
//! connection is pending, and `connect_cancel` ends it.
use fluxstore_gateway::connect::{self as gw_connect, ConnectError};
use fluxstore_gateway::oauth::{ConnectOptions, OAuthError, PendingConnect};
use std::sync::Arc;

use crate::dto::{ConnectStarted, ModeArgs};
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::state::{ACCOUNT, AppState};

/// The Connect service the desktop signs in through (set by whoever operates it).
pub const SERVICE_ENV: &str = "FLUXSTORE_CONNECT_SERVICE";

impl From<ConnectError> for IpcError {
    fn from(e: ConnectError) -> IpcError {
        tracing::warn!(code = e.code(), error = %e, "Connect failed");
        let code = match &e {
            ConnectError::Gateway(_) => ErrorCode::StripeError,
            ConnectError::NotConnected => ErrorCode::NotConnected,
            ConnectError::OAuth(OAuthError::Cancelled | OAuthError::TimedOut { .. }) => {
                ErrorCode::Cancelled
            }
            ConnectError::OAuth(OAuthError::ServiceUnreachable { .. }) => ErrorCode::Offline,
            ConnectError::OAuth(
                OAuthError::Denied { .. } | OAuthError::Provider { .. } | OAuthError::TokenRejected,
            ) => ErrorCode::StripeError,
            ConnectError::OAuth(_) => ErrorCode::Internal,
            ConnectError::Keyring(_) => ErrorCode::KeyringUnavailable,
            ConnectError::Mirror(_) | ConnectError::Join => ErrorCode::Internal,
        };
        if let ConnectError::Gateway(g) = e {
            return IpcError::from(g);
        }
        let message = match code {
            ErrorCode::Internal => {
                "Connecting with Stripe failed. The details are in the app log.".to_owned()
            }
            _ => sentence(&e.to_string()),
        };
        IpcError::new(code, message)
    }
}

/// "the connection was cancelled" → "The connection was cancelled."
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

fn service_url(configured: Option<&url::Url>) -> IpcResult<url::Url> {
    if let Some(url) = configured {
        return Ok(url.clone());
    }
    let text = std::env::var(SERVICE_ENV).unwrap_or_default();
    if text.trim().is_empty() {
        return Err(IpcError::new(
            ErrorCode::NotConnected,
            "No FluxStore Connect service is configured for this app, so Connect is not available. Choose manual keys instead: they give the same features.",
        ));
    }
    url::Url::parse(text.trim()).map_err(|_| {
        IpcError::new(
            ErrorCode::Internal,
            format!("The Connect service address in {SERVICE_ENV} is not a valid URL."),
        )
    })
}

impl AppState {
    /// Open Stripe's authorize page and wait for the answer in the background; the result
    /// arrives as `account_changed`.
    pub async fn connect_start(self: &Arc<Self>, args: ModeArgs) -> IpcResult<ConnectStarted> {
        if self.sample_open().await {
            return Err(IpcError::new(
                ErrorCode::Refused,
                "Close the sample store before connecting your own Stripe account.",
            ));
        }
        let keyring = self.keyring()?.clone();
        let url = service_url(self.connect_service.get())?;
        let pending = PendingConnect::start(ConnectOptions::new(url.clone(), args.mode.into()))
            .await
            .map_err(|e| IpcError::from(ConnectError::from(e)))?;
        let authorize_url = pending.authorize_url().to_string();
        if let Some(previous) = self
            .connect_pending
            .lock()
            .await
            .replace(pending.cancel_handle())
        {
            previous.cancel();
        }
        if let Err(e) = self.notify.open_in_browser(&authorize_url) {
            // The UI shows the URL for copying; the listener keeps waiting.
            tracing::warn!(error = %e, "no browser opened for Connect");
        }
        let state = self.clone();
        tokio::spawn(async move {
            let outcome = state.finish_connect(pending, keyring, url).await;
            if let Err(e) = outcome {
                tracing::warn!(code = ?e.code, message = %e.message, "Connect did not complete");
            }
            state.connect_pending.lock().await.take();
            let _ = state.changed().await;
        });
        Ok(ConnectStarted { authorize_url })
    }

    async fn finish_connect(
        &self,
        pending: PendingConnect,
        keyring: fluxstore_gateway::SecretStore,
        url: url::Url,
    ) -> IpcResult<()> {
        let tokens = pending
            .finish()
            .await
            .map_err(|e| IpcError::from(ConnectError::from(e)))?;
        let mirror = self.real.writer();
        tokio::task::spawn_blocking(move || {
            let mut m = mirror.lock().unwrap_or_else(|p| p.into_inner());
            gw_connect::store_connection(&keyring, &mut m, ACCOUNT, &url, &tokens)?;
            m.set_setting("shell.connection_method", Some("connect"))?;
            Ok::<(), ConnectError>(())
        })
        .await
        .map_err(|e| {
            IpcError::internal("Saving the Stripe connection stopped unexpectedly", &e)
        })??;
        self.sync_wake.notify_one();
        Ok(())
    }

    pub async fn connect_cancel(&self) -> IpcResult<()> {
        if let Some(handle) = self.connect_pending.lock().await.take() {
            handle.cancel();
        }
        Ok(())
    }
}
