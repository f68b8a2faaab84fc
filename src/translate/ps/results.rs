//! PS results: one result organizer per IPS result (a panel keeps its members together).

use serde_json::Value;

use super::section::Entry;
use crate::ids::oid;
use crate::translate::cda::{self, fmt_num};
use crate::translate::coded::{write_as_sent, Src};
use crate::translate::fhir::{
    arr, cc_code, cc_text, codings, effective, human_date, str_at, ts, value_text,
};
use crate::translate::terminology::vs;

/// A result (or a panel with hasMember) as a result organizer (3.42) with one result observation
/// (3.43) per member; a single result is its own only member.
pub fn result_organizer(e: &mut Entry, r: &Value) {
    let members: Vec<&Value> = arr(r, "hasMember")
        .iter()
        .filter_map(|m| e.bundle.resolve(m))
        .collect();
    let battery = [("classCode", "BATTERY"), ("moodCode", "EVN")];
    e.open_act(
        "organizer",
        &battery,
        &["1.3.6.1.4.1.12559.11.10.1.3.1.3.42"],
        e.n,
    );
    if members.is_empty() {
        // a lone result: the organizer names the kind of study from the category (laboratory when
        // there is none)
        let categories = arr(r, "category");
        let lab = categories
            .iter()
            .any(|c| cc_code(Some(c)) == Some("laboratory"));
        let (code, disp) = if lab || categories.is_empty() {
            ("26436-6", "Laboratory studies (set)")
        } else {
            ("18717-9", "Blood bank studies (set)")
        };
        cda::code(&mut e.w, code, oid::LOINC, disp);
    } else {
        let t = cc_text(r.get("code"));
        e.code(vs::LAB_STUDY, r.get("code"), t.as_deref(), "code");
    }
    e.completed();
    let list: Vec<&Value> = if members.is_empty() { vec![r] } else { members };
    if list.len() > 1 {
        if let Some(t) = cc_text(r.get("code")) {
            e.sec.narrative_line(&format!("{t}:"));
        }
    }
    for (k, m) in list.iter().enumerate() {
        e.w.open("component", &[]);
        result_obs(e, m, e.n * 100 + k + 1);
        e.w.close("component");
    }
    e.w.close("organizer");
}

/// One result observation (3.43), the n-th act of the section.
fn result_obs(e: &mut Entry, r: &Value, n: usize) {
    let what = cc_text(r.get("code")).unwrap_or_else(|| "result".into());
    let when = effective(r);
    let mut line = what.clone();
    if let Some(v) = value_text(r) {
        line.push_str(&format!(": {v}"));
    }
    if let Some(d) = when {
        line.push_str(&format!(" ({})", human_date(d)));
    }
    for note in arr(r, "note").iter().filter_map(|x| str_at(x, "text")) {
        line.push_str(&format!(". {note}"));
    }
    let id = e.sec.narrative_line(&line);
    let obs = [("classCode", "OBS"), ("moodCode", "EVN")];
    let templates = [
        "1.3.6.1.4.1.12559.11.10.1.3.1.3.43",
        "1.3.6.1.4.1.19376.1.5.3.1.4.13",
    ];
    e.open_act("observation", &obs, &templates, n);
    // the test code is LOINC as sent (results are not transcoded); other codings ride along
    let src = codings(e.cx.term, r.get("code"));
    as_sent(e, "code", &[], &src, Some(&what));
    e.text_ref(&id);
    e.completed();
    cda::time_or_unk(&mut e.w, "effectiveTime", when.and_then(ts).as_deref());
    if let Some(q) = r.get("valueQuantity") {
        if let Some(v) = q.get("value").and_then(Value::as_f64) {
            let unit = str_at(q, "code").unwrap_or("1");
            cda::pq(&mut e.w, "value", &fmt_num(v), unit);
        }
    } else if let Some(cc) = r.get("valueCodeableConcept") {
        let src = codings(e.cx.term, Some(cc));
        let text = cc_text(Some(cc));
        let blood_group = codings(e.cx.term, r.get("code"))
            .iter()
            .any(|c| matches!(c.code.as_str(), "34530-6" | "882-1"));
        if blood_group {
            // the one result value the coded element list binds: eHDSIBloodGroup
            e.value_cd(vs::BLOOD_GROUP, &src, text.as_deref(), "value");
        } else {
            as_sent(e, "value", &[("xsi:type", "CD")], &src, text.as_deref());
        }
    } else if let Some(s) = str_at(r, "valueString") {
        e.w.leaf("value", &[("xsi:type", "ST")], s);
    }
    e.w.close("observation");
}

/// A code no MVC value set binds: written as sent (first code with an OID system), the others as
/// translations; without any usable code the OTH form keeps the text and codes.
fn as_sent(e: &mut Entry, elem: &str, attrs: &[(&str, &str)], src: &[Src], text: Option<&str>) {
    match src.iter().position(|s| s.system.is_some()) {
        Some(main) => write_as_sent(&mut e.w, elem, attrs, src, main, text, false),
        None => {
            e.cd(elem, attrs, vs::LAB_STUDY, src, text, elem);
        }
    }
}
