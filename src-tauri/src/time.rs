//! Dates in words for messages (the UI formats dates itself; this is for the few sentences
//! the shell writes).

/// `2026-11-26` for a unix time (UTC), without a date library: civil-from-days.
pub fn date_words(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::date_words;

    #[test]
    fn known_dates() {
        assert_eq!(date_words(0), "1970-01-01");
        assert_eq!(date_words(951_782_400), "2000-02-29");
        assert_eq!(date_words(1_795_651_200), "2026-11-26");
    }
}
