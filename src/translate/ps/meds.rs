//! PS medication summary entries (3.4) from MedicationStatement, MedicationRequest and
//! MedicationAdministration, with the product (3.31/3.32) in the pharm namespace.

use serde_json::Value;

use super::section::{ivl, period_of, Entry};
use crate::translate::cda::{self, fmt_num};
use crate::translate::coded::{write_as_sent, Src};
use crate::translate::fhir::{arr, cc_text, codings, human_date, str_at};
use crate::translate::terminology::vs;
use crate::xml::XmlWriter;

pub fn medication(e: &mut Entry, r: &Value) -> bool {
    let med = r
        .get("medicationReference")
        .and_then(|m| e.bundle.resolve(m));
    let (code_cc, form_cc) = match med {
        Some(m) => (m.get("code"), m.get("form")),
        None => (r.get("medicationCodeableConcept"), None),
    };
    let name = cc_text(code_cc).unwrap_or_else(|| "medication".into());
    let dosage = arr(r, "dosage")
        .first()
        .or_else(|| arr(r, "dosageInstruction").first());
    let (start, end) = period_of(r, "effective");
    let mut line = name.clone();
    if let Some(t) = dosage.and_then(|d| str_at(d, "text")) {
        line.push_str(&format!(": {t}"));
    }
    if let Some(s) = start {
        line.push_str(&format!(", since {}", human_date(s)));
    }
    let id = e.sec.narrative_line(&line);
    let intended = [("classCode", "SBADM"), ("moodCode", "INT")];
    let templates = [
        "1.3.6.1.4.1.12559.11.10.1.3.1.3.4",
        "2.16.840.1.113883.10.20.1.24",
    ];
    e.open_act("substanceAdministration", &intended, &templates, e.n);
    e.text_ref(&id);
    let status = match str_at(r, "status") {
        Some("completed" | "stopped") => "completed",
        _ => "active",
    };
    e.w.empty("statusCode", &[("code", status)]);
    ivl(&mut e.w, "effectiveTime", start, end, true);
    // PS wants the frequency slot filled; an unknown frequency is said so
    let period = dosage.and_then(period_between_doses);
    cda::frequency(&mut e.w, period.as_ref().map(|(v, u)| (v.as_str(), *u)));
    if let Some(route) = dosage.and_then(|d| d.get("route")) {
        let src = codings(e.cx.term, Some(route));
        e.cd("routeCode", &[], vs::ROUTE, &src, None, "routeCode");
    }
    let dq = dosage
        .and_then(|d| arr(d, "doseAndRate").first())
        .and_then(|d| d.get("doseQuantity"));
    if let Some(q) = dq {
        if let Some(v) = q.get("value").and_then(Value::as_f64) {
            let unit = str_at(q, "code")
                .filter(|u| e.cx.term.lookup(vs::UNIT, vs::UCUM, u).is_some())
                .unwrap_or("1");
            cda::dose_quantity(&mut e.w, &fmt_num(v), unit);
        }
    }
    cda::open_material(
        &mut e.w,
        &[],
        "1.3.6.1.4.1.12559.11.10.1.3.1.3.31",
        "1.3.6.1.4.1.12559.11.10.1.3.1.3.32",
    );
    let (atc, other): (Vec<Src>, Vec<Src>) = codings(e.cx.term, code_cc)
        .into_iter()
        .partition(|s| s.system.as_deref() == Some(vs::ATC));
    // product code: as sent (national/SNOMED product codes are not in an MVC set); the rest as translations
    write_as_sent(&mut e.w, "code", &[], &other, 0, Some(&name), true);
    e.w.leaf("name", &[], &name);
    if let Some(f) = form_cc {
        let src = codings(e.cx.term, Some(f));
        let text = cc_text(Some(f));
        e.cd(
            "pharm:formCode",
            &[],
            vs::DOSE_FORM,
            &src,
            text.as_deref(),
            "formCode",
        );
    }
    if !atc.is_empty() {
        let path = format!("{}/atc", e.path);
        cda::generalized_kind(e.cx, &mut e.w, &atc, &path);
    }
    for (k, ing) in med
        .map(|m| arr(m, "ingredient"))
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let Some(ratio) = ing.get("strength") else {
            continue;
        };
        e.w.open("pharm:ingredient", &[("classCode", "ACTI")]);
        strength(&mut e.w, ratio);
        e.w.open(
            "pharm:ingredientSubstance",
            &[("classCode", "MMAT"), ("determinerCode", "KIND")],
        );
        let cc = ing.get("itemCodeableConcept");
        let src = codings(e.cx.term, cc);
        let part = format!("ingredient[{}]", k + 1);
        let text = cc_text(cc);
        e.cd(
            "pharm:code",
            &[],
            vs::ACTIVE_INGREDIENT,
            &src,
            text.as_deref(),
            &part,
        );
        e.w.close("pharm:ingredientSubstance");
        e.w.close("pharm:ingredient");
    }
    cda::close_material(&mut e.w);
    e.w.close("substanceAdministration");
    true
}

/// The time between doses from a dosage's timing (period / frequency), in hours for daily
/// schedules; None when the timing says nothing usable.
fn period_between_doses(dosage: &Value) -> Option<(String, &'static str)> {
    let rep = dosage.get("timing").and_then(|t| t.get("repeat"));
    let freq = rep
        .and_then(|x| x.get("frequency"))
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let period = rep.and_then(|x| x.get("period")).and_then(Value::as_f64);
    let unit = match rep.and_then(|x| str_at(x, "periodUnit"))? {
        "h" => "h",
        "d" => "d",
        "wk" => "wk",
        "mo" => "mo",
        "min" => "min",
        _ => return None,
    };
    let p = period.unwrap_or(1.0) / freq.max(1) as f64;
    let (pv, pu) = if unit == "d" {
        (p * 24.0, "h")
    } else {
        (p, unit)
    };
    Some((format!("{}", (pv * 1000.0).round() / 1000.0), pu))
}

/// Strength of an ingredient (a FHIR Ratio) as pharm:quantity.
fn strength(w: &mut XmlWriter, ratio: &Value) {
    w.open("pharm:quantity", &[]);
    for part in ["numerator", "denominator"] {
        let q = ratio.get(part);
        match q.and_then(|q| q.get("value")).and_then(Value::as_f64) {
            Some(v) => {
                let unit = q.and_then(|q| str_at(q, "code")).unwrap_or("1");
                cda::pq(w, part, &fmt_num(v), unit);
            }
            None => w.empty(part, &[("xsi:type", "PQ"), ("nullFlavor", "UNK")]),
        }
    }
    w.close("pharm:quantity");
}
