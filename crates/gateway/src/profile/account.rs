//! The account's readiness per mode (product page R12): charges, payouts, details submitted,
//! requirements. It lives in the mirror's `accounts` projection, fed by `account.updated`
//! events (webhook, hub, events sync) and by each fetch of `GET /v1/account`, which is
//! recorded as a synthetic `account.updated` event, so one fold decides what the owner sees,
//! offline too.
//!
//! Invariant: a fetch happens right after connecting (keys or Connect), on Refresh, and never
//! silently in a loop; its result is what the mirror then shows.
use fluxstore_mirror::{Mirror, MirrorError, Mode};

pub use fluxstore_mirror::AccountStatus;

use super::settings::Setting;
use super::{Profile, ProfileError};

/// The mirror's view of `mode`'s account (the one the mode acts for, when known).
pub(crate) fn cached(
    m: &Mirror,
    mode: Mode,
    account_id: Option<&str>,
) -> Result<Option<AccountStatus>, MirrorError> {
    match account_id {
        Some(id) => m.account_status(mode, id),
        // Not known yet (or forgotten by a disconnect): the newest account the mode has seen.
        None => m.latest_account_status(mode),
    }
}

impl Profile {
    /// The account's status as the mirror has it (no network).
    pub async fn account_status(&self, mode: Mode) -> Result<Option<AccountStatus>, ProfileError> {
        self.read(move |m| {
            let id = Setting::AccountId(mode).get(m)?;
            cached(m, mode, id.as_deref())
        })
        .await
    }

    /// Ask Stripe for the account's status now, record it in the mirror, and return what the
    /// mirror then shows.
    pub async fn refresh_account(&self, mode: Mode) -> Result<AccountStatus, ProfileError> {
        let client = self.client(mode).await?;
        let fetched = client.refresh_account().await?;
        let id = fetched.status.id.clone();
        self.write(move |m| Setting::AccountId(mode).set(m, Some(&id)))
            .await?;
        self.account_status(mode)
            .await?
            .ok_or(ProfileError::Inconsistent(
                "the fetched account status is not in the mirror",
            ))
    }
}
