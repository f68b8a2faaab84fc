//! PS section bodies: one writer per FHIR resource type, each adding a narrative line (with an ID
//! the entry's `<text><reference>` points to) and the coded entry.

use serde_json::Value;
use sha1::{Digest, Sha1};

use super::coded::{Ctx, Src};
use super::fhir::{arr, cc_text, codings, human_date, str_at, ts, Bundle};
use super::terminology::vs;
use super::xmlw::XmlW;
use super::WarningKind;

/// A name-based UUID (SHA-1, version 5 layout) so that output ids are stable for the same input.
pub fn uuid_from(seed: &str) -> String {
    let h = Sha1::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x: String = b.iter().map(|v| format!("{v:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
    .to_uppercase()
}

pub struct Section {
    pub code: String,
    seed: String,
    pub lines: Vec<(String, String)>,
    pub entries: Vec<String>,
}

impl Section {
    pub fn new(code: &str, seed: &str, idx: usize) -> Self {
        Section {
            code: code.to_string(),
            seed: format!("{seed}#s{idx}"),
            lines: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// Adds a narrative line and returns its ID for `<reference value="#ID">`.
    pub fn narrative_line(&mut self, text: &str) -> String {
        let id = format!("s{}-{}", self.code.replace('-', ""), self.lines.len() + 1);
        self.lines.push((id.clone(), text.to_string()));
        id
    }

    fn id(&self, n: usize) -> String {
        uuid_from(&format!("{}#{n}", self.seed))
    }

    pub fn write(&self, w: &mut XmlW, tids: &[&str], title: &str) {
        w.open("component", &[]);
        w.open("section", &[]);
        for t in tids {
            w.template(t);
        }
        w.empty("id", &[("root", &uuid_from(&self.seed))]);
        w.empty(
            "code",
            &[
                ("code", &self.code),
                ("codeSystem", vs::LOINC),
                ("codeSystemName", "LOINC"),
                ("displayName", title),
            ],
        );
        w.leaf("title", &[], title);
        w.open("text", &[]);
        if self.lines.is_empty() {
            w.leaf("paragraph", &[], "No information");
        }
        for (id, t) in &self.lines {
            w.leaf("paragraph", &[("ID", id)], t);
        }
        w.close("text");
        for e in &self.entries {
            w.open("entry", &[]);
            w.raw(e);
            w.close("entry");
        }
        w.close("section");
        w.close("component");
    }
}

fn text_ref(w: &mut XmlW, id: &str) {
    w.open("text", &[]);
    w.empty("reference", &[("value", &format!("#{id}"))]);
    w.close("text");
}

fn ivl(w: &mut XmlW, elem: &str, low: Option<&str>, high: Option<&str>, typed: bool) {
    let mut a: Vec<(&str, &str)> = Vec::new();
    if typed {
        a.push(("xsi:type", "IVL_TS"));
    }
    w.open(elem, &a);
    match low.and_then(ts) {
        Some(l) => w.empty("low", &[("value", &l)]),
        None => w.empty("low", &[("nullFlavor", "UNK")]),
    }
    if let Some(h) = high.and_then(ts) {
        w.empty("high", &[("value", &h)]);
    }
    w.close(elem);
}

/// Onset/abatement style [x] fields: (start, end) of a dateTime or Period.
fn period_of<'v>(r: &'v Value, base: &str) -> (Option<&'v str>, Option<&'v str>) {
    if let Some(d) = str_at(r, &format!("{base}DateTime")) {
        return (Some(d), None);
    }
    if let Some(p) = r.get(format!("{base}Period")) {
        return (str_at(p, "start"), str_at(p, "end"));
    }
    (None, None)
}

/// Writes one resource as a PS entry of section `sec`.
pub fn write_entry(cx: &mut Ctx, b: &Bundle, sec: &mut Section, r: &Value, n: usize) {
    let rt = str_at(r, "resourceType").unwrap_or("");
    let path = format!("section[{}]/entry[{n}]", sec.code);
    let mut w = XmlW::default();
    let ok = match (sec.code.as_str(), rt) {
        (_, "MedicationStatement" | "MedicationRequest" | "MedicationAdministration") => {
            medication(cx, b, sec, r, n, &path, &mut w)
        }
        (_, "AllergyIntolerance") => allergy(cx, sec, r, n, &path, &mut w),
        (_, "Condition") => problem(cx, sec, r, n, &path, &mut w),
        (_, "Procedure") => procedure(cx, sec, r, n, &path, &mut w),
        (_, "DeviceUseStatement") => device(cx, b, sec, r, n, &path, &mut w),
        (_, "Immunization") => immunization(cx, sec, r, n, &path, &mut w),
        (_, "Observation") => observation(cx, b, sec, r, n, &path, &mut w),
        _ => false,
    };
    if ok {
        sec.entries.push(w.s);
    } else {
        // no entry template for this resource here: keep what it says in the narrative
        let t = cc_text(r.get("code")).unwrap_or_else(|| rt.to_string());
        sec.narrative_line(&format!("{rt}: {t}"));
        cx.warn(
            WarningKind::Dropped,
            &path,
            format!("{rt} has no entry template in this section; narrative only"),
        );
    }
}

fn medication(
    cx: &mut Ctx,
    b: &Bundle,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlW,
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
fn strength(w: &mut XmlW, ratio: &Value) {
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

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn allergy(cx: &mut Ctx, sec: &mut Section, r: &Value, n: usize, path: &str, w: &mut XmlW) -> bool {
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
            cx.write_cd(
                w,
                "value",
                &[("xsi:type", "CD")],
                vs::REACTION_ALLERGY,
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
                ("codeSystem", vs::LOINC),
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
                ("codeSystem", vs::LOINC),
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
                ("codeSystem", vs::LOINC),
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

fn problem(cx: &mut Ctx, sec: &mut Section, r: &Value, n: usize, path: &str, w: &mut XmlW) -> bool {
    let what = cc_text(r.get("code")).unwrap_or_else(|| "problem".into());
    let (onset, mut end) = period_of(r, "onset");
    let (ab, _) = period_of(r, "abatement");
    end = end.or(ab);
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
    let id = sec.narrative_line(&line);
    let clinical = super::fhir::cc_code(r.get("clinicalStatus"));
    w.open("act", &[("classCode", "ACT"), ("moodCode", "EVN")]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.15");
    w.template("2.16.840.1.113883.10.20.1.27");
    w.empty("id", &[("root", &sec.id(n))]);
    w.empty(
        "code",
        &[("code", "CONC"), ("codeSystem", "2.16.840.1.113883.5.6")],
    );
    text_ref(w, &id);
    let concern =
        if matches!(clinical, Some("inactive" | "resolved" | "remission")) || end.is_some() {
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
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.7");
    w.empty("id", &[("root", &sec.id(n * 100 + 1))]);
    let src = [Src::new(vs::SNOMED, "55607006", Some("Problem"))];
    cx.write_cd(
        w,
        "code",
        &[],
        "1.3.6.1.4.1.12559.11.10.1.3.1.42.23",
        &src,
        None,
        &format!("{path}/code"),
    );
    text_ref(w, &id);
    w.empty("statusCode", &[("code", "completed")]);
    ivl(w, "effectiveTime", onset, end, false);
    let src = codings(cx.term, r.get("code"));
    cx.write_cd(
        w,
        "value",
        &[("xsi:type", "CD")],
        vs::ILLNESS,
        &src,
        Some(&what),
        &format!("{path}/value"),
    );
    if let Some(sev) = r.get("severity") {
        w.open(
            "entryRelationship",
            &[("typeCode", "SUBJ"), ("inversionInd", "true")],
        );
        w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
        w.template("1.3.6.1.4.1.19376.1.5.3.1.4.1");
        w.template("2.16.840.1.113883.10.20.1.55");
        w.empty(
            "code",
            &[
                ("code", "SEV"),
                ("codeSystem", "2.16.840.1.113883.5.4"),
                ("displayName", "Severity"),
            ],
        );
        w.empty("statusCode", &[("code", "completed")]);
        let src = codings(cx.term, Some(sev));
        cx.write_cd(
            w,
            "value",
            &[("xsi:type", "CD")],
            vs::SEVERITY,
            &src,
            None,
            &format!("{path}/severity"),
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
        w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.40");
        w.empty(
            "code",
            &[
                ("code", "66455-7"),
                ("codeSystem", vs::LOINC),
                ("displayName", "Condition status"),
            ],
        );
        w.empty("statusCode", &[("code", "completed")]);
        cx.write_cd(
            w,
            "value",
            &[("xsi:type", "CD")],
            "1.3.6.1.4.1.12559.11.10.1.3.1.42.64",
            &verif,
            None,
            &format!("{path}/certainty"),
        );
        w.close("observation");
        w.close("entryRelationship");
    }
    w.close("observation");
    w.close("entryRelationship");
    w.close("act");
    true
}

fn procedure(
    cx: &mut Ctx,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlW,
) -> bool {
    let what = cc_text(r.get("code")).unwrap_or_else(|| "procedure".into());
    let (start, end) = period_of(r, "performed");
    let mut line = what.clone();
    if let Some(s) = start {
        line.push_str(&format!(", {}", human_date(s)));
    }
    let id = sec.narrative_line(&line);
    w.open("procedure", &[("classCode", "PROC"), ("moodCode", "EVN")]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.26");
    w.empty("id", &[("root", &sec.id(n))]);
    let src = codings(cx.term, r.get("code"));
    cx.write_cd(
        w,
        "code",
        &[],
        vs::PROCEDURE,
        &src,
        Some(&what),
        &format!("{path}/code"),
    );
    text_ref(w, &id);
    w.empty("statusCode", &[("code", "completed")]);
    ivl(w, "effectiveTime", start, end, false);
    w.close("procedure");
    true
}

fn device(
    cx: &mut Ctx,
    b: &Bundle,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlW,
) -> bool {
    let dev = r.get("device").and_then(|d| b.resolve(d));
    let cc = dev.and_then(|d| d.get("type"));
    let what = cc_text(cc).unwrap_or_else(|| "device".into());
    let (start, end) = period_of(r, "timing");
    let start = start.or_else(|| str_at(r, "recordedOn"));
    let id = sec.narrative_line(&what);
    w.open("supply", &[("classCode", "SPLY"), ("moodCode", "EVN")]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.5");
    w.empty("id", &[("root", &sec.id(n))]);
    text_ref(w, &id);
    ivl(w, "effectiveTime", start, end, true);
    w.open("participant", &[("typeCode", "DEV")]);
    w.open("participantRole", &[("classCode", "MANU")]);
    w.open(
        "playingDevice",
        &[("classCode", "DEV"), ("determinerCode", "INSTANCE")],
    );
    let src = codings(cx.term, cc);
    cx.write_cd(
        w,
        "code",
        &[],
        vs::MEDICAL_DEVICE,
        &src,
        Some(&what),
        &format!("{path}/device"),
    );
    w.close("playingDevice");
    w.close("participantRole");
    w.close("participant");
    w.close("supply");
    true
}

fn immunization(
    cx: &mut Ctx,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlW,
) -> bool {
    let what = cc_text(r.get("vaccineCode")).unwrap_or_else(|| "vaccine".into());
    let when = str_at(r, "occurrenceDateTime");
    let mut line = what.clone();
    if let Some(d) = when {
        line.push_str(&format!(", {}", human_date(d)));
    }
    if let Some(l) = str_at(r, "lotNumber") {
        line.push_str(&format!(", lot {l}"));
    }
    let id = sec.narrative_line(&line);
    w.open(
        "substanceAdministration",
        &[
            ("classCode", "SBADM"),
            ("moodCode", "EVN"),
            ("negationInd", "false"),
        ],
    );
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.19");
    w.template("1.3.6.1.4.1.19376.1.5.3.1.4.12");
    w.template("2.16.840.1.113883.10.20.1.24");
    w.empty("id", &[("root", &sec.id(n))]);
    w.empty(
        "code",
        &[
            ("code", "IMMUNIZ"),
            ("codeSystem", "1.3.5.1.4.1.19376.1.5.3.2"),
            ("displayName", "Immunization"),
        ],
    );
    text_ref(w, &id);
    w.empty("statusCode", &[("code", "completed")]);
    match when.and_then(ts) {
        Some(t) => w.empty("effectiveTime", &[("value", &t)]),
        None => w.empty("effectiveTime", &[("nullFlavor", "UNK")]),
    }
    if let Some(route) = r.get("route") {
        let src = codings(cx.term, Some(route));
        cx.write_cd(
            w,
            "routeCode",
            &[],
            vs::ROUTE,
            &src,
            cc_text(Some(route)).as_deref(),
            &format!("{path}/routeCode"),
        );
    }
    if let Some(site) = r.get("site") {
        let src = codings(cx.term, Some(site));
        cx.write_cd(
            w,
            "approachSiteCode",
            &[],
            "1.3.6.1.4.1.12559.11.10.1.3.1.42.65",
            &src,
            cc_text(Some(site)).as_deref(),
            &format!("{path}/site"),
        );
    }
    w.open("consumable", &[("typeCode", "CSM")]);
    w.open("manufacturedProduct", &[]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.18");
    w.template("2.16.840.1.113883.10.20.1.53");
    w.open("manufacturedMaterial", &[]);
    let src = codings(cx.term, r.get("vaccineCode"));
    cx.write_cd(
        w,
        "code",
        &[],
        vs::VACCINE,
        &src,
        Some(&what),
        &format!("{path}/vaccine"),
    );
    w.leaf("name", &[], &what);
    if let Some(l) = str_at(r, "lotNumber") {
        w.leaf("lotNumberText", &[], l);
    }
    w.close("manufacturedMaterial");
    w.close("manufacturedProduct");
    w.close("consumable");
    if let Some(dose) = arr(r, "protocolApplied")
        .first()
        .and_then(|p| p.get("doseNumberPositiveInt"))
        .and_then(Value::as_u64)
    {
        let _ = dose; // carried in the narrative line below
    }
    w.close("substanceAdministration");
    true
}

fn observation(
    cx: &mut Ctx,
    b: &Bundle,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlW,
) -> bool {
    if sec.code != "30954-2" {
        return false;
    }
    result_organizer(cx, b, sec, r, n, path, w);
    true
}

/// A result (or a panel with hasMember) as a result organizer (3.42) with one result observation
/// (3.43) per member; a single result is its own only member.
fn result_organizer(
    cx: &mut Ctx,
    b: &Bundle,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlW,
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
                ("codeSystem", vs::LOINC),
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

fn result_obs(cx: &mut Ctx, sec: &mut Section, r: &Value, n: usize, path: &str, w: &mut XmlW) {
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
        cx.write_cd(
            w,
            "value",
            &[("xsi:type", "CD")],
            vs::BLOOD_GROUP,
            &src,
            cc_text(Some(cc)).as_deref(),
            &format!("{path}/value"),
        );
    } else if let Some(s) = str_at(r, "valueString") {
        w.leaf("value", &[("xsi:type", "ST")], s);
    }
    w.close("observation");
}

fn value_text(r: &Value) -> Option<String> {
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

/// The IPS absent/unknown entry of a required section with no data.
pub fn write_absent(sec: &mut Section, code: &str, reason: Option<&str>) {
    let (text, what) = match code {
        "10160-0" => ("No information about medications", "no-medication-info"),
        "48765-2" => ("No information about allergies", "no-allergy-info"),
        "47519-4" => (
            "No information about past history of procedures",
            "no-procedure-info",
        ),
        "11450-4" => ("No information about problems", "no-problem-info"),
        _ => ("No information about medical devices", "no-device-info"),
    };
    let text = match reason {
        Some(r) => format!("{text} (reason: {r})"),
        None => text.to_string(),
    };
    let id = sec.narrative_line(&text);
    let n = 1;
    let mut w = XmlW::default();
    let nf = [
        ("code", what),
        ("codeSystem", vs::ABSENT_UNKNOWN),
        ("displayName", text.as_str()),
    ];
    match code {
        "10160-0" => {
            w.open(
                "substanceAdministration",
                &[("classCode", "SBADM"), ("moodCode", "INT")],
            );
            w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.4");
            w.template("2.16.840.1.113883.10.20.1.24");
            w.empty("id", &[("root", &sec.id(n))]);
            w.empty("code", &nf);
            text_ref(&mut w, &id);
            w.empty("statusCode", &[("code", "completed")]);
            w.empty(
                "effectiveTime",
                &[("xsi:type", "IVL_TS"), ("nullFlavor", "UNK")],
            );
            w.empty(
                "effectiveTime",
                &[("xsi:type", "PIVL_TS"), ("nullFlavor", "NA")],
            );
            w.open("consumable", &[]);
            w.open("manufacturedProduct", &[("classCode", "MANU")]);
            w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.31");
            w.open(
                "manufacturedMaterial",
                &[("classCode", "MMAT"), ("determinerCode", "KIND")],
            );
            w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.32");
            w.empty("code", &nf);
            w.close("manufacturedMaterial");
            w.close("manufacturedProduct");
            w.close("consumable");
            w.close("substanceAdministration");
        }
        "48765-2" => {
            w.open("act", &[("classCode", "ACT"), ("moodCode", "EVN")]);
            w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.16");
            w.empty("id", &[("root", &sec.id(n))]);
            w.empty(
                "code",
                &[("code", "CONC"), ("codeSystem", "2.16.840.1.113883.5.6")],
            );
            w.empty("statusCode", &[("code", "active")]);
            w.open("effectiveTime", &[]);
            w.empty("low", &[("nullFlavor", "NA")]);
            w.close("effectiveTime");
            w.open(
                "entryRelationship",
                &[("typeCode", "SUBJ"), ("inversionInd", "false")],
            );
            w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
            w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.17");
            w.empty("id", &[("root", &sec.id(n + 1))]);
            w.empty(
                "code",
                &[
                    ("code", "420134006"),
                    ("codeSystem", vs::SNOMED),
                    ("displayName", "Propensity to adverse reaction"),
                ],
            );
            text_ref(&mut w, &id);
            w.empty("statusCode", &[("code", "completed")]);
            w.open("effectiveTime", &[]);
            w.empty("low", &[("nullFlavor", "NA")]);
            w.close("effectiveTime");
            let mut v = nf.to_vec();
            v.push(("xsi:type", "CD"));
            w.empty("value", &v);
            w.close("observation");
            w.close("entryRelationship");
            w.close("act");
        }
        "47519-4" => {
            w.open("procedure", &[("classCode", "PROC"), ("moodCode", "EVN")]);
            w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.26");
            w.empty("id", &[("root", &sec.id(n))]);
            w.empty("code", &nf);
            text_ref(&mut w, &id);
            w.empty("statusCode", &[("code", "completed")]);
            w.empty("effectiveTime", &[("nullFlavor", "NA")]);
            w.close("procedure");
        }
        "11450-4" => {
            w.open("act", &[("classCode", "ACT"), ("moodCode", "EVN")]);
            w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.15");
            w.template("2.16.840.1.113883.10.20.1.27");
            w.empty("id", &[("root", &sec.id(n))]);
            w.empty(
                "code",
                &[("code", "CONC"), ("codeSystem", "2.16.840.1.113883.5.6")],
            );
            text_ref(&mut w, &id);
            w.empty("statusCode", &[("code", "active")]);
            w.open("effectiveTime", &[]);
            w.empty("low", &[("nullFlavor", "NA")]);
            w.close("effectiveTime");
            w.open(
                "entryRelationship",
                &[("typeCode", "SUBJ"), ("inversionInd", "false")],
            );
            w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
            w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.7");
            w.empty("id", &[("root", &sec.id(n + 1))]);
            w.empty(
                "code",
                &[
                    ("code", "55607006"),
                    ("codeSystem", vs::SNOMED),
                    ("displayName", "Problem"),
                ],
            );
            text_ref(&mut w, &id);
            w.empty("statusCode", &[("code", "completed")]);
            w.open("effectiveTime", &[]);
            w.empty("low", &[("nullFlavor", "NA")]);
            w.close("effectiveTime");
            let mut v = nf.to_vec();
            v.push(("xsi:type", "CD"));
            w.empty("value", &v);
            w.close("observation");
            w.close("entryRelationship");
            w.close("act");
        }
        _ => {
            w.open("supply", &[("classCode", "SPLY"), ("moodCode", "EVN")]);
            w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.5");
            w.empty("id", &[("root", &sec.id(n))]);
            text_ref(&mut w, &id);
            w.open("effectiveTime", &[("xsi:type", "IVL_TS")]);
            w.empty("low", &[("nullFlavor", "NA")]);
            w.close("effectiveTime");
            w.open("participant", &[("typeCode", "DEV")]);
            w.open("participantRole", &[("classCode", "MANU")]);
            w.open(
                "playingDevice",
                &[("classCode", "DEV"), ("determinerCode", "INSTANCE")],
            );
            w.empty("code", &nf);
            w.close("playingDevice");
            w.close("participantRole");
            w.close("participant");
            w.close("supply");
        }
    }
    sec.entries.push(w.s);
}
