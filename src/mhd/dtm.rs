//! FHIR date/dateTime/instant values and XDS DTM (`YYYY[MM[DD[hh[mm[ss]]]]]`, UTC).

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// A FHIR date or dateTime as a DTM of the same precision, in UTC when it has a time.
pub fn to_dtm(v: &str) -> Option<String> {
    let v = v.trim();
    if v.len() > 10 {
        // A time needs a zone in FHIR; seconds are the finest XDS keeps.
        let t = OffsetDateTime::parse(v, &Rfc3339)
            .ok()?
            .to_offset(UtcOffset::UTC);
        return Some(format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ));
    }
    // YYYY, YYYY-MM or YYYY-MM-DD.
    let digits: String = v.chars().filter(|c| *c != '-').collect();
    let shape_ok = matches!(v.len(), 4 | 7 | 10)
        && digits.len() == v.len() - v.matches('-').count()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && v.bytes()
            .enumerate()
            .all(|(i, b)| (b == b'-') == (i == 4 || i == 7));
    shape_ok.then_some(digits)
}

/// A DTM as a FHIR dateTime: date precision stays a date, a time becomes UTC (`Z`).
pub fn from_dtm(d: &str) -> Option<String> {
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(match d.len() {
        4 => d.to_string(),
        6 => format!("{}-{}", &d[..4], &d[4..6]),
        8 => format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..8]),
        10 | 12 | 14 => {
            let p = format!("{d:0<14}");
            format!(
                "{}-{}-{}T{}:{}:{}Z",
                &p[..4],
                &p[4..6],
                &p[6..8],
                &p[8..10],
                &p[10..12],
                &p[12..14]
            )
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fhir_times_become_utc_dtms_and_back() {
        assert_eq!(
            to_dtm("2004-12-23T08:00:00+10:00").as_deref(),
            Some("20041222220000")
        );
        assert_eq!(to_dtm("2005-12-24").as_deref(), Some("20051224"));
        assert_eq!(to_dtm("2005").as_deref(), Some("2005"));
        assert_eq!(to_dtm("2005-1x").as_deref(), None);
        assert_eq!(to_dtm("24.12.2005"), None);
        assert_eq!(
            from_dtm("20041222220000").as_deref(),
            Some("2004-12-22T22:00:00Z")
        );
        assert_eq!(
            from_dtm("200412222200").as_deref(),
            Some("2004-12-22T22:00:00Z")
        );
        assert_eq!(from_dtm("20051224").as_deref(), Some("2005-12-24"));
        assert_eq!(from_dtm("2005x"), None);
    }
}
