//! XDS DTM values (YYYY[MM[DD[hh[mm[ss]]]]], UTC) normalised to comparable integers.

/// Pads a DTM to 14 digits with zeros: precision is kept as the lowest instant it covers.
pub fn dtm_to_i64(s: &str) -> Option<i64> {
    let s = s.trim();
    if !matches!(s.len(), 4 | 6 | 8 | 10 | 12 | 14) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut padded = String::with_capacity(14);
    padded.push_str(s);
    while padded.len() < 14 {
        padded.push('0');
    }
    let v: i64 = padded.parse().ok()?;
    let (mo, d, h, mi, se) = (
        (v / 100_000_000) % 100,
        (v / 1_000_000) % 100,
        (v / 10_000) % 100,
        (v / 100) % 100,
        v % 100,
    );
    let ok = mo <= 12 && d <= 31 && h <= 23 && mi <= 59 && se <= 60;
    ok.then_some(v)
}

/// The current time as a 14-digit DTM.
pub fn now_dtm() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(dtm_to_i64("2004"), Some(20040000000000));
        assert_eq!(dtm_to_i64("200412230800"), Some(20041223080000));
        assert_eq!(dtm_to_i64("20041"), None);
        assert_eq!(dtm_to_i64("2004x2"), None);
        assert_eq!(dtm_to_i64("20041323"), None);
        assert_eq!(now_dtm().len(), 14);
    }
}
