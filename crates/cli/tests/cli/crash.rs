//! The crash campaign: real `fluxstore` processes killed with SIGKILL at random moments.
//!
//! - Relay: each round streams signed deliveries at concurrency 32 (and forged ones: signed
//!   with another secret, or altered after signing) to `fluxstore serve`, kills it at a random
//!   moment, restarts it on the same database, and checks that every delivery that got a 2xx
//!   is stored exactly once and no forged one is stored; then Stripe's retries of what was
//!   not acknowledged are all taken.
//! - Events sync: `fluxstore sync` against the Stripe fake, killed mid-sync; a second run
//!   finishes and the mirror holds every event of the fake exactly once.
//! - Refund: `fluxstore refund` killed at a random moment; on restart the owner retries only
//!   if the mirror does not show the refund; in the end the fake's refunded amount and the
//!   mirror's are the one refund asked for (neither lost nor doubled).
//!
//! The normal test run does 2 rounds of each; `scripts/crash-campaign --rounds N` sets
//! `FLUXSTORE_CRASH_ROUNDS` (and `FLUXSTORE_CRASH_SEED` replays a run's random moments).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fluxstore_mirror::Mirror;
use fluxstore_relay::{SigningSecret, sign_header};
use fluxstore_test_support::stripe_fake::{PaymentSpec, StripeFake};
use fluxstore_test_support::{eventually, now};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::support::{Owner, SECRET, Server, WRONG_SECRET, bin, secret_file};

const CONCURRENCY: usize = 32;
/// Deliveries per round at most (the kill normally lands long before).
const MAX_PER_ROUND: usize = 20_000;
/// One delivery in this many is forged.
const FORGED_EVERY: usize = 8;

/// The serve arguments after `--db` and `--listen`: the one place the campaign says how the
/// relay gets its signing secret (a file with one `test whsec_…` line).
fn serve_args(secret_file: &Path) -> Vec<String> {
    vec![
        "--secret-file".to_owned(),
        secret_file.to_str().expect("utf8 path").to_owned(),
    ]
}

fn rounds() -> usize {
    std::env::var("FLUXSTORE_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
}

/// A small deterministic generator, seeded once per run (printed, so a run can be replayed).
struct Random(u64);

impl Random {
    fn new(salt: u64) -> Random {
        let seed = std::env::var("FLUXSTORE_CRASH_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        println!("crash campaign seed: {seed} (FLUXSTORE_CRASH_SEED={seed} replays it)");
        Random(seed ^ salt)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..hi` milliseconds.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo).max(1))
    }
}

/// Delivery `n` of the campaign: a realistic signed-able body, unique per `n`.
fn body(n: usize) -> Vec<u8> {
    let kinds = [
        "checkout.session.completed",
        "payment_intent.succeeded",
        "charge.succeeded",
        "customer.subscription.updated",
        "charge.refunded",
    ];
    let mut v =
        fluxstore_samples::test_event(kinds[n % kinds.len()], false, 1_790_000_000 - n as i64)
            .expect("sample");
    fluxstore_samples::pad_to(&mut v, 3_000);
    serde_json::to_vec(&v).expect("json")
}

/// A forged delivery `n`: its id is marked, and it is either signed with a secret the relay
/// does not have or signed correctly and then altered.
fn forged(n: usize, secret: &SigningSecret, wrong: &SigningSecret) -> (Vec<u8>, String) {
    let mut v: Value = serde_json::from_slice(&body(n)).expect("json");
    v["id"] = Value::from(format!("evt_forged_{n:08}"));
    let raw = serde_json::to_vec(&v).expect("json");
    if n.is_multiple_of(2) {
        let header = sign_header(&raw, wrong, now());
        (raw, header)
    } else {
        let header = sign_header(&raw, secret, now());
        let mut altered = raw;
        // One digit of the body changed after signing.
        let at = altered
            .iter()
            .rposition(|b| b.is_ascii_digit())
            .expect("a digit");
        altered[at] = if altered[at] == b'9' { b'1' } else { b'9' };
        (altered, header)
    }
}

fn id_of(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).expect("json");
    v["id"].as_str().expect("id").to_string()
}

fn stored_ids(db: &Path) -> Vec<String> {
    Mirror::open_read_only(db)
        .expect("mirror")
        .events(None, u32::MAX)
        .expect("events")
        .into_iter()
        .map(|e| e.id)
        .collect()
}

#[derive(Default, Debug)]
struct Totals {
    rounds: usize,
    sent: usize,
    acknowledged: usize,
    forged: usize,
    losses: usize,
    duplicates: usize,
    forged_stored: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_no_acknowledged_event_and_stores_nothing_forged() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mirror.sqlite3");
    let secrets = secret_file(dir.path(), "whsec.txt", SECRET);
    let args = serve_args(&secrets);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let secret = SigningSecret::new(SECRET, fluxstore_relay::Mode::Test).expect("secret");
    let wrong = SigningSecret::new(WRONG_SECRET, fluxstore_relay::Mode::Test).expect("secret");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .expect("client");
    let mut random = Random::new(0x5e1a);
    let mut totals = Totals::default();
    let started = Instant::now();

    for round in 0..rounds() {
        let first = round * MAX_PER_ROUND;
        let server = Server::start(&db, &args, None, &[]);
        let url = server.url.clone();
        let next = Arc::new(AtomicUsize::new(first));
        let acked = Arc::new(Mutex::new(Vec::<String>::new()));
        let forged_sent = Arc::new(Mutex::new(Vec::<String>::new()));
        let ack_count = Arc::new(AtomicUsize::new(0));
        let down = Arc::new(AtomicBool::new(false));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..CONCURRENCY {
            let (client, url, secret, wrong) =
                (client.clone(), url.clone(), secret.clone(), wrong.clone());
            let (next, acked, forged_sent, ack_count, down) = (
                next.clone(),
                acked.clone(),
                forged_sent.clone(),
                ack_count.clone(),
                down.clone(),
            );
            tasks.spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= first + MAX_PER_ROUND || down.load(Ordering::SeqCst) {
                        return;
                    }
                    let is_forged = n % FORGED_EVERY == FORGED_EVERY - 1;
                    let (body, header) = if is_forged {
                        forged(n, &secret, &wrong)
                    } else {
                        let body = body(n);
                        let header = sign_header(&body, &secret, now());
                        (body, header)
                    };
                    let id = id_of(&body);
                    if is_forged {
                        forged_sent.lock().await.push(id.clone());
                    }
                    let sent = client
                        .post(&url)
                        .header("Stripe-Signature", header)
                        .body(body)
                        .send()
                        .await;
                    match sent {
                        Ok(resp) if resp.status().is_success() => {
                            assert!(!is_forged, "forged delivery {id} was acknowledged");
                            acked.lock().await.push(id);
                            ack_count.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(resp) if is_forged => {
                            assert_eq!(resp.status().as_u16(), 400, "forged {id}");
                        }
                        Ok(resp) => panic!("unexpected status {} before the kill", resp.status()),
                        // The relay is gone: this delivery was not acknowledged.
                        Err(_) => {
                            down.store(true, Ordering::SeqCst);
                            return;
                        }
                    }
                }
            });
        }
        // The first acknowledgements, then SIGKILL at a random moment of the stream.
        eventually(
            "the relay to acknowledge a first delivery",
            Duration::from_secs(60),
            || ack_count.load(Ordering::SeqCst) >= 1,
        )
        .await;
        tokio::time::sleep(random.millis(0, 1_500)).await;
        let _ = tokio::task::spawn_blocking(move || server.kill_hard())
            .await
            .expect("kill");
        down.store(true, Ordering::SeqCst);
        while let Some(done) = tasks.join_next().await {
            done.expect("client task");
        }
        let acked = acked.lock().await.clone();
        let forged_sent = forged_sent.lock().await.clone();
        let attempted = next.load(Ordering::SeqCst).min(first + MAX_PER_ROUND);

        // Restart on the same file: every acknowledged event is there exactly once, nothing
        // forged is.
        let server = Server::start(&db, &args, None, &[]);
        let stored = stored_ids(&db);
        let mut count: HashMap<&str, usize> = HashMap::new();
        for id in &stored {
            *count.entry(id.as_str()).or_default() += 1;
        }
        let losses = acked
            .iter()
            .filter(|id| !count.contains_key(id.as_str()))
            .count();
        let duplicates = count.values().filter(|c| **c > 1).count();
        let forged_stored = stored
            .iter()
            .filter(|id| id.starts_with("evt_forged_"))
            .count();
        totals.rounds += 1;
        totals.sent += attempted - first;
        totals.acknowledged += acked.len();
        totals.forged += forged_sent.len();
        totals.losses += losses;
        totals.duplicates += duplicates;
        totals.forged_stored += forged_stored;
        assert_eq!(losses, 0, "round {round}: acknowledged events missing");
        assert_eq!(duplicates, 0, "round {round}: events stored twice");
        assert_eq!(forged_stored, 0, "round {round}: forged events stored");

        // Stripe retries what was not acknowledged: the restarted relay takes all of it and
        // answers the acknowledged ones as duplicates.
        let acked: HashSet<String> = acked.into_iter().collect();
        for n in (first..attempted).filter(|n| n % FORGED_EVERY != FORGED_EVERY - 1) {
            let body = body(n);
            let id = id_of(&body);
            let header = sign_header(&body, &secret, now());
            let resp = client
                .post(&server.url)
                .header("Stripe-Signature", header)
                .body(body)
                .send()
                .await
                .expect("restarted relay answers");
            assert!(resp.status().is_success(), "retry of {id}");
            let v: Value = resp.json().await.expect("json");
            if acked.contains(&id) {
                assert_eq!(v["duplicate"], true, "{id} was stored before");
            }
        }
        let _ = tokio::task::spawn_blocking(move || server.kill_hard())
            .await
            .expect("kill");
    }
    let stored = stored_ids(&db);
    assert_eq!(
        stored.iter().collect::<HashSet<_>>().len(),
        stored.len(),
        "every event once"
    );
    println!(
        "crash campaign (relay): rounds {} | deliveries sent {} | acknowledged {} | forged sent {} | losses {} | duplicates {} | forged stored {} | {:.1} s",
        totals.rounds,
        totals.sent,
        totals.acknowledged,
        totals.forged,
        totals.losses,
        totals.duplicates,
        totals.forged_stored,
        started.elapsed().as_secs_f64()
    );
}

/// One-shot commands (sync, refund) against the Stripe fake with the key in a file.
impl Owner {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .arg("--db")
            .arg(self.db())
            .arg("--key-file")
            .arg(&self.key_file)
            .args(["--api-base", &self.api_base, "--json"])
            .env_remove("FLUXSTORE_DB")
            .env_remove("FLUXSTORE_STRIPE_API_BASE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Run to the end (off the async runtime, which serves the fake).
    async fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(args);
        tokio::task::spawn_blocking(move || cmd.output().expect("fluxstore runs"))
            .await
            .expect("join")
    }

    /// Start, then SIGKILL after `delay`; returns whether it was still running (the kill
    /// interrupted it) and its output.
    async fn run_and_kill(&self, args: &[&str], delay: Duration) -> (bool, Output) {
        let mut child: Child = self.command(args).spawn().expect("fluxstore starts");
        tokio::time::sleep(delay).await;
        let interrupted = matches!(child.try_wait(), Ok(None));
        let _ = child.kill();
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().expect("reaped"))
            .await
            .expect("join");
        (interrupted, out)
    }

    fn mirror(&self) -> Mirror {
        Mirror::open_read_only(&self.db()).expect("mirror")
    }
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn seed(fake: &StripeFake, payments: usize) -> Vec<String> {
    let created = now() - 3_600;
    (0..payments)
        .flat_map(|i| {
            fake.seed_payment(&PaymentSpec {
                amount: 1_000 + i as i64,
                currency: "eur".into(),
                email: format!("buyer{i}@example.com"),
                livemode: false,
                created: created + i as i64,
            })
            .events
            .into_iter()
            .map(|e| e["id"].as_str().expect("id").to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_an_events_sync_then_the_next_sync_completes_it() {
    let mut random = Random::new(0x5a7c);
    let (mut interrupted_runs, mut events_total) = (0, 0);
    for round in 0..rounds() {
        let fake = StripeFake::start(Default::default()).await.expect("fake");
        let expected: HashSet<String> = seed(&fake, 400).into_iter().collect();
        let owner = Owner::new(&fake);
        // The sync's first page lands within a few hundred ms here; kill anywhere up to well
        // past its end.
        let (interrupted, _) = owner
            .run_and_kill(&["sync"], random.millis(50, 2_500))
            .await;
        interrupted_runs += usize::from(interrupted);
        let before = if owner.db().exists() {
            stored_ids(&owner.db()).len()
        } else {
            0
        };
        let out = owner.run(&["sync"]).await;
        assert!(out.status.success(), "round {round}: {out:?}");
        let report = json_of(&out);
        assert_eq!(report["complete"], true, "{report}");
        let stored = stored_ids(&owner.db());
        assert_eq!(
            stored.iter().collect::<HashSet<_>>().len(),
            stored.len(),
            "once"
        );
        let stored: HashSet<String> = stored.into_iter().collect();
        assert_eq!(
            stored, expected,
            "round {round}: the mirror holds the fake's events"
        );
        // What the first run stored stays; the second adds exactly the rest.
        assert_eq!(
            report["progress"]["applied"].as_u64(),
            Some((expected.len() - before) as u64),
            "{report}"
        );
        events_total += expected.len();
    }
    println!(
        "crash campaign (sync): rounds {} | interrupted mid-sync {} | events {} | losses 0 | duplicates 0",
        rounds(),
        interrupted_runs,
        events_total
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_refund_neither_loses_nor_doubles_it() {
    let mut random = Random::new(0x4ef0);
    let (mut interrupted_runs, mut retried, mut landed_unrecorded) = (0, 0, 0);
    let mut spans = Vec::new();
    for round in 0..rounds() {
        let fake = StripeFake::start(Default::default()).await.expect("fake");
        let (timed, _) = seed_order(&fake);
        let (pi, charge) = seed_order(&fake);
        let owner = Owner::new(&fake);
        assert!(owner.run(&["sync"]).await.status.success());
        // How long one refund command takes right now (the machine's load varies), to aim
        // the kill inside the next one.
        let t = Instant::now();
        let out = owner.run(&refund_args(&timed)).await;
        assert!(out.status.success(), "{out:?}");
        let span = t.elapsed();
        spans.push(span.as_millis());
        let delay = random.millis(0, (span.as_millis() as u64 * 6 / 5).max(10));
        let (interrupted, _) = owner.run_and_kill(&refund_args(&pi), delay).await;
        interrupted_runs += usize::from(interrupted);

        // The owner looks at the order; if it does not show the refund, they refund again.
        let shown = owner
            .mirror()
            .order_for_payment(&pi)
            .expect("query")
            .expect("order")
            .amount_refunded;
        let at_stripe = |fake: &StripeFake| {
            fake.object(&charge).expect("charge")["amount_refunded"]
                .as_i64()
                .expect("amount")
        };
        if shown == 0 {
            retried += 1;
            landed_unrecorded += usize::from(at_stripe(&fake) == REFUND);
            let out = owner.run(&refund_args(&pi)).await;
            assert!(out.status.success(), "round {round}: retry {out:?}");
        }
        // The next sync brings Stripe's own events of whatever happened.
        assert!(owner.run(&["sync"]).await.status.success());
        let in_mirror = owner
            .mirror()
            .order_for_payment(&pi)
            .expect("query")
            .expect("order")
            .amount_refunded;
        assert_eq!(
            at_stripe(&fake),
            REFUND,
            "round {round}: one refund at Stripe"
        );
        assert_eq!(in_mirror, REFUND, "round {round}: the mirror shows it");
    }
    spans.sort_unstable();
    println!(
        "crash campaign (refund): rounds {} | killed mid-command {} | retried by the owner {} (of which made at Stripe but not yet shown: {}) | lost 0 | doubled 0 | median refund command {} ms",
        rounds(),
        interrupted_runs,
        retried,
        landed_unrecorded,
        spans.get(spans.len() / 2).copied().unwrap_or(0)
    );
}

/// Part of the order: a doubled refund would show as twice this.
const REFUND: i64 = 1_000;

fn refund_args(pi: &str) -> Vec<&str> {
    vec![
        "refund",
        pi,
        "--amount",
        "1000",
        "--reason",
        "requested_by_customer",
    ]
}

/// A paid order of 25.00: its PaymentIntent and charge.
fn seed_order(fake: &StripeFake) -> (String, String) {
    let p = fake.seed_payment(&PaymentSpec {
        amount: 2_500,
        currency: "eur".into(),
        email: "buyer@example.com".into(),
        livemode: false,
        created: now() - 600,
    });
    (p.payment_intent_id, p.charge_id)
}
