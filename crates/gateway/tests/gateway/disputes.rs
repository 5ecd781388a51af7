//! Dispute evidence over the Stripe fake: a draft typed offline survives a restart and is
//! sent once; a late submission is refused before any request; pre-filled values carry the
//! order's data; Stripe's refusals reach the owner in words.

use std::sync::{Arc, Mutex};

use fluxstore_gateway::dispute::{copy_evidence_file, save_draft};
use fluxstore_mirror::{DraftChange, Mirror, Mode, Source};
use fluxstore_test_support::stripe_fake::TEST_SECRET_KEY;
use fluxstore_test_support::{assert_no_secret, now};
use serde_json::json;

use crate::common::World;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

/// A paid order with a fraud dispute, both in the fake and in the mirror; returns the
/// dispute id.
fn disputed_order(w: &World) -> (String, String) {
    let p = w.paid_order(2500);
    let ev = w.fake.seed_dispute(&p.charge_id, "fraudulent").unwrap();
    w.ingest(std::slice::from_ref(&ev));
    (
        ev["data"]["object"]["id"].as_str().unwrap().to_owned(),
        p.session_id,
    )
}

fn dispute_posts(w: &World, id: &str) -> Vec<fluxstore_test_support::stripe_fake::RecordedRequest> {
    w.fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == format!("/v1/disputes/{id}"))
        .collect()
}

#[tokio::test]
async fn a_draft_typed_offline_survives_a_restart_and_is_submitted_once() {
    let w = World::new().await;
    let (id, session) = disputed_order(&w);
    let db = w.dir.path().join(fluxstore_test_support::MIRROR_FILE);
    let original = w.dir.path().join("receipt.pdf");
    std::fs::write(&original, PDF).unwrap();
    {
        let mut m = w.mirror.lock().unwrap();
        let file = copy_evidence_file(w.dir.path(), &id, "receipt", &original).unwrap();
        save_draft(
            &mut m,
            &id,
            &[
                DraftChange::Text {
                    field: "product_description".into(),
                    value: "VIP rank, delivered in-game".into(),
                },
                DraftChange::File(file),
            ],
        )
        .unwrap();
    }
    // Restart: the draft is read back from the file by a new connection.
    let path = {
        let m = w.mirror.lock().unwrap();
        let bench = m
            .dispute_workbench(Mode::Test, &id, now())
            .unwrap()
            .unwrap();
        assert_eq!(bench.files.len(), 1);
        bench.files[0].stored_path.clone()
    };
    assert!(std::path::Path::new(&path).starts_with(w.dir.path().join("evidence")));
    std::fs::remove_file(&original).unwrap();
    let reopened = Mirror::open(&db).unwrap();
    let draft = reopened
        .dispute_draft(&id)
        .unwrap()
        .expect("the draft survived");
    assert_eq!(
        draft.fields["product_description"],
        "VIP rank, delivered in-game"
    );
    assert!(
        w.fake.requests().is_empty(),
        "nothing was sent while drafting"
    );

    // Online: two rapid submits.
    let c = w.client(TEST_SECRET_KEY);
    let mirror = Arc::new(Mutex::new(reopened));
    let c2 = fluxstore_gateway::StripeClient::new(
        w.config(),
        fluxstore_gateway::Credential::ApiKey(
            fluxstore_gateway::ApiKey::parse(TEST_SECRET_KEY).unwrap(),
        ),
        mirror,
    )
    .unwrap();
    let (a, b) = tokio::join!(
        c.submit_dispute_evidence(&id, true),
        c2.submit_dispute_evidence(&id, true)
    );
    let ok = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert!(ok >= 1, "{a:?} {b:?}");
    let posts = dispute_posts(&w, &id);
    let keys: std::collections::BTreeSet<_> =
        posts.iter().map(|r| r.idempotency_key.clone()).collect();
    assert_eq!(keys.len(), 1, "one idempotency key: {posts:#?}");
    assert_eq!(w.requests_to("/v1/files"), 1, "the file uploaded once");
    let d = w.fake.object(&id).unwrap();
    assert_eq!(d["status"], "under_review");
    assert_eq!(
        d["evidence_details"]["submission_count"], 1,
        "Stripe acted once"
    );
    assert_eq!(
        d["evidence"]["product_description"],
        "VIP rank, delivered in-game"
    );
    assert!(
        d["evidence"]["receipt"]
            .as_str()
            .unwrap()
            .starts_with("file_")
    );
    assert_eq!(
        d["evidence"]["customer_email_address"], "buyer@example.com",
        "pre-filled"
    );
    let p = &posts[0].params;
    assert!(p.contains(&("submit".into(), "true".into())));

    // The mirror follows Stripe's answer; a third submit is refused before any request.
    let before = w.fake.requests().len();
    let e = c.submit_dispute_evidence(&id, true).await.unwrap_err();
    assert!(e.to_string().contains("already submitted"), "{e}");
    assert_eq!(
        w.fake.requests().len(),
        before,
        "refused before any request"
    );
    let bench = w
        .mirror
        .lock()
        .unwrap()
        .dispute_workbench(Mode::Test, &id, now())
        .unwrap()
        .unwrap();
    assert_eq!(bench.dispute.status, "under_review");
    assert_eq!(bench.submission_count, Some(1));
    assert_eq!(bench.has_evidence, Some(true));
    assert!(!bench.accepts_evidence);
    let _ = session;
    let calls = w.mirror.lock().unwrap().api_calls(20).unwrap();
    assert!(
        calls.iter().any(|c| c.path == "/v1/files"),
        "the upload is audited"
    );
    assert_no_secret(w.dir.path(), &[TEST_SECRET_KEY]);
}

#[tokio::test]
async fn a_submission_after_the_due_date_is_refused_before_any_request() {
    let w = World::new().await;
    let (id, _) = disputed_order(&w);
    let ev = w
        .fake
        .update_dispute(&id, |d| d["evidence_details"]["due_by"] = json!(now() - 60))
        .unwrap();
    w.ingest(std::slice::from_ref(&ev));
    save_draft(
        &mut w.mirror.lock().unwrap(),
        &id,
        &[DraftChange::Text {
            field: "uncategorized_text".into(),
            value: "late".into(),
        }],
    )
    .unwrap();
    let e = w
        .client(TEST_SECRET_KEY)
        .submit_dispute_evidence(&id, true)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("deadline passed"), "{e}");
    assert!(w.fake.requests().is_empty(), "the fake records no call");
}

#[tokio::test]
async fn prefilled_fields_carry_the_orders_data_and_are_marked() {
    let w = World::new().await;
    let (id, session) = disputed_order(&w);
    w.mirror
        .lock()
        .unwrap()
        .set_setting(
            fluxstore_mirror::evidence::DisputeText::RefundPolicy.setting_key(),
            Some("No refunds once a rank is delivered."),
        )
        .unwrap();
    let m = w.mirror.lock().unwrap();
    let b = m
        .dispute_workbench(Mode::Test, &id, now())
        .unwrap()
        .unwrap();
    let v = |f: &str| b.values.iter().find(|v| v.field == f).unwrap().clone();
    assert_eq!(v("customer_name").value, "Sam Buyer");
    assert!(v("customer_name").prefilled);
    assert_eq!(v("customer_email_address").value, "buyer@example.com");
    assert!(
        v("access_activity_log").value.contains(&session),
        "{:?}",
        v("access_activity_log")
    );
    assert_eq!(
        v("refund_policy_disclosure").value,
        "No refunds once a rank is delivered."
    );
    assert!(
        v("product_description").value.contains("25.00 USD"),
        "{:?}",
        v("product_description")
    );
    assert_eq!(b.guidance.code, "fraudulent");
    assert!(b.accepts_evidence);
    drop(m);
    // The owner's edit replaces the pre-filled value and is no longer marked.
    save_draft(
        &mut w.mirror.lock().unwrap(),
        &id,
        &[DraftChange::Text {
            field: "customer_name".into(),
            value: "Samuel Buyer".into(),
        }],
    )
    .unwrap();
    let b = w
        .mirror
        .lock()
        .unwrap()
        .dispute_workbench(Mode::Test, &id, now())
        .unwrap()
        .unwrap();
    let name = b
        .values
        .iter()
        .find(|v| v.field == "customer_name")
        .unwrap();
    assert_eq!(
        (name.value.as_str(), name.prefilled),
        ("Samuel Buyer", false)
    );
}

#[tokio::test]
async fn stripes_refusals_reach_the_owner_in_words() {
    let w = World::new().await;
    let (id, _) = disputed_order(&w);
    // An unknown field never reaches Stripe: the draft refuses it.
    let e = save_draft(
        &mut w.mirror.lock().unwrap(),
        &id,
        &[DraftChange::Text {
            field: "favourite_colour".into(),
            value: "blue".into(),
        }],
    )
    .unwrap_err();
    assert!(e.to_string().contains("is not an evidence field"), "{e}");
    // A file over 5 MB or of another type is refused when attached.
    let big = w.dir.path().join("big.pdf");
    let mut bytes = PDF.to_vec();
    bytes.resize(5 * 1024 * 1024 + 1, b' ');
    std::fs::write(&big, &bytes).unwrap();
    let e = copy_evidence_file(w.dir.path(), &id, "receipt", &big).unwrap_err();
    assert!(e.to_string().contains("at most 5.0 MB"), "{e}");
    let exe = w.dir.path().join("receipt.pdf.exe");
    std::fs::write(&exe, b"MZ\x90\0").unwrap();
    let e = copy_evidence_file(w.dir.path(), &id, "receipt", &exe).unwrap_err();
    assert!(e.to_string().contains("not a PDF, JPEG or PNG"), "{e}");

    // Stripe itself closes the dispute meanwhile (the mirror has not heard): Stripe's refusal
    // is said in words and the draft is kept.
    save_draft(
        &mut w.mirror.lock().unwrap(),
        &id,
        &[DraftChange::Text {
            field: "uncategorized_text".into(),
            value: "see attached".into(),
        }],
    )
    .unwrap();
    w.fake.update_dispute(&id, |d| d["status"] = json!("lost"));
    let e = w
        .client(TEST_SECRET_KEY)
        .submit_dispute_evidence(&id, false)
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("Stripe did not take the evidence"), "{text}");
    assert!(text.contains("no longer be updated"), "{text}");
    assert!(
        w.mirror
            .lock()
            .unwrap()
            .dispute_draft(&id)
            .unwrap()
            .is_some()
    );
    let _ = Source::Api;
}

/// The fake's wire format for the Files API and dispute updates, as Stripe's API spec has it:
/// `submit` defaults to true, each evidence field has its `maxLength`, a file field names an
/// uploaded file (400 `resource_missing` otherwise), unknown fields and bad files are
/// `invalid_request_error`s naming their `param`.
#[tokio::test]
async fn the_fakes_files_and_dispute_updates_follow_stripes_spec() {
    let w = World::new().await;
    let (id, _) = disputed_order(&w);
    let http = reqwest::Client::new();
    let base = w.fake.base_url();
    let upload = |bytes: Vec<u8>, name: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("purpose", "dispute_evidence")
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            );
        http.post(format!("{base}/v1/files"))
            .bearer_auth(TEST_SECRET_KEY)
            .multipart(form)
            .send()
    };
    let error = |v: &serde_json::Value| {
        (
            v["error"]["type"].as_str().unwrap_or("").to_owned(),
            v["error"]["param"].as_str().unwrap_or("").to_owned(),
            v["error"]["message"].as_str().unwrap_or("").to_owned(),
        )
    };

    // A file: Stripe's file object.
    let r = upload(PDF.to_vec(), "receipt.pdf").await.unwrap();
    assert_eq!(r.status(), 200);
    let file: serde_json::Value = r.json().await.unwrap();
    for key in [
        "id",
        "object",
        "created",
        "expires_at",
        "filename",
        "links",
        "purpose",
        "size",
        "title",
        "type",
        "url",
    ] {
        assert!(file.get(key).is_some(), "{key} in {file}");
    }
    assert_eq!(file["object"], json!("file"));
    assert_eq!(file["type"], json!("pdf"));
    assert_eq!(file["size"], json!(PDF.len()));
    // Too large, or not a PDF/JPEG/PNG: refused, naming `file`.
    let mut big = PDF.to_vec();
    big.resize(5 * 1024 * 1024 + 1, b' ');
    for (bytes, name) in [(big, "big.pdf"), (b"MZ\x90\0".to_vec(), "x.exe")] {
        let r = upload(bytes, name).await.unwrap();
        assert_eq!(r.status(), 400);
        let (kind, param, _) = error(&r.json().await.unwrap());
        assert_eq!(
            (kind.as_str(), param.as_str()),
            ("invalid_request_error", "file")
        );
    }

    let update = |pairs: Vec<(String, String)>| {
        http.post(format!("{base}/v1/disputes/{id}"))
            .bearer_auth(TEST_SECRET_KEY)
            .form(&pairs)
            .send()
    };
    let field = |f: &str, v: &str| (format!("evidence[{f}]"), v.to_owned());
    // An unknown evidence field.
    let r = update(vec![field("favourite_colour", "blue")])
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        error(&r.json().await.unwrap()),
        (
            "invalid_request_error".to_owned(),
            "evidence[favourite_colour]".to_owned(),
            "Received unknown parameter: evidence[favourite_colour]".to_owned()
        )
    );
    // Longer than the field's maxLength (5000 for a name, 20000 for a free text).
    let r = update(vec![field("customer_name", &"a".repeat(5_001))])
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(error(&r.json().await.unwrap()).1, "evidence[customer_name]");
    let r = update(vec![
        field("uncategorized_text", &"a".repeat(20_000)),
        ("submit".into(), "false".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    // A file field naming no uploaded file.
    let r = update(vec![field("receipt", "file_nope")]).await.unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], json!("resource_missing"));
    assert_eq!(
        error(&body).2,
        "No such file upload: 'file_nope'".to_owned()
    );
    // Without `submit`, Stripe submits.
    let r = update(vec![field("receipt", file["id"].as_str().unwrap())])
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let d: serde_json::Value = r.json().await.unwrap();
    assert_eq!(d["status"], json!("under_review"));
    assert_eq!(d["evidence_details"]["submission_count"], json!(1));
    assert_eq!(d["evidence"]["receipt"], file["id"]);
    // Now closed to evidence.
    let r = update(vec![field("uncategorized_text", "more")])
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        error(&r.json().await.unwrap())
            .2
            .contains("already been submitted")
    );
}
