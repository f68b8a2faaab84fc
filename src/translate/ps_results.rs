//! PS results: one result organizer per IPS result (a panel keeps its members together).

use crate::ids::oid;
use serde_json::Value;

use super::coded::Ctx;
use super::fhir::{arr, cc_text, codings, human_date, str_at, ts, Bundle};
use super::ps_entries::{fmt_num, text_ref, Section};
use super::terminology::vs;
use crate::xml::XmlWriter;

pub(crate) fn observation(
    cx: &mut Ctx,
    b: &Bundle,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlWriter,
) -> bool {
    match sec.code.as_str() {
        "30954-2" => {
            result_organizer(cx, b, sec, r, n, path, w);
            true
        }
        "29762-2" => super::ps_findings::social(cx, sec, r, n, path, w),
        "8716-3" => super::ps_findings::vital(cx, sec, r, n, path, w),
        _ => false,
    }
}

/// A result (or a panel with hasMember) as a result organizer (3.42) with one result observation
/// (3.43) per member; a single result is its own only member.
pub(crate) fn result_organizer(
    cx: &mut Ctx,
    b: &Bundle,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlWriter,
) {
    let members: Vec<&Value> = arr(r, "hasMember")
        .iter()
        .filter_map(|m| b.resolve(m))
        .collect();
    w.open(
        "organizer",
        &[("classCode", "BATTERY"), ("moodCode", "EVN")],
    );
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.42");
    w.empty("id", &[("root", &sec.id(n))]);
    if members.is_empty() {
        // a lone result: the organizer names the kind of study from the category
        let lab = arr(r, "category")
            .iter()
            .any(|c| super::fhir::cc_code(Some(c)) == Some("laboratory"));
        let (code, disp) = if lab {
            ("26436-6", "Laboratory studies (set)")
        } else {
            ("18717-9", "Blood bank studies (set)")
        };
        let (code, disp) = if lab || !arr(r, "category").is_empty() {
            (code, disp)
        } else {
            ("26436-6", "Laboratory studies (set)")
        };
        w.empty(
            "code",
            &[
                ("code", code),
                ("codeSystem", oid::LOINC),
                ("displayName", disp),
            ],
        );
    } else {
        let src = codings(cx.term, r.get("code"));
        let t = cc_text(r.get("code"));
        cx.write_cd(
            w,
            "code",
            &[],
            vs::LAB_STUDY,
            &src,
            t.as_deref(),
            &format!("{path}/code"),
        );
    }
    w.empty("statusCode", &[("code", "completed")]);
    let list: Vec<&Value> = if members.is_empty() { vec![r] } else { members };
    if list.len() > 1 {
        if let Some(t) = cc_text(r.get("code")) {
            sec.narrative_line(&format!("{t}:"));
        }
    }
    for (k, m) in list.iter().enumerate() {
        w.open("component", &[]);
        result_obs(cx, sec, m, n * 100 + k + 1, path, w);
        w.close("component");
    }
    w.close("organizer");
}

pub(crate) fn result_obs(
    cx: &mut Ctx,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlWriter,
) {
    let what = cc_text(r.get("code")).unwrap_or_else(|| "result".into());
    let when = str_at(r, "effectiveDateTime")
        .or_else(|| r.get("effectivePeriod").and_then(|p| str_at(p, "start")));
    let value = value_text(r);
    let mut line = what.clone();
    if let Some(v) = &value {
        line.push_str(&format!(": {v}"));
    }
    if let Some(d) = when {
        line.push_str(&format!(" ({})", human_date(d)));
    }
    for note in arr(r, "note").iter().filter_map(|x| str_at(x, "text")) {
        line.push_str(&format!(". {note}"));
    }
    let id = sec.narrative_line(&line);
    w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.43");
    w.template("1.3.6.1.4.1.19376.1.5.3.1.4.13");
    w.empty("id", &[("root", &sec.id(n))]);
    // the test code is LOINC as sent (results are not transcoded); other codings ride along
    let src = codings(cx.term, r.get("code"));
    match src.iter().position(|s| s.system.is_some()) {
        Some(i) => {
            let main = &src[i];
            let sys = main.system.clone().unwrap_or_default();
            let mut a = vec![("code", main.code.as_str()), ("codeSystem", sys.as_str())];
            if let Some(d) = &main.display {
                a.push(("displayName", d));
            }
            w.open("code", &a);
            w.leaf("originalText", &[], &what);
            for (j, s) in src.iter().enumerate() {
                if j != i {
                    let mut t = vec![("code", s.code.as_str())];
                    if let Some(sy) = &s.system {
                        t.push(("codeSystem", sy));
                    }
                    w.empty("translation", &t);
                }
            }
            w.close("code");
        }
        None => {
            cx.write_cd(
                w,
                "code",
                &[],
                vs::LAB_STUDY,
                &src,
                Some(&what),
                &format!("{path}/code"),
            );
        }
    }
    text_ref(w, &id);
    w.empty("statusCode", &[("code", "completed")]);
    match when.and_then(ts) {
        Some(t) => w.empty("effectiveTime", &[("value", &t)]),
        None => w.empty("effectiveTime", &[("nullFlavor", "UNK")]),
    }
    if let Some(q) = r.get("valueQuantity") {
        if let Some(v) = q.get("value").and_then(Value::as_f64) {
            let unit = str_at(q, "code").unwrap_or("1");
            w.empty(
                "value",
                &[("xsi:type", "PQ"), ("value", &fmt_num(v)), ("unit", unit)],
            );
        }
    } else if let Some(cc) = r.get("valueCodeableConcept") {
        let src = codings(cx.term, Some(cc));
        let obs_codes = codings(cx.term, r.get("code"));
        let blood_group = obs_codes
            .iter()
            .any(|c| matches!(c.code.as_str(), "34530-6" | "882-1"));
        if blood_group {
            // the one result value the coded element list binds: eHDSIBloodGroup
            cx.write_cd(
                w,
                "value",
                &[("xsi:type", "CD")],
                vs::BLOOD_GROUP,
                &src,
                cc_text(Some(cc)).as_deref(),
                &format!("{path}/value"),
            );
        } else {
            as_sent(
                cx,
                w,
                "value",
                &[("xsi:type", "CD")],
                &src,
                cc_text(Some(cc)).as_deref(),
                path,
            );
        }
    } else if let Some(s) = str_at(r, "valueString") {
        w.leaf("value", &[("xsi:type", "ST")], s);
    }
    w.close("observation");
}

/// A code no MVC value set binds: written as sent (first code with an OID system), the others as
/// translations; without any usable code the OTH form keeps the text and codes.
fn as_sent(
    cx: &mut Ctx,
    w: &mut XmlWriter,
    elem: &str,
    attrs: &[(&str, &str)],
    src: &[super::coded::Src],
    text: Option<&str>,
    path: &str,
) {
    let Some(i) = src.iter().position(|s| s.system.is_some()) else {
        cx.write_cd(
            w,
            elem,
            attrs,
            vs::LAB_STUDY,
            src,
            text,
            &format!("{path}/{elem}"),
        );
        return;
    };
    let main = &src[i];
    let sys = main.system.clone().unwrap_or_default();
    let mut a: Vec<(&str, &str)> = attrs.to_vec();
    a.push(("code", &main.code));
    a.push(("codeSystem", &sys));
    if let Some(d) = &main.display {
        a.push(("displayName", d));
    }
    w.open(elem, &a);
    if let Some(t) = text {
        w.leaf("originalText", &[], t);
    }
    for (j, s) in src.iter().enumerate() {
        if j != i {
            let mut t = vec![("code", s.code.as_str())];
            if let Some(sy) = &s.system {
                t.push(("codeSystem", sy));
            }
            w.empty("translation", &t);
        }
    }
    w.close(elem);
}

pub(crate) fn value_text(r: &Value) -> Option<String> {
    if let Some(q) = r.get("valueQuantity") {
        let v = q.get("value")?.as_f64()?;
        return Some(format!(
            "{} {}",
            fmt_num(v),
            str_at(q, "unit")
                .or_else(|| str_at(q, "code"))
                .unwrap_or("")
        ));
    }
    if let Some(cc) = r.get("valueCodeableConcept") {
        return cc_text(Some(cc));
    }
    str_at(r, "valueString").map(str::to_string)
}
