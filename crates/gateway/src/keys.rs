//! Validation of the keys a store owner pastes from the Stripe Dashboard.
//!
//! Invariant: nothing here ever puts the pasted value (or a part of it) into an error; the
//! errors name the field and say what was found in words an owner understands. Surrounding
//! whitespace (a copied newline) is trimmed; whitespace inside a key is an error.

use fluxstore_mirror::Mode;

use crate::secret::Secret;

/// Which input field a value came from, for the error wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Publishable,
    Secret,
    WebhookSecret,
}

impl Field {
    fn label(self) -> &'static str {
        match self {
            Field::Publishable => "publishable key",
            Field::Secret => "secret key",
            Field::WebhookSecret => "webhook signing secret",
        }
    }
}

/// What a pasted value looks like, judged by its prefix alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyShape {
    Publishable(Mode),
    Secret(Mode),
    Restricted(Mode),
    WebhookSecret,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("The {} is empty. Copy it from the Stripe Dashboard (Developers → API keys).", .0.label())]
    Empty(Field),
    #[error(
        "That is a secret key, not a publishable key. The publishable key starts with pk_test_ or pk_live_; keep the secret key for the secret key field."
    )]
    SecretInPublishableField,
    #[error(
        "That is a publishable key (pk_…), which cannot act on your account. Paste the secret key (sk_…) or, better, a restricted key (rk_…) here."
    )]
    PublishableInSecretField,
    #[error(
        "That is a webhook signing secret (whsec_…). Paste it in the webhook signing secret field; this field needs a secret key (sk_…) or restricted key (rk_…)."
    )]
    WebhookSecretInKeyField,
    #[error(
        "That is an API key, not a webhook signing secret. The signing secret starts with whsec_ and is shown on the webhook endpoint's page in the Stripe Dashboard (Developers → Webhooks)."
    )]
    KeyAsWebhookSecret,
    #[error("The {} does not look like a Stripe key: {}", .field.label(), .expected)]
    UnknownPrefix {
        field: Field,
        expected: &'static str,
    },
    #[error("The {} contains spaces or characters Stripe keys never have. Copy it again with the Dashboard's copy button.", .0.label())]
    BadCharacters(Field),
    #[error("The {} is too short; it was probably cut off while copying. Copy it again.", .0.label())]
    TooShort(Field),
    #[error("The publishable key is a {publishable} mode key but the secret key is a {secret} mode key. Use both keys from the same mode (the Dashboard's Test mode switch).", publishable = .publishable.as_str(), secret = .secret.as_str())]
    ModeMismatch { publishable: Mode, secret: Mode },
}

/// Judge a value by its prefix (after trimming).
pub fn shape_of(input: &str) -> KeyShape {
    let v = input.trim();
    let mode = |rest: &str| {
        if rest.starts_with("test_") {
            Some(Mode::Test)
        } else if rest.starts_with("live_") {
            Some(Mode::Live)
        } else {
            None
        }
    };
    if let Some(rest) = v.strip_prefix("pk_") {
        return mode(rest).map_or(KeyShape::Unknown, KeyShape::Publishable);
    }
    if let Some(rest) = v.strip_prefix("sk_") {
        return mode(rest).map_or(KeyShape::Unknown, KeyShape::Secret);
    }
    if let Some(rest) = v.strip_prefix("rk_") {
        return mode(rest).map_or(KeyShape::Unknown, KeyShape::Restricted);
    }
    if v.starts_with("whsec_") {
        return KeyShape::WebhookSecret;
    }
    KeyShape::Unknown
}

/// Shortest body after the prefix we accept: real keys are far longer; anything shorter
/// was cut off while copying.
const MIN_BODY: usize = 8;

fn check_body(field: Field, value: &str, prefix_len: usize) -> Result<(), KeyError> {
    if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(KeyError::BadCharacters(field));
    }
    if value.len() < prefix_len + MIN_BODY {
        return Err(KeyError::TooShort(field));
    }
    Ok(())
}

/// A publishable key. Not a secret (it is embedded in checkout pages), kept as plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishableKey {
    value: String,
    mode: Mode,
}

impl PublishableKey {
    pub fn parse(input: &str) -> Result<PublishableKey, KeyError> {
        let field = Field::Publishable;
        let v = input.trim();
        if v.is_empty() {
            return Err(KeyError::Empty(field));
        }
        match shape_of(v) {
            KeyShape::Publishable(mode) => {
                check_body(field, v, "pk_test_".len())?;
                Ok(PublishableKey {
                    value: v.to_owned(),
                    mode,
                })
            }
            KeyShape::Secret(_) | KeyShape::Restricted(_) => {
                Err(KeyError::SecretInPublishableField)
            }
            KeyShape::WebhookSecret => Err(KeyError::UnknownPrefix {
                field,
                expected: "that is a webhook signing secret (whsec_…); the publishable key starts with pk_test_ or pk_live_.",
            }),
            KeyShape::Unknown => Err(KeyError::UnknownPrefix {
                field,
                expected: "it should start with pk_test_ or pk_live_.",
            }),
        }
    }
    pub fn as_str(&self) -> &str {
        &self.value
    }
    pub fn mode(&self) -> Mode {
        self.mode
    }
}

/// A secret (`sk_`) or restricted (`rk_`) key: what the app authenticates with.
#[derive(Debug, Clone)]
pub struct ApiKey {
    secret: Secret,
    mode: Mode,
    restricted: bool,
}

impl ApiKey {
    pub fn parse(input: &str) -> Result<ApiKey, KeyError> {
        let field = Field::Secret;
        let v = input.trim();
        if v.is_empty() {
            return Err(KeyError::Empty(field));
        }
        let (mode, restricted) = match shape_of(v) {
            KeyShape::Secret(m) => (m, false),
            KeyShape::Restricted(m) => (m, true),
            KeyShape::Publishable(_) => return Err(KeyError::PublishableInSecretField),
            KeyShape::WebhookSecret => return Err(KeyError::WebhookSecretInKeyField),
            KeyShape::Unknown => {
                return Err(KeyError::UnknownPrefix {
                    field,
                    expected: "it should start with sk_test_, sk_live_, rk_test_ or rk_live_.",
                });
            }
        };
        check_body(field, v, "sk_test_".len())?;
        Ok(ApiKey {
            secret: Secret::new(v),
            mode,
            restricted,
        })
    }
    pub fn secret(&self) -> &Secret {
        &self.secret
    }
    pub fn mode(&self) -> Mode {
        self.mode
    }
    /// A restricted key (`rk_`): the recommended kind, limited to the permissions granted.
    pub fn is_restricted(&self) -> bool {
        self.restricted
    }
}

/// A webhook endpoint's signing secret (`whsec_…`).
#[derive(Debug, Clone)]
pub struct WebhookSecret(Secret);

impl WebhookSecret {
    pub fn parse(input: &str) -> Result<WebhookSecret, KeyError> {
        let field = Field::WebhookSecret;
        let v = input.trim();
        if v.is_empty() {
            return Err(KeyError::Empty(field));
        }
        match shape_of(v) {
            KeyShape::WebhookSecret => {
                check_body(field, v, "whsec_".len())?;
                Ok(WebhookSecret(Secret::new(v)))
            }
            KeyShape::Secret(_) | KeyShape::Restricted(_) | KeyShape::Publishable(_) => {
                Err(KeyError::KeyAsWebhookSecret)
            }
            KeyShape::Unknown => Err(KeyError::UnknownPrefix {
                field,
                expected: "it should start with whsec_.",
            }),
        }
    }
    pub fn secret(&self) -> &Secret {
        &self.0
    }
}

/// The manual-keys form, validated as a whole.
#[derive(Debug, Clone)]
pub struct ManualKeys {
    pub publishable: Option<PublishableKey>,
    pub api_key: ApiKey,
    pub webhook_secret: Option<WebhookSecret>,
}

impl ManualKeys {
    /// Validate each field, then that the keys agree on the mode. Empty optional fields are
    /// treated as absent.
    pub fn parse(
        publishable: Option<&str>,
        api_key: &str,
        webhook_secret: Option<&str>,
    ) -> Result<ManualKeys, KeyError> {
        let publishable = match publishable.map(str::trim).filter(|s| !s.is_empty()) {
            Some(p) => Some(PublishableKey::parse(p)?),
            None => None,
        };
        let api_key = ApiKey::parse(api_key)?;
        if let Some(p) = &publishable
            && p.mode() != api_key.mode()
        {
            return Err(KeyError::ModeMismatch {
                publishable: p.mode(),
                secret: api_key.mode(),
            });
        }
        let webhook_secret = match webhook_secret.map(str::trim).filter(|s| !s.is_empty()) {
            Some(w) => Some(WebhookSecret::parse(w)?),
            None => None,
        };
        Ok(ManualKeys {
            publishable,
            api_key,
            webhook_secret,
        })
    }

    /// Test or live, derived from the keys (they agree, see [`ManualKeys::parse`]).
    pub fn mode(&self) -> Mode {
        self.api_key.mode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SK_TEST: &str = "sk_test_51Habcdefghijklmnop";
    const SK_LIVE: &str = "sk_live_51Habcdefghijklmnop";
    const RK_LIVE: &str = "rk_live_51Habcdefghijklmnop";
    const PK_TEST: &str = "pk_test_51Habcdefghijklmnop";
    const PK_LIVE: &str = "pk_live_51Habcdefghijklmnop";
    const WHSEC: &str = "whsec_abcdefghijklmnop";

    #[test]
    fn accepts_each_kind_and_derives_the_mode() {
        let k = ManualKeys::parse(Some(PK_TEST), &format!("  {SK_TEST}\n"), Some(WHSEC)).unwrap();
        assert_eq!(k.mode(), Mode::Test);
        assert_eq!(
            k.api_key.secret().expose(),
            SK_TEST,
            "surrounding whitespace trimmed"
        );
        assert!(!k.api_key.is_restricted());
        let r = ManualKeys::parse(Some(PK_LIVE), RK_LIVE, None).unwrap();
        assert_eq!(r.mode(), Mode::Live);
        assert!(r.api_key.is_restricted());
        assert!(
            ManualKeys::parse(None, SK_LIVE, Some(""))
                .unwrap()
                .webhook_secret
                .is_none()
        );
    }

    #[test]
    fn mode_mismatch_is_refused() {
        let e = ManualKeys::parse(Some(PK_TEST), SK_LIVE, None).unwrap_err();
        assert_eq!(
            e,
            KeyError::ModeMismatch {
                publishable: Mode::Test,
                secret: Mode::Live
            }
        );
        assert!(e.to_string().contains("same mode"));
    }

    #[test]
    fn keys_in_the_wrong_field_are_recognised() {
        assert_eq!(
            PublishableKey::parse(SK_TEST).unwrap_err(),
            KeyError::SecretInPublishableField
        );
        assert_eq!(
            ApiKey::parse(PK_TEST).unwrap_err(),
            KeyError::PublishableInSecretField
        );
        assert_eq!(
            ApiKey::parse(WHSEC).unwrap_err(),
            KeyError::WebhookSecretInKeyField
        );
        assert_eq!(
            WebhookSecret::parse(SK_LIVE).unwrap_err(),
            KeyError::KeyAsWebhookSecret
        );
        assert_eq!(
            WebhookSecret::parse(RK_LIVE).unwrap_err(),
            KeyError::KeyAsWebhookSecret
        );
    }

    #[test]
    fn malformed_values_are_explained_without_echoing_them() {
        let cases = [
            ("", KeyError::Empty(Field::Secret)),
            ("sk_test_abc", KeyError::TooShort(Field::Secret)),
            (
                "sk_test_abc defghijklm",
                KeyError::BadCharacters(Field::Secret),
            ),
            (
                "sk_prod_abcdefghijklm",
                KeyError::UnknownPrefix {
                    field: Field::Secret,
                    expected: "it should start with sk_test_, sk_live_, rk_test_ or rk_live_.",
                },
            ),
            (
                "hello_world_secretvalue",
                KeyError::UnknownPrefix {
                    field: Field::Secret,
                    expected: "it should start with sk_test_, sk_live_, rk_test_ or rk_live_.",
                },
            ),
        ];
        for (input, want) in cases {
            let got = ApiKey::parse(input).unwrap_err();
            assert_eq!(got, want, "{input:?}");
            if !input.is_empty() {
                assert!(
                    !got.to_string().contains(input.trim()),
                    "message echoes the input"
                );
                assert!(!got.to_string().contains("abcdefghijklm"));
            }
        }
        assert_eq!(
            WebhookSecret::parse("whsec_").unwrap_err(),
            KeyError::TooShort(Field::WebhookSecret)
        );
    }

    #[test]
    fn api_key_debug_is_redacted() {
        let k = ApiKey::parse(SK_TEST).unwrap();
        assert!(!format!("{k:?}").contains("51Habc"));
    }
}
