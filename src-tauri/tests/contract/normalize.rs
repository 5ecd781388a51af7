//! Normalization of a recorded transcript (mirrored exactly in the UI's `contract.test.ts`), so
//! that a transcript holds only what does not change from run to run:
//! - numbers under `created`, `updated` and any key ending in `_at` become 0 (clock);
//! - every `acct_…` id becomes `acct_<n>` and every `evt_…` id `evt_<n>`, numbered by first
//!   appearance (the fakes and the memory backend make them);
//! - the Connect service's address becomes `<connect-service>` and the hub's `<hub>` (a random
//!   port here, a fixed one there), and any other `127.0.0.1:<digits>` port (also URL-encoded, `127.0.0.1%3A<digits>`)
//!   becomes `<port>`;
//! - every `st_…` (a hub's store), `we_…` (a webhook endpoint) and `hsk_…` (a store key) id that
//!   starts a word becomes `<prefix><n>`, numbered by first appearance per prefix;
//! - a `pk_test_…`/`pk_live_…` key the scenario does not name (one Stripe issued with a Connect
//!   token) becomes `pk_test_<issued>`/`pk_live_<issued>`;
//! - the `state` and `code_challenge` values of a URL's query become `<random>` (PKCE);
//! - an account status keeps `account_id`, `mode` and `checked_at`; its other fields are the
//!   account's own facts at Stripe (a fake's business name and verification), not the shell's
//!   behaviour, so they become `"<stripe>"`. Whether and when a status is there is compared.
use serde_json::{Value, json};

/// Clock values: `created`, `updated` and every `…_at`.
fn is_time_key(key: &str) -> bool {
    key == "created" || key == "updated" || key.ends_with("_at")
}

/// What an account status keeps; the rest is the account's own data at Stripe.
const ACCOUNT_STATUS_KEEPS: [&str; 3] = ["account_id", "mode", "checked_at"];

/// Names given so far, so the same id gets the same placeholder throughout a transcript.
pub struct Names {
    /// The scenario's own text: a publishable key it names is an identity, kept as is.
    pub scenario: String,
    pub service: String,
    pub hub: Option<String>,
    pub accounts: Vec<String>,
    pub events: Vec<String>,
    /// Generated ids of [`GENERATED`] seen so far, as (prefix, id).
    pub generated: Vec<(String, String)>,
}

/// Generated ids numbered when they start a word.
const GENERATED: [&str; 3] = ["st_", "we_", "hsk_"];

pub fn normalize(v: &Value, names: &mut Names) -> Value {
    match v {
        Value::Object(o) => {
            let is_account_status =
                o.contains_key("business_name") && o.contains_key("requirements");
            Value::Object(
                o.iter()
                    .map(|(k, v)| {
                        let v = if is_time_key(k) && v.is_number() {
                            json!(0)
                        } else if is_account_status && !ACCOUNT_STATUS_KEEPS.contains(&k.as_str()) {
                            json!("<stripe>")
                        } else {
                            normalize(v, names)
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| normalize(v, names)).collect()),
        Value::String(s) => Value::String(normalize_text(s, names)),
        other => other.clone(),
    }
}

fn normalize_text(s: &str, names: &mut Names) -> String {
    // The longer address first: one may be the other's prefix (ports of different lengths).
    let mut addresses = vec![(names.service.as_str(), "<connect-service>")];
    if let Some(hub) = &names.hub {
        addresses.push((hub.as_str(), "<hub>"));
    }
    addresses.sort_by_key(|(a, _)| std::cmp::Reverse(a.len()));
    let mut text = s.to_owned();
    for (address, name) in addresses {
        text = text.replace(address, name);
    }
    for prefix in GENERATED {
        let seen = &mut names.generated;
        text = replace_words(&text, prefix, |id| {
            let mine = seen.iter().filter(|(p, _)| p == prefix);
            let n = match mine.clone().position(|(_, x)| x == id) {
                Some(i) => i + 1,
                None => {
                    let n = mine.count() + 1;
                    seen.push((prefix.to_owned(), id.to_owned()));
                    n
                }
            };
            format!("{prefix}<{n}>")
        });
    }
    for (prefix, seen) in [("acct_", &mut names.accounts), ("evt_", &mut names.events)] {
        text = replace_tokens(&text, prefix, |id| {
            let n = match seen.iter().position(|a| a == id) {
                Some(i) => i + 1,
                None => {
                    seen.push(id.to_owned());
                    seen.len()
                }
            };
            format!("{prefix}<{n}>")
        });
    }
    for host in ["127.0.0.1:", "127.0.0.1%3A"] {
        text = replace_tokens(&text, host, |port| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                format!("{host}<port>")
            } else {
                format!("{host}{port}")
            }
        });
    }
    for prefix in ["pk_test_", "pk_live_"] {
        text = replace_tokens(&text, prefix, |key| {
            if names.scenario.contains(&format!("{prefix}{key}")) {
                format!("{prefix}{key}")
            } else {
                format!("{prefix}<issued>")
            }
        });
    }
    for param in ["state", "code_challenge"] {
        text = replace_query_value(&text, param);
    }
    text
}

/// Replace every `prefix` + word (ASCII letters, digits and `_`) with `f(word)`.
fn replace_tokens(text: &str, prefix: &str, mut f: impl FnMut(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at]);
        let after = &rest[at + prefix.len()..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if end == 0 {
            out.push_str(prefix);
        } else {
            out.push_str(&f(&after[..end]));
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// [`replace_tokens`] where `prefix` starts a word (not preceded by a letter, digit or `_`).
fn replace_words(text: &str, prefix: &str, mut f: impl FnMut(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let starts_word = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        let after = &rest[at + prefix.len()..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        out.push_str(&rest[..at]);
        if starts_word && end > 0 {
            out.push_str(&f(&after[..end]));
        } else {
            out.push_str(prefix);
            out.push_str(&after[..end]);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// In a URL's query, `param=<value>` becomes `param=<random>`.
fn replace_query_value(text: &str, param: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    loop {
        let found = ["?", "&"]
            .iter()
            .filter_map(|sep| rest.find(&format!("{sep}{param}=")).map(|i| (i, sep.len())))
            .min();
        let Some((at, sep)) = found else { break };
        let value_start = at + sep + param.len() + 1;
        out.push_str(&rest[..value_start]);
        let after = &rest[value_start..];
        let end = after.find(['&', '#']).unwrap_or(after.len());
        out.push_str("<random>");
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}
