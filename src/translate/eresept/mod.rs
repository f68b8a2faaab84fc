//! e-resept M1 (KITH XML inside MsgHead) -> eHDSI ePrescription pivot CDA L3 (templateId ...1.1.1),
//! one document per prescription, with the XDS eventCodeList values that go with it. The message
//! is read into typed values (`m1`), then each prescription is written as a header
//! (`header`) and a body (`body`). Product parts use the HL7 pharmacy extension namespace
//! (urn:hl7-org:pharm) that both the eP schematron and the shared XSD read.

mod body;
mod header;
mod m1;

use self::header::Doc;
use self::m1::{Message, Prescription};
use super::cda::uuid_from;
use super::coded::Ctx;
use super::parse_xml;
use super::terminology::Terminology;
use super::{TranslateError, TranslationWarning};
use crate::xml::XmlWriter;

#[derive(Debug, Clone)]
pub struct EpOptions {
    /// Country of addresses that carry none (ISO 3166 alpha-2).
    pub country: String,
    /// languageCode of the produced documents.
    pub language: String,
}

impl Default for EpOptions {
    fn default() -> Self {
        EpOptions {
            country: "NO".into(),
            language: "nb-NO".into(),
        }
    }
}

/// One eP pivot document and the XDS metadata values that belong with it.
#[derive(Debug, Clone)]
pub struct TranslatedEp {
    pub xml: String,
    /// The Norwegian prescription id (ReseptId = the M1 message id).
    pub prescription_id: String,
    /// eventCodeList entries: (codeSystem OID, code, display) - open/closed state, ATC, dose form.
    pub event_codes: Vec<(String, String, String)>,
    pub warnings: Vec<TranslationWarning>,
}

/// Translates an M1 message to one eP pivot CDA per prescription it holds.
pub fn eresept_to_ep(
    xml: &[u8],
    term: &Terminology,
    opts: &EpOptions,
) -> Result<Vec<TranslatedEp>, TranslateError> {
    let root = parse_xml(xml)?;
    let msg = Message::read(&root)?;
    let many = msg.resepter.len() > 1;
    let mut out = Vec::new();
    for (i, resept) in msg.resepter.iter().enumerate() {
        let rid = if many {
            format!("{}-{}", msg.id, i + 1)
        } else {
            msg.id.to_string()
        };
        let rx = Prescription::read(resept)?;
        out.push(one(term, opts, &msg, &rx, &rid)?);
    }
    Ok(out)
}

/// One prescription as an eP document.
fn one(
    term: &Terminology,
    opts: &EpOptions,
    msg: &Message,
    rx: &Prescription,
    rid: &str,
) -> Result<TranslatedEp, TranslateError> {
    let mut cx = Ctx::new(term);
    // a UUID prescription id is the id itself, anything else gets a stable UUID of its own
    let rx_root = if rid.len() == 36 {
        rid.to_uppercase()
    } else {
        uuid_from(rid)
    };
    let doc = Doc {
        msg,
        rx,
        rid,
        rx_root,
        country: &opts.country,
        language: &opts.language,
    };
    let mut w = XmlWriter::new();
    header::write_header(&mut w, &mut cx, &doc)?;
    let event_codes = body::write_body(&mut w, &mut cx, &doc);
    w.close("ClinicalDocument");
    Ok(TranslatedEp {
        xml: w.s,
        prescription_id: rid.to_string(),
        event_codes,
        warnings: cx.warnings,
    })
}
