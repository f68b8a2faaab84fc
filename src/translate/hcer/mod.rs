//! HealthCare Encounter Report (eHDSI HCER, LOINC 34133-9): sent by a country of treatment
//! after it cared for a Norwegian patient. The node reads it on arrival over XDR, checks it
//! against the template's rules, and learns whom it is about; it is kept as sent.

mod rules;

pub use rules::{HCER_CODE, HCER_TEMPLATE, RULES};

use super::{parse_xml, TranslateError};

const HL7: &str = "urn:hl7-org:v3";

/// What the node needs from an accepted HCER.
#[derive(Debug, Clone, PartialEq)]
pub struct Hcer {
    /// The patient's identifiers: (root, extension).
    pub patient_ids: Vec<(String, String)>,
    pub title: String,
    /// The document's effectiveTime as written.
    pub effective_time: String,
}

#[derive(Debug, thiserror::Error)]
pub enum HcerError {
    #[error(transparent)]
    Unreadable(#[from] TranslateError),
    #[error("the document is not a CDA ClinicalDocument")]
    NotCda,
    #[error("the HealthCare Encounter Report breaks rule {template} {rule}")]
    Rule {
        template: &'static str,
        rule: &'static str,
    },
}

/// Reads and checks an HCER.
pub fn check_hcer(xml: &[u8]) -> Result<Hcer, HcerError> {
    let doc = parse_xml(xml)?;
    if !doc.is(HL7, "ClinicalDocument") {
        return Err(HcerError::NotCda);
    }
    if let Some(r) = rules::first_broken(&doc) {
        return Err(HcerError::Rule {
            template: HCER_TEMPLATE,
            rule: r.name,
        });
    }
    // The rules made sure these are there.
    let patient_ids = doc
        .path(HL7, &["recordTarget", "patientRole"])
        .map(|p| {
            p.children_named(HL7, "id")
                .filter_map(|i| {
                    Some((
                        i.attr("root")?.to_string(),
                        i.attr("extension").unwrap_or_default().to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let text_of = |name: &str| {
        doc.child(HL7, name)
            .map(|e| e.deep_text().trim().to_string())
            .unwrap_or_default()
    };
    Ok(Hcer {
        patient_ids,
        title: text_of("title"),
        effective_time: doc
            .child(HL7, "effectiveTime")
            .and_then(|e| e.attr("value"))
            .unwrap_or_default()
            .to_string(),
    })
}
