//! The structured body of an eP pivot: one prescription section with one substanceAdministration
//! (template 3.2) built from the M1 Forskrivning.

use super::coded::{Ctx, Src};
use super::eresept_to_ep::{
    src_volven, text_of, warn_uncoded, write_prescriber, NS_FORSKR, NS_M1, VOLVEN_ROUTE,
    VOLVEN_UNIT,
};
use super::terminology::vs;
use crate::ids::oid;
use crate::xml::Element;
use crate::xml::XmlWriter;

pub(crate) struct Body<'a> {
    pub dok: &'a Element,
    pub forskr: &'a Element,
    pub rid: &'a str,
    pub rx_root: &'a str,
    pub written: &'a str,
    pub country: &'a str,
    pub org: &'a Element,
    pub hcp: Option<&'a Element>,
}

const F: &str = NS_FORSKR;

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
    if let Some(m) = cx.term.transcode(VOLVEN_UNIT, u, vs::UNIT) {
        return m.code;
    }
    if cx.term.lookup(vs::UNIT, vs::UCUM, u).is_some() {
        return u.to_string();
    }
    cx.warn(
        super::WarningKind::NoMapping,
        path,
        format!("unit {u} has no UCUM mapping; sent as 1"),
    );
    "1".into()
}

/// Writes the body; returns the eventCodeList values (codeSystem, code, display).
pub(crate) fn write_body(
    w: &mut XmlWriter,
    cx: &mut Ctx,
    b: &Body,
) -> Vec<(String, String, String)> {
    let f = b.forskr;
    let pakning = f.child(F, "Legemiddelpakning");
    let blanding = f.child(F, "Legemiddelblanding");
    let merkevare = f.child(F, "Legemiddelmerkevare");
    let product = pakning.or(merkevare).or(blanding);
    let name = product
        .and_then(|p| text_of(p.child(F, "NavnFormStyrke")).or_else(|| text_of(p.child(F, "Navn"))))
        .unwrap_or("legemiddel")
        .to_string();
    let brand = pakning
        .and_then(|p| p.child(F, "PakningsinfoResept"))
        .and_then(|p| text_of(p.child(F, "Varenavn")))
        .unwrap_or(&name)
        .to_string();
    let dosage_text = text_of(f.child(F, "DosVeiledEnkel"))
        .unwrap_or("")
        .to_string();
    let reason = text_of(f.child(F, "Bruksomrade"));
    let dosering = f.child(F, "Dosering");
    let start = dosering
        .and_then(|d| d.child(F, "Starttidspunkt"))
        .and_then(|s| s.attr("V"));
    let end = dosering
        .and_then(|d| d.child(F, "Sluttidspunkt"))
        .and_then(|s| s.attr("V"));
    let doses: Vec<&Element> = dosering
        .map(|d| d.children_named(F, "DoseFastTidspunkt").collect())
        .unwrap_or_default();
    let antall = text_of(b.dok.child(NS_M1, "Antall")).and_then(num);

    // narrative
    let mut lines = vec![format!("{brand}: {name}")];
    if !dosage_text.is_empty() {
        lines.push(format!("Dosering: {dosage_text}"));
    }
    if let Some(r) = reason {
        lines.push(format!("Bruksområde: {r}"));
    }
    if let Some(a) = &antall {
        lines.push(format!("Antall: {a}"));
    }
    // coded Norwegian details without an eP element keep their code in the narrative
    let coded_line = |label: &str, el: Option<&Element>| {
        el.and_then(|e| {
            let v = e.attr("V")?;
            let dn = e.attr("DN").unwrap_or("");
            let ot = e.attr("OT").map(|o| format!(" ({o})")).unwrap_or_default();
            Some(format!(
                "{label}: {dn} [{v}{}]{ot}",
                e.attr("S").map(|s| format!(" {s}")).unwrap_or_default()
            ))
        })
    };
    lines.extend(coded_line("Bruk", f.child(F, "Bruk")));
    lines.extend(coded_line("Kortdose", f.child(F, "Kortdose")));
    lines.extend(coded_line(
        "Reseptgruppe",
        product.and_then(|p| p.child(F, "Reseptgruppe")),
    ));
    lines.extend(coded_line(
        "Refusjonshjemmel",
        b.dok.child(NS_M1, "RefHjemmel"),
    ));
    lines.extend(coded_line("Refusjonskode", b.dok.child(NS_M1, "RefKode")));
    if let Some(pi) = pakning.and_then(|p| p.child(F, "PakningsinfoResept")) {
        let size = text_of(pi.child(F, "Pakningsstr")).unwrap_or("");
        lines.extend(coded_line(
            &format!("Pakning {size}"),
            pi.child(F, "EnhetPakning"),
        ));
    }
    if let Some(v) = pakning.and_then(|p| text_of(p.child(F, "Varenr"))) {
        lines.push(format!("Varenummer: {v}"));
    }
    for d in &doses {
        let m = d.child(F, "Mengde");
        let when = d
            .child(F, "Tidsomrade")
            .and_then(|t| t.attr("DN"))
            .unwrap_or("");
        if let Some(m) = m {
            lines.push(
                format!(
                    "Dose: {} {} {when}",
                    m.attr("V").unwrap_or(""),
                    m.attr("U").unwrap_or("")
                )
                .trim_end()
                .to_string(),
            );
        }
    }
    if let Some(bl) = blanding {
        for best in bl.children_named(F, "BestanddelVirkestoff") {
            let n = best
                .path(F, &["Virkestoff", "Navn"])
                .and_then(|n| text_of(Some(n)))
                .unwrap_or("");
            let s = best.child(F, "Styrke");
            let part = |k: &str| {
                s.and_then(|s| s.child(F, k))
                    .map(|x| {
                        format!(
                            "{} {}",
                            x.attr("V").unwrap_or(""),
                            x.attr("U").unwrap_or("")
                        )
                    })
                    .unwrap_or_default()
            };
            lines.push(format!(
                "Virkestoff: {n} {}/{}",
                part("Teller"),
                part("Nevner")
            ));
        }
    }
    let mut events = Vec::new();
    w.open("component", &[]);
    w.open("structuredBody", &[]);
    w.open("component", &[]);
    w.open("section", &[]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.2.1");
    w.empty("id", &[("root", b.rx_root)]);
    w.empty(
        "code",
        &[
            ("code", "57828-6"),
            ("codeSystem", oid::LOINC),
            ("codeSystemName", "LOINC"),
            ("displayName", "Prescriptions"),
        ],
    );
    w.leaf("title", &[], "Prescriptions");
    w.open("text", &[]);
    for (i, l) in lines.iter().enumerate() {
        w.leaf("paragraph", &[("ID", &format!("rx-{}", i + 1))], l);
    }
    w.leaf(
        "paragraph",
        &[("ID", "pinstruct")],
        &format!(
            "{dosage_text}{}",
            reason.map(|r| format!(" ({r})")).unwrap_or_default()
        ),
    );
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
    w.empty("id", &[("root", b.rx_root)]);
    w.open("text", &[]);
    w.empty("reference", &[("value", "#rx-1")]);
    w.close("text");
    w.empty("statusCode", &[("code", "active")]);
    w.open("effectiveTime", &[("xsi:type", "IVL_TS")]);
    match start.and_then(super::fhir::ts) {
        Some(s) => w.empty("low", &[("value", &s)]),
        None => w.empty("low", &[("value", b.written)]),
    }
    match end.and_then(super::fhir::ts) {
        Some(e) => w.empty("high", &[("value", &e)]),
        None => w.empty("high", &[("nullFlavor", "UNK")]),
    }
    w.close("effectiveTime");
    // fixed-time doses per day -> a period of 24 h / n
    let per_day = doses
        .iter()
        .filter(|d| {
            d.child(F, "Intervall").and_then(|i| i.attr("U")) == Some("Døgn")
                && d.child(F, "Intervall").and_then(|i| i.attr("V")) == Some("1")
        })
        .count();
    if per_day > 0 {
        let p = 24.0 / per_day as f64;
        let pv = if p.fract() == 0.0 {
            format!("{}", p as i64)
        } else {
            format!("{:.2}", p)
        };
        w.open(
            "effectiveTime",
            &[
                ("xsi:type", "PIVL_TS"),
                ("institutionSpecified", "true"),
                ("operator", "A"),
            ],
        );
        w.empty("period", &[("value", &pv), ("unit", "h")]);
        w.close("effectiveTime");
    } else {
        w.open(
            "effectiveTime",
            &[("xsi:type", "PIVL_TS"), ("operator", "A")],
        );
        w.empty("period", &[("nullFlavor", "UNK")]);
        w.close("effectiveTime");
    }
    let reit = text_of(b.dok.child(NS_M1, "Reiterasjon")).and_then(num);
    if let Some(r) = &reit {
        w.empty("repeatNumber", &[("value", r)]);
    }
    let route = f.path(F, &["AdministreringForskrivning", "AdmMate"]);
    if route.is_some() {
        let src = src_volven(route, Some(VOLVEN_ROUTE));
        cx.write_cd(
            w,
            "routeCode",
            &[],
            vs::ROUTE,
            &src,
            None,
            "substanceAdministration/routeCode",
        );
    }
    if let Some(m) = doses.first().and_then(|d| d.child(F, "Mengde")) {
        if let Some(v) = m.attr("V").and_then(num) {
            let u = unit(cx, m.attr("U"), "substanceAdministration/doseQuantity");
            w.open("doseQuantity", &[]);
            w.empty("low", &[("value", &v), ("unit", &u)]);
            w.empty("high", &[("value", &v), ("unit", &u)]);
            w.close("doseQuantity");
        }
    }
    // product
    w.open("consumable", &[("typeCode", "CSM")]);
    w.open("manufacturedProduct", &[("classCode", "MANU")]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.29");
    w.open(
        "manufacturedMaterial",
        &[("classCode", "MMAT"), ("determinerCode", "KIND")],
    );
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.30");
    w.leaf("name", &[], &brand);
    w.leaf("pharm:desc", &[], &name);
    let form_el = product.and_then(|p| {
        p.child(F, "LegemiddelformKort")
            .or_else(|| p.child(F, "Legemiddelform"))
    });
    let form = src_volven(form_el, Some("2.16.578.1.12.4.1.1.7448"));
    let chosen = cx.write_cd(
        w,
        "pharm:formCode",
        &[],
        vs::DOSE_FORM,
        &form,
        form_el.and_then(|e| e.attr("OT")),
        "manufacturedMaterial/formCode",
    );
    if chosen.mapped {
        // the table gave an EDQM code: report it as an event code
    }
    // package: size and unit
    let info = pakning.and_then(|p| p.child(F, "PakningsinfoResept"));
    let size = info
        .and_then(|i| text_of(i.child(F, "Pakningsstr")))
        .and_then(num);
    let size_unit_el = info.and_then(|i| i.child(F, "EnhetPakning"));
    let size_unit = size_unit_el.and_then(|e| e.attr("V"));
    let mix_amount = blanding.and_then(|x| x.child(F, "Mengde"));
    w.open("pharm:asContent", &[("classCode", "CONT")]);
    // package size as one PQ (the XSD and the schematron agree on value/unit here)
    match (
        size.as_ref(),
        mix_amount.and_then(|m| m.attr("V")).and_then(num),
    ) {
        (Some(s), _) => {
            let u = match size_unit_el.and_then(|e| e.attr("S")) {
                Some(sys) => cx
                    .term
                    .transcode(sys, size_unit.unwrap_or(""), vs::UNIT)
                    .map(|m| m.code)
                    .unwrap_or_else(|| unit(cx, size_unit, "asContent/quantity")),
                None => unit(cx, size_unit, "asContent/quantity"),
            };
            w.empty("pharm:quantity", &[("value", s), ("unit", &u)]);
        }
        (None, Some(v)) => {
            let u = unit(
                cx,
                mix_amount.and_then(|m| m.attr("U")),
                "asContent/quantity",
            );
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
    // ATC class of the product
    let atc_el = product.and_then(|p| p.child(F, "Atc"));
    let atc = src_volven(atc_el, Some("2.16.578.1.12.4.1.1.7180"));
    if !atc.is_empty() {
        w.open("pharm:asSpecializedKind", &[("classCode", "GRIC")]);
        w.open(
            "pharm:generalizedMaterialKind",
            &[("classCode", "MMAT"), ("determinerCode", "KIND")],
        );
        let ch = cx.write_cd(
            w,
            "pharm:code",
            &[],
            vs::ACTIVE_INGREDIENT,
            &atc,
            None,
            "asSpecializedKind/code",
        );
        if ch.mapped {
            events.push((vs::ATC.to_string(), atc[0].code.clone(), ch.display.clone()));
        }
        w.close("pharm:generalizedMaterialKind");
        w.close("pharm:asSpecializedKind");
    }
    // ingredients: the active substances of a compounded mixture carry their strength
    if let Some(bl) = blanding {
        for (k, best) in bl.children_named(F, "BestanddelVirkestoff").enumerate() {
            let styrke = best.child(F, "Styrke");
            let teller = styrke.and_then(|s| s.child(F, "Teller"));
            let nevner = styrke.and_then(|s| s.child(F, "Nevner"));
            let (Some(tv), Some(nv)) = (
                teller.and_then(|t| t.attr("V")).and_then(num),
                nevner.and_then(|n| n.attr("V")).and_then(num),
            ) else {
                continue;
            };
            let path = format!("ingredient[{}]", k + 1);
            let tu = unit(cx, teller.and_then(|t| t.attr("U")), &path);
            let nu = unit(cx, nevner.and_then(|t| t.attr("U")), &path);
            w.open("pharm:ingredient", &[("classCode", "ACTI")]);
            w.open("pharm:quantity", &[]);
            w.empty(
                "numerator",
                &[("xsi:type", "PQ"), ("value", &tv), ("unit", &tu)],
            );
            w.empty(
                "denominator",
                &[("xsi:type", "PQ"), ("value", &nv), ("unit", &nu)],
            );
            w.close("pharm:quantity");
            w.open(
                "pharm:ingredientSubstance",
                &[("classCode", "MMAT"), ("determinerCode", "KIND")],
            );
            let vname = best
                .path(F, &["Virkestoff", "Navn"])
                .and_then(|n| text_of(Some(n)));
            let src: Vec<Src> = Vec::new();
            warn_uncoded(cx, &path, "active substance of a compounded mixture");
            cx.write_cd(
                w,
                "pharm:code",
                &[],
                vs::ACTIVE_INGREDIENT,
                &src,
                vname,
                &path,
            );
            if let Some(n) = vname {
                w.leaf("pharm:name", &[], n);
            }
            w.close("pharm:ingredientSubstance");
            w.close("pharm:ingredient");
        }
    }
    w.close("manufacturedMaterial");
    w.close("manufacturedProduct");
    w.close("consumable");
    write_prescriber(w, cx, "author", b.org, b.hcp, b.country, b.written, b.rid);
    // quantity to dispense
    w.open("entryRelationship", &[("typeCode", "COMP")]);
    w.open("supply", &[("classCode", "SPLY"), ("moodCode", "RQO")]);
    w.empty("independentInd", &[("value", "false")]);
    w.empty(
        "quantity",
        &[("value", antall.as_deref().unwrap_or("1")), ("unit", "1")],
    );
    w.close("supply");
    w.close("entryRelationship");
    // substitution: the prescriber's reservation against substitution (BytteresRekvirent V=1) means none;
    // without a reservation Norwegian rules allow generic substitution
    let reserved = b
        .dok
        .child(NS_M1, "BytteresRekvirent")
        .and_then(|x| x.attr("V"))
        == Some("1");
    let subst = if reserved {
        [Src::new("2.16.840.1.113883.5.1070", "N", Some("none"))]
    } else {
        [Src::new("2.16.840.1.113883.5.1070", "G", Some("generic"))]
    };
    w.open(
        "entryRelationship",
        &[("typeCode", "SUBJ"), ("inversionInd", "true")],
    );
    w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
    w.empty(
        "code",
        &[
            ("code", "SUBST"),
            ("codeSystem", "2.16.840.1.113883.5.6"),
            ("displayName", "Substitution"),
        ],
    );
    cx.write_cd(
        w,
        "value",
        &[("xsi:type", "CE")],
        "1.3.6.1.4.1.12559.11.10.1.3.1.42.7",
        &subst,
        None,
        "substitution",
    );
    w.close("observation");
    w.close("entryRelationship");
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
    w.open("text", &[]);
    w.empty("reference", &[("value", "#pinstruct")]);
    w.close("text");
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
        if let Some(m) =
            cx.term
                .transcode(df.system.as_deref().unwrap_or(""), &df.code, vs::DOSE_FORM)
        {
            let d = cx
                .term
                .lookup(vs::DOSE_FORM, &m.system, &m.code)
                .unwrap_or("")
                .to_string();
            events.push((m.system, m.code, d));
        }
    }
    events.insert(
        0,
        (
            "urn:ehdsi:ep:status".to_string(),
            "open".to_string(),
            "Prescription open for dispensation".to_string(),
        ),
    );
    events
}
