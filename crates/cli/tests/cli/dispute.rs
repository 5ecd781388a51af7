//! `fluxstore dispute draft|show|submit` as the owner runs them: the real binary, a real
//! mirror file, the Stripe fake on 127.0.0.1 for both the API and the Files API.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use fluxstore_mirror::{Mirror, Source};
use fluxstore_test_support::stripe_fake::{PaymentSpec, StripeFake, TEST_SECRET_KEY};
use fluxstore_test_support::{assert_no_secret, assert_no_secret_in, now};
use serde_json::{Value, json};

use crate::support::{Owner, bin, text};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

/// `fluxstore dispute` for this owner.
impl Owner {
    fn ingest(&self, events: &[Value]) {
        let mut m = Mirror::open(&self.db()).expect("mirror");
        for e in events {
            m.ingest(&serde_json::to_vec(e).expect("json"), Source::Webhook)
                .expect("ingest");
        }
    }

    /// `fluxstore dispute ARGS… --db DB` (plus the key file and the fake for `submit`), run
    /// off the async runtime that serves the fake.
    async fn dispute(&self, args: &[&str], online: bool) -> Output {
        let mut cmd = Command::new(bin());
        cmd.arg("dispute").args(args).arg("--db").arg(self.db());
        if online {
            cmd.arg("--key-file")
                .arg(&self.key_file)
                .args(["--api-base", &self.api_base]);
        }
        cmd.env_remove("FLUXSTORE_DB")
            .env_remove("FLUXSTORE_STRIPE_API_BASE")
            .stdin(Stdio::null());
        let out = tokio::task::spawn_blocking(move || cmd.output().expect("fluxstore runs"))
            .await
            .expect("join");
        assert_no_secret_in("the command's output", text(&out), &[TEST_SECRET_KEY]);
        out
    }
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(out)))
}

/// A paid order with a dispute at the fake and in the owner's mirror: (dispute, session).
fn disputed_order(fake: &StripeFake, owner: &Owner, email: &str, reason: &str) -> (String, String) {
    let p = fake.seed_payment(&PaymentSpec {
        amount: 2_500,
        currency: "eur".into(),
        email: email.into(),
        livemode: false,
        created: now() - 3_600,
    });
    let dispute = fake.seed_dispute(&p.charge_id, reason).expect("dispute");
    let mut events = p.events.clone();
    events.push(dispute.clone());
    owner.ingest(&events);
    (
        dispute["data"]["object"]["id"]
            .as_str()
            .expect("id")
            .to_owned(),
        p.session_id,
    )
}

fn posts(
    fake: &StripeFake,
    path: &str,
) -> Vec<fluxstore_test_support::stripe_fake::RecordedRequest> {
    fake.requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .collect()
}

fn param<'a>(
    r: &'a fluxstore_test_support::stripe_fake::RecordedRequest,
    key: &str,
) -> Option<&'a str> {
    r.params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path.to_str().expect("utf8").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draft_show_stage_and_submit_through_the_command_line() {
    let fake = StripeFake::start(Default::default()).await.expect("fake");
    let owner = Owner::new(&fake);
    let (id, session) = disputed_order(&fake, &owner, "sam@example.com", "product_not_received");
    let files = tempfile::tempdir().expect("dir");
    let receipt = write(files.path(), "receipt.pdf", PDF);
    let path = format!("/v1/disputes/{id}");

    // Drafted offline: nothing reaches Stripe.
    let out = owner
        .dispute(
            &[
                "draft",
                &id,
                "--set",
                "product_description=VIP rank (30 days), delivered in-game to BlazeRunner",
                "--set",
                "customer_purchase_ip=",
                "--file",
                &format!("receipt={receipt}"),
            ],
            false,
        )
        .await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("nothing was sent"), "{}", text(&out));
    assert!(fake.requests().iter().all(|r| r.method != "POST"));

    // Bad input is refused in words, and the draft stays as it was.
    let notes = write(files.path(), "notes.txt", b"just some words");
    for (args, words) in [
        (
            vec!["--set", "favourite_colour=blue"],
            "is not an evidence field this app sends",
        ),
        (
            vec!["--file", &*format!("receipt={notes}")],
            "is not a PDF, JPEG or PNG file",
        ),
        (vec!["--set", "receipt=a text"], "takes a file, not text"),
        (vec!["--set", "no equals sign"], "takes FIELD=VALUE"),
    ] {
        let mut all = vec!["draft", id.as_str()];
        all.extend(args.iter().copied());
        let out = owner.dispute(&all, false).await;
        assert!(!out.status.success(), "{all:?}: {}", text(&out));
        assert!(text(&out).contains(words), "{all:?}: {}", text(&out));
    }

    // show: the typed value, the pre-filled ones from the order (marked), the file.
    let out = owner.dispute(&["show", &id, "--json"], false).await;
    assert!(out.status.success(), "{}", text(&out));
    let shown = json_of(&out);
    let value = |field: &str| {
        shown["values"]
            .as_array()
            .expect("values")
            .iter()
            .find(|v| v["field"] == field)
            .cloned()
            .unwrap_or_else(|| panic!("{field} in {shown}"))
    };
    assert_eq!(value("product_description")["prefilled"], json!(false));
    assert_eq!(
        value("customer_email_address"),
        json!({"field": "customer_email_address", "value": "sam@example.com", "prefilled": true, "source": "the order's buyer"})
    );
    assert!(
        value("access_activity_log")["value"]
            .as_str()
            .expect("text")
            .contains(&session),
        "{shown}"
    );
    // Cleared on purpose: empty, not pre-filled, and not sent.
    assert_eq!(value("customer_purchase_ip")["value"], json!(""));
    assert_eq!(shown["files"][0]["field"], json!("receipt"));
    assert_eq!(shown["files"][0]["mime"], json!("application/pdf"));
    assert_eq!(shown["accepts_evidence"], json!(true));
    let human = owner.dispute(&["show", &id], false).await;
    assert!(human.status.success(), "{}", text(&human));
    assert!(text(&human).contains("pre-filled"), "{}", text(&human));

    // Stage only: the file goes to the Files API once, then the evidence with submit=false.
    let out = owner
        .dispute(&["submit", &id, "--stage-only", "--json"], true)
        .await;
    assert!(out.status.success(), "{}", text(&out));
    let uploads = posts(&fake, "/v1/files");
    assert_eq!(uploads.len(), 1);
    assert_eq!(param(&uploads[0], "purpose"), Some("dispute_evidence"));
    let staged = posts(&fake, &path);
    assert_eq!(staged.len(), 1);
    assert_eq!(param(&staged[0], "submit"), Some("false"));
    assert_eq!(
        param(&staged[0], "evidence[product_description]"),
        Some("VIP rank (30 days), delivered in-game to BlazeRunner")
    );
    assert_eq!(
        param(&staged[0], "evidence[customer_email_address]"),
        Some("sam@example.com")
    );
    assert!(param(&staged[0], "evidence[customer_purchase_ip]").is_none());
    let file_id = param(&staged[0], "evidence[receipt]").expect("the receipt's file id");
    assert!(file_id.starts_with("file_"), "{file_id}");
    assert!(staged[0].idempotency_key.is_some());
    let at_stripe = fake.object(&id).expect("dispute");
    assert_eq!(at_stripe["status"], json!("needs_response"));
    assert_eq!(at_stripe["evidence_details"]["has_evidence"], json!(true));

    // Submit: the uploaded file is not sent again; Stripe's answer reaches the mirror.
    let out = owner.dispute(&["submit", &id, "--json"], true).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(posts(&fake, "/v1/files").len(), 1);
    let sent = posts(&fake, &path);
    assert_eq!(sent.len(), 2);
    assert_eq!(param(&sent[1], "submit"), Some("true"));
    assert_eq!(param(&sent[1], "evidence[receipt]"), Some(file_id));
    let shown = json_of(&owner.dispute(&["show", &id, "--json"], false).await);
    assert_eq!(shown["dispute"]["status"], json!("under_review"));
    assert_eq!(shown["submission_count"], json!(1));
    assert_eq!(shown["accepts_evidence"], json!(false));

    // Again: refused before any request, in words.
    let out = owner.dispute(&["submit", &id], true).await;
    assert!(!out.status.success());
    assert!(text(&out).contains("already submitted"), "{}", text(&out));
    assert_eq!(posts(&fake, &path).len(), 2);

    assert_no_secret(owner.data.path(), &[TEST_SECRET_KEY]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_after_the_due_date_sends_nothing() {
    let fake = StripeFake::start(Default::default()).await.expect("fake");
    let owner = Owner::new(&fake);
    let (id, _) = disputed_order(&fake, &owner, "late@example.com", "fraudulent");
    let late = fake
        .update_dispute(&id, |d| d["evidence_details"]["due_by"] = json!(now() - 60))
        .expect("updated");
    owner.ingest(&[late]);
    let out = owner
        .dispute(&["draft", &id, "--set", "uncategorized_text=late"], false)
        .await;
    assert!(out.status.success(), "{}", text(&out));
    let before = fake.requests().len();
    let out = owner.dispute(&["submit", &id], true).await;
    assert!(!out.status.success());
    assert!(text(&out).contains("deadline passed"), "{}", text(&out));
    assert_eq!(fake.requests().len(), before, "no request at all");
}
