//! Property fuzzing of what the relay reads from the network before anything is trusted: the
//! `Stripe-Signature` header, the signature check over the raw body, and the secret lines of a
//! secret file. `scripts/fuzz --cases N` runs these with N cases each in release mode;
//! failures proptest finds are kept in `fuzz.proptest-regressions` beside this file.

use std::time::Duration;

use fluxstore_relay::signature::{
    SignatureError, compute_signature, parse_header, sign_header, verify,
};
use fluxstore_relay::{Mode, SigningSecret, SigningSecrets};
use fluxstore_test_support::fuzz::{DEFAULT_CASES, config};
use proptest::prelude::*;

const TOLERANCE: Duration = Duration::from_secs(300);

/// The one place these properties make a secret (its constructor is the relay's contract).
fn secret(text: &str) -> SigningSecret {
    SigningSecret::new(text, Mode::Test).expect("a valid generated secret")
}

fn secrets(texts: &[String]) -> SigningSecrets {
    SigningSecrets::new(texts.iter().map(|t| secret(t)).collect())
}

/// `whsec_` and 1..48 visible non-space ASCII characters, as the Dashboard's are (and more).
fn secret_text() -> impl Strategy<Value = String> {
    "[!-~]{1,48}".prop_map(|rest| format!("whsec_{rest}"))
}

/// Plausible Unix times, including far past and far future.
fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        1_500_000_000i64..2_100_000_000,
        0i64..=999_999_999_999_999_999
    ]
}

/// Header text that looks like Stripe's often enough to get past the first checks.
fn header_like() -> impl Strategy<Value = String> {
    let item = prop_oneof![
        "t=[0-9]{0,20}",
        "v1=[0-9a-f]{60,68}",
        "v0=[0-9a-f]{64}",
        "[a-z0-9]{0,3}=[ -~]{0,10}",
        "[ -~]{0,12}",
        Just(String::new()),
    ];
    prop::collection::vec(item, 0..6).prop_map(|items| items.join(","))
}

proptest! {
    #![proptest_config(config(DEFAULT_CASES))]

    /// Any header text is parsed or refused, never a panic; what parses holds a timestamp
    /// from a `t=` of digits and at least one 32-byte `v1` digest that was in the text.
    #[test]
    fn any_header_parses_or_is_refused(text in prop_oneof![header_like(), any::<String>()]) {
        if let Ok(parsed) = parse_header(&text) {
            prop_assert!(!parsed.v1.is_empty());
            prop_assert!(parsed.timestamp >= 0);
            prop_assert!(text.contains(&parsed.timestamp.to_string()));
            for digest in &parsed.v1 {
                prop_assert!(text.contains(&hex::encode(digest)));
            }
        }
    }

    /// Any header over any body with any secrets either verifies or names a reason; without
    /// the secret's own digest nothing verifies.
    #[test]
    fn an_unsigned_header_never_verifies(
        body in prop::collection::vec(any::<u8>(), 0..512),
        header in header_like(),
        keys in prop::collection::vec(secret_text(), 1..3),
        now in timestamp(),
    ) {
        let set = secrets(&keys);
        let result = verify(&body, &header, &set, TOLERANCE, now);
        let signed_by_a_key = parse_header(&header).is_ok_and(|p| {
            keys.iter().any(|k| p.v1.iter().any(|d| hex::encode(d) == compute_signature(&body, &secret(k), p.timestamp)))
        });
        prop_assert!(result.is_err() || signed_by_a_key);
    }

    /// A header made by `sign_header` round-trips through the parser and verifies over the
    /// same bytes with the secret that made it, wherever that secret sits in the set.
    #[test]
    fn a_signed_delivery_round_trips(
        body in prop::collection::vec(any::<u8>(), 0..2048),
        keys in prop::collection::vec(secret_text(), 1..4),
        pick in any::<prop::sample::Index>(),
        t in timestamp(),
        skew in -300i64..=300,
    ) {
        let index = pick.index(keys.len());
        let header = sign_header(&body, &secret(&keys[index]), t);
        let parsed = parse_header(&header).expect("our own header parses");
        prop_assert_eq!(parsed.timestamp, t);
        prop_assert_eq!(hex::encode(parsed.v1[0]), compute_signature(&body, &secret(&keys[index]), t));
        let ok = verify(&body, &header, &secrets(&keys), TOLERANCE, t + skew).expect("verifies");
        prop_assert_eq!(ok.timestamp, t);
        // The set drops repeated secrets, so the index is into the distinct ones.
        let mut distinct: Vec<&String> = Vec::new();
        for k in &keys {
            if !distinct.contains(&k) {
                distinct.push(k);
            }
        }
        prop_assert_eq!(distinct[ok.secret_index], &keys[index]);
    }

    /// Changing any one byte of a signed body, to any other value, breaks the signature.
    #[test]
    fn a_one_byte_change_to_the_body_never_verifies(
        body in prop::collection::vec(any::<u8>(), 1..2048),
        key in secret_text(),
        t in timestamp(),
        at in any::<prop::sample::Index>(),
        delta in 1u8..=255,
    ) {
        let header = sign_header(&body, &secret(&key), t);
        let mut altered = body.clone();
        let i = at.index(altered.len());
        altered[i] = altered[i].wrapping_add(delta);
        prop_assert_eq!(
            verify(&altered, &header, &secrets(&[key]), TOLERANCE, t),
            Err(SignatureError::NoMatch)
        );
    }

    /// Appending or removing bytes breaks it too (no prefix or extension acceptance).
    #[test]
    fn a_longer_or_shorter_body_never_verifies(
        body in prop::collection::vec(any::<u8>(), 1..1024),
        extra in prop::collection::vec(any::<u8>(), 1..16),
        key in secret_text(),
        t in timestamp(),
    ) {
        let header = sign_header(&body, &secret(&key), t);
        let set = secrets(&[key]);
        let mut longer = body.clone();
        longer.extend_from_slice(&extra);
        prop_assert_eq!(verify(&longer, &header, &set, TOLERANCE, t), Err(SignatureError::NoMatch));
        prop_assert_eq!(verify(&body[..body.len() - 1], &header, &set, TOLERANCE, t), Err(SignatureError::NoMatch));
    }

    /// Changing one hex digit of the digest, or the timestamp it signs, never verifies.
    #[test]
    fn a_one_character_change_to_the_header_never_verifies(
        body in prop::collection::vec(any::<u8>(), 0..512),
        key in secret_text(),
        t in 1_500_000_000i64..2_100_000_000,
        at in 0usize..64,
        shift in 1usize..16,
        dt in prop_oneof![-300i64..0, 1i64..=300],
    ) {
        let set = secrets(std::slice::from_ref(&key));
        let digest = compute_signature(&body, &secret(&key), t);
        let mut bytes = digest.clone().into_bytes();
        // Another hex digit in that place, never the same one.
        let hex = b"0123456789abcdef";
        let digit = hex.iter().position(|h| *h == bytes[at]).expect("a hex digit");
        bytes[at] = hex[(digit + shift) % 16];
        let altered = String::from_utf8(bytes).expect("hex");
        prop_assert_eq!(
            verify(&body, &format!("t={t},v1={altered}"), &set, TOLERANCE, t),
            Err(SignatureError::NoMatch)
        );
        // The same digest presented for another second (a replay with a fresh t=).
        prop_assert_eq!(
            verify(&body, &format!("t={},v1={digest}", t + dt), &set, TOLERANCE, t),
            Err(SignatureError::NoMatch)
        );
    }

    /// Another endpoint's secret never verifies, whatever it is.
    #[test]
    fn another_secret_never_verifies(
        body in prop::collection::vec(any::<u8>(), 0..512),
        ours in secret_text(),
        theirs in secret_text(),
        t in timestamp(),
    ) {
        prop_assume!(ours != theirs);
        let header = sign_header(&body, &secret(&theirs), t);
        prop_assert_eq!(
            verify(&body, &header, &secrets(&[ours]), TOLERANCE, t),
            Err(SignatureError::NoMatch)
        );
    }

    /// Stripe's header may carry more than the one good digest: other `v1` values (rotation),
    /// `v0`, unknown schemes, spaces, empty items. The good digest still verifies; order does
    /// not matter.
    #[test]
    fn the_good_digest_verifies_among_noise(
        body in prop::collection::vec(any::<u8>(), 0..512),
        key in secret_text(),
        t in 1_500_000_000i64..2_100_000_000,
        noise in prop::collection::vec(prop_oneof![
            "v1=[0-9a-f]{64}", "v0=[0-9a-f]{64}", "x[a-z0-9]{0,4}=[!-+--~]{0,12}", Just(String::new()), Just(" ".to_owned())
        ], 0..6),
        at in any::<prop::sample::Index>(),
    ) {
        let good = format!(" v1={} ", compute_signature(&body, &secret(&key), t));
        let mut items = noise;
        items.push(format!("t={t}"));
        let i = at.index(items.len() + 1);
        items.insert(i, good);
        let header = items.join(",");
        let ok = verify(&body, &header, &secrets(&[key]), TOLERANCE, t);
        prop_assert!(ok.is_ok(), "{header}: {ok:?}");
    }

    /// A correctly signed delivery whose timestamp lies beyond the tolerance (either way) is
    /// refused as such; at or within the edge it is accepted.
    #[test]
    fn the_tolerance_is_exact_both_ways(
        body in prop::collection::vec(any::<u8>(), 0..256),
        key in secret_text(),
        t in 1_500_000_000i64..2_100_000_000,
        tolerance in 0u64..3_600,
        beyond in 1i64..1_000_000,
        future in any::<bool>(),
    ) {
        let header = sign_header(&body, &secret(&key), t);
        let set = secrets(&[key]);
        let tol = Duration::from_secs(tolerance);
        let edge = tolerance as i64;
        let sign = if future { -1 } else { 1 };
        prop_assert!(verify(&body, &header, &set, tol, t + sign * edge).is_ok());
        let refused = verify(&body, &header, &set, tol, t + sign * (edge + beyond));
        let outside = matches!(refused, Err(SignatureError::OutsideTolerance { .. }));
        prop_assert!(outside, "{:?}", refused);
    }

    /// A secret file's text is loaded or refused with a line number; a refusal never
    /// contains the text of a secret.
    #[test]
    fn a_secret_file_is_loaded_or_refused_without_echo(
        lines in prop::collection::vec(prop_oneof![
            secret_text(),
            secret_text().prop_map(|s| format!("test {s}")),
            secret_text().prop_map(|s| format!("live {s}")),
            "[ -~]{0,40}", Just("# a comment".to_owned()), Just(String::new())
        ], 0..6),
        bare_mode in prop::option::of(prop_oneof![Just(Mode::Test), Just(Mode::Live)]),
    ) {
        let text = lines.join("\n");
        match SigningSecrets::parse(&text, bare_mode) {
            Ok(set) => prop_assert!(set.len() <= lines.len()),
            Err(e) => {
                let message = format!("{e} {e:?}");
                for line in lines.iter() {
                    let Some(at) = line.find("whsec_") else { continue };
                    let secret = &line[at + 6..];
                    if secret.len() > 14 {
                        prop_assert!(!message.contains(secret), "{message}");
                    }
                }
            }
        }
    }
}

/// Send `request` on a fresh connection, close the sending half (so an incomplete request
/// ends now rather than at the header timeout), and read the status (0: closed unanswered).
fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("hang guard");
    // The relay may answer and close before reading everything: a failed write is fine.
    let _ = stream.write_all(request);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    crate::support::parse_response(&answer).0
}

/// A request as any program on the network can send it: arbitrary bytes, or a POST to the
/// webhook path with arbitrary headers (a `Stripe-Signature` among them) and body.
fn hostile_request() -> impl Strategy<Value = Vec<u8>> {
    let post = (
        prop::collection::vec("[A-Za-z-]{1,16}: [ -~]{0,40}", 0..5),
        prop_oneof![header_like(), any::<String>().prop_map(|s| s.replace(['\r', '\n'], ""))],
        prop::collection::vec(any::<u8>(), 0..600),
        0usize..700,
    )
        .prop_map(|(headers, signature, body, declared)| {
            let mut r = format!(
                "POST /api/webhooks/stripe HTTP/1.1\r\nHost: relay\r\nStripe-Signature: {signature}\r\nContent-Length: {declared}\r\n"
            );
            for h in headers {
                r.push_str(&h);
                r.push_str("\r\n");
            }
            r.push_str("\r\n");
            let mut bytes = r.into_bytes();
            bytes.extend_from_slice(&body);
            bytes
        });
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..1024),
        "[A-Z]{1,7} /[ -~]{0,40} HTTP/1\\.[01]\r\n([A-Za-z-]{1,12}: [ -~]{0,20}\r\n){0,4}\r\n"
            .prop_map(String::into_bytes),
        post,
    ]
}

/// Any request a stranger can send over TCP gets an answer other than 2xx (or none), and
/// stores nothing; the relay still answers afterwards. Each case is a real connection to a
/// relay on 127.0.0.1: a thousandth of a campaign's cases.
#[test]
fn no_request_without_the_secret_is_acknowledged_or_stored() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let relay = runtime.block_on(crate::support::TestRelay::start());
    let addr = relay.addr;
    let config = proptest::test_runner::Config {
        // Where failures are kept (the proptest! macro says this itself).
        source_file: Some(file!()),
        ..fluxstore_test_support::fuzz::config_scaled(200, 1_000)
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    runner
        .run(&hostile_request(), |request| {
            let status = exchange(addr, &request);
            prop_assert!(!(200..300).contains(&status), "answered {}", status);
            Ok(())
        })
        .expect("no stranger's request is acknowledged");
    assert!(relay.events().is_empty(), "nothing was stored");
    // Asked as an ordinary client asks (no half-close: the relay, like most servers, may end
    // a connection whose client has shut its sending side before the answer is written).
    let (health, _) = crate::support::raw_http(
        addr,
        b"GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(health, 200, "the relay still answers");
    drop(relay);
}
