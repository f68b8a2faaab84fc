//! The console's audit search: which patient was asked for, and the records that name them.

use crate::audit::store::{list, Filter};
use crate::audit::AuditRow;
use crate::ids::oid;
use crate::store::{DbConn, StoreError};

/// The newest records shown for one patient.
pub const SHOWN: i64 = 200;

/// Longer input is not an identifier.
const MAX_INPUT: usize = 200;

/// A patient as the operator asked, and the stored forms (CX) to look for.
#[derive(Debug, Clone, PartialEq)]
pub struct Patient {
    pub asked: String,
    pub ids: Vec<String>,
}

/// The `patient` parameter of the query string: None when there is none (or it is empty),
/// else the patient or why the input is not one.
pub fn asked(query: Option<&str>) -> Option<Result<Patient, String>> {
    let raw = query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "patient")
        .map(|(_, v)| v)?;
    let value = match form_decode(raw) {
        Some(v) => v.trim().to_string(),
        None => return Some(Err("the patient id is not valid form data".into())),
    };
    if value.is_empty() {
        return None;
    }
    Some(patient(&value))
}

fn patient(v: &str) -> Result<Patient, String> {
    if v.chars().count() > MAX_INPUT || v.chars().any(char::is_control) {
        return Err("that is not a patient id".into());
    }
    let ids = if v.len() == 11 && v.bytes().all(|b| b.is_ascii_digit()) {
        // A D-nummer is a fødselsnummer with 4 added to the first digit.
        let system = if v.as_bytes()[0] >= b'4' && v.as_bytes()[0] <= b'7' {
            oid::DNR
        } else {
            oid::FNR
        };
        vec![format!("{v}^^^&{system}&ISO")]
    } else if v.contains("^^^&") && v.ends_with("&ISO") {
        vec![v.to_string()]
    } else {
        return Err(
            "give an 11-digit fødselsnummer or D-nummer, or an id in CX form (ID^^^&OID&ISO)"
                .into(),
        );
    };
    Ok(Patient {
        asked: v.to_string(),
        ids,
    })
}

/// `application/x-www-form-urlencoded` value: `+` is a space, `%XX` a byte; None when the
/// escapes or the UTF-8 are broken.
fn form_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = (bytes.next()? as char).to_digit(16)?;
                let lo = (bytes.next()? as char).to_digit(16)?;
                out.push((hi * 16 + lo) as u8);
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

/// The newest records naming any of `ids`, newest first.
pub fn records(c: &mut DbConn, ids: &[String]) -> Result<Vec<AuditRow>, StoreError> {
    let mut rows = Vec::new();
    for id in ids {
        let f = Filter {
            patient: Some(id.clone()),
            limit: SHOWN,
            ..Filter::default()
        };
        rows.extend(list(c, &f)?.into_iter().map(|(r, _)| r));
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.seq));
    rows.dedup_by_key(|r| r.seq);
    rows.truncate(SHOWN as usize);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_number_becomes_the_stored_cx_form() {
        let p = asked(Some("patient=13116900216")).unwrap().unwrap();
        assert_eq!(p.ids, ["13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"]);
        let d = asked(Some("x=1&patient=+41018012345+")).unwrap().unwrap();
        assert_eq!(d.ids, ["41018012345^^^&2.16.578.1.12.4.1.4.2&ISO"]);
        let cx = asked(Some("patient=123%5E%5E%5E%262.16.578.1.12.4.1.4.1%26ISO"))
            .unwrap()
            .unwrap();
        assert_eq!(cx.ids, ["123^^^&2.16.578.1.12.4.1.4.1&ISO"]);
    }

    #[test]
    fn nothing_asked_and_bad_input_are_told_apart() {
        assert_eq!(asked(None), None);
        assert_eq!(asked(Some("patient=")), None);
        assert_eq!(asked(Some("refresh=1")), None);
        for bad in [
            "patient=%ZZ",
            "patient=%C3",
            "patient=Kari",
            "patient=1%0A2",
        ] {
            assert!(matches!(asked(Some(bad)), Some(Err(_))), "{bad}");
        }
        let long = format!("patient={}", "1".repeat(500));
        assert!(matches!(asked(Some(&long)), Some(Err(_))));
    }
}
