//! PS entries for medication statements and allergies/intolerances.

use crate::ids::oid;
use serde_json::Value;

use super::coded::{Ctx, Src};
use super::fhir::{arr, cc_text, codings, human_date, str_at, Bundle};
use super::ps_entries::{fmt_num, ivl, period_of, text_ref, Section};
use super::terminology::vs;
use crate::xml::XmlWriter;

pub(crate) fn medication(
    cx: &mut Ctx,
    b: &Bundle,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlWriter,
) -> bool {
    let med = r.get("medicationReference").and_then(|m| b.resolve(m));
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
    let id = sec.narrative_line(&line);
    w.open(
        "substanceAdministration",
        &[("classCode", "SBADM"), ("moodCode", "INT")],
    );
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.4");
    w.template("2.16.840.1.113883.10.20.1.24");
    w.empty("id", &[("root", &sec.id(n))]);
    text_ref(w, &id);
    let status = match str_at(r, "status") {
        Some("completed" | "stopped") => "completed",
        _ => "active",
    };
    w.empty("statusCode", &[("code", status)]);
    ivl(w, "effectiveTime", start, end, true);
    let rep = dosage
        .and_then(|d| d.get("timing"))
        .and_then(|t| t.get("repeat"));
    let freq = rep
        .and_then(|x| x.get("frequency"))
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let period = rep.and_then(|x| x.get("period")).and_then(Value::as_f64);
    let unit = rep.and_then(|x| str_at(x, "periodUnit"));
    if let Some(u @ ("h" | "d" | "wk" | "mo" | "min")) = unit {
        let p = period.unwrap_or(1.0) / freq.max(1) as f64;
        let (pv, pu) = if u == "d" { (p * 24.0, "h") } else { (p, u) };
        let pv = format!("{}", (pv * 1000.0).round() / 1000.0);
        w.open(
            "effectiveTime",
            &[
                ("xsi:type", "PIVL_TS"),
                ("institutionSpecified", "true"),
                ("operator", "A"),
            ],
        );
        w.empty("period", &[("value", &pv), ("unit", pu)]);
        w.close("effectiveTime");
    } else {
        // PS wants the frequency slot filled; unknown frequency is said so
        w.open(
            "effectiveTime",
            &[("xsi:type", "PIVL_TS"), ("operator", "A")],
        );
        w.empty("period", &[("nullFlavor", "UNK")]);
        w.close("effectiveTime");
    }
    if let Some(route) = dosage.and_then(|d| d.get("route")) {
        let src = codings(cx.term, Some(route));
        cx.write_cd(
            w,
            "routeCode",
            &[],
            vs::ROUTE,
            &src,
            None,
            &format!("{path}/routeCode"),
        );
    }
    let dq = dosage
        .and_then(|d| arr(d, "doseAndRate").first())
        .and_then(|d| d.get("doseQuantity"));
    if let Some(q) = dq {
        if let Some(v) = q.get("value").and_then(Value::as_f64) {
            let unit = str_at(q, "code")
                .filter(|u| cx.term.lookup(vs::UNIT, vs::UCUM, u).is_some())
                .unwrap_or("1");
            w.open("doseQuantity", &[]);
            w.empty("low", &[("value", &fmt_num(v)), ("unit", unit)]);
            w.empty("high", &[("value", &fmt_num(v)), ("unit", unit)]);
            w.close("doseQuantity");
        }
    }
    w.open("consumable", &[]);
    w.open("manufacturedProduct", &[("classCode", "MANU")]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.31");
    w.open(
        "manufacturedMaterial",
        &[("classCode", "MMAT"), ("determinerCode", "KIND")],
    );
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.32");
    let all = codings(cx.term, code_cc);
    let (atc, other): (Vec<Src>, Vec<Src>) = all
        .into_iter()
        .partition(|s| s.system.as_deref() == Some(vs::ATC));
    // product code: as sent (national/SNOMED product codes are not in an MVC set); the rest as translations
    if let Some((first, rest)) = other.split_first() {
        let sys = first.system.clone().unwrap_or_default();
        let mut a = vec![("code", first.code.as_str()), ("codeSystem", sys.as_str())];
        if let Some(d) = &first.display {
            a.push(("displayName", d));
        }
        w.open("code", &a);
        w.leaf("originalText", &[], &name);
        for s in rest {
            let mut t = vec![("code", s.code.as_str())];
            if let Some(sy) = &s.system {
                t.push(("codeSystem", sy));
            }
            if let Some(d) = &s.display {
                t.push(("displayName", d));
            }
            w.empty("translation", &t);
        }
        w.close("code");
    }
    w.leaf("name", &[], &name);
    if let Some(f) = form_cc {
        let src = codings(cx.term, Some(f));
        cx.write_cd(
            w,
            "pharm:formCode",
            &[],
            vs::DOSE_FORM,
            &src,
            cc_text(Some(f)).as_deref(),
            &format!("{path}/formCode"),
        );
    }
    if !atc.is_empty() {
        w.open("pharm:asSpecializedKind", &[("classCode", "GRIC")]);
        w.open(
            "pharm:generalizedMaterialKind",
            &[("classCode", "MMAT"), ("determinerCode", "KIND")],
        );
        cx.write_cd(
            w,
            "pharm:code",
            &[],
            vs::ACTIVE_INGREDIENT,
            &atc,
            None,
            &format!("{path}/atc"),
        );
        w.close("pharm:generalizedMaterialKind");
        w.close("pharm:asSpecializedKind");
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
        w.open("pharm:ingredient", &[("classCode", "ACTI")]);
        strength(w, ratio);
        w.open(
            "pharm:ingredientSubstance",
            &[("classCode", "MMAT"), ("determinerCode", "KIND")],
        );
        let cc = ing.get("itemCodeableConcept");
        let src = codings(cx.term, cc);
        cx.write_cd(
            w,
            "pharm:code",
            &[],
            vs::ACTIVE_INGREDIENT,
            &src,
            cc_text(cc).as_deref(),
            &format!("{path}/ingredient[{}]", k + 1),
        );
        w.close("pharm:ingredientSubstance");
        w.close("pharm:ingredient");
    }
    w.close("manufacturedMaterial");
    w.close("manufacturedProduct");
    w.close("consumable");
    w.close("substanceAdministration");
    true
}

/// Strength of an ingredient (a FHIR Ratio) as pharm:quantity.
pub(crate) fn strength(w: &mut XmlWriter, ratio: &Value) {
    w.open("pharm:quantity", &[]);
    for part in ["numerator", "denominator"] {
        let q = ratio.get(part);
        match q.and_then(|q| q.get("value")).and_then(Value::as_f64) {
            Some(v) => {
                let unit = q.and_then(|q| str_at(q, "code")).unwrap_or("1");
                w.empty(
                    part,
                    &[("xsi:type", "PQ"), ("value", &fmt_num(v)), ("unit", unit)],
                );
            }
            None => w.empty(part, &[("xsi:type", "PQ"), ("nullFlavor", "UNK")]),
        }
    }
    w.close("pharm:quantity");
}

pub(crate) fn allergy(
    cx: &mut Ctx,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlWriter,
) -> bool {
    let agent = cc_text(r.get("code")).unwrap_or_else(|| "substance".into());
    let (onset, end) = period_of(r, "onset");
    let clinical = super::fhir::cc_code(r.get("clinicalStatus"));
    let mut line = format!("{} {}", str_at(r, "type").unwrap_or("allergy"), agent);
    if let Some(c) = str_at(r, "criticality") {
        line.push_str(&format!(", criticality {c}"));
    }
    if let Some(o) = onset {
        line.push_str(&format!(", since {}", human_date(o)));
    }
    let id = sec.narrative_line(&line);
    w.open("act", &[("classCode", "ACT"), ("moodCode", "EVN")]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.16");
    w.empty("id", &[("root", &sec.id(n))]);
    w.empty(
        "code",
        &[("code", "CONC"), ("codeSystem", "2.16.840.1.113883.5.6")],
    );
    let concern = if matches!(clinical, Some("inactive" | "resolved")) {
        "completed"
    } else {
        "active"
    };
    w.empty("statusCode", &[("code", concern)]);
    ivl(w, "effectiveTime", onset, end, false);
    w.open(
        "entryRelationship",
        &[("typeCode", "SUBJ"), ("inversionInd", "false")],
    );
    w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.17");
    w.empty("id", &[("root", &sec.id(n * 100 + 1))]);
    let ty = match str_at(r, "type") {
        Some("intolerance") => ("782197009", "Intolerance to substance"),
        Some("allergy") => ("609328004", "Allergic disposition"),
        _ => ("420134006", "Propensity to adverse reaction"),
    };
    let src = [Src::new(vs::SNOMED, ty.0, Some(ty.1))];
    cx.write_cd(
        w,
        "code",
        &[],
        vs::ADVERSE_EVENT_TYPE,
        &src,
        None,
        &format!("{path}/code"),
    );
    text_ref(w, &id);
    w.empty("statusCode", &[("code", "completed")]);
    ivl(w, "effectiveTime", onset, end, false);
    w.open("participant", &[("typeCode", "CSM")]);
    w.open("participantRole", &[("classCode", "MANU")]);
    w.open("playingEntity", &[("classCode", "MMAT")]);
    let src = codings(cx.term, r.get("code"));
    let is_drug = arr(r, "category")
        .iter()
        .any(|c| c.as_str() == Some("medication"));
    let set = if is_drug {
        vs::ACTIVE_INGREDIENT
    } else {
        vs::ALLERGEN_NO_DRUG
    };
    // a drug allergen may be coded in the no-drug set too (SNOMED substances): try both
    let set = if is_drug
        && !src.iter().any(|s| {
            s.system.as_deref().is_some_and(|sys| {
                cx.term
                    .lookup(vs::ACTIVE_INGREDIENT, sys, &s.code)
                    .is_some()
            })
        })
        && src.iter().any(|s| {
            s.system
                .as_deref()
                .is_some_and(|sys| cx.term.lookup(vs::ALLERGEN_NO_DRUG, sys, &s.code).is_some())
        }) {
        vs::ALLERGEN_NO_DRUG
    } else {
        set
    };
    cx.write_cd(
        w,
        "code",
        &[],
        set,
        &src,
        Some(&agent),
        &format!("{path}/agent"),
    );
    w.close("playingEntity");
    w.close("participantRole");
    w.close("participant");
    for (k, reac) in arr(r, "reaction").iter().enumerate() {
        for (j, m) in arr(reac, "manifestation").iter().enumerate() {
            let t = cc_text(Some(m)).unwrap_or_else(|| "reaction".into());
            let rid = sec.narrative_line(&format!("Reaction: {t}"));
            w.open(
                "entryRelationship",
                &[("typeCode", "MFST"), ("inversionInd", "true")],
            );
            w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
            w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.44");
            w.empty("id", &[("root", &sec.id(n * 100 + 10 + k * 10 + j))]);
            w.empty(
                "code",
                &[
                    ("code", "ASSERTION"),
                    ("codeSystem", "2.16.840.1.113883.5.4"),
                ],
            );
            text_ref(w, &rid);
            w.empty("statusCode", &[("code", "completed")]);
            ivl(
                w,
                "effectiveTime",
                str_at(reac, "onset").or(onset),
                None,
                false,
            );
            let src = codings(cx.term, Some(m));
            // 3.44 takes eHDSIReactionAllergy or eHDSIIllnessandDisorder (the coded element list names the latter)
            let set = cx.first_set(&[vs::REACTION_ALLERGY, vs::ILLNESS], &src);
            cx.write_cd(
                w,
                "value",
                &[("xsi:type", "CD")],
                set,
                &src,
                Some(&t),
                &format!("{path}/reaction"),
            );
            w.close("observation");
            w.close("entryRelationship");
        }
    }
    if let Some(c) = str_at(r, "criticality") {
        w.open(
            "entryRelationship",
            &[("typeCode", "SUBJ"), ("inversionInd", "true")],
        );
        w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
        w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.33");
        w.empty(
            "code",
            &[
                ("code", "82606-5"),
                ("codeSystem", oid::LOINC),
                ("displayName", "Criticality"),
            ],
        );
        let src = [Src::new("2.16.840.1.113883.4.642.4.130", c, None)];
        text_ref(w, &id);
        w.empty("statusCode", &[("code", "completed")]);
        cx.write_cd(
            w,
            "value",
            &[("xsi:type", "CE")],
            "1.3.6.1.4.1.12559.11.10.1.3.1.42.57",
            &src,
            None,
            &format!("{path}/criticality"),
        );
        w.close("observation");
        w.close("entryRelationship");
    }
    let verif = codings(cx.term, r.get("verificationStatus"));
    if !verif.is_empty() {
        w.open(
            "entryRelationship",
            &[("typeCode", "SUBJ"), ("inversionInd", "true")],
        );
        w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
        w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.35");
        w.empty(
            "code",
            &[
                ("code", "66455-7"),
                ("codeSystem", oid::LOINC),
                ("displayName", "Condition status"),
            ],
        );
        text_ref(w, &id);
        w.empty("statusCode", &[("code", "completed")]);
        cx.write_cd(
            w,
            "value",
            &[("xsi:type", "CE")],
            "1.3.6.1.4.1.12559.11.10.1.3.1.42.58",
            &verif,
            None,
            &format!("{path}/certainty"),
        );
        w.close("observation");
        w.close("entryRelationship");
    }
    let clin = codings(cx.term, r.get("clinicalStatus"));
    if !clin.is_empty() {
        w.open("entryRelationship", &[("typeCode", "REFR")]);
        w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
        w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.34");
        w.empty(
            "code",
            &[
                ("code", "33999-4"),
                ("codeSystem", oid::LOINC),
                ("displayName", "Status"),
            ],
        );
        text_ref(w, &id);
        w.empty("statusCode", &[("code", "completed")]);
        cx.write_cd(
            w,
            "value",
            &[("xsi:type", "CE")],
            "1.3.6.1.4.1.12559.11.10.1.3.1.42.59",
            &clin,
            None,
            &format!("{path}/status"),
        );
        w.close("observation");
        w.close("entryRelationship");
    }
    w.close("observation");
    w.close("entryRelationship");
    w.close("act");
    true
}
