//! The header and body rules of the eHDSI HealthCare Encounter Report template
//! (`1.3.6.1.4.1.12559.11.10.1.3.1.1.4`), checked natively: the node carries no schematron
//! engine. Each rule is named by the template's element and cardinality as art-decor states
//! them, so a refusal says which rule the document broke. The art-decor set is the measure:
//! `tests/hcer.rs` runs it over the documents these rules accept.

use crate::xml::Element;

const HL7: &str = "urn:hl7-org:v3";
pub const HCER_TEMPLATE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.1.4";
pub const HCER_CODE: &str = "34133-9";
const LOINC: &str = "2.16.840.1.113883.6.1";
const CONFIDENTIALITY: &str = "2.16.840.1.113883.5.25";

/// One rule: its name (element and cardinality) and the test.
pub struct Rule {
    pub name: &'static str,
    holds: fn(&Element) -> bool,
}

fn kids<'a>(e: &'a Element, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
    e.children_named(HL7, name)
}

fn count(e: &Element, name: &str, pred: fn(&Element) -> bool) -> usize {
    kids(e, name).filter(|c| pred(c)).count()
}

fn one(e: &Element, name: &str, pred: fn(&Element) -> bool) -> bool {
    count(e, name, pred) == 1
}

fn not_null(e: &Element) -> bool {
    e.attr("nullFlavor").is_none()
}

fn any(_: &Element) -> bool {
    true
}

/// An HL7 TS: digits from the year on, and a zone offset once the time of day is given (the
/// eHDSI TZ rule).
fn ts_ok(v: &str) -> bool {
    let (stamp, zone) = match v.find(['+', '-']) {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    let digits = stamp.split('.').next().unwrap_or_default();
    let date_ok = digits.len() >= 4 && digits.bytes().all(|b| b.is_ascii_digit());
    let zone_ok = match zone {
        Some(z) => z.len() == 4 && z.bytes().all(|b| b.is_ascii_digit()),
        None => digits.len() <= 8,
    };
    date_ok && zone_ok
}

fn lang_ok(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5
        && b[..2].iter().all(u8::is_ascii_lowercase)
        && b[2] == b'-'
        && b[3..].iter().all(u8::is_ascii_uppercase)
}

fn has_id(e: &Element) -> bool {
    kids(e, "id").any(|i| not_null(i) && i.attr("root").is_some())
}

fn section_templates(body: &Element) -> Vec<Vec<&str>> {
    kids(body, "component")
        .filter_map(|c| c.child(HL7, "section"))
        .map(|s| {
            kids(s, "templateId")
                .filter_map(|t| t.attr("root"))
                .collect()
        })
        .collect()
}

/// The sections the template allows at most once, by their identifying templateIds.
const SINGLE_SECTIONS: [&[&str]; 6] = [
    &[
        "1.3.6.1.4.1.12559.11.10.1.3.1.2.3",
        "2.16.840.1.113883.10.20.1.8",
    ],
    &[
        "2.16.840.1.113883.10.20.1.2",
        "1.3.6.1.4.1.19376.1.5.3.1.3.13",
    ],
    &[
        "1.3.6.1.4.1.19376.1.5.3.1.3.6",
        "2.16.840.1.113883.10.20.1.11",
    ],
    &[
        "1.3.6.1.4.1.19376.1.5.3.1.3.23",
        "2.16.840.1.113883.10.20.1.6",
    ],
    &[
        "1.3.6.1.4.1.19376.1.5.3.1.1.5.3.2",
        "1.3.6.1.4.1.19376.1.5.3.1.3.25",
    ],
    &["1.3.6.1.4.1.12559.11.10.1.3.1.2.5"],
];

fn body(doc: &Element) -> Option<&Element> {
    doc.child(HL7, "component")
        .and_then(|c| c.child(HL7, "structuredBody"))
}

pub const RULES: &[Rule] = &[
    Rule {
        name: "hl7:realmCode [max 1x]",
        holds: |d| count(d, "realmCode", any) <= 1,
    },
    Rule {
        name: "hl7:typeId[@root='2.16.840.1.113883.1.3'][@extension='POCD_HD000040'] [1..1]",
        holds: |d| {
            one(d, "typeId", |t| {
                t.attr("root") == Some("2.16.840.1.113883.1.3")
                    && t.attr("extension") == Some("POCD_HD000040")
            }) && count(d, "typeId", any) == 1
        },
    },
    Rule {
        name: "hl7:templateId[@root='1.3.6.1.4.1.12559.11.10.1.3.1.1.4'] [1..1]",
        holds: |d| one(d, "templateId", |t| t.attr("root") == Some(HCER_TEMPLATE)),
    },
    Rule {
        name: "hl7:id[not(@nullFlavor)] [1..1]",
        holds: |d| one(d, "id", |i| not_null(i) && i.attr("root").is_some()),
    },
    Rule {
        name: "hl7:code[@code='34133-9'][@codeSystem='2.16.840.1.113883.6.1'] [1..1], with @displayName",
        holds: |d| {
            one(d, "code", |c| {
                c.attr("code") == Some(HCER_CODE)
                    && c.attr("codeSystem") == Some(LOINC)
                    && c.attr("displayName").is_some()
            }) && count(d, "code", any) == 1
        },
    },
    Rule {
        name: "hl7:title[not(@nullFlavor)] [1..1]",
        holds: |d| one(d, "title", |t| not_null(t) && !t.deep_text().trim().is_empty()),
    },
    Rule {
        name: "hl7:effectiveTime[not(@nullFlavor)] [1..1], a TS with a zone when it has a time",
        holds: |d| {
            one(d, "effectiveTime", |t| {
                not_null(t) && t.attr("value").is_some_and(ts_ok)
            })
        },
    },
    Rule {
        name: "hl7:confidentialityCode in eHDSIConfidentiality (1.3.6.1.4.1.12559.11.10.1.3.1.42.31) [1..1]",
        holds: |d| {
            one(d, "confidentialityCode", |c| {
                c.attr("nullFlavor").is_some()
                    || (matches!(c.attr("code"), Some("N" | "R" | "V"))
                        && c.attr("codeSystem") == Some(CONFIDENTIALITY))
            })
        },
    },
    Rule {
        name: "hl7:languageCode in eHDSILanguage, form nn-CC [1..1]",
        holds: |d| one(d, "languageCode", |l| l.attr("code").is_some_and(lang_ok)),
    },
    Rule {
        name: "hl7:setId [max 1x] and hl7:versionNumber [max 1x]",
        holds: |d| count(d, "setId", any) <= 1 && count(d, "versionNumber", any) <= 1,
    },
    Rule {
        name: "hl7:recordTarget[not(@nullFlavor)][hl7:patientRole] [1..1], the patient identified",
        holds: |d| {
            one(d, "recordTarget", |r| {
                not_null(r)
                    && r.child(HL7, "patientRole").is_some_and(|p| {
                        has_id(p) && p.child(HL7, "patient").is_some()
                    })
            }) && count(d, "recordTarget", any) == 1
        },
    },
    Rule {
        name: "hl7:author[hl7:assignedAuthor] [1..*], each with hl7:time and an identified author",
        holds: |d| {
            count(d, "author", any) >= 1
                && kids(d, "author").all(|a| {
                    a.child(HL7, "time").is_some()
                        && a.child(HL7, "assignedAuthor").is_some_and(has_id)
                })
        },
    },
    Rule {
        name: "hl7:custodian[not(@nullFlavor)][hl7:assignedCustodian] [1..1]",
        holds: |d| {
            one(d, "custodian", |c| {
                not_null(c)
                    && c.path(HL7, &["assignedCustodian", "representedCustodianOrganization"])
                        .is_some()
            }) && count(d, "custodian", any) == 1
        },
    },
    Rule {
        name: "hl7:legalAuthenticator[hl7:signatureCode[@code='S' or @nullFlavor]] [1..1]",
        holds: |d| {
            one(d, "legalAuthenticator", |l| {
                l.child(HL7, "signatureCode").is_some_and(|s| {
                    s.attr("code") == Some("S") || s.attr("nullFlavor").is_some()
                }) && l.child(HL7, "assignedEntity").is_some()
            }) && count(d, "legalAuthenticator", any) == 1
        },
    },
    Rule {
        name: "hl7:documentationOf[@typeCode='DOC'][hl7:serviceEvent[@classCode='PCPR'][@moodCode='EVN']] [1..1]",
        holds: |d| {
            one(d, "documentationOf", |x| {
                x.attr("typeCode").unwrap_or("DOC") == "DOC"
                    && x.child(HL7, "serviceEvent").is_some_and(|s| {
                        s.attr("classCode") == Some("PCPR")
                            && s.attr("moodCode").unwrap_or("EVN") == "EVN"
                    })
            })
        },
    },
    Rule {
        name: "hl7:relatedDocument[@typeCode='XFRM'][hl7:parentDocument] [1..1]",
        holds: |d| {
            one(d, "relatedDocument", |r| {
                not_null(r)
                    && r.attr("typeCode") == Some("XFRM")
                    && r.child(HL7, "parentDocument").is_some_and(has_id)
            }) && count(d, "relatedDocument", any) == 1
        },
    },
    Rule {
        name: "hl7:component[hl7:structuredBody] [1..1], classCode DOCBODY",
        holds: |d| {
            one(d, "component", |c| c.child(HL7, "structuredBody").is_some())
                && count(d, "component", any) == 1
                && body(d).is_some_and(|b| b.attr("classCode").unwrap_or("DOCBODY") == "DOCBODY")
        },
    },
    Rule {
        name: "hl7:structuredBody: at least one section, each eHDSI section kind [max 1x]",
        holds: |d| {
            let Some(b) = body(d) else { return false };
            let sections = section_templates(b);
            !sections.is_empty()
                && SINGLE_SECTIONS.iter().all(|kind| {
                    sections
                        .iter()
                        .filter(|s| kind.iter().all(|t| s.contains(t)))
                        .count()
                        <= 1
                })
        },
    },
];

/// The first rule `doc` breaks.
pub fn first_broken(doc: &Element) -> Option<&'static Rule> {
    RULES.iter().find(|r| !(r.holds)(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_languages() {
        assert!(ts_ok("20261115"));
        assert!(ts_ok("20261115143000+0100"));
        assert!(ts_ok("20261115143000.123-0500"));
        assert!(!ts_ok("20261115143000"), "a time without a zone");
        assert!(!ts_ok("2026-11-15"));
        assert!(!ts_ok("20261115+01"));
        assert!(lang_ok("es-ES") && lang_ok("nb-NO"));
        assert!(!lang_ok("es") && !lang_ok("ES-es") && !lang_ok("es_ES"));
    }
}
