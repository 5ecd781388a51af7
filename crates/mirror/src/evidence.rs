//! Dispute evidence facts, declared once: Stripe's evidence fields that fit digital goods,
//! the file rules of Stripe's Files API for `purpose=dispute_evidence`, the reusable texts
//! the owner keeps in settings, and plain-words guidance per dispute reason. The gateway,
//! the command line, the Stripe fake and (through the generated bindings) the UI read them
//! from here.

use serde::{Deserialize, Serialize};

/// How an evidence field is filled: typed text, or a file uploaded to Stripe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Text,
    File,
}

/// One of Stripe's `evidence[...]` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EvidenceField {
    /// Stripe's name, e.g. `customer_email_address`.
    pub name: &'static str,
    pub kind: EvidenceKind,
    /// The form's label, in the owner's words.
    pub label: &'static str,
}

const fn text(name: &'static str, label: &'static str) -> EvidenceField {
    EvidenceField {
        name,
        kind: EvidenceKind::Text,
        label,
    }
}

const fn file(name: &'static str, label: &'static str) -> EvidenceField {
    EvidenceField {
        name,
        kind: EvidenceKind::File,
        label,
    }
}

/// The evidence form: the fields of Stripe's dispute `evidence` hash that fit digital goods.
pub const EVIDENCE_FIELDS: [EvidenceField; 18] = [
    text("product_description", "What the customer bought"),
    text("customer_name", "Customer's name"),
    text("customer_email_address", "Customer's e-mail address"),
    text("customer_purchase_ip", "Customer's IP address at purchase"),
    text("billing_address", "Billing address"),
    text("service_date", "Date of purchase or delivery"),
    text(
        "access_activity_log",
        "Proof of use (delivery and activity)",
    ),
    text(
        "refund_policy_disclosure",
        "How the refund policy was shown",
    ),
    text(
        "refund_refusal_explanation",
        "Why the customer is not owed a refund",
    ),
    text(
        "cancellation_policy_disclosure",
        "How the cancellation terms were shown",
    ),
    text(
        "cancellation_rebuttal",
        "Why the subscription was not canceled",
    ),
    text("uncategorized_text", "Anything else"),
    file("receipt", "Receipt"),
    file("customer_communication", "Messages with the customer"),
    file("refund_policy", "Refund policy (document)"),
    file("cancellation_policy", "Cancellation policy (document)"),
    file("service_documentation", "Proof of delivery (document)"),
    file("uncategorized_file", "Other document"),
];

/// Every evidence field Stripe's API accepts (the form shows [`EVIDENCE_FIELDS`], a subset).
/// Anything else is refused by Stripe as an unknown parameter.
pub const STRIPE_EVIDENCE_FIELDS: [&str; 28] = [
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "enhanced_evidence",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
];

/// The field of the form named `name`.
pub fn evidence_field(name: &str) -> Option<EvidenceField> {
    EVIDENCE_FIELDS.iter().copied().find(|f| f.name == name)
}

/// True when Stripe's API knows `name` as an evidence field.
pub fn is_stripe_evidence_field(name: &str) -> bool {
    STRIPE_EVIDENCE_FIELDS.contains(&name)
}

/// Largest file the Files API accepts for `purpose=dispute_evidence` (5 MB).
pub const EVIDENCE_FILE_MAX_BYTES: u64 = 5 * 1024 * 1024;

/// Types the Files API accepts for `purpose=dispute_evidence`: (MIME type, file extensions).
pub const EVIDENCE_FILE_TYPES: [(&str, &[&str]); 3] = [
    ("application/pdf", &["pdf"]),
    ("image/jpeg", &["jpg", "jpeg"]),
    ("image/png", &["png"]),
];

/// Stripe's limit on all text evidence of one dispute together, in characters.
pub const EVIDENCE_TEXT_MAX_CHARS: usize = 150_000;

/// Stripe's free-text evidence fields, each up to [`EVIDENCE_LONG_TEXT_MAX_CHARS`]; every
/// other evidence field (a short text, or a file's id) is up to
/// [`EVIDENCE_SHORT_TEXT_MAX_CHARS`] (the `maxLength`s of Stripe's API spec).
pub const EVIDENCE_LONG_TEXT_FIELDS: [&str; 8] = [
    "access_activity_log",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "duplicate_charge_explanation",
    "product_description",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "uncategorized_text",
];
pub const EVIDENCE_LONG_TEXT_MAX_CHARS: usize = 20_000;
pub const EVIDENCE_SHORT_TEXT_MAX_CHARS: usize = 5_000;

/// The most characters Stripe takes in evidence field `name`.
pub fn evidence_max_chars(name: &str) -> usize {
    if EVIDENCE_LONG_TEXT_FIELDS.contains(&name) {
        EVIDENCE_LONG_TEXT_MAX_CHARS
    } else {
        EVIDENCE_SHORT_TEXT_MAX_CHARS
    }
}

/// The MIME type of an evidence file, from its content's signature (not its name); None
/// when it is not a PDF, JPEG or PNG.
pub fn evidence_file_mime(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

/// A text the owner writes once and reuses in every dispute, kept in the settings table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DisputeText {
    /// The store's refund policy.
    RefundPolicy,
    /// The store's terms of sale (cancellation terms for subscriptions).
    Terms,
    /// How the store delivers what was bought (e.g. "the rank is given in-game within a
    /// minute of payment").
    Delivery,
}

pub const DISPUTE_TEXTS: [DisputeText; 3] = [
    DisputeText::RefundPolicy,
    DisputeText::Terms,
    DisputeText::Delivery,
];

impl DisputeText {
    /// The settings key.
    pub fn setting_key(self) -> &'static str {
        match self {
            DisputeText::RefundPolicy => "dispute_text.refund_policy",
            DisputeText::Terms => "dispute_text.terms",
            DisputeText::Delivery => "dispute_text.delivery",
        }
    }
    pub fn parse(name: &str) -> Option<DisputeText> {
        match name {
            "refund_policy" => Some(DisputeText::RefundPolicy),
            "terms" => Some(DisputeText::Terms),
            "delivery" => Some(DisputeText::Delivery),
            _ => None,
        }
    }
    /// The name the settings show, in the owner's words.
    pub fn label(self) -> &'static str {
        match self {
            DisputeText::RefundPolicy => "Refund policy",
            DisputeText::Terms => "Terms of sale and cancellation",
            DisputeText::Delivery => "How the store delivers",
        }
    }
    /// The evidence field this text pre-fills.
    pub fn evidence_field(self) -> &'static str {
        match self {
            DisputeText::RefundPolicy => "refund_policy_disclosure",
            DisputeText::Terms => "cancellation_policy_disclosure",
            DisputeText::Delivery => "access_activity_log",
        }
    }
}

/// One dispute reason in plain words, with what helps to answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReasonGuidance {
    /// Stripe's `reason` code.
    pub code: &'static str,
    /// The reason in the owner's words.
    pub words: &'static str,
    /// What to send, in plain words.
    pub advice: &'static str,
    /// The evidence fields that matter most for this reason.
    pub key_fields: &'static [&'static str],
}

/// Stripe's dispute reasons (an open set: an unknown one gets [`GENERAL_GUIDANCE`]).
pub const REASONS: [ReasonGuidance; 14] = [
    ReasonGuidance {
        code: "fraudulent",
        words: "The cardholder says they did not make this purchase",
        advice: "Show that the cardholder did buy and use it: their name and e-mail, the player name the order was delivered to, their IP address, earlier orders they did not dispute, and a log of the delivery and of their activity since.",
        key_fields: &[
            "customer_name",
            "customer_email_address",
            "customer_purchase_ip",
            "access_activity_log",
            "uncategorized_text",
        ],
    },
    ReasonGuidance {
        code: "product_not_received",
        words: "The customer says they did not receive what they bought",
        advice: "Show that it was delivered: when and to which player or account, and any activity after delivery (logins, use of the rank or items).",
        key_fields: &[
            "product_description",
            "service_date",
            "access_activity_log",
            "service_documentation",
        ],
    },
    ReasonGuidance {
        code: "product_unacceptable",
        words: "The customer says what they bought was not as described",
        advice: "Show what the store page promised and what was delivered, that it matched, and your refund policy as the customer saw it.",
        key_fields: &[
            "product_description",
            "refund_policy_disclosure",
            "refund_refusal_explanation",
            "customer_communication",
        ],
    },
    ReasonGuidance {
        code: "subscription_canceled",
        words: "The customer says they canceled the subscription",
        advice: "Show the cancellation terms the customer agreed to and that they had not canceled before this renewal (or used the service after it).",
        key_fields: &[
            "cancellation_policy_disclosure",
            "cancellation_rebuttal",
            "access_activity_log",
            "cancellation_policy",
        ],
    },
    ReasonGuidance {
        code: "credit_not_processed",
        words: "The customer says a promised refund never arrived",
        advice: "Show that no refund was owed (your refund policy) or that the refund was made, and your messages with the customer.",
        key_fields: &[
            "refund_policy_disclosure",
            "refund_refusal_explanation",
            "customer_communication",
        ],
    },
    ReasonGuidance {
        code: "duplicate",
        words: "The customer says they were charged twice",
        advice: "Show that each payment was for a separate order, with what each one delivered.",
        key_fields: &["product_description", "uncategorized_text", "receipt"],
    },
    ReasonGuidance {
        code: "unrecognized",
        words: "The cardholder does not recognise the payment",
        advice: "Show who bought it and what: the receipt, the customer's name and e-mail, and the player it was delivered to.",
        key_fields: &[
            "customer_name",
            "customer_email_address",
            "receipt",
            "access_activity_log",
        ],
    },
    ReasonGuidance {
        code: "general",
        words: "The customer disputed the payment for another reason",
        advice: "Explain the purchase and its delivery, and attach the receipt and any messages with the customer.",
        key_fields: &["product_description", "receipt", "uncategorized_text"],
    },
    ReasonGuidance {
        code: "customer_initiated",
        words: "The customer asked their bank to reverse the payment",
        advice: "Explain the purchase and its delivery, and attach the receipt and any messages with the customer.",
        key_fields: &["product_description", "receipt", "customer_communication"],
    },
    ReasonGuidance {
        code: "bank_cannot_process",
        words: "The customer's bank could not process the payment",
        advice: "Show the purchase and that the payment was authorised (the receipt).",
        key_fields: &["receipt", "uncategorized_text"],
    },
    ReasonGuidance {
        code: "debit_not_authorized",
        words: "The account holder says they did not authorise the debit",
        advice: "Show that the account holder bought and used it, as for a fraud claim.",
        key_fields: &[
            "customer_name",
            "customer_email_address",
            "access_activity_log",
        ],
    },
    ReasonGuidance {
        code: "incorrect_account_details",
        words: "The payment went to or from wrong account details",
        advice: "Show the order and the payment details the customer entered (the receipt).",
        key_fields: &["receipt", "uncategorized_text"],
    },
    ReasonGuidance {
        code: "insufficient_funds",
        words: "The customer's account did not have enough money",
        advice: "Show the purchase and its delivery; the customer still owes the amount.",
        key_fields: &["product_description", "receipt"],
    },
    ReasonGuidance {
        code: "noncompliant",
        words: "The customer's bank says the payment broke network rules",
        advice: "Explain the purchase and attach the receipt.",
        key_fields: &["receipt", "uncategorized_text"],
    },
];

/// Guidance for a reason Stripe may add later.
pub const GENERAL_GUIDANCE: ReasonGuidance = ReasonGuidance {
    code: "",
    words: "The customer disputed the payment",
    advice: "Explain the purchase and its delivery, and attach the receipt and any messages with the customer.",
    key_fields: &["product_description", "receipt", "uncategorized_text"],
};

/// The guidance for Stripe's `reason` code.
pub fn reason_guidance(code: &str) -> ReasonGuidance {
    REASONS
        .iter()
        .copied()
        .find(|g| g.code == code)
        .unwrap_or(GENERAL_GUIDANCE)
}

/// `2026-05-01 14:03 UTC`: a time as evidence and the owner's terminal show it.
pub fn utc_text(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

/// True while Stripe takes evidence for a dispute in `status` (warning inquiries included).
pub fn accepts_evidence(status: &str) -> bool {
    crate::project::dispute::needs_response(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_field_is_one_stripe_knows_and_appears_once() {
        let mut seen = std::collections::BTreeSet::new();
        for f in EVIDENCE_FIELDS {
            assert!(is_stripe_evidence_field(f.name), "{}", f.name);
            assert!(seen.insert(f.name), "{} twice", f.name);
        }
        for g in REASONS {
            for k in g.key_fields {
                assert!(evidence_field(k).is_some(), "{} names {k}", g.code);
            }
        }
        assert!(!is_stripe_evidence_field("favourite_colour"));
    }

    #[test]
    fn file_types_are_read_from_the_content() {
        assert_eq!(evidence_file_mime(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(
            evidence_file_mime(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]),
            Some("image/png")
        );
        assert_eq!(evidence_file_mime(b"MZ\x90\0"), None);
        assert_eq!(reason_guidance("fraudulent").code, "fraudulent");
        assert_eq!(reason_guidance("brand_new_reason").code, "");
    }
}
