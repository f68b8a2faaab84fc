//! ITI-65's resources as XDS metadata (MHD's mapping tables): a DocumentReference becomes a
//! DocumentEntry, a SubmissionSet List (or an R4 DocumentManifest) a SubmissionSet. The XDS
//! rules then check them as they check ITI-41, so the same metadata gets the same errors.

use super::actors;
use super::dtm;
use super::fhir::{self, Issue};
use super::rim::{self, first_coding, localized};
use crate::ebxml::{RegistryObject, RimTag};
use crate::xds::ids;
use base64::Engine;
use fhirbolt::model::r4::resources::{DocumentManifest, DocumentReference, List};
use fhirbolt::model::r4::types::{CodeableConcept, Extension, ExtensionValue, Identifier};

/// MHD's extension for the SubmissionSet's sourceId.
pub const EXT_SOURCE_ID: &str = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId";
/// MHD's extension for the SubmissionSet's contentTypeCode.
pub const EXT_DESIGNATION: &str =
    "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType";

/// A uniqueId from an identifier value: `urn:oid:` is dropped, anything else is kept.
pub fn unique_id_of(value: &str) -> String {
    value.strip_prefix("urn:oid:").unwrap_or(value).to_string()
}

/// The entryUUID an identifier list gives (`urn:uuid:` value), if any.
pub fn entry_uuid_of(ids: &[Identifier]) -> Option<String> {
    ids.iter()
        .filter_map(|i| fhir::text(i.value.as_ref()))
        .find(|v| v.starts_with("urn:uuid:") && uuid::Uuid::parse_str(&v[9..]).is_ok())
}

/// The DocumentEntry of a DocumentReference, with the id `id` and patient `pid`.
pub fn document_entry(
    dr: &DocumentReference,
    id: &str,
    pid: &str,
    at: &str,
) -> Result<RegistryObject, Vec<Issue>> {
    let mut issues = Vec::new();
    let mut o = RegistryObject::new(RimTag::ExtrinsicObject, id);
    o.object_type = Some(ids::DE_STABLE.into());
    let status = fhir::text(Some(&dr.status)).unwrap_or_default();
    if status != "current" {
        issues.push(
            Issue::error(
                "invalid",
                format!("a new DocumentReference must be 'current', not '{status}'"),
            )
            .at(format!("{at}.status")),
        );
    }
    match dr
        .master_identifier
        .as_deref()
        .and_then(|m| fhir::text(m.value.as_ref()))
    {
        Some(v) => o.external_identifiers.push(rim::external_id(
            id,
            ids::DE_UNIQUE_ID,
            "XDSDocumentEntry.uniqueId",
            &unique_id_of(&v),
        )),
        None => issues.push(
            Issue::error(
                "required",
                "masterIdentifier (the document's uniqueId) is missing",
            )
            .at(format!("{at}.masterIdentifier")),
        ),
    }
    o.external_identifiers.push(rim::external_id(
        id,
        ids::DE_PATIENT_ID,
        "XDSDocumentEntry.patientId",
        pid,
    ));
    let code = |scheme: &str, cc: Option<&CodeableConcept>, o: &mut RegistryObject| {
        if let Some(c) = cc
            .and_then(first_coding)
            .and_then(|c| rim::coded(id, scheme, c))
        {
            o.classifications.push(c);
        }
    };
    code(ids::DE_TYPE_CODE, dr.r#type.as_deref(), &mut o);
    code(ids::DE_CLASS_CODE, dr.category.first(), &mut o);
    for label in &dr.security_label {
        code(ids::DE_CONFIDENTIALITY, Some(label), &mut o);
    }
    if let Some(ctx) = &dr.context {
        for e in &ctx.event {
            code(ids::DE_EVENT_CODE, Some(e), &mut o);
        }
        code(ids::DE_FACILITY_TYPE, ctx.facility_type.as_deref(), &mut o);
        code(
            ids::DE_PRACTICE_SETTING,
            ctx.practice_setting.as_deref(),
            &mut o,
        );
        if let Some(p) = ctx.period.as_deref() {
            time_slot(
                &mut o,
                "serviceStartTime",
                p.start.as_ref().and_then(|v| v.value.as_deref()),
                &mut issues,
                at,
            );
            time_slot(
                &mut o,
                "serviceStopTime",
                p.end.as_ref().and_then(|v| v.value.as_deref()),
                &mut issues,
                at,
            );
        }
        if let Some(sp) = ctx.source_patient_info.as_deref() {
            match actors::contained(&dr.contained, sp) {
                Some(fhirbolt::model::r4::Resource::Patient(p)) => {
                    let (spid, info) = actors::source_patient(p);
                    if let Some(spid) = spid {
                        o.set_slot("sourcePatientId", vec![spid]);
                    }
                    if !info.is_empty() {
                        o.set_slot("sourcePatientInfo", info);
                    }
                }
                _ => issues.push(
                    Issue::error(
                        "not-supported",
                        "sourcePatientInfo must name a contained Patient (#id)",
                    )
                    .at(format!("{at}.context.sourcePatientInfo")),
                ),
            }
        }
    }
    // MHD's minimal metadata need not name the source patient; XDS requires it, and with no
    // other id given the source's id is the affinity domain's (the XDS on FHIR option).
    if o.slot("sourcePatientId").is_none() {
        o.set_slot("sourcePatientId", vec![pid.to_string()]);
    }
    for (n, a) in dr.author.iter().enumerate() {
        match actors::author(&dr.contained, a, &format!("{at}.author[{n}]")) {
            Ok(a) => o.classifications.push(rim::author(id, ids::DE_AUTHOR, &a)),
            Err(i) => issues.push(i),
        }
    }
    if let Some(la) = dr
        .authenticator
        .as_deref()
        .and_then(|r| actors::person(&dr.contained, r))
    {
        o.set_slot("legalAuthenticator", vec![la]);
    }
    if let Some(d) = fhir::text(dr.description.as_ref()) {
        o.description = localized(d);
    }
    content(dr, &mut o, &mut issues, at);
    if issues.is_empty() {
        Ok(o)
    } else {
        Err(issues)
    }
}

fn time_slot(
    o: &mut RegistryObject,
    slot: &str,
    v: Option<&str>,
    issues: &mut Vec<Issue>,
    at: &str,
) {
    let Some(v) = v else { return };
    match dtm::to_dtm(v) {
        Some(d) => o.set_slot(slot, vec![d]),
        None => issues.push(
            Issue::error("invalid", format!("'{v}' is not a FHIR dateTime"))
                .at(format!("{at} ({slot})")),
        ),
    }
}

/// mimeType, format, language, title, creation, size and hash from content[0].
fn content(dr: &DocumentReference, o: &mut RegistryObject, issues: &mut Vec<Issue>, at: &str) {
    let Some(c) = dr.content.first() else {
        issues.push(
            Issue::error("required", "content (the document) is missing")
                .at(format!("{at}.content")),
        );
        return;
    };
    if dr.content.len() > 1 {
        issues.push(
            Issue::error("not-supported", "a DocumentReference carries one content")
                .at(format!("{at}.content[1]")),
        );
    }
    let a = &c.attachment;
    o.mime_type = fhir::text(a.content_type.as_ref());
    if o.mime_type.is_none() {
        issues.push(
            Issue::error("required", "content.attachment.contentType is missing")
                .at(format!("{at}.content[0].attachment.contentType")),
        );
    }
    if let Some(f) = c
        .format
        .as_deref()
        .and_then(|f| rim::coded(&o.id, ids::DE_FORMAT_CODE, f))
    {
        o.classifications.push(f);
    }
    if let Some(l) = fhir::text(a.language.as_ref()) {
        o.set_slot("languageCode", vec![l]);
    }
    if let Some(t) = fhir::text(a.title.as_ref()) {
        o.name = localized(t);
    }
    time_slot(
        o,
        "creationTime",
        a.creation.as_ref().and_then(|v| v.value.as_deref()),
        issues,
        at,
    );
    if let Some(size) = a.size.as_ref().and_then(|s| s.value) {
        o.set_slot("size", vec![size.to_string()]);
    }
    if let Some(h) = fhir::text(a.hash.as_ref()) {
        // FHIR carries the SHA-1 in base64, XDS in hex.
        match base64::engine::general_purpose::STANDARD.decode(h.as_bytes()) {
            Ok(raw) => o.set_slot("hash", vec![hex::encode(raw)]),
            Err(_) => issues.push(
                Issue::error("invalid", "content.attachment.hash is not base64")
                    .at(format!("{at}.content[0].attachment.hash")),
            ),
        }
    }
}

/// A SubmissionSet's metadata, read from a List or a DocumentManifest.
pub struct SetFields<'a> {
    pub unique_id: Option<String>,
    pub source_id: Option<String>,
    pub submission_time: Option<String>,
    pub title: Option<String>,
    pub content_type: Option<&'a CodeableConcept>,
    pub authors: Vec<&'a fhirbolt::model::r4::types::Reference>,
    pub contained: &'a [fhirbolt::model::r4::Resource],
}

pub fn list_fields(l: &List) -> SetFields<'_> {
    let unique_id = l
        .identifier
        .iter()
        .filter_map(|i| fhir::text(i.value.as_ref()))
        .find(|v| !v.starts_with("urn:uuid:"))
        .map(|v| unique_id_of(&v));
    let ext = |url: &str| l.extension.iter().find(|e| e.url == url);
    SetFields {
        unique_id,
        source_id: ext(EXT_SOURCE_ID)
            .and_then(ext_text)
            .map(|v| unique_id_of(&v)),
        submission_time: fhir::text(l.date.as_ref()),
        title: fhir::text(l.title.as_ref()),
        content_type: ext(EXT_DESIGNATION).and_then(|e| match &e.value {
            Some(ExtensionValue::CodeableConcept(cc)) => Some(cc.as_ref()),
            _ => None,
        }),
        authors: l.source.as_deref().into_iter().collect(),
        contained: &l.contained,
    }
}

fn ext_text(e: &Extension) -> Option<String> {
    match e.value.as_ref()? {
        ExtensionValue::Identifier(i) => fhir::text(i.value.as_ref()),
        ExtensionValue::Uri(u) => fhir::text(Some(u)),
        ExtensionValue::String(s) => fhir::text(Some(s)),
        ExtensionValue::Oid(o) => o.value.clone(),
        _ => None,
    }
}

pub fn manifest_fields(m: &DocumentManifest) -> SetFields<'_> {
    SetFields {
        unique_id: m
            .master_identifier
            .as_deref()
            .and_then(|i| fhir::text(i.value.as_ref()))
            .map(|v| unique_id_of(&v)),
        source_id: fhir::text(m.source.as_ref()).map(|v| unique_id_of(&v)),
        submission_time: fhir::text(m.created.as_ref()),
        title: fhir::text(m.description.as_ref()),
        content_type: m.r#type.as_deref(),
        authors: m.author.iter().collect(),
        contained: &m.contained,
    }
}

/// The SubmissionSet RegistryPackage.
pub fn submission_set(
    f: &SetFields,
    id: &str,
    pid: &str,
    at: &str,
) -> Result<RegistryObject, Vec<Issue>> {
    let mut issues = Vec::new();
    let mut o = RegistryObject::new(RimTag::RegistryPackage, id);
    o.object_type = Some(ids::REGISTRY_PACKAGE_TYPE.into());
    o.classifications
        .push(rim::node(id, ids::SUBMISSION_SET_NODE));
    match &f.unique_id {
        Some(u) => o.external_identifiers.push(rim::external_id(
            id,
            ids::SS_UNIQUE_ID,
            "XDSSubmissionSet.uniqueId",
            u,
        )),
        None => issues.push(
            Issue::error("required", "the SubmissionSet's uniqueId is missing")
                .at(format!("{at}.identifier")),
        ),
    }
    match &f.source_id {
        Some(s) => o.external_identifiers.push(rim::external_id(
            id,
            ids::SS_SOURCE_ID,
            "XDSSubmissionSet.sourceId",
            s,
        )),
        None => issues.push(
            Issue::error("required", "the SubmissionSet's sourceId is missing")
                .at(format!("{at}.extension('ihe-sourceId')")),
        ),
    }
    o.external_identifiers.push(rim::external_id(
        id,
        ids::SS_PATIENT_ID,
        "XDSSubmissionSet.patientId",
        pid,
    ));
    let time = match f.submission_time.as_deref() {
        Some(t) => dtm::to_dtm(t).ok_or_else(|| {
            Issue::error("invalid", format!("'{t}' is not a FHIR dateTime"))
                .at(format!("{at}.date"))
        }),
        None => Ok(crate::xds::time::now_dtm()),
    };
    match time {
        Ok(t) => o.set_slot("submissionTime", vec![t]),
        Err(i) => issues.push(i),
    }
    if let Some(t) = &f.title {
        o.name = localized(t.clone());
    }
    if let Some(c) = f
        .content_type
        .and_then(first_coding)
        .and_then(|c| rim::coded(id, ids::SS_CONTENT_TYPE, c))
    {
        o.classifications.push(c);
    }
    for (n, a) in f.authors.iter().enumerate() {
        match actors::author(f.contained, a, &format!("{at}.author[{n}]")) {
            Ok(a) => o.classifications.push(rim::author(id, ids::SS_AUTHOR, &a)),
            Err(i) => issues.push(i),
        }
    }
    if issues.is_empty() {
        Ok(o)
    } else {
        Err(issues)
    }
}
