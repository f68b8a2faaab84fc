//! The eHDSI path of the responding gateway: a FindDocuments for a Patient Summary (60591-5) or
//! ePrescriptions (57833-6) of a Norwegian patient is answered from the patient's registered
//! Norwegian sources (a FHIR IPS bundle, e-resept M1 messages), translated to the eHDSI pivot CDA
//! when asked. The pivot documents are kept in the repository under a uniqueId derived from
//! their content, so ITI-39 serves exactly the bytes the query described.

use crate::config::EhdsiConfig;
use crate::ebxml::query::AdhocQueryRequest;
use crate::ebxml::write::{inject_attrs, object_xml};
use crate::ebxml::{LocalizedString, RegistryObject, RimTag, APPROVED};
use crate::registry::query::params::Params;
use crate::repository::provide::DocFacts;
use crate::repository::Repository;
use crate::store::dispensations;
use crate::store::registry::TimeFilter;
use crate::store::StoreError;
use crate::translate::orcd::OrcdClass;
use crate::translate::{self, Terminology};
use crate::xds::confidentiality::Audience;
use crate::xds::model::CodeKind;
use crate::xds::{cx, ids, ErrorCode, XdsError};
use bytes::Bytes;
use sha1::{Digest, Sha1};

use super::ehdsi_sources::{source_rows, Select, Source, Wanted};

use crate::ids::ehdsi::{
    EP_CLASS, EP_FORMAT, EP_STATUS_SYSTEM, FORMAT_SCHEME, PS_CLASS, PS_FORMAT,
};
use crate::ids::oid::{DNR, FNR, LOINC};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PivotKind {
    Ps,
    Ep,
    /// Original Clinical Documents: Norwegian journal documents (issue 13).
    Orcd,
}

impl PivotKind {
    fn title(self) -> &'static str {
        match self {
            PivotKind::Ps => "Patient Summary",
            PivotKind::Ep => "ePrescription",
            PivotKind::Orcd => "Original Clinical Document",
        }
    }
}

/// An eHDSI FindDocuments: what kind, for whom, and (OrCD) which classes in which times.
#[derive(Debug, Clone)]
pub struct EhdsiRequest {
    pub kind: PivotKind,
    pub pid: String,
    pub orcd: Vec<OrcdClass>,
    pub times: TimeFilter,
}

/// The eHDSI request of a FindDocuments that asks for a PS, eP or OrCD of a Norwegian patient;
/// None for every other query (and for one whose parameters are malformed: the registry's own
/// query reports those).
pub fn ehdsi_request(q: &AdhocQueryRequest) -> Option<EhdsiRequest> {
    if q.query_id != crate::registry::query::FIND_DOCUMENTS {
        return None;
    }
    let p = Params::parse(&q.params).ok()?;
    let classes = p.codes("$XDSDocumentEntryClassCode").ok()??;
    let loinc = || classes.iter().filter(|c| c.scheme == LOINC);
    let orcd: Vec<OrcdClass> = loinc()
        .filter_map(|c| OrcdClass::from_code(&c.code))
        .collect();
    let kind = if loinc().any(|c| c.code == PS_CLASS) {
        PivotKind::Ps
    } else if loinc().any(|c| c.code == EP_CLASS) {
        PivotKind::Ep
    } else if !orcd.is_empty() {
        PivotKind::Orcd
    } else {
        return None;
    };
    let pid = p.single("$XDSDocumentEntryPatientId").ok()??;
    let range = |from: &str, to: &str| p.time_range(from, to).ok();
    let times = TimeFilter {
        creation: range(
            "$XDSDocumentEntryCreationTimeFrom",
            "$XDSDocumentEntryCreationTimeTo",
        )?,
        service_start: range(
            "$XDSDocumentEntryServiceStartTimeFrom",
            "$XDSDocumentEntryServiceStartTimeTo",
        )?,
        service_stop: range(
            "$XDSDocumentEntryServiceStopTimeFrom",
            "$XDSDocumentEntryServiceStopTimeTo",
        )?,
        ..Default::default()
    };
    is_norwegian(&pid).then_some(EhdsiRequest {
        kind,
        pid,
        orcd,
        times,
    })
}

/// Fødselsnummer or D-nummer: the ids the eHDSI path serves.
pub fn is_norwegian(pid: &str) -> bool {
    matches!(cx::authority(pid), Some(FNR) | Some(DNR))
}

/// One pivot document offered to the caller.
pub struct Pivot {
    pub entry_uuid: String,
    pub entry_xml: String,
}

pub struct Ehdsi<'a> {
    pub home: &'a str,
    pub repository: &'a Repository,
    pub cfg: &'a EhdsiConfig,
    pub term: &'static Terminology,
}

impl Ehdsi<'_> {
    /// The pivot DocumentEntries for the patient, from the sources this audience may see;
    /// translation problems come back as errors next to whatever could be offered.
    pub async fn find(
        &self,
        req: &EhdsiRequest,
        audience: Audience,
    ) -> (Vec<Pivot>, Vec<XdsError>) {
        let (kind, pid) = (req.kind, req.pid.as_str());
        let select = match kind {
            PivotKind::Ps => Select::Formats(self.cfg.ps_source_formats.clone()),
            PivotKind::Ep => Select::Formats(self.cfg.ep_source_formats.clone()),
            PivotKind::Orcd => Select::Orcd {
                classes: req.orcd.clone(),
                times: req.times,
                term: self.term,
            },
        };
        let sources = match self.sources(pid, select, audience).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "eHDSI source lookup failed");
                return storage_failed();
            }
        };
        // Translation is CPU work: keep it off the async workers.
        let term = self.term;
        let translated = tokio::task::spawn_blocking(move || {
            let results: Vec<_> = sources
                .iter()
                .map(|s| translate_source(kind, s, term))
                .collect();
            (sources, results)
        })
        .await;
        let Ok((sources, results)) = translated else {
            return (
                Vec::new(),
                vec![XdsError::registry("internal error while translating")],
            );
        };
        let mut pivots = Vec::new();
        let mut errors = Vec::new();
        let mut facts = Vec::new();
        for (src, result) in sources.iter().zip(results) {
            match result {
                Err(e) => errors.push(
                    XdsError::new(
                        ErrorCode::RepositoryError,
                        format!(
                            "Norwegian source {} cannot be given as an eHDSI {}: {e}",
                            src.row.unique_id,
                            kind.title()
                        ),
                    )
                    .at(src.row.unique_id.clone()),
                ),
                Ok(docs) => facts.extend(docs.into_iter().map(|d| (d, src))),
            }
        }
        let ids: Vec<String> = facts
            .iter()
            .filter_map(|(p, _)| p.prescription_id.clone())
            .collect();
        // A Patient Summary names no prescriptions: no read for it. When the dispensations
        // cannot be read, no eP is offered: offering a dispensed one as open invites a second
        // dispensing abroad.
        let closed = if ids.is_empty() {
            Default::default()
        } else {
            let store = self.repository.registry.store.clone();
            match store
                .read(move |conn| dispensations::dispensed(conn, &ids).map_err(StoreError::from))
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "reading dispensations failed");
                    return storage_failed();
                }
            }
        };
        let mut to_store = Vec::new();
        for (mut p, src) in facts {
            if let Some(id) = &p.prescription_id {
                if closed.contains(id) {
                    for e in p.event_codes.iter_mut().filter(|e| e.0 == EP_STATUS_SYSTEM) {
                        e.1 = "closed".into();
                        e.2 = "Prescription dispensed".into();
                    }
                }
            }
            pivots.push(Pivot {
                entry_uuid: p.entry_uuid.clone(),
                entry_xml: self.entry(pid, &p, src),
            });
            to_store.push((
                DocFacts {
                    entry_id: p.entry_uuid.clone(),
                    unique_id: p.unique_id.clone(),
                    mime_type: "text/xml".into(),
                    hash: p.hash.clone(),
                    size: p.xml.len() as u64,
                    data: Bytes::from(p.xml),
                },
                src.row.unique_id.clone(),
            ));
        }
        if let Err(f) = self.repository.store_pivots(to_store).await {
            tracing::error!(error = %f, "storing eHDSI pivot documents failed");
            return storage_failed();
        }
        (pivots, errors)
    }

    /// The patient's Approved source documents of the given formats that the audience may
    /// see, with their bytes.
    async fn sources(
        &self,
        pid: &str,
        select: Select,
        audience: Audience,
    ) -> Result<Vec<Source>, StoreError> {
        let pid = pid.to_string();
        let blobs = self.repository.blobs.clone();
        let wanted = Wanted {
            select,
            repo: self.repository.cfg.unique_id.clone(),
            policy: self.repository.registry.confidentiality.clone(),
            audience,
        };
        self.repository
            .registry
            .store
            .read(move |conn| source_rows(conn, &pid, &wanted, blobs.as_ref()))
            .await
    }

    fn entry(&self, pid: &str, p: &PivotDoc, src: &Source) -> String {
        let id = p.entry_uuid.clone();
        let mut o = RegistryObject::new(RimTag::ExtrinsicObject, id.clone());
        o.mime_type = Some("text/xml".into());
        o.object_type = Some(ids::DE_STABLE.into());
        o.name.push(LocalizedString {
            value: p.title.clone(),
            ..Default::default()
        });
        let creation = src
            .row
            .creation_time
            .map(|t| format!("{t:014}"))
            .unwrap_or_else(crate::xds::time::now_dtm);
        for (name, value) in [
            ("creationTime", creation),
            ("languageCode", "nb-NO".to_string()),
            ("sourcePatientId", pid.to_string()),
            ("repositoryUniqueId", self.repository.cfg.unique_id.clone()),
            ("hash", p.hash.clone()),
            ("size", p.xml.len().to_string()),
        ] {
            o.set_slot(name, vec![value]);
        }
        // An OrCD covers the source's care episode; foreign consumers filter by it.
        if src.orcd.is_some() {
            let times = [
                ("serviceStartTime", src.row.service_start),
                ("serviceStopTime", src.row.service_stop),
            ];
            for (name, t) in times {
                if let Some(t) = t {
                    o.set_slot(name, vec![format!("{t:014}")]);
                }
            }
        }
        let mut n = 0;
        let mut class = |scheme: &str, code: &str, coding: &str, display: &str| {
            n += 1;
            let mut c = RegistryObject::new(RimTag::Classification, format!("{id}.c{n}"));
            c.classification_scheme = Some(scheme.into());
            c.classified_object = Some(id.clone());
            c.node_representation = Some(code.into());
            c.set_slot("codingScheme", vec![coding.into()]);
            c.name.push(LocalizedString {
                value: display.into(),
                ..Default::default()
            });
            c
        };
        let mut classes = vec![
            class(
                CodeKind::Class.scheme(),
                p.class_code,
                LOINC,
                p.class_display,
            ),
            class(
                CodeKind::Type.scheme(),
                p.class_code,
                LOINC,
                p.class_display,
            ),
            class(CodeKind::Format.scheme(), p.format, FORMAT_SCHEME, p.format),
            class(
                CodeKind::Confidentiality.scheme(),
                "N",
                "2.16.840.1.113883.5.25",
                "Normal",
            ),
        ];
        let (fc, fs) = src
            .facility
            .clone()
            .unwrap_or(("43741000".into(), "2.16.840.1.113883.6.96".into()));
        classes.push(class(CodeKind::FacilityType.scheme(), &fc, &fs, &fc));
        let (pc, ps) = src
            .practice
            .clone()
            .unwrap_or(("394802001".into(), "2.16.840.1.113883.6.96".into()));
        classes.push(class(CodeKind::PracticeSetting.scheme(), &pc, &ps, &pc));
        for (system, code, display) in &p.event_codes {
            classes.push(class(CodeKind::Event.scheme(), code, system, display));
        }
        o.classifications = classes;
        for (n, (scheme, value, label)) in [
            (ids::DE_PATIENT_ID, pid, "XDSDocumentEntry.patientId"),
            (
                ids::DE_UNIQUE_ID,
                p.unique_id.as_str(),
                "XDSDocumentEntry.uniqueId",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let mut x = RegistryObject::new(RimTag::ExternalIdentifier, format!("{id}.e{n}"));
            x.identification_scheme = Some(scheme.into());
            x.registry_object = Some(id.clone());
            x.value = Some(value.into());
            x.name.push(LocalizedString {
                value: label.into(),
                ..Default::default()
            });
            o.external_identifiers.push(x);
        }
        inject_attrs(
            &object_xml(&o),
            &[("status", APPROVED), ("home", self.home)],
        )
    }
}

/// What an offered document is: its class, title and format in the DocumentEntry.
struct DocClass {
    code: &'static str,
    display: &'static str,
    format: &'static str,
    title: String,
}

impl DocClass {
    fn of(kind: PivotKind) -> DocClass {
        let (code, format) = match kind {
            PivotKind::Ep => (EP_CLASS, EP_FORMAT),
            _ => (PS_CLASS, PS_FORMAT),
        };
        DocClass {
            code,
            display: kind.title(),
            format,
            title: kind.title().into(),
        }
    }
}

/// One translated pivot document with its derived identifiers.
struct PivotDoc {
    xml: String,
    hash: String,
    unique_id: String,
    entry_uuid: String,
    class_code: &'static str,
    class_display: &'static str,
    format: &'static str,
    title: String,
    prescription_id: Option<String>,
    event_codes: Vec<(String, String, String)>,
}

impl PivotDoc {
    fn new(
        xml: String,
        class: DocClass,
        prescription_id: Option<String>,
        event_codes: Vec<(String, String, String)>,
    ) -> PivotDoc {
        let digest = Sha1::digest(xml.as_bytes());
        let hash = hex::encode(digest);
        let mut b = [0u8; 16];
        b.copy_from_slice(&digest[..16]);
        // A content-derived id: the same pivot gets the same uniqueId on every query.
        let n = u128::from_be_bytes(b) >> 2;
        PivotDoc {
            unique_id: format!("2.25.{n}"),
            entry_uuid: format!(
                "urn:uuid:{}",
                uuid::Builder::from_random_bytes(b).into_uuid()
            ),
            xml,
            hash,
            class_code: class.code,
            class_display: class.display,
            format: class.format,
            title: class.title,
            prescription_id,
            event_codes,
        }
    }
}

fn translate_source(
    kind: PivotKind,
    src: &Source,
    term: &Terminology,
) -> Result<Vec<PivotDoc>, translate::TranslateError> {
    match (kind, &src.orcd) {
        (PivotKind::Orcd, Some((class, facts))) => {
            let o = translate::journal_to_orcd(&translate::OrcdSource {
                data: &src.data,
                class: *class,
                base: facts.clone(),
            })?;
            let doc = DocClass {
                code: class.code(),
                display: class.display(),
                format: o.format_code,
                title: facts.title.clone().unwrap_or_else(|| class.title().into()),
            };
            Ok(vec![PivotDoc::new(o.xml, doc, None, Vec::new())])
        }
        (PivotKind::Orcd, None) => Err(translate::TranslateError::MissingElement(
            "the OrCD class of the source".into(),
        )),
        (PivotKind::Ps, _) => {
            let t = translate::ips_to_ps(&src.data, term, &translate::PsOptions::default())?;
            Ok(vec![PivotDoc::new(
                t.xml,
                DocClass::of(kind),
                None,
                Vec::new(),
            )])
        }
        (PivotKind::Ep, _) => {
            Ok(
                translate::eresept_to_ep(&src.data, term, &translate::EpOptions::default())?
                    .into_iter()
                    .map(|e| {
                        PivotDoc::new(
                            e.xml,
                            DocClass::of(kind),
                            Some(e.prescription_id),
                            e.event_codes,
                        )
                    })
                    .collect(),
            )
        }
    }
}

/// What a query answers when the node's own storage fails it.
fn storage_failed() -> (Vec<Pivot>, Vec<XdsError>) {
    (
        Vec::new(),
        vec![XdsError::registry("internal storage error")],
    )
}
