//! The Stripe client against the local fake over real sockets, with a real SQLite mirror.

use crate::common::World;
use fluxstore_gateway::{GatewayError, RefundReason, RefundRequest, STRIPE_VERSION};
use fluxstore_mirror::{OrderStatus, Source};
use fluxstore_test_support::stripe_fake::{AccountSpec, Fault, READ_ONLY_KEY, TEST_SECRET_KEY};

#[tokio::test]
async fn account_readiness_is_read_with_the_pinned_version_and_audited() {
    let w = World::new().await;
    let acct = AccountSpec {
        charges_enabled: true,
        payouts_enabled: false,
        details_submitted: false,
        currently_due: vec!["external_account".into()],
        disabled_reason: Some("requirements.past_due".into()),
        ..AccountSpec::default()
    };
    w.fake.set_account(acct.clone());
    let status = w.client(TEST_SECRET_KEY).account().await.unwrap();
    assert_eq!(status.id, acct.id);
    assert!(status.charges_enabled && !status.payouts_enabled && !status.details_submitted);
    assert!(!status.is_ready());
    assert_eq!(status.requirements.currently_due, vec!["external_account"]);
    assert_eq!(
        status.requirements.disabled_reason.as_deref(),
        Some("requirements.past_due")
    );

    let req = &w.fake.requests()[0];
    assert_eq!(req.stripe_version.as_deref(), Some(STRIPE_VERSION));
    assert_eq!(req.idempotency_key, None, "GETs carry no idempotency key");
    let calls = w.mirror.lock().unwrap().api_calls(10).unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (
            calls[0].method.as_str(),
            calls[0].path.as_str(),
            calls[0].status
        ),
        ("GET", "/v1/account", Some(200))
    );
    assert!(
        calls[0]
            .request_id
            .as_deref()
            .is_some_and(|r| r.starts_with("req_"))
    );
}

#[tokio::test]
async fn a_refund_is_recorded_in_the_mirror_at_once() {
    let w = World::new().await;
    let p = w.paid_order(2000);
    let client = w.client(TEST_SECRET_KEY);
    let req = RefundRequest {
        payment: p.payment_intent_id.clone(),
        amount: Some(500),
        reason: Some(RefundReason::RequestedByCustomer),
    };
    let out = client.refund(&req).await.unwrap();
    assert_eq!(
        (out.amount, out.status.as_str(), out.currency.as_str()),
        (500, "succeeded", "usd")
    );
    assert_eq!(out.charge_id.as_deref(), Some(p.charge_id.as_str()));
    assert_eq!(w.fake.object(&p.charge_id).unwrap()["amount_refunded"], 500);

    let order = w
        .mirror
        .lock()
        .unwrap()
        .order_for_payment(&p.payment_intent_id)
        .unwrap()
        .unwrap();
    assert_eq!(order.amount_refunded, 500);
    assert_eq!(order.status, OrderStatus::PartiallyRefunded);

    // A deliberate second refund of the rest gets a new key and completes the refund.
    let rest = RefundRequest {
        payment: p.charge_id.clone(),
        amount: None,
        reason: None,
    };
    let out2 = client.refund(&rest).await.unwrap();
    assert_ne!(out2.idempotency_key, out.idempotency_key);
    assert_eq!(out2.amount, 1500);
    let order = w
        .mirror
        .lock()
        .unwrap()
        .order_for_payment(&p.charge_id)
        .unwrap()
        .unwrap();
    assert_eq!(
        (order.amount_refunded, order.status),
        (2000, OrderStatus::Refunded)
    );

    let posts: Vec<_> = w
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/refunds")
        .collect();
    assert!(posts.iter().all(|r| r.idempotency_key.is_some()));
    assert!(
        posts[0]
            .params
            .contains(&("payment_intent".into(), p.payment_intent_id.clone()))
    );
    assert!(
        posts[0]
            .params
            .contains(&("reason".into(), "requested_by_customer".into()))
    );
    assert!(
        posts[1]
            .params
            .contains(&("charge".into(), p.charge_id.clone()))
    );
}

#[tokio::test]
async fn a_double_click_refunds_once() {
    let w = World::new().await;
    let p = w.paid_order(3000);
    let client = w.client(TEST_SECRET_KEY);
    let req = RefundRequest {
        payment: p.payment_intent_id.clone(),
        amount: Some(1000),
        reason: None,
    };
    let (a, b) = tokio::join!(client.refund(&req), client.refund(&req));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        a.refund_id, b.refund_id,
        "the second click got the first refund back"
    );
    assert_eq!(a.idempotency_key, b.idempotency_key);
    assert_eq!(
        w.fake.object(&p.charge_id).unwrap()["amount_refunded"],
        1000
    );
    let order = w
        .mirror
        .lock()
        .unwrap()
        .order_for_payment(&p.charge_id)
        .unwrap()
        .unwrap();
    assert_eq!(order.amount_refunded, 1000);
}

#[tokio::test]
async fn a_refund_whose_answer_was_lost_is_retried_with_the_same_key_and_happens_once() {
    let w = World::new().await;
    let p = w.paid_order(1500);
    w.fake.inject("/v1/refunds", Fault::DropAfterProcessing);
    let out = w
        .client(TEST_SECRET_KEY)
        .refund(&RefundRequest {
            payment: p.charge_id.clone(),
            amount: None,
            reason: None,
        })
        .await
        .unwrap();
    assert_eq!(out.amount, 1500);
    assert_eq!(
        w.fake.object(&p.charge_id).unwrap()["amount_refunded"],
        1500,
        "refunded once"
    );
    let posts: Vec<_> = w
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/refunds")
        .collect();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].idempotency_key, posts[1].idempotency_key);
    let calls = w.mirror.lock().unwrap().api_calls(20).unwrap();
    let refund_calls: Vec<_> = calls.iter().filter(|c| c.path == "/v1/refunds").collect();
    assert_eq!(refund_calls.len(), 2, "one audit row per attempt");
    assert!(
        refund_calls
            .iter()
            .any(|c| c.status.is_none() && c.error_code.as_deref() == Some("offline"))
    );
    assert!(refund_calls.iter().any(|c| c.status == Some(200)));
    assert!(
        refund_calls
            .iter()
            .all(|c| c.idempotency_key.as_deref() == Some(out.idempotency_key.as_str()))
    );
}

#[tokio::test]
async fn retries_follow_stripes_rules() {
    let w = World::new().await;
    let c = w.client(TEST_SECRET_KEY);
    // 429 and a GET's 503 are retried.
    w.fake.inject(
        "/v1/account",
        Fault::Status {
            status: 429,
            should_retry: None,
        },
    );
    w.fake.inject(
        "/v1/account",
        Fault::Status {
            status: 503,
            should_retry: None,
        },
    );
    c.account().await.unwrap();
    assert_eq!(
        w.requests_to("/v1/account"),
        1,
        "two faulted attempts never reached the handler"
    );
    assert_eq!(w.mirror.lock().unwrap().api_calls(10).unwrap().len(), 3);

    // Stripe-Should-Retry: false wins, even on a GET.
    w.fake.inject(
        "/v1/account",
        Fault::Status {
            status: 503,
            should_retry: Some(false),
        },
    );
    assert!(matches!(
        c.account().await,
        Err(GatewayError::StripeUnavailable { status: 503 })
    ));

    // A POST's 500 is not retried unless Stripe says so (Stripe replays a stored 500).
    let p = w.paid_order(900);
    w.fake.inject(
        "/v1/refunds",
        Fault::Status {
            status: 500,
            should_retry: None,
        },
    );
    let req = RefundRequest {
        payment: p.charge_id.clone(),
        amount: None,
        reason: None,
    };
    assert!(matches!(
        c.refund(&req).await,
        Err(GatewayError::StripeUnavailable { status: 500 })
    ));
    w.fake.inject(
        "/v1/refunds",
        Fault::Status {
            status: 500,
            should_retry: Some(true),
        },
    );
    assert_eq!(c.refund(&req).await.unwrap().amount, 900);

    // Bounded: three failures in a row exhaust max_retries = 2.
    for _ in 0..3 {
        w.fake.inject(
            "/v1/account",
            Fault::Status {
                status: 429,
                should_retry: Some(true),
            },
        );
    }
    assert!(matches!(c.account().await, Err(GatewayError::RateLimited)));
    // A connection cut before processing is retried too.
    w.fake.inject("/v1/account", Fault::DropBeforeProcessing);
    c.account().await.unwrap();
}

#[tokio::test]
async fn stripe_errors_become_owner_errors_that_never_echo_the_key() {
    let w = World::new().await;
    let p = w.paid_order(1200);
    let bogus = "sk_test_51ThisKeyWasRevoked0000000000000XYZW";
    let e = w.client(bogus).account().await.unwrap_err();
    assert!(matches!(e, GatewayError::InvalidKey), "{e:?}");
    let text = format!("{e} {e:?}");
    assert!(
        !text.contains("XYZW") && !text.contains("sk_test"),
        "{text}"
    );

    let e = w
        .client(READ_ONLY_KEY)
        .refund(&RefundRequest {
            payment: p.charge_id.clone(),
            amount: None,
            reason: None,
        })
        .await
        .unwrap_err();
    match &e {
        GatewayError::PermissionDenied { permission } => {
            assert_eq!(permission.as_deref(), Some("rak_refund_write"))
        }
        other => panic!("{other:?}"),
    }
    assert!(!e.to_string().contains("rk_test"));

    let e = w
        .client(TEST_SECRET_KEY)
        .refund(&RefundRequest {
            payment: p.charge_id.clone(),
            amount: Some(5000),
            reason: None,
        })
        .await
        .unwrap_err();
    match e {
        GatewayError::InvalidRequest { param, code, .. } => {
            assert_eq!(param.as_deref(), Some("amount"));
            assert_eq!(code.as_deref(), Some("amount_too_large"));
        }
        other => panic!("{other:?}"),
    }
    // The read-only key may still read the order's charge.
    let ch = w.client(READ_ONLY_KEY).charge(&p.charge_id).await.unwrap();
    assert_eq!(ch["id"], p.charge_id.as_str());

    let codes: Vec<_> = w
        .mirror
        .lock()
        .unwrap()
        .api_calls(20)
        .unwrap()
        .into_iter()
        .filter_map(|c| c.error_code)
        .collect();
    assert!(
        codes.contains(&"invalid_key".to_owned())
            && codes.contains(&"permission_denied".to_owned())
    );
}

#[tokio::test]
async fn objects_outside_fluxstore_orders_are_refused_before_any_request() {
    let w = World::new().await;
    let c = w.client(TEST_SECRET_KEY);
    // Known to Stripe (the fake) but not to any FluxStore order in the mirror.
    let foreign = w
        .fake
        .seed_payment(&fluxstore_test_support::stripe_fake::PaymentSpec {
            amount: 100,
            currency: "eur".into(),
            email: "x@example.com".into(),
            livemode: false,
            created: fluxstore_test_support::now(),
        });
    let refused = [
        c.refund(&RefundRequest {
            payment: foreign.payment_intent_id.clone(),
            amount: None,
            reason: None,
        })
        .await
        .unwrap_err(),
        c.charge(&foreign.charge_id).await.unwrap_err(),
        c.payment_intent(&foreign.payment_intent_id)
            .await
            .unwrap_err(),
        c.dispute("du_NotOneOfOurs000000").await.unwrap_err(),
    ];
    for e in &refused {
        assert_eq!(e.code(), "not_a_fluxstore_object", "{e:?}");
    }
    assert!(matches!(
        c.charge("cus_123").await,
        Err(GatewayError::BadId(_))
    ));
    assert!(w.fake.requests().is_empty(), "nothing was sent");
    assert!(w.mirror.lock().unwrap().api_calls(10).unwrap().is_empty());

    // A dispute the mirror holds is looked up.
    let p = w.paid_order(700);
    let ev = w.fake.seed_dispute(&p.charge_id, "fraudulent").unwrap();
    w.mirror
        .lock()
        .unwrap()
        .ingest(ev.to_string().as_bytes(), Source::Webhook)
        .unwrap();
    let id = ev["data"]["object"]["id"].as_str().unwrap();
    assert_eq!(c.dispute(id).await.unwrap()["reason"], "fraudulent");
    assert_eq!(
        c.payment_intent(&p.payment_intent_id).await.unwrap()["latest_charge"],
        p.charge_id.as_str()
    );
}

#[tokio::test]
async fn an_unreachable_stripe_is_reported_as_offline() {
    let w = World::new().await;
    let mut cfg = w.config();
    // A port nobody listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    cfg.api_base = url::Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let key = fluxstore_gateway::ApiKey::parse(TEST_SECRET_KEY).unwrap();
    let c = fluxstore_gateway::StripeClient::new(
        cfg,
        fluxstore_gateway::Credential::ApiKey(key),
        w.mirror.clone(),
    )
    .unwrap();
    let e = c.account().await.unwrap_err();
    assert_eq!(e.code(), "offline", "{e:?}");
    let calls = w.mirror.lock().unwrap().api_calls(10).unwrap();
    assert_eq!(
        calls.len(),
        3,
        "first attempt and two retries, each audited"
    );
    assert!(calls.iter().all(|c| c.status.is_none()));
}

#[tokio::test]
async fn the_stripe_account_header_is_sent_when_acting_for_a_connected_account() {
    let w = World::new().await;
    let mut cfg = w.config();
    cfg.stripe_account = Some("acct_1ConnectedShop".into());
    let key = fluxstore_gateway::ApiKey::parse(TEST_SECRET_KEY).unwrap();
    let c = fluxstore_gateway::StripeClient::new(
        cfg,
        fluxstore_gateway::Credential::ApiKey(key),
        w.mirror.clone(),
    )
    .unwrap();
    c.account().await.unwrap();
    let req = &w.fake.requests()[0];
    assert_eq!(req.stripe_account.as_deref(), Some("acct_1ConnectedShop"));
}
