//! Read calls: the account's readiness and lookups of a FluxStore order's objects.
//!
//! Invariant: lookups by id pass the privacy guard first (see `guard`).

use serde::Serialize;
use serde_json::Value;

use crate::client::{Call, StripeClient};
use crate::error::GatewayError;

/// The account's readiness (product page R12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountStatus {
    pub id: String,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub details_submitted: bool,
    pub requirements: Requirements,
    pub country: Option<String>,
    pub default_currency: Option<String>,
    pub business_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Requirements {
    pub currently_due: Vec<String>,
    pub eventually_due: Vec<String>,
    pub past_due: Vec<String>,
    pub pending_verification: Vec<String>,
    /// Open set of Stripe's strings, e.g. `requirements.past_due`, `under_review`.
    pub disabled_reason: Option<String>,
    pub current_deadline: Option<i64>,
}

impl AccountStatus {
    /// Both charges and payouts work: the account can take real orders.
    pub fn is_ready(&self) -> bool {
        self.charges_enabled && self.payouts_enabled
    }

    pub fn from_json(v: &Value) -> Result<AccountStatus, GatewayError> {
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let b = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
        let list = |r: &Value, k: &str| -> Vec<String> {
            r.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let id = s(v, "id")
            .ok_or_else(|| GatewayError::UnexpectedResponse("the account has no id".to_owned()))?;
        let r = v.get("requirements").cloned().unwrap_or(Value::Null);
        Ok(AccountStatus {
            id,
            charges_enabled: b("charges_enabled"),
            payouts_enabled: b("payouts_enabled"),
            details_submitted: b("details_submitted"),
            requirements: Requirements {
                currently_due: list(&r, "currently_due"),
                eventually_due: list(&r, "eventually_due"),
                past_due: list(&r, "past_due"),
                pending_verification: list(&r, "pending_verification"),
                disabled_reason: s(&r, "disabled_reason"),
                current_deadline: r.get("current_deadline").and_then(Value::as_i64),
            },
            country: s(v, "country"),
            default_currency: s(v, "default_currency"),
            // The name the owner gave, wherever this account keeps it (as the mirror reads it).
            business_name: [
                v.pointer("/business_profile/name"),
                v.pointer("/settings/dashboard/display_name"),
                v.pointer("/company/name"),
            ]
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::trim)
            .find(|n| !n.is_empty())
            .map(str::to_owned),
        })
    }
}

impl StripeClient {
    /// `GET /v1/account`: the account the key or token belongs to, recorded in the mirror
    /// as it is fetched (see [`StripeClient::refresh_account`]).
    pub async fn account(&self) -> Result<AccountStatus, GatewayError> {
        Ok(self.refresh_account().await?.status)
    }

    /// `GET /v1/charges/{id}` of a charge that belongs to a FluxStore order.
    pub async fn charge(&self, id: &str) -> Result<Value, GatewayError> {
        self.guard_payment(id)?;
        if !id.starts_with("ch_") && !id.starts_with("py_") {
            return Err(GatewayError::BadId(id.to_owned()));
        }
        self.send(Call::get(format!("/v1/charges/{id}")).object(id))
            .await
    }

    /// `GET /v1/payment_intents/{id}` of a payment that belongs to a FluxStore order.
    pub async fn payment_intent(&self, id: &str) -> Result<Value, GatewayError> {
        self.guard_payment(id)?;
        if !id.starts_with("pi_") {
            return Err(GatewayError::BadId(id.to_owned()));
        }
        self.send(Call::get(format!("/v1/payment_intents/{id}")).object(id))
            .await
    }

    /// `GET /v1/disputes/{id}` of a dispute the mirror holds.
    pub async fn dispute(&self, id: &str) -> Result<Value, GatewayError> {
        self.guard_dispute(id)?;
        self.send(Call::get(format!("/v1/disputes/{id}")).object(id))
            .await
    }
}
