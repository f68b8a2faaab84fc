//! PS social history observations (3.23) and vital signs (3.21 organizer with 3.22 blood pressure
//! observations). PS binds these codes tightly (eHDSISocialHistory, eHDSIBloodPressure, no
//! nullFlavor), so an observation outside them stays in the narrative with a warning.

use serde_json::Value;

use super::section::Entry;
use crate::ids::oid;
use crate::translate::cda::{self, fmt_num};
use crate::translate::coded::{translation, write_as_sent};
use crate::translate::fhir::{arr, cc_text, codings, effective, human_date, str_at, ts, unit_text};
use crate::translate::terminology::vs;
use crate::translate::WarningKind;

/// eHDSIBloodPressure
const BLOOD_PRESSURE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.21";

const OBS: &[(&str, &str)] = &[("classCode", "OBS"), ("moodCode", "EVN")];

/// Social history observation (3.23) and the templates it builds on.
const SOCIAL_TEMPLATES: &[&str] = &[
    "1.3.6.1.4.1.12559.11.10.1.3.1.3.23",
    "1.3.6.1.4.1.12559.11.10.1.3.1.3.20",
    "1.3.6.1.4.1.19376.1.5.3.1.4.13",
    "1.3.6.1.4.1.19376.1.5.3.1.4.13.4",
    "2.16.840.1.113883.10.20.1.33",
];

/// Vital signs organizer (3.21) and the templates it builds on.
const VITAL_SIGNS_TEMPLATES: &[&str] = &[
    "1.3.6.1.4.1.12559.11.10.1.3.1.3.21",
    "1.3.6.1.4.1.19376.1.5.3.1.4.13.1",
    "2.16.840.1.113883.10.20.1.32",
    "2.16.840.1.113883.10.20.1.35",
];

/// Blood pressure observation (3.22) and the templates it builds on.
const BLOOD_PRESSURE_TEMPLATES: &[&str] = &[
    "1.3.6.1.4.1.12559.11.10.1.3.1.3.22",
    "1.3.6.1.4.1.12559.11.10.1.3.1.3.20",
    "1.3.6.1.4.1.19376.1.5.3.1.4.13",
    "1.3.6.1.4.1.19376.1.5.3.1.4.13.2",
    "2.16.840.1.113883.10.20.1.31",
];

/// value[x] as narrative text; unlike [`crate::translate::fhir::value_text`] a Quantity without
/// a value still shows its unit, and a CodeableConcept without text falls back to valueString.
fn value_text(r: &Value) -> String {
    match r.get("valueQuantity") {
        Some(q) => {
            let v = q.get("value").and_then(Value::as_f64);
            format!("{} {}", v.map(fmt_num).unwrap_or_default(), unit_text(q))
        }
        None => cc_text(r.get("valueCodeableConcept"))
            .or_else(|| str_at(r, "valueString").map(str::to_string))
            .unwrap_or_default(),
    }
}

/// The observation's value as sent (PQ, CD or ST).
fn value(e: &mut Entry, r: &Value) {
    if let Some(q) = r.get("valueQuantity") {
        if let Some(v) = q.get("value").and_then(Value::as_f64) {
            let unit = str_at(q, "code").unwrap_or("1");
            cda::pq(&mut e.w, "value", &fmt_num(v), unit);
            return;
        }
    }
    if let Some(cc) = r.get("valueCodeableConcept") {
        let src = codings(e.cx.term, Some(cc));
        if src.first().is_some_and(|f| f.system.is_some()) {
            write_as_sent(
                &mut e.w,
                "value",
                &[("xsi:type", "CD")],
                &src,
                0,
                None,
                false,
            );
            return;
        }
    }
    match str_at(r, "valueString")
        .map(str::to_string)
        .or_else(|| cc_text(r.get("valueCodeableConcept")))
    {
        Some(s) => e.w.leaf("value", &[("xsi:type", "ST")], &s),
        None => {
            e.w.empty("value", &[("xsi:type", "ST"), ("nullFlavor", "NI")])
        }
    }
}

/// Social history observation; false when its code has no eHDSISocialHistory concept.
pub fn social(e: &mut Entry, r: &Value) -> bool {
    let src = codings(e.cx.term, r.get("code"));
    let term = e.cx.term;
    let bound = src.iter().any(|s| {
        s.system.as_deref().is_some_and(|sys| {
            term.lookup(vs::SOCIAL_HISTORY, sys, &s.code).is_some()
                || term.transcode(sys, &s.code, vs::SOCIAL_HISTORY).is_some()
        })
    });
    if !bound {
        return false;
    }
    let what = cc_text(r.get("code")).unwrap_or_else(|| "social history".into());
    let mut line = format!("{what}: {}", value_text(r));
    if let Some(d) = effective(r) {
        line.push_str(&format!(" ({})", human_date(d)));
    }
    let id = e.sec.narrative_line(&line);
    e.open_act("observation", OBS, SOCIAL_TEMPLATES, e.n);
    e.cd("code", &[], vs::SOCIAL_HISTORY, &src, Some(&what), "code");
    e.text_ref(&id);
    e.completed();
    e.w.open("effectiveTime", &[]);
    cda::time_or_unk(&mut e.w, "low", effective(r).and_then(ts).as_deref());
    e.w.close("effectiveTime");
    value(e, r);
    e.w.close("observation");
    true
}

/// Vital signs: a blood pressure panel (its components 8480-6/8462-4) or a lone systolic/diastolic
/// reading becomes a vital signs organizer; false for other vital signs.
pub fn vital(e: &mut Entry, r: &Value) -> bool {
    let term = e.cx.term;
    let is_bp = |cc: Option<&Value>| {
        codings(term, cc).iter().any(|s| {
            s.system.as_deref() == Some(oid::LOINC)
                && term.lookup(BLOOD_PRESSURE, oid::LOINC, &s.code).is_some()
        })
    };
    let comps: Vec<&Value> = arr(r, "component")
        .iter()
        .filter(|c| is_bp(c.get("code")))
        .collect();
    let single = comps.is_empty() && is_bp(r.get("code"));
    if comps.is_empty() && !single {
        return false;
    }
    let parts: Vec<&Value> = if single { vec![r] } else { comps };
    let t = effective(r).and_then(ts);
    let title = cc_text(r.get("code")).unwrap_or_else(|| "Blood pressure".into());
    let vals: Vec<String> = parts
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                cc_text(p.get("code")).unwrap_or_default(),
                value_text(p)
            )
        })
        .collect();
    let when = effective(r)
        .map(|d| format!(" ({})", human_date(d)))
        .unwrap_or_default();
    let line_id = e
        .sec
        .narrative_line(&format!("{title}: {}{when}", vals.join(", ")));
    let cluster = [("classCode", "CLUSTER"), ("moodCode", "EVN")];
    e.open_act("organizer", &cluster, VITAL_SIGNS_TEMPLATES, e.n);
    // PS fixes the organizer code; the source panel code rides along as a translation
    e.w.open(
        "code",
        &[
            ("code", "46680005"),
            ("codeSystem", vs::SNOMED),
            ("displayName", "Vital signs"),
        ],
    );
    if !single {
        for c in codings(term, r.get("code")) {
            translation(&mut e.w, &c, false);
        }
    }
    e.w.close("code");
    e.completed();
    cda::time_or_unk(&mut e.w, "effectiveTime", t.as_deref());
    for (k, p) in parts.iter().enumerate() {
        e.w.open("component", &[]);
        e.open_act(
            "observation",
            OBS,
            BLOOD_PRESSURE_TEMPLATES,
            e.n * 100 + k + 1,
        );
        let src = codings(term, p.get("code"));
        let part = format!("component[{}]", k + 1);
        e.cd("code", &[], BLOOD_PRESSURE, &src, None, &part);
        e.text_ref(&line_id);
        e.completed();
        cda::time_or_unk(&mut e.w, "effectiveTime", t.as_deref());
        value(e, p);
        e.w.close("observation");
        e.w.close("component");
    }
    e.w.close("organizer");
    let others = arr(r, "component").len() - if single { 0 } else { parts.len() };
    if others > 0 {
        let path = e.path.clone();
        e.cx.warn(
            WarningKind::Dropped,
            &path,
            format!("{others} non-blood-pressure component(s) kept in the narrative only"),
        );
    }
    true
}
