//! Money at the edge: integer minor units rendered with the currency's own exponent
//! (Stripe's zero-decimal and three-decimal currencies, from the mirror's facts), grouped by
//! thousands.

use crate::facts::major_units;

/// `2500, "usd"` → `25.00 USD`; `2500, "jpy"` → `2,500 JPY`; `5120, "kwd"` → `5.120 KWD`.
pub fn format(amount: i64, currency: &str) -> String {
    let plain = major_units(amount, currency);
    let (sign, unsigned) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain.as_str()),
    };
    let (whole, frac) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let code = currency.to_ascii_uppercase();
    let whole = group(whole);
    match frac {
        Some(f) => format!("{sign}{whole}.{f} {code}"),
        None => format!("{sign}{whole} {code}"),
    }
}

fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn exponents_follow_stripe() {
        assert_eq!(format(2500, "usd"), "25.00 USD");
        assert_eq!(format(5, "eur"), "0.05 EUR");
        assert_eq!(format(2500, "jpy"), "2,500 JPY");
        assert_eq!(format(1_234_567, "KRW"), "1,234,567 KRW");
        assert_eq!(format(5120, "kwd"), "5.120 KWD");
        assert_eq!(format(70, "bhd"), "0.070 BHD");
        assert_eq!(format(123_456_789, "usd"), "1,234,567.89 USD");
        assert_eq!(format(-1050, "gbp"), "-10.50 GBP");
        assert_eq!(format(0, "jpy"), "0 JPY");
    }
}
