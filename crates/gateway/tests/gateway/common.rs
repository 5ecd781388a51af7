//! Shared set-up for the gateway's integration tests: a real SQLite mirror in a temporary
//! directory and a client pointed at the local Stripe fake over a real socket.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxstore_gateway::{ApiKey, ClientConfig, Credential, StripeClient};
use fluxstore_mirror::{Mirror, Source};
use fluxstore_test_support::stripe_fake::{PaymentSpec, SeededPayment, StripeFake};
use fluxstore_test_support::{now, temp_mirror};
use serde_json::Value;

pub struct World {
    pub dir: tempfile::TempDir,
    pub mirror: Arc<Mutex<Mirror>>,
    pub fake: StripeFake,
}

impl World {
    pub async fn new() -> World {
        let (dir, mirror) = temp_mirror().shared();
        let fake = StripeFake::start(Default::default()).await.unwrap();
        World { dir, mirror, fake }
    }

    pub fn config(&self) -> ClientConfig {
        ClientConfig {
            api_base: url::Url::parse(&self.fake.base_url()).unwrap(),
            // Hang guards only; backoff kept tiny so retry tests stay quick.
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(5),
            max_retries: 2,
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(5),
            stripe_account: None,
        }
    }

    pub fn client(&self, key: &str) -> StripeClient {
        let key = ApiKey::parse(key).unwrap();
        StripeClient::new(self.config(), Credential::ApiKey(key), self.mirror.clone()).unwrap()
    }

    /// A paid order known to both the fake and the mirror (as if its webhooks arrived).
    pub fn paid_order(&self, amount: i64) -> SeededPayment {
        let p = self.fake.seed_payment(&PaymentSpec {
            amount,
            currency: "usd".into(),
            email: "buyer@example.com".into(),
            livemode: false,
            created: now() - 3600,
        });
        self.ingest(&p.events);
        p
    }

    pub fn ingest(&self, events: &[Value]) {
        let mut m = self.mirror.lock().unwrap();
        for e in events {
            m.ingest(e.to_string().as_bytes(), Source::Webhook).unwrap();
        }
    }

    pub fn requests_to(&self, path: &str) -> usize {
        self.fake
            .requests()
            .iter()
            .filter(|r| r.path == path)
            .count()
    }
}
