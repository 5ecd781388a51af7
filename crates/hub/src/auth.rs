//! Who may read a feed: a key-mode store's feed token, or a Connect access token that Stripe
//! says belongs to an account.
//!
//! A Connect token is checked with `GET {stripe-api-base}/v1/account` (the token as Bearer):
//! the account Stripe names is the only account whose doorbells the feed carries, in the mode
//! the token's prefix names. A check is trusted for [`TOKEN_RECHECK`]; an open feed asks
//! again when that has passed and ends when Stripe refuses the token (revoked, or the owner
//! disconnected the platform), so a revoked token loses its feed at the next check and is
//! answered 401 from then on.
//!
//! Stripe is asked only so fast: every check that goes to Stripe passes one limiter per
//! replica ([`HubConfig::token_check_rate`](crate::HubConfig)), and a token Stripe refused is
//! remembered (by hash) for as long as an accepted one, so a flood of bogus or revoked tokens
//! costs Stripe at most the limiter's rate, and a repeated one costs it nothing. Over the
//! rate a new token is answered "busy, try again" without asking Stripe; tokens already
//! accepted (the cache) are not slowed down.
//!
//! Invariant: both caches are keyed by the token's SHA-256, never the token; the accepted
//! cache holds only tokens Stripe accepted, and the refused one is capped
//! ([`NEGATIVE_LIMIT`] entries), so anonymous callers cannot grow either without bound.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::tokens;

/// How long Stripe's word on a Connect token is trusted before it is asked again.
pub const TOKEN_RECHECK: Duration = Duration::from_secs(5 * 60);
/// How long a check waits for Stripe.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// Above this many cached tokens, expired ones are dropped on the next insert.
const CACHE_SOFT_LIMIT: usize = 10_000;
/// Most refused tokens remembered; when full (after dropping expired ones) a refused token
/// is not remembered, and the limiter alone bounds what it costs Stripe.
pub const NEGATIVE_LIMIT: usize = 10_000;

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("Stripe refused the token (revoked, or not a Connect token)")]
    Refused,
    #[error("Stripe could not be asked about the token: {0}")]
    Unavailable(String),
    #[error("too many tokens are being checked with Stripe right now")]
    Busy,
}

struct Cached {
    account: String,
    checked: Instant,
}

/// Checks Connect access tokens with Stripe and remembers the answers for a while.
pub struct ConnectCheck {
    http: reqwest::Client,
    account_url: Url,
    trust_for: Duration,
    cache: Mutex<HashMap<[u8; 32], Cached>>,
    refused: Mutex<HashMap<[u8; 32], Instant>>,
    limiter: governor::DefaultDirectRateLimiter,
}

impl ConnectCheck {
    /// `rate`: checks per second sent to Stripe (per replica), and burst.
    pub fn new(stripe_api_base: &Url, trust_for: Duration, rate: (u32, u32)) -> ConnectCheck {
        let mut account_url = stripe_api_base.clone();
        let prefix = stripe_api_base.path().trim_end_matches('/').to_owned();
        account_url.set_path(&format!("{prefix}/v1/account"));
        let http = reqwest::Client::builder()
            .timeout(CHECK_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        ConnectCheck {
            http,
            account_url,
            trust_for,
            cache: Mutex::new(HashMap::new()),
            refused: Mutex::new(HashMap::new()),
            limiter: governor::RateLimiter::direct(crate::rate(rate.0, rate.1)),
        }
    }

    fn refused(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Instant>> {
        self.refused.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remember_refused(&self, key: [u8; 32]) {
        let mut refused = self.refused();
        if refused.len() >= NEGATIVE_LIMIT {
            let trust_for = self.trust_for;
            refused.retain(|_, at| at.elapsed() < trust_for);
        }
        if refused.len() < NEGATIVE_LIMIT {
            refused.insert(key, Instant::now());
        }
    }

    /// How long an answer is trusted.
    pub fn trust_for(&self) -> Duration {
        self.trust_for
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Cached>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The account `token` belongs to: from the cache while the last check is recent enough
    /// (unless `fresh`), else from Stripe, within the check rate. A token Stripe refused
    /// stays refused here for as long as an answer is trusted (Stripe does not revive one).
    pub async fn account_of(
        &self,
        token: &SecretString,
        fresh: bool,
    ) -> Result<String, CheckError> {
        let key = tokens::hash_secret(token);
        if let Some(at) = self.refused().get(&key)
            && at.elapsed() < self.trust_for
        {
            return Err(CheckError::Refused);
        }
        if !fresh
            && let Some(hit) = self.cache().get(&key)
            && hit.checked.elapsed() < self.trust_for
        {
            return Ok(hit.account.clone());
        }
        if self.limiter.check().is_err() {
            return Err(CheckError::Busy);
        }
        let answer = self
            .http
            .get(self.account_url.clone())
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .map_err(|e| CheckError::Unavailable(e.without_url().to_string()))?;
        let status = answer.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            self.cache().remove(&key);
            self.remember_refused(key);
            return Err(CheckError::Refused);
        }
        if !status.is_success() {
            return Err(CheckError::Unavailable(format!("Stripe answered {status}")));
        }
        let body: serde_json::Value = answer
            .json()
            .await
            .map_err(|e| CheckError::Unavailable(e.without_url().to_string()))?;
        let account = body["id"]
            .as_str()
            .filter(|id| id.starts_with("acct_"))
            .ok_or_else(|| CheckError::Unavailable("Stripe's answer named no account".to_owned()))?
            .to_owned();
        let mut cache = self.cache();
        if cache.len() >= CACHE_SOFT_LIMIT {
            let trust_for = self.trust_for;
            cache.retain(|_, c| c.checked.elapsed() < trust_for);
        }
        cache.insert(
            key,
            Cached {
                account: account.clone(),
                checked: Instant::now(),
            },
        );
        Ok(account)
    }

    /// Drop answers that are no longer trusted (the periodic sweep).
    pub fn forget_expired(&self) {
        let trust_for = self.trust_for;
        self.cache().retain(|_, c| c.checked.elapsed() < trust_for);
        self.refused().retain(|_, at| at.elapsed() < trust_for);
    }
}
