//! The dispute workbench commands as the window calls them: a real mirror file, the Stripe
//! fake on 127.0.0.1, and the recorder standing in for the window (its file dialog hands
//! over the files queued in `picks`).
use std::sync::Arc;

use fluxstore_desktop::dto::*;
use fluxstore_desktop::error::ErrorCode;
use fluxstore_desktop::state::{ACCOUNT, AppState};
use fluxstore_gateway::{ApiKey, ProfileConfig};
use fluxstore_mirror::Source;
use fluxstore_test_support::stripe_fake::{PaymentSpec, StripeFake, TEST_SECRET_KEY};
use fluxstore_test_support::{assert_no_secret, now};
use serde_json::Value;

use crate::support::Recorder;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

async fn open(dir: &std::path::Path, fake: &StripeFake, rec: Arc<Recorder>) -> Arc<AppState> {
    let config = ProfileConfig {
        api_base: Some(fake.base_url()),
        api_key: Some(ApiKey::parse(TEST_SECRET_KEY).expect("test key")),
        ..ProfileConfig::new(ACCOUNT)
    };
    AppState::open_configured(dir, rec, None, config)
        .await
        .expect("state")
}

fn args(id: &str) -> DisputeArgs {
    DisputeArgs {
        mode: Mode::Test,
        dispute_id: id.to_owned(),
    }
}

fn value<'a>(b: &'a DisputeWorkbench, field: &str) -> &'a EvidenceValue {
    b.values.iter().find(|v| v.field == field).expect("field")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workbench_drafts_offline_attaches_from_the_dialog_and_submits_once() {
    let fake = StripeFake::start(Default::default()).await.expect("fake");
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let state = open(dir.path(), &fake, rec.clone()).await;
    let p = fake.seed_payment(&PaymentSpec {
        amount: 1_500,
        currency: "usd".into(),
        email: "rank.buyer@example.com".into(),
        livemode: false,
        created: now() - 7_200,
    });
    let dispute = fake
        .seed_dispute(&p.charge_id, "fraudulent")
        .expect("dispute");
    let id = dispute["data"]["object"]["id"].as_str().unwrap().to_owned();
    let mut events: Vec<Value> = p.events.clone();
    events.push(dispute);
    state
        .real
        .write(move |m| {
            for e in &events {
                m.ingest(&serde_json::to_vec(e).unwrap(), Source::Webhook)?;
            }
            Ok(())
        })
        .await
        .unwrap();

    // The workbench: the reason's guidance, values pre-filled from the order.
    let b = state.dispute_workbench(args(&id)).await.unwrap();
    assert_eq!(b.guidance.code, "fraudulent");
    assert!(b.accepts_evidence);
    let email = value(&b, "customer_email_address");
    assert_eq!(email.value, "rank.buyer@example.com");
    assert!(email.prefilled);
    assert!(
        value(&b, "access_activity_log")
            .value
            .contains(&p.session_id)
    );
    // Another mode's view does not find it.
    let e = state
        .dispute_workbench(DisputeArgs {
            mode: Mode::Live,
            dispute_id: id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);

    // Typed: saved at once, no longer pre-filled; nothing sent.
    let typed = "The VIP rank was given to BlazeRunner a minute after payment.";
    let b = state
        .save_dispute_draft(DraftTextArgs {
            mode: Mode::Test,
            dispute_id: id.clone(),
            field: "access_activity_log".into(),
            value: Some(typed.into()),
        })
        .await
        .unwrap();
    assert_eq!(value(&b, "access_activity_log").value, typed);
    assert!(!value(&b, "access_activity_log").prefilled);
    assert_eq!(b.draft_revision, Some(1));
    let e = state
        .save_dispute_draft(DraftTextArgs {
            mode: Mode::Test,
            dispute_id: id.clone(),
            field: "receipt".into(),
            value: Some("text".into()),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("takes a file"), "{}", e.message);

    // The dialog: closed (nothing changes), a program (refused in words), then a PDF.
    let file_args = || EvidenceFileArgs {
        mode: Mode::Test,
        dispute_id: id.clone(),
        field: "receipt".into(),
    };
    let e = state.attach_evidence_file(file_args()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Cancelled);
    let exe = dir.path().join("receipt.exe");
    std::fs::write(&exe, b"MZ\x90\0").unwrap();
    rec.picks.lock().unwrap().push(exe);
    let e = state.attach_evidence_file(file_args()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(
        e.message.contains("not a PDF, JPEG or PNG"),
        "{}",
        e.message
    );
    let pdf = tempfile::tempdir().unwrap();
    let original = pdf.path().join("receipt.pdf");
    std::fs::write(&original, PDF).unwrap();
    rec.picks.lock().unwrap().push(original.clone());
    let b = state.attach_evidence_file(file_args()).await.unwrap();
    assert_eq!(b.files.len(), 1);
    assert_eq!(b.files[0].file_name, "receipt.pdf");
    assert!(std::path::Path::new(&b.files[0].stored_path).starts_with(dir.path().join("evidence")));
    assert_eq!(b.draft_revision, Some(2));
    assert!(
        fake.requests().iter().all(|r| r.method != "POST"),
        "nothing sent yet"
    );

    // Restart: the draft is read back; the original file may be gone.
    state.shutdown().await;
    drop(state);
    std::fs::remove_file(&original).unwrap();
    let state = open(dir.path(), &fake, rec.clone()).await;
    let b = state.dispute_workbench(args(&id)).await.unwrap();
    assert_eq!(value(&b, "access_activity_log").value, typed);
    assert_eq!(b.files.len(), 1);

    // Two rapid submits: one upload, one dispute update; the second is refused unsent.
    let submit = || SubmitEvidenceArgs {
        mode: Mode::Test,
        dispute_id: id.clone(),
        submit: true,
    };
    let (a, b2) = tokio::join!(
        state.submit_dispute_evidence(submit()),
        state.submit_dispute_evidence(submit())
    );
    let (ok, refused) = match (a, b2) {
        (Ok(b), Err(e)) | (Err(e), Ok(b)) => (b, e),
        other => panic!("one submit goes through, one is refused: {other:?}"),
    };
    assert_eq!(refused.code, ErrorCode::InvalidInput);
    assert!(
        refused.message.contains("already submitted"),
        "{}",
        refused.message
    );
    assert_eq!(ok.dispute.status, "under_review");
    assert_eq!(ok.submission_count, Some(1));
    assert_eq!(ok.has_evidence, Some(true));
    assert!(!ok.accepts_evidence);
    let posts: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(
        posts.iter().map(|r| r.path.clone()).collect::<Vec<_>>(),
        vec!["/v1/files".to_owned(), format!("/v1/disputes/{id}")]
    );
    let update = &posts[1];
    let param = |k: &str| {
        update
            .params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(param("submit").as_deref(), Some("true"));
    assert_eq!(
        param("evidence[access_activity_log]").as_deref(),
        Some(typed)
    );
    assert!(param("evidence[receipt]").is_some_and(|f| f.starts_with("file_")));
    // Stripe's answer reached the window as an applied event, and the audit log has both calls.
    assert!(
        rec.applied
            .lock()
            .unwrap()
            .iter()
            .any(|a| a.event_type == "charge.dispute.updated")
    );
    let calls = state.list_api_calls(LimitArgs { limit: 20 }).await.unwrap();
    assert!(calls.iter().any(|c| c.path == "/v1/files"));
    assert!(calls.iter().any(|c| c.path == format!("/v1/disputes/{id}")));

    // The reusable texts are settings, and pre-fill a field the owner has not typed.
    let texts = state
        .set_dispute_text(DisputeTextArgs {
            text: DisputeText::RefundPolicy,
            value: "  No refunds once a rank is delivered.  ".into(),
        })
        .await
        .unwrap();
    let refund = texts
        .iter()
        .find(|t| t.text == DisputeText::RefundPolicy)
        .unwrap();
    assert_eq!(refund.value, "No refunds once a rank is delivered.");
    let b = state.dispute_workbench(args(&id)).await.unwrap();
    assert_eq!(
        value(&b, "refund_policy_disclosure").value,
        "No refunds once a rank is delivered."
    );
    assert!(value(&b, "refund_policy_disclosure").prefilled);

    state.shutdown().await;
    assert_no_secret(dir.path(), &[TEST_SECRET_KEY]);
}
