//! The XDS metadata of one document a health trust submits: a SubmissionSet with one
//! DocumentEntry, in the Norwegian profile's code systems unless told otherwise.

use crate::ids::oid;
use crate::xds::ids;
use crate::xml::XmlWriter;

pub const VOLVEN_9602: &str = "2.16.578.1.12.4.1.1.9602";
pub const VOLVEN_9603: &str = "2.16.578.1.12.4.1.1.9603";
pub const VOLVEN_1303: &str = "2.16.578.1.12.4.1.1.1303";
pub const VOLVEN_8653: &str = "2.16.578.1.12.4.1.1.8653";
const FORMAT_SYSTEM: &str = "1.3.6.1.4.1.19376.1.2.3";
pub const MIME_SUFFICIENT: &str = "urn:ihe:iti:xds:2017:mimeTypeSufficient";

/// A coded value: `CODE`, `CODE^DISPLAY` or `CODE^DISPLAY^SYSTEM` on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Code {
    pub code: String,
    pub display: String,
    pub system: String,
}

impl Code {
    pub fn parse(text: &str, default_system: &str) -> Result<Code, String> {
        let mut parts = text.split('^').map(str::trim);
        let code = parts.next().unwrap_or_default();
        if code.is_empty() {
            return Err(format!("'{text}' has no code"));
        }
        let display = parts.next().filter(|d| !d.is_empty()).unwrap_or(code);
        let system = parts
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or(default_system);
        Ok(Code {
            code: code.into(),
            display: display.into(),
            system: system.into(),
        })
    }
}

/// Everything the metadata says about the document.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The patient as a CX.
    pub patient: String,
    pub class: Code,
    pub type_code: Code,
    pub format: Code,
    pub confidentiality: Code,
    pub facility: Code,
    pub practice: Code,
    pub title: String,
    pub language: String,
    pub mime: String,
    /// XCN and XON, as the registry reads them.
    pub author: Option<String>,
    pub institution: Option<String>,
    pub source_id: String,
    pub unique_id: String,
    pub set_unique_id: String,
    /// DTM (UTC, YYYYMMDDhhmmss).
    pub creation: String,
    pub hash: String,
    pub size: usize,
}

/// A fødselsnummer alone becomes its CX; a CX is kept.
pub fn patient_cx(id: &str) -> String {
    let id = id.trim();
    if id.contains("^^^") {
        id.to_string()
    } else {
        format!("{id}^^^&{}&ISO", oid::FNR)
    }
}

fn slot(w: &mut XmlWriter, name: &str, values: &[&str]) {
    w.open("rim:Slot", &[("name", name)]);
    w.open("rim:ValueList", &[]);
    for v in values {
        w.leaf("rim:Value", &[], v);
    }
    w.close("rim:ValueList");
    w.close("rim:Slot");
}

fn name(w: &mut XmlWriter, text: &str) {
    w.open("rim:Name", &[]);
    w.empty("rim:LocalizedString", &[("value", text)]);
    w.close("rim:Name");
}

fn classification(w: &mut XmlWriter, id: &str, scheme: &str, object: &str, c: &Code) {
    w.open(
        "rim:Classification",
        &[
            ("id", id),
            ("classificationScheme", scheme),
            ("classifiedObject", object),
            ("nodeRepresentation", &c.code),
        ],
    );
    slot(w, "codingScheme", &[&c.system]);
    name(w, &c.display);
    w.close("rim:Classification");
}

fn external_id(w: &mut XmlWriter, id: &str, scheme: &str, object: &str, value: &str, label: &str) {
    w.open(
        "rim:ExternalIdentifier",
        &[
            ("id", id),
            ("identificationScheme", scheme),
            ("registryObject", object),
            ("value", value),
        ],
    );
    name(w, label);
    w.close("rim:ExternalIdentifier");
}

fn author(w: &mut XmlWriter, id: &str, scheme: &str, object: &str, s: &Spec) {
    if s.author.is_none() && s.institution.is_none() {
        return;
    }
    w.open(
        "rim:Classification",
        &[
            ("id", id),
            ("classificationScheme", scheme),
            ("classifiedObject", object),
            ("nodeRepresentation", ""),
        ],
    );
    if let Some(a) = &s.author {
        slot(w, "authorPerson", &[a]);
    }
    if let Some(i) = &s.institution {
        slot(w, "authorInstitution", &[i]);
    }
    w.close("rim:Classification");
}

/// The SubmitObjectsRequest for `spec`; the document is `Document01`.
pub fn submit_objects(s: &Spec, submission_time: &str) -> String {
    let mut w = XmlWriter::default();
    w.open(
        "lcm:SubmitObjectsRequest",
        &[
            ("xmlns:lcm", crate::ebxml::LCM),
            ("xmlns:rim", crate::ebxml::RIM),
        ],
    );
    w.open("rim:RegistryObjectList", &[]);
    let (ss, de) = ("SubmissionSet01", "Document01");
    w.open("rim:RegistryPackage", &[("id", ss)]);
    slot(&mut w, "submissionTime", &[submission_time]);
    author(&mut w, "ss-author", ids::SS_AUTHOR, ss, s);
    classification(&mut w, "ss-content", ids::SS_CONTENT_TYPE, ss, &s.class);
    external_id(
        &mut w,
        "ss-uid",
        ids::SS_UNIQUE_ID,
        ss,
        &s.set_unique_id,
        "XDSSubmissionSet.uniqueId",
    );
    external_id(
        &mut w,
        "ss-src",
        ids::SS_SOURCE_ID,
        ss,
        &s.source_id,
        "XDSSubmissionSet.sourceId",
    );
    external_id(
        &mut w,
        "ss-pid",
        ids::SS_PATIENT_ID,
        ss,
        &s.patient,
        "XDSSubmissionSet.patientId",
    );
    w.close("rim:RegistryPackage");
    w.empty(
        "rim:Classification",
        &[
            ("id", "ss-node"),
            ("classifiedObject", ss),
            ("classificationNode", ids::SUBMISSION_SET_NODE),
        ],
    );
    w.open(
        "rim:ExtrinsicObject",
        &[
            ("id", de),
            ("mimeType", &s.mime),
            ("objectType", ids::DE_STABLE),
        ],
    );
    slot(&mut w, "creationTime", &[&s.creation]);
    slot(&mut w, "languageCode", &[&s.language]);
    slot(&mut w, "sourcePatientId", &[&s.patient]);
    slot(&mut w, "hash", &[&s.hash]);
    slot(&mut w, "size", &[&s.size.to_string()]);
    name(&mut w, &s.title);
    author(&mut w, "de-author", ids::DE_AUTHOR, de, s);
    classification(&mut w, "de-class", ids::DE_CLASS_CODE, de, &s.class);
    classification(
        &mut w,
        "de-conf",
        ids::DE_CONFIDENTIALITY,
        de,
        &s.confidentiality,
    );
    classification(&mut w, "de-format", ids::DE_FORMAT_CODE, de, &s.format);
    classification(
        &mut w,
        "de-facility",
        ids::DE_FACILITY_TYPE,
        de,
        &s.facility,
    );
    classification(
        &mut w,
        "de-practice",
        ids::DE_PRACTICE_SETTING,
        de,
        &s.practice,
    );
    classification(&mut w, "de-type", ids::DE_TYPE_CODE, de, &s.type_code);
    external_id(
        &mut w,
        "de-pid",
        ids::DE_PATIENT_ID,
        de,
        &s.patient,
        "XDSDocumentEntry.patientId",
    );
    external_id(
        &mut w,
        "de-uid",
        ids::DE_UNIQUE_ID,
        de,
        &s.unique_id,
        "XDSDocumentEntry.uniqueId",
    );
    w.close("rim:ExtrinsicObject");
    w.open(
        "rim:Association",
        &[
            ("id", "ss-member"),
            ("associationType", ids::HAS_MEMBER),
            ("sourceObject", ss),
            ("targetObject", de),
        ],
    );
    slot(&mut w, "SubmissionSetStatus", &["Original"]);
    w.close("rim:Association");
    w.close("rim:RegistryObjectList");
    w.close("lcm:SubmitObjectsRequest");
    w.s
}

/// The format code a document is registered with unless told otherwise: its mimeType says
/// enough (the Norwegian profile's usual choice for PDFs and pictures).
pub fn mime_sufficient() -> Code {
    Code {
        code: MIME_SUFFICIENT.into(),
        display: "mimeType Sufficient".into(),
        system: FORMAT_SYSTEM.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_take_their_display_and_system_when_given() {
        let c = Code::parse("A03-2", VOLVEN_9602).unwrap();
        assert_eq!(
            (c.code.as_str(), c.display.as_str(), c.system.as_str()),
            ("A03-2", "A03-2", VOLVEN_9602)
        );
        let c = Code::parse("A03-2^Epikrise", VOLVEN_9602).unwrap();
        assert_eq!(c.display, "Epikrise");
        let c = Code::parse("X^Y^1.2.3", VOLVEN_9602).unwrap();
        assert_eq!(c.system, "1.2.3");
        assert!(Code::parse("^x", VOLVEN_9602).is_err());
        assert_eq!(
            patient_cx("13116900216"),
            "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
        );
    }
}
