//! ITI-55 Cross Gateway Patient Discovery, responding: which identifiers we answer for, and when
//! a patient in the index matches a query. No wire format and no storage here.

use crate::hl7v3::{FoundPatient, Ii, Issue, PatientQuery};
use crate::store::patients::PatientRow;
use std::collections::HashSet;

/// Fødselsnummer and D-nummer: the Norwegian person identifiers a foreign gateway may ask about.
use crate::ids::oid::{DNR, FNR};

/// XCPD error codes (code system 1.3.6.1.4.1.19376.1.2.27.3).
pub const ANSWER_NOT_AVAILABLE: &str = "AnswerNotAvailable";
pub const INTERNAL_ERROR: &str = "InternalError";
/// The code system of the error codes eHDSI adds to IHE's (InsufficientRights, PrivacyViolation,
/// AdditionalDemographicsRequested, ...).
pub const EHDSI_XCPD_ERROR_CODES: &str = "1.3.6.1.4.1.12559.11.10.1.3.2.2.1";
pub const INSUFFICIENT_RIGHTS: &str = "InsufficientRights";

/// `urn:oid:1.2.3` as `1.2.3` (HL7 v3 ids carry bare OIDs).
pub fn bare_oid(hcid: &str) -> &str {
    hcid.strip_prefix("urn:oid:").unwrap_or(hcid)
}

/// A livingSubjectId we can look up, with its key in the patient index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupKey {
    pub id: Ii,
    /// The CX form the index uses: `EXT^^^&ROOT&ISO`.
    pub cx: String,
}

/// Why the query's identifiers cannot be looked up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("only fødselsnummer ({FNR}) and D-nummer ({DNR}) livingSubjectId roots are supported")]
    Unsupported,
    #[error("the query names more than {MAX_KEYS} Norwegian identifiers")]
    TooMany,
}

/// One person has few Norwegian identifiers; a longer list is not a patient discovery.
pub const MAX_KEYS: usize = 8;

/// The Norwegian identifiers of the query, as index keys without repeats. Identifiers of other
/// authorities (the asking country's own id, say) are ignored as long as one Norwegian
/// identifier is present.
pub fn lookup_keys(q: &PatientQuery) -> Result<Vec<LookupKey>, KeyError> {
    let mut keys: Vec<LookupKey> = Vec::new();
    for id in q.ids.iter().filter(|id| id.root == FNR || id.root == DNR) {
        let Some(ext) = id.extension.as_deref() else {
            continue;
        };
        let cx = format!("{ext}^^^&{}&ISO", id.root);
        // An extension that breaks the CX form cannot be in the index.
        if crate::xds::cx::validate(&cx).is_err() || keys.iter().any(|k| k.cx == cx) {
            continue;
        }
        if keys.len() == MAX_KEYS {
            return Err(KeyError::TooMany);
        }
        keys.push(LookupKey { id: id.clone(), cx });
    }
    if keys.is_empty() {
        Err(KeyError::Unsupported)
    } else {
        Ok(keys)
    }
}

/// The answer to one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Match(FoundPatient),
    NoMatch,
    Error(Issue),
}

/// Decides from the index rows found for the query's keys. Demographics given in the query must
/// agree with what the index knows; an attribute the index lacks cannot disagree.
pub fn decide(q: &PatientQuery, found: &[PatientRow]) -> Decision {
    let agreeing: Vec<&PatientRow> = found.iter().filter(|r| agrees(q, r)).collect();
    let Some(first) = agreeing.first() else {
        return Decision::NoMatch;
    };
    // An fnr and a dnr may both be asked for; they must then be one person.
    if agreeing.iter().any(|r| !same_person(first, r)) {
        return Decision::Error(Issue::ihe(
            ANSWER_NOT_AVAILABLE,
            "the identifiers in the query belong to different patients".into(),
        ));
    }
    let ids = agreeing.iter().filter_map(|r| ii_of(&r.pid)).collect();
    Decision::Match(FoundPatient {
        ids,
        family: first.family.clone(),
        given: first.given.clone(),
        birth_time: first.birth_date.clone(),
        gender: first.gender.as_deref().map(|g| hl7_gender(g).to_string()),
    })
}

/// A match for a patient who refused the eHDSI exchange (any of the matched identifiers, as
/// `EXT^^^&ROOT&ISO`, in `refused`) is not given. The answer is the one OpenNCP, the eHDSI
/// reference gateway, gives when its consent check (`isConsentGiven`) fails for every match
/// (XCPDServiceImpl, khypponen/openncp): AE, no subject, and the detected issue
/// `InsufficientRights` of the eHDSI XCPD code system, eHDSI error 4703: a privacy policy of the
/// patient does not allow the operation. Only a caller who named a matching patient learns this.
pub fn withhold_refused(d: Decision, refused: &HashSet<String>) -> Decision {
    let Decision::Match(p) = &d else {
        return d;
    };
    let cx = |i: &Ii| {
        i.extension
            .as_ref()
            .map(|e| format!("{e}^^^&{}&ISO", i.root))
    };
    if p.ids.iter().filter_map(cx).any(|c| refused.contains(&c)) {
        return Decision::Error(Issue {
            code: INSUFFICIENT_RIGHTS,
            code_system: EHDSI_XCPD_ERROR_CODES,
            text: "(4703) the privacy policy the patient gave in Norway does not allow \
                   this operation"
                .into(),
        });
    }
    d
}

/// True when nothing the query states contradicts the row.
pub fn agrees(q: &PatientQuery, row: &PatientRow) -> bool {
    family_agrees(q, row.family.as_deref())
        && birth_agrees(&q.birth_times, row.birth_date.as_deref())
        && gender_agrees(&q.genders, row.gender.as_deref())
}

fn family_agrees(q: &PatientQuery, stored: Option<&str>) -> bool {
    let Some(stored) = stored.map(normalise).filter(|s| !s.is_empty()) else {
        return true;
    };
    let mut asked = q.names.iter().filter(|n| !n.family.is_empty()).peekable();
    if asked.peek().is_none() {
        return true;
    }
    // Any one name of the query may be the one we know; several family parts count as one
    // name ("Bakken Sørlie") or each on its own.
    asked.any(|n| {
        normalise(&n.family.join(" ")) == stored || n.family.iter().any(|f| normalise(f) == stored)
    })
}

/// Case-insensitive and blind to repeated whitespace.
fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn birth_agrees(asked: &[String], stored: Option<&str>) -> bool {
    let Some(stored) = stored else {
        return true;
    };
    if asked.is_empty() {
        return true;
    }
    asked.iter().any(|ts| {
        // A TS may carry a time; the index keeps the date. A year or month precision matches
        // every date inside it.
        let date: String = ts.chars().take(8).collect();
        date.len() >= 4 && date.bytes().all(|b| b.is_ascii_digit()) && stored.starts_with(&date)
    })
}

fn gender_agrees(asked: &[String], stored: Option<&str>) -> bool {
    let definite = |g: &str| matches!(g, "M" | "F");
    let Some(stored) = stored.filter(|g| definite(g)) else {
        return true;
    };
    let asked: Vec<&String> = asked.iter().filter(|g| definite(g)).collect();
    asked.is_empty() || asked.iter().any(|g| g.as_str() == stored)
}

fn same_person(a: &PatientRow, b: &PatientRow) -> bool {
    let differ = |x: &Option<String>, y: &Option<String>, f: fn(&str) -> String| match (x, y) {
        (Some(x), Some(y)) => f(x) != f(y),
        _ => false,
    };
    !differ(&a.family, &b.family, normalise)
        && !differ(&a.birth_date, &b.birth_date, str::to_string)
        && !differ(&a.gender, &b.gender, str::to_string)
}

/// The index's `EXT^^^&ROOT&ISO` as an II.
fn ii_of(pid: &str) -> Option<Ii> {
    let (ext, _) = pid.split_once("^^^")?;
    let root = crate::xds::cx::authority(pid)?;
    Some(Ii::new(root, Some(ext.to_string())))
}

/// The index keeps M, F, O, U; HL7 AdministrativeGender has M, F and UN.
fn hl7_gender(g: &str) -> &'static str {
    match g {
        "M" => "M",
        "F" => "F",
        _ => "UN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hl7v3::PersonName;

    fn query(ids: &[(&str, &str)]) -> PatientQuery {
        PatientQuery {
            ids: ids
                .iter()
                .map(|(r, e)| Ii::new(*r, Some(e.to_string())))
                .collect(),
            ..Default::default()
        }
    }

    fn row(pid: &str, family: &str, birth: &str, gender: &str) -> PatientRow {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        PatientRow {
            pid: pid.into(),
            family: opt(family),
            given: Some("Ingrid".into()),
            birth_date: opt(birth),
            gender: opt(gender),
            updated_at: 0,
        }
    }

    const PID: &str = "17037912345^^^&2.16.578.1.12.4.1.4.1&ISO";

    #[test]
    fn keys_only_for_norwegian_roots() {
        let q = query(&[
            ("1.2.752.129.2.1.3.1", "197903179988"),
            (FNR, "17037912345"),
            (DNR, "41037912345"),
        ]);
        let keys = lookup_keys(&q).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].cx, PID);
        assert_eq!(keys[1].cx, "41037912345^^^&2.16.578.1.12.4.1.4.2&ISO");
        assert_eq!(
            lookup_keys(&query(&[("1.2.752.129.2.1.3.1", "1")])),
            Err(KeyError::Unsupported)
        );
        // Repeats are one key; a flood of identifiers is refused.
        let twice = query(&[(FNR, "17037912345"), (FNR, "17037912345")]);
        assert_eq!(lookup_keys(&twice).unwrap().len(), 1);
        let numbers: Vec<String> = (0..=MAX_KEYS).map(|i| format!("1703791234{i}")).collect();
        let many: Vec<(&str, &str)> = numbers.iter().map(|n| (FNR, n.as_str())).collect();
        assert_eq!(lookup_keys(&query(&many)), Err(KeyError::TooMany));
        // An extension that would forge a different CX key is not looked up.
        assert!(lookup_keys(&query(&[(FNR, "1^^^&9.9&ISO")])).is_err());
    }

    #[test]
    fn id_alone_matches_and_maps_back() {
        let q = query(&[(FNR, "17037912345")]);
        let d = decide(&q, &[row(PID, "Bakken", "19790317", "F")]);
        let Decision::Match(p) = d else {
            panic!("{d:?}")
        };
        assert_eq!(p.ids, vec![Ii::new(FNR, Some("17037912345".into()))]);
        assert_eq!(p.family.as_deref(), Some("Bakken"));
        assert_eq!(p.gender.as_deref(), Some("F"));
        assert_eq!(decide(&q, &[]), Decision::NoMatch);
    }

    #[test]
    fn demographics_must_agree() {
        let stored = [row(PID, "Bakken", "19790317", "F")];
        let mut q = query(&[(FNR, "17037912345")]);
        q.names = vec![PersonName {
            family: vec!["BAKKEN".into()],
            given: vec!["Anything".into()],
        }];
        q.birth_times = vec!["197903171200".into()];
        q.genders = vec!["F".into()];
        assert!(matches!(decide(&q, &stored), Decision::Match(_)));
        q.birth_times = vec!["1979".into()];
        assert!(matches!(decide(&q, &stored), Decision::Match(_)));

        let mut wrong = q.clone();
        wrong.names[0].family = vec!["Hansen".into()];
        assert_eq!(decide(&wrong, &stored), Decision::NoMatch);
        let mut wrong = q.clone();
        wrong.birth_times = vec!["19800101".into()];
        assert_eq!(decide(&wrong, &stored), Decision::NoMatch);
        let mut wrong = q.clone();
        wrong.genders = vec!["M".into()];
        assert_eq!(decide(&wrong, &stored), Decision::NoMatch);
        let mut wrong = q.clone();
        wrong.birth_times = vec!["19".into()];
        assert_eq!(decide(&wrong, &stored), Decision::NoMatch);
    }

    #[test]
    fn unknown_attributes_do_not_contradict() {
        let mut q = query(&[(FNR, "17037912345")]);
        q.names = vec![PersonName {
            family: vec!["Bakken".into(), "Sørlie".into()],
            given: vec![],
        }];
        q.genders = vec!["UN".into()];
        assert!(matches!(
            decide(&q, &[row(PID, "", "", "U")]),
            Decision::Match(_)
        ));
        assert!(matches!(
            decide(&q, &[row(PID, "bakken  sørlie", "", "")]),
            Decision::Match(_)
        ));
        assert!(matches!(
            decide(&q, &[row(PID, "SØRLIE", "", "")]),
            Decision::Match(_)
        ));
    }

    #[test]
    fn a_refused_patient_is_withheld_with_insufficient_rights() {
        let q = query(&[(FNR, "17037912345")]);
        let d = decide(&q, &[row(PID, "Bakken", "19790317", "F")]);
        let refused = HashSet::from([PID.to_string()]);
        let Decision::Error(issue) = withhold_refused(d.clone(), &refused) else {
            panic!("a refused patient is not matched")
        };
        assert_eq!(
            (issue.code, issue.code_system),
            (INSUFFICIENT_RIGHTS, EHDSI_XCPD_ERROR_CODES)
        );
        assert_eq!(withhold_refused(d.clone(), &HashSet::new()), d);
        assert_eq!(
            withhold_refused(Decision::NoMatch, &refused),
            Decision::NoMatch
        );
    }

    #[test]
    fn two_identifiers_for_two_people_are_not_an_answer() {
        let q = query(&[(FNR, "17037912345"), (DNR, "41037912345")]);
        let dnr = "41037912345^^^&2.16.578.1.12.4.1.4.2&ISO";
        let same = [
            row(PID, "Bakken", "19790317", "F"),
            row(dnr, "Bakken", "19790317", "F"),
        ];
        let Decision::Match(p) = decide(&q, &same) else {
            panic!()
        };
        assert_eq!(p.ids.len(), 2);
        let different = [
            row(PID, "Bakken", "19790317", "F"),
            row(dnr, "Olsen", "19550101", "M"),
        ];
        assert!(matches!(decide(&q, &different), Decision::Error(_)));
    }
}
