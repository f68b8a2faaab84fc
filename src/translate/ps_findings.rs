//! PS social history observations (3.23) and vital signs (3.21 organizer with 3.22 blood pressure
//! observations). PS binds these codes tightly (eHDSISocialHistory, eHDSIBloodPressure, no
//! nullFlavor), so an observation outside them stays in the narrative with a warning.

use crate::ids::oid;
use serde_json::Value;

use super::coded::Ctx;
use super::fhir::{arr, cc_text, codings, human_date, str_at, ts};
use super::ps_entries::{fmt_num, text_ref, Section};
use super::terminology::vs;
use super::WarningKind;
use crate::xml::XmlWriter;

const SOCIAL_HISTORY: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.14";
const BLOOD_PRESSURE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.21";

fn when(r: &Value) -> Option<&str> {
    str_at(r, "effectiveDateTime")
        .or_else(|| r.get("effectivePeriod").and_then(|p| str_at(p, "start")))
}

fn value_text(r: &Value) -> String {
    if let Some(q) = r.get("valueQuantity") {
        let v = q
            .get("value")
            .and_then(Value::as_f64)
            .map(fmt_num)
            .unwrap_or_default();
        return format!(
            "{v} {}",
            str_at(q, "unit")
                .or_else(|| str_at(q, "code"))
                .unwrap_or("")
        );
    }
    cc_text(r.get("valueCodeableConcept"))
        .or_else(|| str_at(r, "valueString").map(str::to_string))
        .unwrap_or_default()
}

/// The observation's value as sent (PQ, CD or ST).
fn value(cx: &mut Ctx, w: &mut XmlWriter, r: &Value) {
    if let Some(q) = r.get("valueQuantity") {
        if let Some(v) = q.get("value").and_then(Value::as_f64) {
            w.empty(
                "value",
                &[
                    ("xsi:type", "PQ"),
                    ("value", &fmt_num(v)),
                    ("unit", str_at(q, "code").unwrap_or("1")),
                ],
            );
            return;
        }
    }
    if let Some(cc) = r.get("valueCodeableConcept") {
        let src = codings(cx.term, Some(cc));
        if let Some((first, rest)) = src.split_first().filter(|(f, _)| f.system.is_some()) {
            let sys = first.system.clone().unwrap_or_default();
            let mut a = vec![
                ("xsi:type", "CD"),
                ("code", first.code.as_str()),
                ("codeSystem", sys.as_str()),
            ];
            if let Some(d) = &first.display {
                a.push(("displayName", d));
            }
            w.open("value", &a);
            for s in rest {
                let mut t = vec![("code", s.code.as_str())];
                if let Some(sy) = &s.system {
                    t.push(("codeSystem", sy));
                }
                w.empty("translation", &t);
            }
            w.close("value");
            return;
        }
    }
    match str_at(r, "valueString")
        .map(str::to_string)
        .or_else(|| cc_text(r.get("valueCodeableConcept")))
    {
        Some(s) => w.leaf("value", &[("xsi:type", "ST")], &s),
        None => w.empty("value", &[("xsi:type", "ST"), ("nullFlavor", "NI")]),
    }
}

/// Social history observation; false when its code has no eHDSISocialHistory concept.
pub(crate) fn social(
    cx: &mut Ctx,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlWriter,
) -> bool {
    let src = codings(cx.term, r.get("code"));
    let bound = src.iter().any(|s| {
        s.system.as_deref().is_some_and(|sys| {
            cx.term.lookup(SOCIAL_HISTORY, sys, &s.code).is_some()
                || cx.term.transcode(sys, &s.code, SOCIAL_HISTORY).is_some()
        })
    });
    if !bound {
        return false;
    }
    let what = cc_text(r.get("code")).unwrap_or_else(|| "social history".into());
    let mut line = format!("{what}: {}", value_text(r));
    if let Some(d) = when(r) {
        line.push_str(&format!(" ({})", human_date(d)));
    }
    let id = sec.narrative_line(&line);
    w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
    for t in [
        "1.3.6.1.4.1.12559.11.10.1.3.1.3.23",
        "1.3.6.1.4.1.12559.11.10.1.3.1.3.20",
        "1.3.6.1.4.1.19376.1.5.3.1.4.13",
        "1.3.6.1.4.1.19376.1.5.3.1.4.13.4",
        "2.16.840.1.113883.10.20.1.33",
    ] {
        w.template(t);
    }
    w.empty("id", &[("root", &sec.id(n))]);
    cx.write_cd(
        w,
        "code",
        &[],
        SOCIAL_HISTORY,
        &src,
        Some(&what),
        &format!("{path}/code"),
    );
    text_ref(w, &id);
    w.empty("statusCode", &[("code", "completed")]);
    w.open("effectiveTime", &[]);
    match when(r).and_then(ts) {
        Some(t) => w.empty("low", &[("value", &t)]),
        None => w.empty("low", &[("nullFlavor", "UNK")]),
    }
    w.close("effectiveTime");
    value(cx, w, r);
    w.close("observation");
    true
}

/// Vital signs: a blood pressure panel (its components 8480-6/8462-4) or a lone systolic/diastolic
/// reading becomes a vital signs organizer; false for other vital signs.
pub(crate) fn vital(
    cx: &mut Ctx,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlWriter,
) -> bool {
    let is_bp = |cc: Option<&Value>| {
        codings(cx.term, cc).iter().any(|s| {
            s.system.as_deref() == Some(oid::LOINC)
                && cx
                    .term
                    .lookup(BLOOD_PRESSURE, oid::LOINC, &s.code)
                    .is_some()
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
    let t = when(r).and_then(ts);
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
    let line_id = sec.narrative_line(&format!(
        "{title}: {}{}",
        vals.join(", "),
        when(r)
            .map(|d| format!(" ({})", human_date(d)))
            .unwrap_or_default()
    ));
    w.open(
        "organizer",
        &[("classCode", "CLUSTER"), ("moodCode", "EVN")],
    );
    for tid in [
        "1.3.6.1.4.1.12559.11.10.1.3.1.3.21",
        "1.3.6.1.4.1.19376.1.5.3.1.4.13.1",
        "2.16.840.1.113883.10.20.1.32",
        "2.16.840.1.113883.10.20.1.35",
    ] {
        w.template(tid);
    }
    w.empty("id", &[("root", &sec.id(n))]);
    // PS fixes the organizer code; the source panel code rides along as a translation
    w.open(
        "code",
        &[
            ("code", "46680005"),
            ("codeSystem", vs::SNOMED),
            ("displayName", "Vital signs"),
        ],
    );
    if !single {
        for c in codings(cx.term, r.get("code")) {
            let mut a = vec![("code", c.code.as_str())];
            if let Some(s) = &c.system {
                a.push(("codeSystem", s));
            }
            w.empty("translation", &a);
        }
    }
    w.close("code");
    w.empty("statusCode", &[("code", "completed")]);
    match &t {
        Some(t) => w.empty("effectiveTime", &[("value", t)]),
        None => w.empty("effectiveTime", &[("nullFlavor", "UNK")]),
    }
    for (k, p) in parts.iter().enumerate() {
        w.open("component", &[]);
        w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
        for tid in [
            "1.3.6.1.4.1.12559.11.10.1.3.1.3.22",
            "1.3.6.1.4.1.12559.11.10.1.3.1.3.20",
            "1.3.6.1.4.1.19376.1.5.3.1.4.13",
            "1.3.6.1.4.1.19376.1.5.3.1.4.13.2",
            "2.16.840.1.113883.10.20.1.31",
        ] {
            w.template(tid);
        }
        w.empty("id", &[("root", &sec.id(n * 100 + k + 1))]);
        let src = codings(cx.term, p.get("code"));
        cx.write_cd(
            w,
            "code",
            &[],
            BLOOD_PRESSURE,
            &src,
            None,
            &format!("{path}/component[{}]", k + 1),
        );
        text_ref(w, &line_id);
        w.empty("statusCode", &[("code", "completed")]);
        match &t {
            Some(t) => w.empty("effectiveTime", &[("value", t)]),
            None => w.empty("effectiveTime", &[("nullFlavor", "UNK")]),
        }
        value(cx, w, p);
        w.close("observation");
        w.close("component");
    }
    w.close("organizer");
    let others = arr(r, "component").len() - if single { 0 } else { parts.len() };
    if others > 0 {
        cx.warn(
            WarningKind::Dropped,
            path,
            format!("{others} non-blood-pressure component(s) kept in the narrative only"),
        );
    }
    true
}
