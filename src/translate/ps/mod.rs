//! FHIR IPS document Bundle -> eHDSI Patient Summary pivot CDA L3 (templateId ...1.1.3).
//! The header comes from Composition/Patient/author/custodian (`header`); each Composition
//! section is placed by its LOINC code, its entries written with the PS entry templates (one
//! writer per resource type) and a generated narrative (`section`). The five sections PS
//! requires are always present, with the IPS absent/unknown form when empty (`absent`).

mod absent;
mod allergies;
mod clinical;
mod findings;
mod header;
mod meds;
mod results;
mod section;

use serde_json::Value;

use self::section::{Entry, Section};
use super::coded::Ctx;
use super::fhir::{self, arr, str_at, Bundle};
use super::pdf::Block;
use super::terminology::Terminology;
use super::{TranslateError, Translated, WarningKind};
use crate::xml::XmlWriter;

pub const PS_TEMPLATE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.1.3";
pub const PS_L1_TEMPLATE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.1.7";

#[derive(Debug, Clone)]
pub struct PsOptions {
    /// Also produce the L1 (PDF) variant.
    pub l1: bool,
    /// languageCode of the document when the Composition has none (or one outside eHDSILanguage).
    pub language: String,
    /// Country of the custodian/author addresses when the source has none (ISO 3166 alpha-2).
    pub country: String,
}

impl Default for PsOptions {
    fn default() -> Self {
        PsOptions {
            l1: false,
            language: "en-GB".into(),
            country: "NO".into(),
        }
    }
}

/// Kinds of PS sections, keyed by LOINC code. (code, section templateIds, title)
pub(crate) const SECTIONS: &[(&str, &[&str], &str)] = &[
    (
        "10160-0",
        &[
            "1.3.6.1.4.1.12559.11.10.1.3.1.2.3",
            "2.16.840.1.113883.10.20.1.8",
        ],
        "History of Medication use",
    ),
    (
        "48765-2",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.12"],
        "Allergies and adverse reactions",
    ),
    (
        "47519-4",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.11"],
        "History of Procedures",
    ),
    (
        "11450-4",
        &[
            "1.3.6.1.4.1.12559.11.10.1.3.1.2.9",
            "2.16.840.1.113883.10.20.1.11",
        ],
        "Problem list",
    ),
    (
        "46264-8",
        &[
            "1.3.6.1.4.1.12559.11.10.1.3.1.2.4",
            "2.16.840.1.113883.10.20.1.7",
        ],
        "History of medical device use",
    ),
    (
        "11348-0",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.10"],
        "History of past illness",
    ),
    (
        "11369-6",
        &[
            "1.3.6.1.4.1.12559.11.10.1.3.1.2.15",
            "2.16.840.1.113883.10.20.1.6",
        ],
        "History of immunization",
    ),
    (
        "10162-6",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.7"],
        "History of pregnancies",
    ),
    (
        "29762-2",
        &[
            "1.3.6.1.4.1.12559.11.10.1.3.1.2.13",
            "2.16.840.1.113883.10.20.1.15",
        ],
        "Social history",
    ),
    // IPS vital signs (8716-3) are carried in PS physical findings, which has the same code
    (
        "8716-3",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.6"],
        "Physical findings",
    ),
    (
        "30954-2",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.5"],
        "Relevant diagnostic tests/laboratory data",
    ),
    (
        "18776-5",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.8"],
        "Plan of care",
    ),
    (
        "47420-5",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.14"],
        "Functional status assessment",
    ),
    (
        "42348-3",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.16"],
        "Advance directives",
    ),
];
/// Sections PS requires (medication, allergies, procedures, problems, devices).
const REQUIRED: &[&str] = &["10160-0", "48765-2", "47519-4", "11450-4", "46264-8"];

/// Translates an IPS document Bundle (JSON) to a PS pivot CDA.
pub fn ips_to_ps(
    json: &[u8],
    term: &Terminology,
    opts: &PsOptions,
) -> Result<Translated, TranslateError> {
    if json.len() > super::MAX_INPUT {
        return Err(TranslateError::TooLarge(format!(
            "more than {} bytes",
            super::MAX_INPUT
        )));
    }
    let root: Value =
        serde_json::from_slice(json).map_err(|e| TranslateError::NotJson(e.to_string()))?;
    let bundle = Bundle::index(&root)?;
    let comp = bundle.composition;
    let patient = comp
        .get("subject")
        .and_then(|s| bundle.resolve(s))
        .filter(|p| str_at(p, "resourceType") == Some("Patient"))
        .ok_or_else(|| {
            TranslateError::MissingElement("Composition.subject (a Patient in the Bundle)".into())
        })?;
    let mut cx = Ctx::new(term);
    let seed = str_at(&root, "id")
        .or_else(|| str_at(comp, "id"))
        .unwrap_or("ips")
        .to_string();
    let mut w = XmlWriter::new();
    let hdr = header::Header {
        bundle: &bundle,
        comp,
        patient,
        language: &opts.language,
        country: &opts.country,
        seed: &seed,
    };
    header::write_header(&mut w, &mut cx, &hdr, PS_TEMPLATE)?;

    // sections by kind, in PS order; sections without a PS template are noted and carried as narrative
    let mut found: Vec<(usize, &Value)> = Vec::new();
    let mut extra_narrative: Vec<String> = Vec::new();
    for s in arr(comp, "section") {
        let code = fhir::cc_code(s.get("code")).unwrap_or("");
        match SECTIONS.iter().position(|(c, _, _)| *c == code) {
            Some(i) => found.push((i, s)),
            None => {
                cx.warn(
                    WarningKind::SectionWithoutTemplate,
                    "structuredBody",
                    format!("section LOINC {code} has no PS template; its text is kept in the plan of care section"),
                );
                extra_narrative.push(section_plain_text(s));
            }
        }
    }
    w.open("component", &[]);
    w.open("structuredBody", &[]);
    let mut counter = 0usize;
    for (i, (code, tids, title)) in SECTIONS.iter().enumerate() {
        let mine: Vec<&Value> = found
            .iter()
            .filter(|(k, _)| *k == i)
            .map(|(_, s)| *s)
            .collect();
        let has_extra = *code == "18776-5" && !extra_narrative.is_empty();
        if mine.is_empty() && !REQUIRED.contains(code) && !has_extra {
            continue;
        }
        let mut sec = Section::new(code, &seed, i);
        for s in &mine {
            for e in arr(s, "entry") {
                let Some(res) = bundle.resolve(e) else {
                    cx.warn(
                        WarningKind::Dropped,
                        code,
                        "an entry reference does not resolve in the Bundle".into(),
                    );
                    continue;
                };
                counter += 1;
                write_entry(&mut cx, &bundle, &mut sec, res, counter);
            }
        }
        if has_extra {
            for t in &extra_narrative {
                sec.narrative_line(t);
            }
        }
        if sec.entries.is_empty() && REQUIRED.contains(code) {
            let reason = mine
                .iter()
                .find_map(|s| fhir::cc_code(s.get("emptyReason")));
            absent::write_absent(&mut sec, code, reason);
        }
        sec.write(&mut w, tids, title);
    }
    w.close("structuredBody");
    w.close("component");
    w.close("ClinicalDocument");

    let l1_xml = if opts.l1 {
        let top = patient_fields(patient, comp);
        Some(super::pdf::cda_l1(
            &w.s,
            top,
            "Patient Summary",
            PS_L1_TEMPLATE,
        )?)
    } else {
        None
    };
    Ok(Translated {
        xml: w.s,
        l1_xml,
        warnings: cx.warnings,
    })
}

/// Writes one resource as a PS entry of section `sec`; a resource the section has no entry
/// template for is kept in the narrative with its codes.
fn write_entry(cx: &mut Ctx, bundle: &Bundle, sec: &mut Section, r: &Value, n: usize) {
    let rt = str_at(r, "resourceType").unwrap_or("");
    let path = format!("section[{}]/entry[{}]", sec.code, sec.entries.len() + 1);
    let mut e = Entry {
        cx,
        bundle,
        sec,
        w: XmlWriter::default(),
        n,
        path,
    };
    let ok = match rt {
        "MedicationStatement" | "MedicationRequest" | "MedicationAdministration" => {
            meds::medication(&mut e, r)
        }
        "AllergyIntolerance" => allergies::allergy(&mut e, r),
        "Condition" => clinical::problem(&mut e, r),
        "Procedure" => clinical::procedure(&mut e, r),
        "DeviceUseStatement" => clinical::device(&mut e, r),
        "Immunization" => clinical::immunization(&mut e, r),
        "Observation" => match e.sec.code.as_str() {
            "30954-2" => {
                results::result_organizer(&mut e, r);
                true
            }
            "29762-2" => findings::social(&mut e, r),
            "8716-3" => findings::vital(&mut e, r),
            _ => false,
        },
        _ => false,
    };
    if ok {
        e.sec.entries.push(e.w.s);
        return;
    }
    let t = fhir::cc_text(r.get("code")).unwrap_or_else(|| rt.to_string());
    let v = fhir::value_text(r)
        .map(|v| format!(": {v}"))
        .unwrap_or_default();
    let d = str_at(r, "effectiveDateTime")
        .map(|d| format!(" ({})", fhir::human_date(d)))
        .unwrap_or_default();
    // the codes stay readable in the text: [code system]
    let codes: Vec<String> = fhir::codings(e.cx.term, r.get("code"))
        .iter()
        .chain(fhir::codings(e.cx.term, r.get("valueCodeableConcept")).iter())
        .map(|c| format!("[{} {}]", c.code, c.system.as_deref().unwrap_or("?")))
        .collect();
    e.sec
        .narrative_line(format!("{t}{v}{d} {}", codes.join(" ")).trim_end());
    e.cx.warn(
        WarningKind::Dropped,
        &e.path,
        format!("{rt} has no entry template in this section; narrative only"),
    );
}

/// Identification fields at the top of the L1 rendering.
fn patient_fields(p: &Value, comp: &Value) -> Vec<Block> {
    let field = |l: &str, v: String| Block::Field(l.to_string(), v);
    let mut out = Vec::new();
    if let Some(n) = arr(p, "name").first() {
        let given: Vec<&str> = arr(n, "given").iter().filter_map(Value::as_str).collect();
        let name = format!("{} {}", given.join(" "), str_at(n, "family").unwrap_or(""));
        out.push(field("Patient", name.trim().to_string()));
    }
    if let Some(b) = str_at(p, "birthDate") {
        out.push(field("Date of birth", b.to_string()));
    }
    if let Some(g) = str_at(p, "gender") {
        out.push(field("Gender", g.to_string()));
    }
    for i in arr(p, "identifier") {
        out.push(field(
            "Identifier",
            format!(
                "{} ({})",
                str_at(i, "value").unwrap_or(""),
                str_at(i, "system").unwrap_or("")
            ),
        ));
    }
    if let Some(d) = str_at(comp, "date") {
        out.push(field("Document date", d.to_string()));
    }
    out
}

fn section_plain_text(s: &Value) -> String {
    let title = str_at(s, "title").unwrap_or("Section");
    let div = s.get("text").and_then(|t| str_at(t, "div")).unwrap_or("");
    let mut text = String::new();
    let mut in_tag = false;
    for c in div.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text: Vec<&str> = text.split_whitespace().collect();
    format!("{title}: {}", text.join(" "))
}
