//! Stripe's form encoding: `application/x-www-form-urlencoded` with bracket nesting
//! (`enabled_events[]=a&enabled_events[]=b`, `metadata[k]=v`, `created[gt]=1`).
//!
//! Invariant: pairs keep their insertion order, so the same call always encodes to the
//! same bytes (the idempotency replay at Stripe compares parameters).

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn new() -> Form {
        Form::default()
    }
    /// `key=value`.
    pub fn push(&mut self, key: &str, value: impl ToString) -> &mut Form {
        self.pairs.push((key.to_owned(), value.to_string()));
        self
    }
    /// `key=value` when `value` is Some.
    pub fn push_opt(&mut self, key: &str, value: Option<impl ToString>) -> &mut Form {
        if let Some(v) = value {
            self.push(key, v);
        }
        self
    }
    /// `key[]=v` for each value (an array parameter).
    pub fn push_list<I, V>(&mut self, key: &str, values: I) -> &mut Form
    where
        I: IntoIterator<Item = V>,
        V: ToString,
    {
        for v in values {
            self.pairs.push((format!("{key}[]"), v.to_string()));
        }
        self
    }
    /// `key[sub]=value` (a hash parameter such as `metadata` or `created`).
    pub fn push_nested(&mut self, key: &str, sub: &str, value: impl ToString) -> &mut Form {
        self.pairs
            .push((format!("{key}[{sub}]"), value.to_string()));
        self
    }
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
    /// The percent-encoded body or query string.
    pub fn encode(&self) -> String {
        // Encoding a slice of string pairs cannot fail.
        serde_urlencoded::to_string(&self.pairs).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_arrays_and_hashes_with_brackets() {
        let mut f = Form::new();
        f.push("url", "https://shop.example/api/webhooks/stripe")
            .push_list("enabled_events", ["charge.refunded", "invoice.paid"])
            .push_nested("metadata", "order", "A 1")
            .push_opt("amount", None::<i64>)
            .push_opt("reason", Some("duplicate"));
        assert_eq!(
            f.encode(),
            "url=https%3A%2F%2Fshop.example%2Fapi%2Fwebhooks%2Fstripe\
             &enabled_events%5B%5D=charge.refunded&enabled_events%5B%5D=invoice.paid\
             &metadata%5Border%5D=A+1&reason=duplicate"
        );
    }
}
