//! Table-driven bad deliveries over real HTTP. Each case asserts the status, the error code,
//! that nothing was stored and that exactly one refusal was counted: into the rejection
//! aggregates (with the peer), or for 404/405 noise into the relay's in-memory stats only.

use fluxstore_relay::{SigningSecrets, sign_header};
use serde_json::{Value, json};

use crate::support::{
    OTHER_SECRET, SECRET, TestRelay, error_code, event_body, live_event_body, now, raw_http, secret,
};

enum Send {
    /// Through the HTTP client: method, body, Stripe-Signature header.
    Http(&'static str, Vec<u8>, Option<String>),
    /// Exact bytes on the socket.
    Raw(Vec<u8>),
}

struct Case {
    name: &'static str,
    send: Send,
    status: u16,
    code: &'static str,
    /// Run with no signing secret configured.
    without_secret: bool,
}

fn case(name: &'static str, send: Send, status: u16, code: &'static str) -> Case {
    Case {
        name,
        send,
        status,
        code,
        without_secret: false,
    }
}

fn signed(body: &[u8], t: i64) -> Option<String> {
    Some(sign_header(body, &secret(SECRET), t))
}

fn post(body: Vec<u8>, header: Option<String>) -> Send {
    Send::Http("POST", body, header)
}

fn json_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("json")
}

fn valid_event() -> Value {
    serde_json::from_slice(&event_body("checkout.session.completed", 1)).expect("json")
}

fn without(field: &str) -> Vec<u8> {
    let mut v = valid_event();
    v.as_object_mut().expect("object").remove(field);
    json_bytes(&v)
}

fn raw_post(path: &str, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n{extra_headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

fn cases() -> Vec<Case> {
    let t = now();
    let body = event_body("payment_intent.succeeded", 7);
    let good_sig = sign_header(&body, &secret(SECRET), t);
    let v1 = good_sig.split("v1=").nth(1).expect("v1").to_string();
    let mut tampered = body.clone();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b' ' { b'_' } else { b' ' };
    let pretty = serde_json::to_vec_pretty(&valid_event()).expect("pretty");
    let compact_sig = signed(&json_bytes(&valid_event()), t);
    let mut created_string = valid_event();
    created_string["created"] = json!("1700000000");
    let mut no_data_object = valid_event();
    no_data_object["data"] = json!({});
    let mut livemode_string = valid_event();
    livemode_string["livemode"] = json!("false");
    let huge = vec![b' '; 1024 * 1024 + 1];
    let live = live_event_body("checkout.session.completed", 8);
    let non_utf8 = b"{\"id\":\"evt_\xff\xfe\"}".to_vec();
    let mut chunked_huge = format!(
        "POST /api/webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nStripe-Signature: t={t},v1={v1}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..17 {
        chunked_huge.extend_from_slice(format!("{:x}\r\n", 65_536).as_bytes());
        chunked_huge.extend_from_slice(&[b'a'; 65_536]);
        chunked_huge.extend_from_slice(b"\r\n");
    }
    chunked_huge.extend_from_slice(b"0\r\n\r\n");
    let mut non_ascii_header = raw_post("/api/webhooks/stripe", "", &body);
    let insert = b"Stripe-Signature: t=1,v1=\xe2\x9c\x93\r\n";
    let pos = non_ascii_header
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("request line")
        + 2;
    non_ascii_header.splice(pos..pos, insert.iter().copied());

    vec![
        case(
            "no Stripe-Signature header",
            post(body.clone(), None),
            400,
            "signature_header_missing",
        ),
        case(
            "empty header",
            post(body.clone(), Some(String::new())),
            400,
            "signature_invalid",
        ),
        case(
            "whitespace-only header",
            post(body.clone(), Some("   ".into())),
            400,
            "signature_invalid",
        ),
        case(
            "garbage header",
            post(body.clone(), Some("hello world".into())),
            400,
            "signature_invalid",
        ),
        case(
            "timestamp only",
            post(body.clone(), Some(format!("t={t}"))),
            400,
            "signature_invalid",
        ),
        case(
            "v1 only",
            post(body.clone(), Some(format!("v1={v1}"))),
            400,
            "signature_invalid",
        ),
        case(
            "non-numeric timestamp",
            post(body.clone(), Some(format!("t=now,v1={v1}"))),
            400,
            "signature_invalid",
        ),
        case(
            "two timestamps",
            post(body.clone(), Some(format!("t={t},t={},v1={v1}", t - 1))),
            400,
            "signature_invalid",
        ),
        case(
            "v0 only (test-mode scheme)",
            post(body.clone(), Some(format!("t={t},v0={v1}"))),
            400,
            "signature_invalid",
        ),
        case(
            "v1 truncated",
            post(body.clone(), Some(format!("t={t},v1={}", &v1[..63]))),
            400,
            "signature_invalid",
        ),
        case(
            "v1 not hex",
            post(body.clone(), Some(format!("t={t},v1={}", "g".repeat(64)))),
            400,
            "signature_invalid",
        ),
        case(
            "signed with another endpoint's secret",
            post(
                body.clone(),
                Some(sign_header(&body, &secret(OTHER_SECRET), t)),
            ),
            400,
            "signature_invalid",
        ),
        case(
            "signed for another timestamp",
            post(body.clone(), Some(format!("t={},v1={v1}", t - 1))),
            400,
            "signature_invalid",
        ),
        case(
            "body altered after signing",
            post(tampered, Some(good_sig.clone())),
            400,
            "signature_invalid",
        ),
        case(
            "body re-serialized after signing",
            post(pretty, compact_sig),
            400,
            "signature_invalid",
        ),
        case(
            "stale timestamp (1 h old)",
            post(body.clone(), signed(&body, t - 3600)),
            400,
            "timestamp_outside_tolerance",
        ),
        case(
            "future timestamp (1 h ahead)",
            post(body.clone(), signed(&body, t + 3600)),
            400,
            "timestamp_outside_tolerance",
        ),
        case(
            "live event signed with the test-mode secret",
            post(live.clone(), signed(&live, t)),
            400,
            "mode_mismatch",
        ),
        case(
            "signed body not JSON",
            post(b"id=evt_1&type=x".to_vec(), signed(b"id=evt_1&type=x", t)),
            400,
            "malformed_payload",
        ),
        case(
            "signed empty body",
            post(Vec::new(), signed(b"", t)),
            400,
            "malformed_payload",
        ),
        case(
            "signed JSON array",
            post(b"[1,2]".to_vec(), signed(b"[1,2]", t)),
            400,
            "malformed_payload",
        ),
        case(
            "event without id",
            post(without("id"), signed(&without("id"), t)),
            400,
            "malformed_payload",
        ),
        case(
            "event without type",
            post(without("type"), signed(&without("type"), t)),
            400,
            "malformed_payload",
        ),
        case(
            "event without livemode",
            post(without("livemode"), signed(&without("livemode"), t)),
            400,
            "malformed_payload",
        ),
        case(
            "created as a string",
            post(
                json_bytes(&created_string),
                signed(&json_bytes(&created_string), t),
            ),
            400,
            "malformed_payload",
        ),
        case(
            "livemode as a string",
            post(
                json_bytes(&livemode_string),
                signed(&json_bytes(&livemode_string), t),
            ),
            400,
            "malformed_payload",
        ),
        case(
            "no data.object",
            post(
                json_bytes(&no_data_object),
                signed(&json_bytes(&no_data_object), t),
            ),
            400,
            "malformed_payload",
        ),
        case(
            "signed body not UTF-8",
            post(non_utf8.clone(), signed(&non_utf8, t)),
            400,
            "malformed_payload",
        ),
        case(
            "body over 1 MiB",
            post(huge.clone(), signed(&huge, t)),
            413,
            "payload_too_large",
        ),
        case(
            "chunked body over 1 MiB",
            Send::Raw(chunked_huge),
            413,
            "payload_too_large",
        ),
        case(
            "non-ASCII signature header",
            Send::Raw(non_ascii_header),
            400,
            "signature_invalid",
        ),
        case(
            "GET on the webhook path",
            Send::Http("GET", Vec::new(), None),
            405,
            "method_not_allowed",
        ),
        case(
            "PUT on the webhook path",
            Send::Http("PUT", body.clone(), signed(&body, t)),
            405,
            "method_not_allowed",
        ),
        case(
            "DELETE on the webhook path",
            Send::Http("DELETE", Vec::new(), None),
            405,
            "method_not_allowed",
        ),
        case(
            "POST to a wrong path",
            Send::Raw(raw_post(
                "/webhooks/stripe",
                &format!("Stripe-Signature: {good_sig}\r\n"),
                &body,
            )),
            404,
            "not_found",
        ),
        Case {
            without_secret: true,
            ..case(
                "valid delivery but no signing secret configured",
                post(body.clone(), Some(good_sig.clone())),
                503,
                "no_signing_secret",
            )
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_delivery_is_refused_recorded_and_stores_nothing() {
    let relay = TestRelay::start().await;
    let cases = cases();
    assert!(cases.len() >= 25, "the suite covers at least 25 kinds");
    let mut stored = 0;
    for case in cases {
        let noise_before = relay.handle().stats();
        if case.without_secret {
            relay.handle().set_secrets(SigningSecrets::none());
        }
        let (status, answer) = match case.send {
            Send::Http(method, body, header) => {
                let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
                let mut req = relay
                    .client
                    .request(method.clone(), &relay.url)
                    .header("content-type", "application/json")
                    .body(body.clone());
                if let Some(h) = &header {
                    req = req.header("Stripe-Signature", h);
                }
                match req.send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let text = resp.text().await.expect("text");
                        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
                    }
                    // The relay refuses some requests on their head alone, before reading the
                    // body, and closes; a client still writing the body may then see the
                    // connection reset instead of the answer. Ask again with the head only:
                    // a refusal that does not read the body gives the same answer to it.
                    Err(e) if e.is_request() => {
                        let mut head = format!(
                            "{method} /api/webhooks/stripe HTTP/1.1\r\nHost: relay\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                            body.len()
                        );
                        if let Some(h) = &header {
                            head.push_str(&format!("Stripe-Signature: {h}\r\n"));
                        }
                        head.push_str("\r\n");
                        let addr = relay.addr;
                        tokio::task::spawn_blocking(move || raw_http(addr, head.as_bytes()))
                            .await
                            .expect("raw request")
                    }
                    Err(e) => panic!("answer: {e}"),
                }
            }
            Send::Raw(bytes) => {
                let addr = relay.addr;
                tokio::task::spawn_blocking(move || raw_http(addr, &bytes))
                    .await
                    .expect("raw request")
            }
        };
        if case.without_secret {
            relay
                .handle()
                .set_secrets(SigningSecrets::from(secret(SECRET)));
        }
        assert_eq!(status, case.status, "{}: status ({answer})", case.name);
        assert_eq!(error_code(&answer), case.code, "{}: code", case.name);
        let message = answer["error"]["message"].as_str().unwrap_or("");
        assert!(!message.is_empty(), "{}: a message", case.name);
        assert!(
            !message.contains("whsec_"),
            "{}: no secret in the answer",
            case.name
        );
        assert!(relay.events().is_empty(), "{}: nothing stored", case.name);
        let noise = relay.handle().stats();
        if case.code == "not_found" || case.code == "method_not_allowed" {
            let counted = (noise.not_found - noise_before.not_found)
                + (noise.method_not_allowed - noise_before.method_not_allowed);
            assert_eq!(counted, 1, "{}: counted in memory", case.name);
            continue;
        }
        stored += 1;
        let after = relay.rejections_once(stored).await;
        let total: u64 = after.iter().map(|r| r.count).sum();
        assert_eq!(total, stored, "{}: one refusal counted", case.name);
        let row = after
            .iter()
            .find(|r| r.code == case.code)
            .expect("a row of the code");
        assert_eq!(row.code, case.code, "{}: rejection code", case.name);
        let peer = row.last_peer.as_deref().unwrap_or("");
        assert!(
            peer.starts_with("127.0.0.1:"),
            "{}: peer {peer:?}",
            case.name
        );
    }
    assert!(
        relay
            .rejections()
            .iter()
            .all(|r| r.code != "not_found" && r.code != "method_not_allowed"),
        "404 and 405 are never stored"
    );
    // And the same relay still accepts a good delivery afterwards.
    let body = event_body("checkout.session.completed", 99);
    let (status, answer) = relay.post_signed(&body, SECRET, now()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(relay.events().len(), 1);
}
