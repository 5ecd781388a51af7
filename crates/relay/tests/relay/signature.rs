//! Signature verification against vectors computed independently by `openssl dgst`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use fluxstore_relay::signature::{
    SignatureError, compute_signature, parse_header, sign_header, verify,
};
use fluxstore_relay::{DEFAULT_TOLERANCE, Mode, SigningSecrets};

use crate::support::{OTHER_SECRET, SECRET, live_secret, secret};

/// HMAC-SHA256 hex by the openssl binary: the message goes through stdin. The key is a
/// throwaway test secret (openssl only takes an HMAC key as an argument).
fn openssl_hmac(key: &str, message: &[u8]) -> String {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl is installed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(message)
        .expect("write");
    let out = child.wait_with_output().expect("openssl runs");
    assert!(out.status.success(), "openssl failed");
    let text = String::from_utf8(out.stdout).expect("utf8");
    text.trim()
        .rsplit(' ')
        .next()
        .expect("a digest")
        .to_string()
}

const BODY: &[u8] = br#"{"id":"evt_1","object":"event","type":"charge.succeeded","created":1700000000,"livemode":false,"data":{"object":{"id":"ch_1","amount":2500}}}"#;

fn one(text: &str) -> SigningSecrets {
    SigningSecrets::from(secret(text))
}

#[test]
fn our_hmac_equals_openssl() {
    for (t, body) in [
        (1_700_000_000i64, BODY.to_vec()),
        (1, b"".to_vec()),
        (
            1_800_000_123,
            "{\"emoji\":\"caf\u{e9} \u{1f600}\"}\n".as_bytes().to_vec(),
        ),
        (42, vec![b'x'; 70_000]),
    ] {
        let mut message = format!("{t}.").into_bytes();
        message.extend_from_slice(&body);
        let expected = openssl_hmac(SECRET, &message);
        assert_eq!(expected.len(), 64);
        assert_eq!(compute_signature(&body, &secret(SECRET), t), expected);
    }
}

#[test]
fn openssl_signed_header_verifies() {
    let t = 1_700_000_000;
    let sig = openssl_hmac(
        SECRET,
        format!("{t}.{}", String::from_utf8_lossy(BODY)).as_bytes(),
    );
    let header = format!("t={t},v1={sig}");
    let ok = verify(BODY, &header, &one(SECRET), DEFAULT_TOLERANCE, t + 5).expect("verifies");
    assert_eq!(ok.timestamp, t);
    assert_eq!(ok.secret_index, 0);
}

#[test]
fn the_key_is_the_whole_whsec_string() {
    let t = 1_700_000_000;
    let without_prefix = SECRET.trim_start_matches("whsec_");
    let sig = openssl_hmac(without_prefix, format!("{t}.").as_bytes());
    let header = format!("t={t},v1={sig}");
    assert_eq!(
        verify(b"", &header, &one(SECRET), DEFAULT_TOLERANCE, t),
        Err(SignatureError::NoMatch)
    );
}

#[test]
fn stale_and_future_timestamps_are_refused_at_the_edge() {
    let t = 1_700_000_000;
    let header = sign_header(BODY, &secret(SECRET), t);
    let s = one(SECRET);
    // Exactly at the tolerance is accepted, one second beyond is not, in both directions.
    assert!(verify(BODY, &header, &s, DEFAULT_TOLERANCE, t + 300).is_ok());
    assert!(verify(BODY, &header, &s, DEFAULT_TOLERANCE, t - 300).is_ok());
    let stale = verify(BODY, &header, &s, DEFAULT_TOLERANCE, t + 301).unwrap_err();
    assert_eq!(stale.code(), "timestamp_outside_tolerance");
    let future = verify(BODY, &header, &s, DEFAULT_TOLERANCE, t - 301).unwrap_err();
    assert_eq!(future.code(), "timestamp_outside_tolerance");
    // A configured tolerance is honoured.
    let tight = Duration::from_secs(10);
    assert!(verify(BODY, &header, &s, tight, t + 11).is_err());
    assert!(verify(BODY, &header, &s, tight, t + 10).is_ok());
}

#[test]
fn a_bad_signature_is_reported_before_a_stale_timestamp() {
    let header = sign_header(BODY, &secret(OTHER_SECRET), 1);
    let err = verify(
        BODY,
        &header,
        &one(SECRET),
        DEFAULT_TOLERANCE,
        1_700_000_000,
    )
    .unwrap_err();
    assert_eq!(err, SignatureError::NoMatch);
    assert_eq!(err.code(), "signature_invalid");
}

#[test]
fn rotation_accepts_any_configured_secret() {
    let t = 1_700_000_000;
    let both = SigningSecrets::new(vec![secret(SECRET), secret(OTHER_SECRET)]);
    let by_new = sign_header(BODY, &secret(OTHER_SECRET), t);
    let ok = verify(BODY, &by_new, &both, DEFAULT_TOLERANCE, t).expect("second secret");
    assert_eq!(ok.secret_index, 1);
    let by_old = sign_header(BODY, &secret(SECRET), t);
    assert_eq!(
        verify(BODY, &by_old, &both, DEFAULT_TOLERANCE, t).map(|v| v.secret_index),
        Ok(0)
    );
}

#[test]
fn several_v1_any_match_wins() {
    let t = 1_700_000_000;
    let good = compute_signature(BODY, &secret(SECRET), t);
    let other = compute_signature(BODY, &secret(OTHER_SECRET), t);
    for header in [
        format!("t={t},v1={other},v1={good}"),
        format!("t={t},v1={good},v1={other}"),
        format!("v1={other},v1={good},t={t}"),
        format!("t={t},v1={},v1={good}", "0".repeat(64)),
    ] {
        assert!(
            verify(BODY, &header, &one(SECRET), DEFAULT_TOLERANCE, t).is_ok(),
            "{header}"
        );
    }
}

#[test]
fn v0_alone_is_never_accepted() {
    let t = 1_700_000_000;
    let good = compute_signature(BODY, &secret(SECRET), t);
    let header = format!("t={t},v0={good}");
    assert_eq!(
        verify(BODY, &header, &one(SECRET), DEFAULT_TOLERANCE, t),
        Err(SignatureError::NoV1Signature)
    );
    // v0 beside a valid v1 is simply ignored.
    let header = format!("t={t},v1={good},v0={}", "ab".repeat(32));
    assert!(verify(BODY, &header, &one(SECRET), DEFAULT_TOLERANCE, t).is_ok());
}

#[test]
fn whitespace_is_tolerated() {
    let t = 1_700_000_000;
    let good = compute_signature(BODY, &secret(SECRET), t);
    for header in [
        format!(" t={t}, v1={good} "),
        format!("t = {t} ,\tv1 = {good}"),
        format!("t={t},,v1={good},"),
    ] {
        assert!(
            verify(BODY, &header, &one(SECRET), DEFAULT_TOLERANCE, t).is_ok(),
            "{header:?}"
        );
    }
}

#[test]
fn garbage_headers_give_clear_errors() {
    let good = "a".repeat(64);
    let cases: Vec<(String, SignatureError)> = vec![
        (String::new(), SignatureError::Malformed("it is empty")),
        ("   ,  ".into(), SignatureError::Malformed("it is empty")),
        (
            "hello".into(),
            SignatureError::Malformed("a part has no '='"),
        ),
        (
            format!("t=12,v1={good},junk"),
            SignatureError::Malformed("a part has no '='"),
        ),
        (format!("v1={good}"), SignatureError::MissingTimestamp),
        ("t=1700000000".into(), SignatureError::NoV1Signature),
        (format!("t=abc,v1={good}"), SignatureError::BadTimestamp),
        (format!("t=1.7e9,v1={good}"), SignatureError::BadTimestamp),
        (format!("t=-5,v1={good}"), SignatureError::BadTimestamp),
        (format!("t=,v1={good}"), SignatureError::BadTimestamp),
        (
            format!("t=99999999999999999999,v1={good}"),
            SignatureError::BadTimestamp,
        ),
        (
            format!("t=1,t=2,v1={good}"),
            SignatureError::Malformed("two different timestamps"),
        ),
        ("t=1,v1=zz".into(), SignatureError::NoV1Signature),
        (
            format!("t=1,v1={}", &good[..63]),
            SignatureError::NoV1Signature,
        ),
    ];
    for (header, expected) in cases {
        let err = parse_header(&header).unwrap_err();
        assert_eq!(err, expected, "header {header:?}");
        assert!(!err.to_string().is_empty());
        assert_eq!(err.code(), "signature_invalid");
    }
}

#[test]
fn uppercase_hex_is_the_same_digest() {
    let t = 1_700_000_000;
    let good = compute_signature(BODY, &secret(SECRET), t).to_uppercase();
    let header = format!("t={t},v1={good}");
    assert!(verify(BODY, &header, &one(SECRET), DEFAULT_TOLERANCE, t).is_ok());
}

#[test]
fn a_single_changed_byte_fails() {
    let t = 1_700_000_000;
    let header = sign_header(BODY, &secret(SECRET), t);
    let mut tampered = BODY.to_vec();
    let last = tampered.len() - 2;
    tampered[last] ^= 1;
    assert_eq!(
        verify(&tampered, &header, &one(SECRET), DEFAULT_TOLERANCE, t),
        Err(SignatureError::NoMatch)
    );
}

#[test]
fn a_verification_says_which_mode_signed() {
    let t = 1_700_000_000;
    let both = SigningSecrets::new(vec![secret(SECRET), live_secret(OTHER_SECRET)]);
    let by_live = sign_header(BODY, &live_secret(OTHER_SECRET), t);
    let ok = verify(BODY, &by_live, &both, DEFAULT_TOLERANCE, t).expect("live secret");
    assert_eq!((ok.secret_index, ok.mode), (1, Mode::Live));
    assert!(ok.allows(true) && !ok.allows(false), "only live events");
    let by_test = sign_header(BODY, &secret(SECRET), t);
    let ok = verify(BODY, &by_test, &both, DEFAULT_TOLERANCE, t).expect("test secret");
    assert_eq!(ok.mode, Mode::Test);
    assert!(ok.allows(false) && !ok.allows(true), "only test events");
    // One secret saved for both modes vouches for both.
    let same = SigningSecrets::new(vec![secret(SECRET), live_secret(SECRET)]);
    assert_eq!(same.len(), 2);
    let ok = verify(BODY, &by_test, &same, DEFAULT_TOLERANCE, t).expect("either");
    assert!(ok.allows(false) && ok.allows(true));
}
