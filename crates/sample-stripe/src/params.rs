//! Request parameters as Stripe reads them, and Stripe's error object.
//!
//! Parameters arrive form-encoded (body for POST, query for GET) with bracket nesting.
//! Every endpoint declares the names it knows; anything else is a 400
//! `invalid_request_error` naming the `param`, as Stripe answers.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Value, json};

/// A Stripe-shaped failure: status plus the `error` object.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
    pub should_retry: Option<bool>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: json!({"error": {"type": kind, "message": message.into()}}),
            should_retry: None,
        }
    }
    pub fn invalid(message: impl Into<String>, param: &str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message).param(param)
    }
    pub fn param(mut self, param: &str) -> ApiError {
        self.body["error"]["param"] = json!(param);
        self
    }
    pub fn code(mut self, code: &str) -> ApiError {
        self.body["error"]["code"] = json!(code);
        self.body["error"]["doc_url"] = json!(format!(
            "https://docs.stripe.com/error-codes/{}",
            code.replace('_', "-")
        ));
        self
    }
    pub fn missing(id: &str, what: &str, param: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("No such {what}: '{id}'"),
        )
        .param(param)
        .code("resource_missing")
    }
}

/// Parsed parameters: scalars, arrays (`k[]`) and hashes (`k[sub]`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Params {
    pub scalars: BTreeMap<String, String>,
    pub arrays: BTreeMap<String, Vec<String>>,
    pub hashes: BTreeMap<String, BTreeMap<String, String>>,
    /// The decoded pairs in arrival order (the idempotency fingerprint).
    pub pairs: Vec<(String, String)>,
}

impl Params {
    pub fn parse(encoded: &str) -> Result<Params, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(encoded)
            .map_err(|_| ApiError::invalid("Invalid request: the body is not form-encoded", ""))?;
        let mut p = Params {
            pairs: pairs.clone(),
            ..Params::default()
        };
        for (k, v) in pairs {
            if let Some(name) = k.strip_suffix("[]") {
                p.arrays.entry(name.to_owned()).or_default().push(v);
            } else if let Some((name, rest)) = k.split_once('[') {
                let sub = rest
                    .strip_suffix(']')
                    .ok_or_else(|| ApiError::invalid(format!("Invalid parameter name: {k}"), &k))?;
                // Stripe also accepts arrays as `k[0]=…`.
                if sub.chars().all(|c| c.is_ascii_digit()) && !sub.is_empty() {
                    p.arrays.entry(name.to_owned()).or_default().push(v);
                } else {
                    p.hashes
                        .entry(name.to_owned())
                        .or_default()
                        .insert(sub.to_owned(), v);
                }
            } else if p.scalars.insert(k.clone(), v).is_some() {
                return Err(ApiError::invalid(
                    format!("Received the parameter {k} more than once"),
                    &k,
                ));
            }
        }
        Ok(p)
    }

    /// Refuse any parameter not in `known` (names without brackets).
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        let names = self
            .scalars
            .keys()
            .chain(self.arrays.keys())
            .chain(self.hashes.keys());
        for n in names {
            if !known.contains(&n.as_str()) {
                return Err(ApiError::invalid(
                    format!("Received unknown parameter: {n}"),
                    n,
                ));
            }
        }
        Ok(())
    }

    pub fn str(&self, k: &str) -> Option<&str> {
        self.scalars.get(k).map(String::as_str)
    }

    pub fn required(&self, k: &str) -> Result<&str, ApiError> {
        match self.str(k) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ApiError::invalid(
                format!("Missing required param: {k}."),
                k,
            )),
        }
    }

    pub fn int(&self, k: &str) -> Result<Option<i64>, ApiError> {
        match self.str(k) {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::invalid(format!("Invalid integer: {v}"), k)),
        }
    }

    pub fn bool(&self, k: &str) -> Result<Option<bool>, ApiError> {
        match self.str(k) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::invalid(format!("Invalid boolean: {v}"), k)),
        }
    }

    pub fn one_of(&self, k: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        match self.str(k) {
            None => Ok(None),
            Some(v) if allowed.contains(&v) => Ok(Some(v.to_owned())),
            Some(v) => Err(ApiError::invalid(
                format!("Invalid {k}: must be one of {}", allowed.join(", "))
                    + &format!(" (got {v})"),
                k,
            )),
        }
    }

    /// The multiset of pairs, order-free: Stripe compares parameters, not their order.
    pub fn fingerprint(&self) -> Vec<(String, String)> {
        let mut f = self.pairs.clone();
        f.sort();
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_brackets_and_refuses_unknown_names() {
        let p = Params::parse(
            "url=https%3A%2F%2Fx&enabled_events%5B%5D=a&enabled_events%5B%5D=b&metadata%5Bk%5D=v",
        )
        .unwrap();
        assert_eq!(p.arrays["enabled_events"], vec!["a", "b"]);
        assert_eq!(p.hashes["metadata"]["k"], "v");
        assert!(p.only(&["url", "enabled_events", "metadata"]).is_ok());
        let e = p.only(&["url"]).unwrap_err();
        assert_eq!(e.body["error"]["param"], "enabled_events");
    }
}
