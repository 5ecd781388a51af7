//! The account status the app shows: whether the Stripe account can take payments and pay
//! out, and what Stripe still asks for. Read from the `accounts` projection, so it is the
//! status of the newest account event the mirror holds (fetched or delivered), offline too.

use serde::{Deserialize, Serialize};

use crate::Mode;

/// One Stripe account's readiness in one mode, as of its newest `account.updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccountStatus {
    /// `acct_…`.
    pub account_id: String,
    /// The name the owner gave the business (`business_profile.name`, else the Dashboard's
    /// display name, else the company name).
    pub business_name: Option<String>,
    pub mode: Mode,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub details_submitted: bool,
    pub requirements: AccountRequirements,
    /// `created` of the event the status was read from: when Stripe said so.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub checked_at: i64,
}

/// What Stripe still asks the owner for (names as Stripe spells them, e.g.
/// `external_account`, `individual.verification.document`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "Requirements"))]
pub struct AccountRequirements {
    pub currently_due: Vec<String>,
    pub past_due: Vec<String>,
    pub eventually_due: Vec<String>,
    /// Why charges or payouts are disabled; an open set of Stripe's strings, e.g.
    /// `requirements.past_due`, `under_review`, `rejected.fraud`.
    pub disabled_reason: Option<String>,
}

impl AccountStatus {
    /// Both charges and payouts work: the account can take real orders.
    pub fn is_ready(&self) -> bool {
        self.charges_enabled && self.payouts_enabled
    }
}
