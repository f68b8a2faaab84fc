//! The structured body of an eP pivot: one prescription section with one substanceAdministration
//! (template 3.2) built from the M1 Forskrivning, and the XDS eventCodeList values that go with it.

use super::header::{write_author, Doc};
use super::m1::{self, KithValue, Prescription};
use crate::ids::ehdsi;
use crate::translate::cda;
use crate::translate::coded::{Ctx, Src};
use crate::translate::terminology::vs;
use crate::translate::WarningKind;
use crate::xml::XmlWriter;

/// A KITH number (decimal comma allowed) as written in a PQ; None when it is not a number.
fn num(s: &str) -> Option<String> {
    let s = s.trim().replace(',', ".");
    let v: f64 = s.parse().ok()?;
    if !v.is_finite() {
        return None;
    }
    Some(if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    })
}

/// UCUM unit for a KITH unit text (`ml`, `mg`...) through the 7452 table; "1" when unknown.
fn unit(cx: &mut Ctx, u: Option<&str>, path: &str) -> String {
    let Some(u) = u else { return "1".into() };
    if let Some(m) = cx.term.transcode(m1::V7452, u, vs::UNIT) {
        return m.code;
    }
    if cx.term.lookup(vs::UNIT, vs::UCUM, u).is_some() {
        return u.to_string();
    }
    cx.warn(
        WarningKind::NoMapping,
        path,
        format!("unit {u} has no UCUM mapping; sent as 1"),
    );
    "1".into()
}

/// A coded Norwegian detail without an eP element, kept in the narrative with its code.
fn coded_line(label: &str, kv: Option<KithValue>) -> Option<String> {
    let kv = kv?;
    let v = kv.v?;
    let ot = kv.ot.map(|o| format!(" ({o})")).unwrap_or_default();
    let s = kv.s.map(|s| format!(" {s}")).unwrap_or_default();
    Some(format!("{label}: {} [{v}{s}]{ot}", kv.dn.unwrap_or("")))
}

/// The product's name and the name it is sold under (the package's, else the same).
fn names<'a>(rx: &Prescription<'a>) -> (&'a str, &'a str) {
    let name = rx
        .product
        .as_ref()
        .and_then(|p| p.name)
        .unwrap_or("legemiddel");
    let brand = rx.package.as_ref().and_then(|p| p.brand).unwrap_or(name);
    (name, brand)
}

/// The narrative lines of the prescription section; the first is the one the entry points to.
fn narrative(rx: &Prescription) -> Vec<String> {
    let (name, brand) = names(rx);
    let mut lines = vec![format!("{brand}: {name}")];
    if let Some(t) = rx.dosage_text {
        lines.push(format!("Dosering: {t}"));
    }
    if let Some(r) = rx.reason {
        lines.push(format!("Bruksområde: {r}"));
    }
    if let Some(a) = rx.count.and_then(num) {
        lines.push(format!("Antall: {a}"));
    }
    let product = rx.product.as_ref();
    lines.extend(coded_line("Bruk", rx.usage));
    lines.extend(coded_line("Kortdose", rx.short_dose));
    let group = product.and_then(|p| p.prescription_group);
    lines.extend(coded_line("Reseptgruppe", group));
    lines.extend(coded_line("Refusjonshjemmel", rx.reimbursement_basis));
    lines.extend(coded_line("Refusjonskode", rx.reimbursement_code));
    if let Some(p) = &rx.package {
        let label = format!("Pakning {}", p.size.unwrap_or(""));
        lines.extend(coded_line(&label, p.size_unit));
        if let Some(v) = p.item_number {
            lines.push(format!("Varenummer: {v}"));
        }
    }
    for d in &rx.doses {
        if let Some(m) = d.amount {
            let (v, u) = (m.v.unwrap_or(""), m.u.unwrap_or(""));
            let line = format!("Dose: {v} {u} {}", d.time_of_day.unwrap_or(""));
            lines.push(line.trim_end().to_string());
        }
    }
    let substances = rx.mixture.iter().flat_map(|m| &m.substances);
    for s in substances {
        let part = |q: Option<KithValue>| {
            q.map(|x| format!("{} {}", x.v.unwrap_or(""), x.u.unwrap_or("")))
                .unwrap_or_default()
        };
        let n = s.name.unwrap_or("");
        let (num, den) = (part(s.numerator), part(s.denominator));
        lines.push(format!("Virkestoff: {n} {num}/{den}"));
    }
    lines
}

/// Writes the body; returns the eventCodeList values (codeSystem, code, display).
pub fn write_body(w: &mut XmlWriter, cx: &mut Ctx, d: &Doc) -> Vec<(String, String, String)> {
    let rx = d.rx;
    let dosage_text = rx.dosage_text.unwrap_or("");
    let mut events = Vec::new();
    w.open("component", &[]);
    w.open("structuredBody", &[]);
    w.open("component", &[]);
    w.open("section", &[]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.2.1");
    w.empty("id", &[("root", &d.rx_root)]);
    cda::loinc_code(w, "57828-6", "Prescriptions");
    w.leaf("title", &[], "Prescriptions");
    w.open("text", &[]);
    for (i, l) in narrative(rx).iter().enumerate() {
        w.leaf("paragraph", &[("ID", &format!("rx-{}", i + 1))], l);
    }
    let reason = rx.reason.map(|r| format!(" ({r})")).unwrap_or_default();
    let instructions = format!("{dosage_text}{reason}");
    w.leaf("paragraph", &[("ID", "pinstruct")], &instructions);
    w.close("text");
    w.open("entry", &[("typeCode", "COMP")]);
    w.open(
        "substanceAdministration",
        &[("classCode", "SBADM"), ("moodCode", "INT")],
    );
    w.template("2.16.840.1.113883.10.20.1.24");
    w.template("1.3.6.1.4.1.19376.1.5.3.1.4.7");
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.2");
    w.template("1.3.6.1.4.1.19376.1.5.3.1.4.7.1");
    w.empty("id", &[("root", &d.rx_root)]);
    cda::text_ref(w, "rx-1");
    w.empty("statusCode", &[("code", "active")]);
    w.open("effectiveTime", &[("xsi:type", "IVL_TS")]);
    let start = rx.start.and_then(crate::translate::fhir::ts);
    w.empty("low", &[("value", start.as_deref().unwrap_or(&rx.written))]);
    let end = rx.end.and_then(crate::translate::fhir::ts);
    cda::time_or_unk(w, "high", end.as_deref());
    w.close("effectiveTime");
    // fixed-time doses per day -> a period of 24 h / n
    let per_day = rx.doses.iter().filter(|d| d.daily()).count();
    let period = (per_day > 0).then(|| {
        let p = 24.0 / per_day as f64;
        if p.fract() == 0.0 {
            format!("{}", p as i64)
        } else {
            format!("{:.2}", p)
        }
    });
    cda::frequency(w, period.as_deref().map(|p| (p, "h")));
    if let Some(r) = rx.repeats.and_then(num) {
        w.empty("repeatNumber", &[("value", &r)]);
    }
    if rx.route.is_some() {
        let src = m1::volven(rx.route, m1::V7477);
        let path = "substanceAdministration/routeCode";
        cx.write_cd(w, "routeCode", &[], vs::ROUTE, &src, None, path);
    }
    let first_amount = rx.doses.first().and_then(|d| d.amount);
    if let Some(m) = first_amount {
        if let Some(v) = m.v.and_then(num) {
            let u = unit(cx, m.u, "substanceAdministration/doseQuantity");
            cda::dose_quantity(w, &v, &u);
        }
    }
    let form = write_product(w, cx, rx, &mut events);
    write_author(w, cx, d);
    // quantity to dispense
    w.open("entryRelationship", &[("typeCode", "COMP")]);
    w.open("supply", &[("classCode", "SPLY"), ("moodCode", "RQO")]);
    w.empty("independentInd", &[("value", "false")]);
    let count = rx.count.and_then(num);
    let count = count.as_deref().unwrap_or("1");
    w.empty("quantity", &[("value", count), ("unit", "1")]);
    w.close("supply");
    w.close("entryRelationship");
    // substitution: the prescriber's reservation against substitution means none; without one
    // Norwegian rules allow generic substitution
    let subst = if rx.no_substitution {
        [Src::new("2.16.840.1.113883.5.1070", "N", Some("none"))]
    } else {
        [Src::new("2.16.840.1.113883.5.1070", "G", Some("generic"))]
    };
    cda::open_observation(w, "SUBJ", Some("true"));
    cda::code(w, "SUBST", "2.16.840.1.113883.5.6", "Substitution");
    let subst_vs = "1.3.6.1.4.1.12559.11.10.1.3.1.42.7";
    let ce = [("xsi:type", "CE")];
    cx.write_cd(w, "value", &ce, subst_vs, &subst, None, "substitution");
    cda::close_observation(w);
    // patient instructions: the dosage text and area of use
    w.open(
        "entryRelationship",
        &[("typeCode", "SUBJ"), ("inversionInd", "true")],
    );
    w.open("act", &[("classCode", "ACT"), ("moodCode", "INT")]);
    w.template("2.16.840.1.113883.10.20.1.49");
    w.template("1.3.6.1.4.1.19376.1.5.3.1.4.3");
    w.empty(
        "code",
        &[
            ("code", "PINSTRUCT"),
            ("codeSystem", "1.3.6.1.4.1.19376.1.5.3.2"),
            ("codeSystemName", "IHEActCode"),
        ],
    );
    cda::text_ref(w, "pinstruct");
    w.empty("statusCode", &[("code", "completed")]);
    w.close("act");
    w.close("entryRelationship");
    w.close("substanceAdministration");
    w.close("entry");
    w.close("section");
    w.close("component");
    w.close("structuredBody");
    w.close("component");
    // event codes: open prescription, ATC (above), dose form
    if let Some(df) = form.first() {
        let sys = df.system.as_deref().unwrap_or("");
        if let Some(m) = cx.term.transcode(sys, &df.code, vs::DOSE_FORM) {
            let display = cx.term.lookup(vs::DOSE_FORM, &m.system, &m.code);
            let display = display.unwrap_or("").to_string();
            events.push((m.system, m.code, display));
        }
    }
    let open = (
        ehdsi::EP_STATUS_SYSTEM.to_string(),
        "open".to_string(),
        "Prescription open for dispensation".to_string(),
    );
    events.insert(0, open);
    events
}

/// The consumable: product names, dose form, package, ATC class and (for a compounded mixture)
/// the active substances with their strength. Returns the dose form's source codes; a mapped ATC
/// class is added to `events`.
fn write_product(
    w: &mut XmlWriter,
    cx: &mut Ctx,
    rx: &Prescription,
    events: &mut Vec<(String, String, String)>,
) -> Vec<Src> {
    let (name, brand) = names(rx);
    let product = rx.product.as_ref();
    cda::open_material(
        w,
        &[("typeCode", "CSM")],
        "1.3.6.1.4.1.12559.11.10.1.3.1.3.29",
        "1.3.6.1.4.1.12559.11.10.1.3.1.3.30",
    );
    w.leaf("name", &[], brand);
    w.leaf("pharm:desc", &[], name);
    let form_kv = product.and_then(|p| p.form);
    let form = m1::volven(form_kv, m1::V7448);
    let form_text = form_kv.and_then(|f| f.ot);
    let path = "manufacturedMaterial/formCode";
    cx.write_cd(
        w,
        "pharm:formCode",
        &[],
        vs::DOSE_FORM,
        &form,
        form_text,
        path,
    );
    write_package(w, cx, rx);
    let atc = m1::volven(product.and_then(|p| p.atc), m1::V7180);
    if !atc.is_empty() {
        let ch = cda::generalized_kind(cx, w, &atc, "asSpecializedKind/code");
        if ch.mapped {
            events.push((vs::ATC.to_string(), atc[0].code.clone(), ch.display.clone()));
        }
    }
    // ingredients: the active substances of a compounded mixture carry their strength
    let substances = rx.mixture.iter().flat_map(|m| &m.substances);
    for (k, s) in substances.enumerate() {
        let value = |q: Option<KithValue>| q.and_then(|q| q.v).and_then(num);
        let (Some(nv), Some(dv)) = (value(s.numerator), value(s.denominator)) else {
            continue;
        };
        let path = format!("ingredient[{}]", k + 1);
        let nu = unit(cx, s.numerator.and_then(|q| q.u), &path);
        let du = unit(cx, s.denominator.and_then(|q| q.u), &path);
        w.open("pharm:ingredient", &[("classCode", "ACTI")]);
        w.open("pharm:quantity", &[]);
        cda::pq(w, "numerator", &nv, &nu);
        cda::pq(w, "denominator", &dv, &du);
        w.close("pharm:quantity");
        w.open(
            "pharm:ingredientSubstance",
            &[("classCode", "MMAT"), ("determinerCode", "KIND")],
        );
        cx.warn(
            WarningKind::NoMapping,
            &path,
            "active substance of a compounded mixture has no code in the source; sent as text"
                .into(),
        );
        let vs = vs::ACTIVE_INGREDIENT;
        cx.write_cd(w, "pharm:code", &[], vs, &[], s.name, &path);
        if let Some(n) = s.name {
            w.leaf("pharm:name", &[], n);
        }
        w.close("pharm:ingredientSubstance");
        w.close("pharm:ingredient");
    }
    cda::close_material(w);
    form
}

/// pharm:asContent: the package size as one PQ (the XSD and the schematron agree on value/unit
/// here), else the amount of a mixture, else one.
fn write_package(w: &mut XmlWriter, cx: &mut Ctx, rx: &Prescription) {
    const PATH: &str = "asContent/quantity";
    let package = rx.package.as_ref();
    let size = package.and_then(|p| p.size).and_then(num);
    let size_unit = package.and_then(|p| p.size_unit);
    let mix_amount = rx.mixture.as_ref().and_then(|m| m.amount);
    w.open("pharm:asContent", &[("classCode", "CONT")]);
    match (size, mix_amount.and_then(|m| m.v).and_then(num)) {
        (Some(s), _) => {
            let code = size_unit.and_then(|u| u.v);
            let mapped = size_unit
                .and_then(|u| u.s)
                .and_then(|sys| cx.term.transcode(sys, code.unwrap_or(""), vs::UNIT));
            let u = match mapped {
                Some(m) => m.code,
                None => unit(cx, code, PATH),
            };
            w.empty("pharm:quantity", &[("value", &s), ("unit", &u)]);
        }
        (None, Some(v)) => {
            let u = unit(cx, mix_amount.and_then(|m| m.u), PATH);
            w.empty("pharm:quantity", &[("value", &v), ("unit", &u)]);
        }
        _ => w.empty("pharm:quantity", &[("value", "1"), ("unit", "1")]),
    }
    w.open(
        "pharm:containerPackagedProduct",
        &[("classCode", "CONT"), ("determinerCode", "KIND")],
    );
    w.empty("pharm:formCode", &[("nullFlavor", "UNK")]);
    w.close("pharm:containerPackagedProduct");
    w.close("pharm:asContent");
}
