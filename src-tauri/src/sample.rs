//! "Explore with a sample store": a separate mirror fed by realistic, correctly signed events
//! posted through the real relay intake over loopback, with a local Stripe stand-in answering
//! refunds and account status.
//!
//! Invariants: the sample store lives in its own folder (`sample-store/` in the data dir) and
//! is rebuilt from scratch each time it opens, so it never mixes with the owner's store; its
//! signing secrets (one per mode, as a real store has: the relay accepts an event only in its
//! secret's mode) and API key are generated per session, held in memory only, and never
//! written to the keyring; events reach the mirror only through the relay's HTTP intake (the
//! same signature check, parse and group commit as Stripe's own deliveries).
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use fluxstore_gateway::profile::{ConnectionMethod, Setting};
use fluxstore_gateway::{ApiKey, Profile, ProfileConfig};
use fluxstore_mirror::Mode;
use fluxstore_relay::{SigningSecret, SigningSecrets, sign_header};
use secrecy::ExposeSecret;
use tokio::task::JoinSet;

use crate::error::{IpcError, IpcResult};
use crate::notify::Notify;
use crate::state::{MIRROR_FILE, SAMPLE_DIR};
use crate::store::{Store, StoreKind};

/// Seed of the sample data: the same store every time, dated relative to "now".
const SEED: u64 = 2026;
/// Deliveries in flight at once (the relay's group commit batches them).
const CONCURRENCY: usize = 8;
/// Hang guard per delivery; the relay answers loopback deliveries in milliseconds.
const POST_TIMEOUT: Duration = Duration::from_secs(20);

pub struct SampleStore {
    pub store: Arc<Store>,
    /// The sample store's profile: its mirror, no keyring, and (when the stand-in started)
    /// the stand-in's address and run-only test key as its credential.
    pub profile: Arc<Profile>,
    /// The local Stripe stand-in, kept running while the sample store is open.
    _stripe: Option<fluxstore_sample_stripe::SampleStripe>,
}

impl SampleStore {
    /// Build the sample store under `data_dir` and feed it through its relay.
    pub async fn open(data_dir: &Path, notify: Arc<dyn Notify>) -> IpcResult<SampleStore> {
        let dir = data_dir.join(SAMPLE_DIR);
        let fresh = dir.clone();
        let store = tokio::task::spawn_blocking(move || -> IpcResult<Store> {
            // Rebuilt each time: the sample data is dated relative to now.
            if fresh.exists() {
                std::fs::remove_dir_all(&fresh).map_err(|e| {
                    IpcError::internal("The old sample store could not be removed", &e)
                })?;
            }
            fluxstore_mirror::create_private_dir(&fresh).map_err(|e| {
                IpcError::internal("The sample store's folder could not be created", &e)
            })?;
            Ok(Store::open(StoreKind::Sample, &fresh.join(MIRROR_FILE))?)
        })
        .await
        .map_err(|e| IpcError::internal("The sample store could not be opened", &e))??;
        let store = Arc::new(store);

        // One secret per mode, as a real store has: each signs only its own mode's events.
        let mut secrets = Vec::with_capacity(2);
        for mode in [Mode::Test, Mode::Live] {
            let text = format!("whsec_sample{}", random_hex(24));
            secrets
                .push(SigningSecret::new(&text, mode).map_err(|e| {
                    IpcError::internal("The sample signing secret was refused", &e)
                })?);
        }
        let url = store
            .ensure_relay(SigningSecrets::new(secrets.clone()), Some(0), notify)
            .await?;

        let now = unix_now();
        let mut events = fluxstore_samples::sample_store(SEED, now);
        let mut config = ProfileConfig::new("sample");
        let stripe = match crate::sample_stripe::start(now, &events).await {
            Ok((stand_in, seeded)) => {
                events.extend(seeded);
                let key = ApiKey::parse(stand_in.secret_key().expose_secret())
                    .map_err(|e| IpcError::internal("The sample store's key was refused", &e))?;
                config.api_base = Some(stand_in.base_url());
                config.api_key = Some(key);
                Some(stand_in)
            }
            Err(why) => {
                tracing::warn!(%why, "the sample store opens without its Stripe stand-in");
                None
            }
        };
        post_all(&url, &secrets, events, now).await?;
        let account = stripe.as_ref().map(|s| s.account_id());
        let profile = Arc::new(Profile::open(config, None, store.writer())?);
        set_up_long_ago(&profile, account, now - crate::sample_stripe::SET_UP_AGO).await?;
        Ok(SampleStore {
            store,
            profile,
            _stripe: stripe,
        })
    }

    pub async fn shutdown(&self) {
        self.store.shutdown().await;
    }
}

/// Record the sample store as a store set up with keys in both modes at `since`, on the
/// stand-in's account, so every view (the checklist included) shows a store in business.
async fn set_up_long_ago(profile: &Profile, account: Option<String>, since: i64) -> IpcResult<()> {
    profile
        .write(move |m| {
            Setting::Method.set(m, Some(ConnectionMethod::Keys.as_str()))?;
            for mode in [Mode::Test, Mode::Live] {
                Setting::ConnectedSince(mode).set(m, Some(&since.to_string()))?;
                Setting::AccountId(mode).set(m, account.as_deref())?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}

/// POST every event, signed with the secret of its mode, to the relay at `url`, a few at a
/// time.
async fn post_all(
    url: &str,
    secrets: &[SigningSecret],
    events: Vec<serde_json::Value>,
    now: i64,
) -> IpcResult<()> {
    let http = reqwest::Client::builder()
        .timeout(POST_TIMEOUT)
        .build()
        .map_err(|e| IpcError::internal("The sample store's HTTP client could not start", &e))?;
    let mut pending = JoinSet::new();
    let mut posted = 0usize;
    for event in events {
        if pending.len() >= CONCURRENCY {
            check(pending.join_next().await)?;
        }
        let body = serde_json::to_vec(&event)
            .map_err(|e| IpcError::internal("A sample event could not be encoded", &e))?;
        let mode = Mode::from_livemode(event["livemode"].as_bool().unwrap_or(false));
        let secret = secrets.iter().find(|s| s.mode() == mode).ok_or_else(|| {
            IpcError::internal("No sample signing secret for a mode", &mode.as_str())
        })?;
        let header = sign_header(&body, secret, now);
        let request = http
            .post(url)
            .header("Stripe-Signature", header)
            .header("Content-Type", "application/json")
            .body(body);
        pending.spawn(async move {
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("the relay answered {status}"))
            }
        });
        posted += 1;
    }
    while let Some(done) = pending.join_next().await {
        check(Some(done))?;
    }
    tracing::info!(events = posted, "sample store fed through the relay");
    Ok(())
}

fn check(done: Option<Result<Result<(), String>, tokio::task::JoinError>>) -> IpcResult<()> {
    match done {
        None | Some(Ok(Ok(()))) => Ok(()),
        Some(Ok(Err(why))) => Err(IpcError::internal("A sample delivery was refused", &why)),
        Some(Err(e)) => Err(IpcError::internal(
            "A sample delivery stopped unexpectedly",
            &e,
        )),
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl crate::state::AppState {
    /// Open the sample store (built fresh) and make it the active store.
    pub async fn open_sample_store(&self) -> IpcResult<crate::dto::ConnectionStatus> {
        {
            let mut slot = self.sample.lock().await;
            if slot.is_none() {
                let sample = SampleStore::open(&self.data_dir, self.notify.clone()).await?;
                *slot = Some(Arc::new(sample));
            }
        }
        self.changed().await
    }

    /// Close the sample store and return to the owner's store.
    pub async fn close_sample_store(&self) -> IpcResult<crate::dto::ConnectionStatus> {
        let sample = self.sample.lock().await.take();
        if let Some(sample) = sample {
            sample.shutdown().await;
        }
        self.changed().await
    }
}
