//! PS entries for problems (and past illnesses), procedures, devices and immunizations.

use serde_json::Value;

use super::section::{ivl, period_of, Detail, Entry, CERTAINTY_CODE};
use crate::translate::cda;
use crate::translate::coded::Src;
use crate::translate::fhir::{cc_code, cc_text, codings, human_date, str_at, ts};
use crate::translate::terminology::vs;

/// eHDSIBodySite: where a vaccine was given.
const BODY_SITE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.65";

const SEVERITY: Detail = Detail {
    rel: ("SUBJ", Some("true")),
    templates: &[
        "1.3.6.1.4.1.19376.1.5.3.1.4.1",
        "2.16.840.1.113883.10.20.1.55",
    ],
    code: ("SEV", "2.16.840.1.113883.5.4", "Severity"),
    value: ("CD", vs::SEVERITY),
    part: "severity",
};

const CERTAINTY: Detail = Detail {
    rel: ("SUBJ", Some("true")),
    templates: &["1.3.6.1.4.1.12559.11.10.1.3.1.3.40"],
    code: CERTAINTY_CODE,
    value: ("CD", "1.3.6.1.4.1.12559.11.10.1.3.1.42.64"),
    part: "certainty",
};

/// A Condition as a problem concern (3.15) holding the problem observation (3.7).
pub fn problem(e: &mut Entry, r: &Value) -> bool {
    let what = cc_text(r.get("code")).unwrap_or_else(|| "problem".into());
    let (onset, end) = period_of(r, "onset");
    let end = end.or(period_of(r, "abatement").0);
    let mut line = what.clone();
    if let Some(o) = onset {
        line.push_str(&format!(", since {}", human_date(o)));
    }
    if let Some(e) = end {
        line.push_str(&format!(", until {}", human_date(e)));
    }
    if let Some(s) = cc_text(r.get("severity")) {
        line.push_str(&format!(" ({s})"));
    }
    let id = e.sec.narrative_line(&line);
    let clinical = cc_code(r.get("clinicalStatus"));
    let done = matches!(clinical, Some("inactive" | "resolved" | "remission")) || end.is_some();
    e.open_concern(
        &[
            "1.3.6.1.4.1.12559.11.10.1.3.1.3.15",
            "2.16.840.1.113883.10.20.1.27",
        ],
        Some(&id),
        if done { "completed" } else { "active" },
    );
    ivl(&mut e.w, "effectiveTime", onset, end, false);
    e.open_subject("1.3.6.1.4.1.12559.11.10.1.3.1.3.7", e.n * 100 + 1);
    let src = [Src::new(vs::SNOMED, "55607006", Some("Problem"))];
    e.cd(
        "code",
        &[],
        "1.3.6.1.4.1.12559.11.10.1.3.1.42.23",
        &src,
        None,
        "code",
    );
    e.text_ref(&id);
    e.completed();
    ivl(&mut e.w, "effectiveTime", onset, end, false);
    let src = codings(e.cx.term, r.get("code"));
    e.value_cd(vs::ILLNESS, &src, Some(&what), "value");
    if let Some(sev) = r.get("severity") {
        let src = codings(e.cx.term, Some(sev));
        e.detail(&SEVERITY, None, &src);
    }
    let verif = codings(e.cx.term, r.get("verificationStatus"));
    if !verif.is_empty() {
        e.detail(&CERTAINTY, None, &verif);
    }
    cda::close_observation(&mut e.w);
    e.w.close("act");
    true
}

/// A Procedure (3.26).
pub fn procedure(e: &mut Entry, r: &Value) -> bool {
    let what = cc_text(r.get("code")).unwrap_or_else(|| "procedure".into());
    let (start, end) = period_of(r, "performed");
    let mut line = what.clone();
    if let Some(s) = start {
        line.push_str(&format!(", {}", human_date(s)));
    }
    let id = e.sec.narrative_line(&line);
    let proc = [("classCode", "PROC"), ("moodCode", "EVN")];
    e.open_act(
        "procedure",
        &proc,
        &["1.3.6.1.4.1.12559.11.10.1.3.1.3.26"],
        e.n,
    );
    e.code(vs::PROCEDURE, r.get("code"), Some(&what), "code");
    e.text_ref(&id);
    e.completed();
    ivl(&mut e.w, "effectiveTime", start, end, false);
    e.w.close("procedure");
    true
}

/// A DeviceUseStatement as a medical device supply (3.5).
pub fn device(e: &mut Entry, r: &Value) -> bool {
    let dev = r.get("device").and_then(|d| e.bundle.resolve(d));
    let cc = dev.and_then(|d| d.get("type"));
    let what = cc_text(cc).unwrap_or_else(|| "device".into());
    let (start, end) = period_of(r, "timing");
    let start = start.or_else(|| str_at(r, "recordedOn"));
    let id = e.sec.narrative_line(&what);
    let supply = [("classCode", "SPLY"), ("moodCode", "EVN")];
    e.open_act(
        "supply",
        &supply,
        &["1.3.6.1.4.1.12559.11.10.1.3.1.3.5"],
        e.n,
    );
    e.text_ref(&id);
    ivl(&mut e.w, "effectiveTime", start, end, true);
    e.w.open("participant", &[("typeCode", "DEV")]);
    e.w.open("participantRole", &[("classCode", "MANU")]);
    e.w.open(
        "playingDevice",
        &[("classCode", "DEV"), ("determinerCode", "INSTANCE")],
    );
    e.code(vs::MEDICAL_DEVICE, cc, Some(&what), "device");
    e.w.close("playingDevice");
    e.w.close("participantRole");
    e.w.close("participant");
    e.w.close("supply");
    true
}

/// An Immunization (3.19) with its vaccine as the consumable (3.18).
pub fn immunization(e: &mut Entry, r: &Value) -> bool {
    let what = cc_text(r.get("vaccineCode")).unwrap_or_else(|| "vaccine".into());
    let when = str_at(r, "occurrenceDateTime");
    let mut line = what.clone();
    if let Some(d) = when {
        line.push_str(&format!(", {}", human_date(d)));
    }
    if let Some(l) = str_at(r, "lotNumber") {
        line.push_str(&format!(", lot {l}"));
    }
    let id = e.sec.narrative_line(&line);
    let given = [
        ("classCode", "SBADM"),
        ("moodCode", "EVN"),
        ("negationInd", "false"),
    ];
    let templates = [
        "1.3.6.1.4.1.12559.11.10.1.3.1.3.19",
        "1.3.6.1.4.1.19376.1.5.3.1.4.12",
        "2.16.840.1.113883.10.20.1.24",
    ];
    e.open_act("substanceAdministration", &given, &templates, e.n);
    cda::code(
        &mut e.w,
        "IMMUNIZ",
        "1.3.5.1.4.1.19376.1.5.3.2",
        "Immunization",
    );
    e.text_ref(&id);
    e.completed();
    cda::time_or_unk(&mut e.w, "effectiveTime", when.and_then(ts).as_deref());
    // (element, FHIR field, value set, name in warnings)
    for (elem, field, set, part) in [
        ("routeCode", "route", vs::ROUTE, "routeCode"),
        ("approachSiteCode", "site", BODY_SITE, "site"),
    ] {
        if let Some(cc) = r.get(field) {
            let src = codings(e.cx.term, Some(cc));
            e.cd(elem, &[], set, &src, cc_text(Some(cc)).as_deref(), part);
        }
    }
    e.w.open("consumable", &[("typeCode", "CSM")]);
    e.w.open("manufacturedProduct", &[]);
    e.w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.18");
    e.w.template("2.16.840.1.113883.10.20.1.53");
    e.w.open("manufacturedMaterial", &[]);
    e.code(vs::VACCINE, r.get("vaccineCode"), Some(&what), "vaccine");
    e.w.leaf("name", &[], &what);
    if let Some(l) = str_at(r, "lotNumber") {
        e.w.leaf("lotNumberText", &[], l);
    }
    e.w.close("manufacturedMaterial");
    e.w.close("manufacturedProduct");
    e.w.close("consumable");
    e.w.close("substanceAdministration");
    true
}
