//! Property fuzzing of the Connect service's request parameters, which any browser or
//! process can send it: the token form (`POST /oauth/token`), the revoke form and the
//! authorize query, decoded with the same decoder the service uses. `scripts/fuzz --cases N`
//! runs these with N cases each; failures are kept in `fuzz.proptest-regressions` beside
//! this file.

use fluxstore_connect_api::{AuthorizeQuery, Mode, RevokeRequest, TokenRequest, WireSecret};
use fluxstore_test_support::fuzz::{DEFAULT_CASES, config};
use proptest::prelude::*;

fn opt() -> impl Strategy<Value = Option<String>> {
    prop::option::of(any::<String>())
}

proptest! {
    #![proptest_config(config(DEFAULT_CASES))]

    /// Any bytes are read as a request or refused, never a panic.
    #[test]
    fn any_bytes_decode_or_are_refused(bytes in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        "((grant_type|code|code_verifier|redirect_uri|client_id|state|mode|stripe_user_id)=[a-z%0-9+]{0,12}&?){0,8}"
            .prop_map(String::into_bytes),
    ]) {
        let _ = serde_urlencoded::from_bytes::<TokenRequest>(&bytes);
        let _ = serde_urlencoded::from_bytes::<RevokeRequest>(&bytes);
        if let Ok(q) = serde_urlencoded::from_bytes::<AuthorizeQuery>(&bytes) {
            // Only test, live or no mode at all is a mode.
            match (q.mode.as_deref(), q.requested_mode()) {
                (None, Ok(_)) | (Some("test"), Ok(Mode::Test)) | (Some("live"), Ok(Mode::Live)) => {}
                (Some(m), Err(_)) => prop_assert!(m != "test" && m != "live"),
                (m, r) => prop_assert!(false, "mode {:?} read as {:?}", m, r.ok()),
            }
        }
    }

    /// A token request the desktop sends, with any values, reaches the service as sent.
    #[test]
    fn a_token_request_round_trips(
        code in any::<String>(),
        verifier in any::<String>(),
        redirect in any::<String>(),
        client in any::<String>(),
    ) {
        let sent = TokenRequest::authorization_code(
            WireSecret::new(code.clone()),
            WireSecret::new(verifier.clone()),
            &redirect,
            &client,
        );
        let body = serde_urlencoded::to_string(&sent).expect("encodes");
        let got: TokenRequest = serde_urlencoded::from_str(&body).expect("decodes");
        prop_assert_eq!(got.grant_type, sent.grant_type);
        prop_assert_eq!(got.code.as_ref().map(WireSecret::expose), Some(code.as_str()));
        prop_assert_eq!(got.code_verifier.as_ref().map(WireSecret::expose), Some(verifier.as_str()));
        prop_assert_eq!(got.redirect_uri.as_deref(), Some(redirect.as_str()));
        prop_assert_eq!(got.client_id.as_deref(), Some(client.as_str()));
    }

    /// A parameter given twice is refused, never silently one of the two (which one was
    /// meant cannot be known, and a second `code` must not get a second try).
    #[test]
    fn a_repeated_parameter_is_refused(
        name in prop::sample::select(vec!["grant_type", "code", "code_verifier", "redirect_uri", "client_id"]),
        a in "[a-zA-Z0-9]{0,16}",
        b in "[a-zA-Z0-9]{0,16}",
        rest in prop::collection::vec(("[a-z]{1,8}", "[a-z0-9]{0,8}"), 0..3),
    ) {
        let mut pairs: Vec<(String, String)> = rest.into_iter().filter(|(k, _)| k != name).collect();
        pairs.insert(0, (name.to_owned(), a));
        pairs.push((name.to_owned(), b));
        let body = serde_urlencoded::to_string(&pairs).expect("encodes");
        prop_assert!(serde_urlencoded::from_str::<TokenRequest>(&body).is_err(), "{}", body);
    }

    /// The authorize query round-trips with any values.
    #[test]
    fn an_authorize_query_round_trips(
        response_type in opt(), client_id in opt(), redirect_uri in opt(), state in opt(),
        code_challenge in opt(), code_challenge_method in opt(), mode in opt(),
    ) {
        let sent = AuthorizeQuery {
            response_type, client_id, redirect_uri, state, code_challenge, code_challenge_method, mode,
        };
        let query = serde_urlencoded::to_string(&sent).expect("encodes");
        let got: AuthorizeQuery = serde_urlencoded::from_str(&query).expect("decodes");
        prop_assert_eq!(got, sent);
    }
}
