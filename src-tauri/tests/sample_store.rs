//! The sample store: realistic signed events through the real relay intake, into a separate
//! mirror that never mixes with the owner's store.
use std::collections::BTreeSet;

use fluxstore_desktop::dto::*;
use fluxstore_desktop::state::AppState;

use fluxstore_test_support::{GUARD, assert_no_secret, eventually};

use crate::support::Recorder;

fn orders(mode: Mode, limit: u32) -> ListOrdersArgs {
    ListOrdersArgs {
        mode,
        filters: OrderFilters::default(),
        after: None,
        limit,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_store_is_fed_through_the_relay_and_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let state = AppState::open(dir.path(), rec.clone(), None).await.unwrap();

    let status = state.open_sample_store().await.unwrap();
    assert!(status.sample_store);
    assert!(status.relay.listening, "the sample store has its own relay");
    assert!(status.test.connected);
    assert!(dir.path().join("sample-store").join("mirror.db").exists());

    let page = state.list_orders(orders(Mode::Test, 500)).await.unwrap();
    assert!(page.items.len() >= 20, "{} orders", page.items.len());
    let currencies: BTreeSet<String> = page
        .items
        .iter()
        .filter_map(|o| o.currency.clone())
        .collect();
    for c in ["usd", "eur", "jpy", "kwd"] {
        assert!(currencies.contains(c), "{c} in {currencies:?}");
    }
    let statuses: BTreeSet<&str> = page.items.iter().map(|o| o.status.as_str()).collect();
    for s in ["paid", "failed", "refunded", "partially_refunded"] {
        assert!(statuses.contains(s), "{s} in {statuses:?}");
    }
    assert!(
        !state
            .list_disputes(ModeArgs { mode: Mode::Test })
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !state
            .list_subscriptions(ModeArgs { mode: Mode::Test })
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !state
            .list_invoices(ModeArgs { mode: Mode::Test })
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        page.items.iter().all(|o| o.mode == Mode::Test),
        "test and live never mixed"
    );

    // Every event came through the intake (source webhook), and each was announced live.
    let events = state
        .list_events(ListEventsArgs {
            mode: Mode::Test,
            limit: 500,
        })
        .await
        .unwrap();
    assert!(events.iter().all(|e| e.source == Source::Webhook));
    let stored: BTreeSet<String> = events.iter().map(|e| e.id.clone()).collect();
    eventually("a notice per stored event", GUARD, || {
        let seen: BTreeSet<String> = rec.applied_ids().into_iter().collect();
        stored.is_subset(&seen)
    })
    .await;

    // An order's detail has its timeline.
    let first = &page.items[0];
    let detail = state
        .order_detail(OrderDetailArgs {
            mode: Mode::Test,
            session_id: first.session_id.clone(),
        })
        .await
        .unwrap();
    assert!(!detail.timeline.is_empty());

    // The local Stripe stand-in answers account status and refunds.
    let account = state
        .account_status(AccountStatusArgs {
            mode: Mode::Test,
            refresh: true,
        })
        .await
        .unwrap()
        .expect("an account status");
    assert!(account.charges_enabled && account.payouts_enabled);
    assert!(account.account_id.starts_with("acct_"));

    let mut search = orders(Mode::Test, 10);
    search.filters.search = Some("refundable3@example.com".into());
    let kwd = state
        .list_orders(search)
        .await
        .unwrap()
        .items
        .pop()
        .expect("the seeded KWD order");
    assert_eq!(
        (kwd.currency.as_deref(), kwd.amount, kwd.status.as_str()),
        (Some("kwd"), Some(12_340), "paid")
    );
    let before = rec.applied.lock().unwrap().len();
    let refunded = state
        .refund_order(RefundArgs {
            mode: Mode::Test,
            session_id: kwd.session_id.clone(),
            amount: Some(2_340),
            reason: Some(RefundReason::RequestedByCustomer),
        })
        .await
        .unwrap();
    assert_eq!(refunded.order.status, OrderStatus::PartiallyRefunded);
    assert_eq!(refunded.order.amount_refunded, 2_340);
    assert!(
        rec.applied.lock().unwrap().len() > before,
        "the refund is announced to the views"
    );
    let too_much = state
        .refund_order(RefundArgs {
            mode: Mode::Test,
            session_id: kwd.session_id.clone(),
            amount: Some(10_001),
            reason: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        too_much.code,
        fluxstore_desktop::error::ErrorCode::InvalidInput
    );
    let live = state
        .account_status(AccountStatusArgs {
            mode: Mode::Live,
            refresh: true,
        })
        .await
        .unwrap_err();
    assert_eq!(live.code, fluxstore_desktop::error::ErrorCode::NotConnected);
    // The stand-in's per-session key (and any other secret key) never reached the disk.
    assert_no_secret(dir.path(), &["sk_test_", "sk_live_", "whsec_"]);

    // Leaving the sample store shows the owner's (empty) store again.
    let status = state.close_sample_store().await.unwrap();
    assert!(!status.sample_store);
    assert!(
        state
            .list_orders(orders(Mode::Test, 50))
            .await
            .unwrap()
            .items
            .is_empty(),
        "never mixed"
    );
    state.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_paid_sample_order_refunds_through_the_stand_in() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let state = AppState::open(dir.path(), rec.clone(), None).await.unwrap();
    state.open_sample_store().await.unwrap();

    let mut query = orders(Mode::Test, 500);
    query.filters.statuses = vec![OrderStatus::Paid, OrderStatus::PartiallyRefunded];
    let refundable = state.list_orders(query).await.unwrap().items;
    // The generated sample orders, not only the few created in the stand-in itself.
    let generated = refundable
        .iter()
        .filter(|o| {
            !o.customer_email
                .as_deref()
                .unwrap_or("")
                .starts_with("refundable")
        })
        .count();
    assert!(generated >= 5, "{generated} generated paid sample orders");

    for order in &refundable {
        let detail = state
            .refund_order(RefundArgs {
                mode: Mode::Test,
                session_id: order.session_id.clone(),
                amount: None,
                reason: Some(RefundReason::RequestedByCustomer),
            })
            .await
            .unwrap_or_else(|e| panic!("{} ({}): {}", order.session_id, order.status, e.message));
        assert_eq!(
            detail.order.status,
            OrderStatus::Refunded,
            "{}",
            order.session_id
        );
        assert_eq!(Some(detail.order.amount_refunded), order.amount);
    }
    state.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_store_is_a_store_set_up_in_both_modes() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let state = AppState::open(dir.path(), rec.clone(), None).await.unwrap();
    let status = state.open_sample_store().await.unwrap();
    // Every fact the checklist's seven steps read says "done", in test and in live.
    assert_eq!(status.method, Some(ConnectionMethod::Keys));
    for c in [&status.test, &status.live] {
        assert!(c.connected, "{c:?}");
        assert_eq!(c.via, Some(ConnectionMethod::Keys));
        assert!(
            c.secrets
                .iter()
                .any(|s| s.kind == SecretShown::WebhookSecret),
            "{c:?}"
        );
        let account = c
            .account
            .as_ref()
            .unwrap_or_else(|| panic!("no account status: {c:?}"));
        assert!(account.charges_enabled && account.payouts_enabled);
    }
    let facts = state.checklist_facts().await.unwrap();
    for f in [&facts.test, &facts.live] {
        assert!(f.first_paid_order.is_some(), "{f:?}");
        assert!(
            f.last_webhook_at.is_some(),
            "signed deliveries through the relay"
        );
        assert_eq!(f.earlier_paid_orders, 0, "set up before every sample order");
    }
    state.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_open_the_dashboard_page_of_the_mode_and_other_hosts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let state = AppState::open(dir.path(), rec.clone(), None).await.unwrap();
    state.open_sample_store().await.unwrap();
    for (mode, prefix) in [
        (Mode::Test, "https://dashboard.stripe.com/test/payments/"),
        (Mode::Live, "https://dashboard.stripe.com/payments/"),
    ] {
        let pi = state
            .list_orders(orders(mode, 100))
            .await
            .unwrap()
            .items
            .into_iter()
            .find_map(|o| o.payment_intent_id)
            .expect("an order with a payment");
        let opened = state
            .open_dashboard(OpenDashboardArgs {
                mode,
                id: pi.clone(),
            })
            .await
            .unwrap();
        assert_eq!(opened, format!("{prefix}{pi}"));
        assert_eq!(rec.opened.lock().unwrap().last(), Some(&opened));
    }
    let dispute = state
        .list_disputes(ModeArgs { mode: Mode::Test })
        .await
        .unwrap()
        .remove(0);
    let opened = state
        .open_dashboard(OpenDashboardArgs {
            mode: Mode::Test,
            id: dispute.id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(
        opened,
        format!("https://dashboard.stripe.com/test/disputes/{}", dispute.id)
    );

    let before = rec.opened.lock().unwrap().len();
    let refused = state
        .open_url(OpenUrlArgs {
            url: "https://evil.example/payments".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, fluxstore_desktop::error::ErrorCode::Refused);
    assert!(
        refused.message.contains("evil.example"),
        "{}",
        refused.message
    );
    let bad_id = state
        .open_dashboard(OpenDashboardArgs {
            mode: Mode::Test,
            id: "pi_1/../../settings".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_id.code,
        fluxstore_desktop::error::ErrorCode::InvalidInput
    );
    assert_eq!(
        rec.opened.lock().unwrap().len(),
        before,
        "nothing was opened"
    );
    state.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sample_dispute_takes_evidence_through_the_stand_in() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let state = AppState::open(dir.path(), rec.clone(), None).await.unwrap();
    state.open_sample_store().await.unwrap();
    let open: Vec<Dispute> = state
        .list_disputes(ModeArgs { mode: Mode::Test })
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.needs_response)
        .collect();
    let mut tried = 0;
    for d in open {
        let target = DisputeArgs {
            mode: Mode::Test,
            dispute_id: d.id.clone(),
        };
        let bench = state.dispute_workbench(target.clone()).await.unwrap();
        if !bench.accepts_evidence {
            continue;
        }
        tried += 1;
        // A document from the file dialog, copied into the sample store's own folder.
        let pdf = dir.path().join("receipt.pdf");
        std::fs::write(&pdf, b"%PDF-1.4\n%%EOF\n").unwrap();
        rec.picks.lock().unwrap().push(pdf);
        let b = state
            .attach_evidence_file(EvidenceFileArgs {
                mode: Mode::Test,
                dispute_id: d.id.clone(),
                field: "receipt".into(),
            })
            .await
            .unwrap();
        assert!(
            std::path::Path::new(&b.files[0].stored_path)
                .starts_with(dir.path().join("sample-store").join("evidence"))
        );
        // Saved at Stripe's stand-in without submitting, then submitted.
        let staged = state
            .submit_dispute_evidence(SubmitEvidenceArgs {
                mode: Mode::Test,
                dispute_id: d.id.clone(),
                submit: false,
            })
            .await
            .unwrap_or_else(|e| panic!("{}: {}", d.id, e.message));
        assert_eq!(staged.has_evidence, Some(true));
        assert!(staged.accepts_evidence);
        let submitted = state
            .submit_dispute_evidence(SubmitEvidenceArgs {
                mode: Mode::Test,
                dispute_id: d.id.clone(),
                submit: true,
            })
            .await
            .unwrap_or_else(|e| panic!("{}: {}", d.id, e.message));
        assert_eq!(submitted.submission_count, Some(1));
        assert!(submitted.dispute.status.ends_with("under_review"));
        assert!(!submitted.accepts_evidence);
    }
    assert!(tried >= 1, "a sample dispute still takes evidence");
    state.shutdown().await;
}
