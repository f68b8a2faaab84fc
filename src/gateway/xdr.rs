//! XDR Document Recipient (ITI-41 at /xdr). A foreign pharmacy's eDispensation (class 60593-1)
//! is stored with its metadata, turned into a Norwegian M10-shaped dispensation record, and
//! closes the ePrescription it dispenses; a discard (DISCARD-60593-1) reopens it. A HealthCare
//! Encounter Report (34133-9) from a country that treated a Norwegian patient is checked against
//! its template's rules and registered under the patient's fødselsnummer with a Norwegian class
//! and type, so that the patient's own doctors find it with ITI-18.
//! Everything is one transaction: a bad document stores nothing.

use crate::audit::{AuditEvent, Auditor, EventType};
use crate::ebxml::{LocalizedString, RegistryObject, RimTag, Slot};
use crate::ids::action;
use crate::ids::ehdsi::{DISCARD_CLASS, ED_CLASS};
use crate::ids::oid::{DNR, FNR, LOINC};
use crate::registry::RegistryFailure;
use crate::repository::provide::{augment, parse_request, to_registry_errors, DocFacts};
use crate::repository::service::provide_reply;
use crate::repository::Repository;
use crate::saml::xspa::permissions;
use crate::soap::{Access, Caller, Endpoint, Principal, ServiceFuture, SoapCall, SoapService};
use crate::store::dispensations::{self, DispensationRow};
use crate::store::StoreError;
use crate::translate::hcer::{check_hcer, HCER_CODE};
use crate::translate::{ed_to_m10, Terminology};
use crate::xds::model::CodeKind;
use crate::xds::{ids, ErrorCode, XdsError};

pub struct XdrRecipient {
    pub repository: Repository,
    pub terminology: &'static Terminology,
    pub auditor: Auditor,
}

const ENDPOINT: Endpoint = Endpoint {
    path: "/xdr",
    wsdl: include_str!("../../wsdl/xdr.wsdl"),
    schemas: crate::ebxml::schemas::XDS_SCHEMAS,
    actions: &[action::PROVIDE_AND_REGISTER],
    access: Access::CrossBorder {
        trc: true,
        permissions: permissions::EDISPENSATION,
    },
};

impl SoapService for XdrRecipient {
    fn endpoint(&self) -> &'static Endpoint {
        &ENDPOINT
    }

    fn call(&self, call: SoapCall) -> ServiceFuture<'_> {
        Box::pin(async move {
            let mut ev = self
                .auditor
                .event(EventType::DispensationReceived, ENDPOINT.path, &call);
            ev.class_code = Some(ED_CLASS.into());
            Ok(
                match receive(&self.repository, self.terminology, call, ev.clone()).await {
                    Ok(w) => provide_reply(true, &to_registry_errors(&w)),
                    Err(e) => {
                        let errs = to_registry_errors(&e);
                        self.auditor.failed(ev, &errs).await;
                        provide_reply(false, &errs)
                    }
                },
            )
        })
    }
}

/// What one received document does to a prescription.
enum Effect {
    Dispensed(DispensationRow),
    /// (prescription id, patient): the dispensation is undone.
    Discarded(String, String),
    /// A HealthCare Encounter Report, by its DocumentEntry id: registered with Norwegian codes.
    Encounter(String),
}

/// Who sends: a foreign contact point by its homeCommunityId, a national caller as "national";
/// and the patient a foreign sender's TRC assertion names.
struct Sender {
    by: String,
    trc_patient: Option<String>,
    foreign: bool,
}

impl Sender {
    fn of(p: &Principal) -> Sender {
        match &p.caller {
            Caller::Foreign {
                home_community_id, ..
            } => Sender {
                by: home_community_id.clone(),
                trc_patient: p.patient.clone(),
                foreign: true,
            },
            Caller::National => Sender {
                by: "national".into(),
                trc_patient: None,
                foreign: false,
            },
        }
    }
}

fn class_of(o: &RegistryObject) -> Option<(String, String)> {
    o.classifications_in(CodeKind::Class.scheme())
        .next()
        .map(|c| {
            (
                c.node_representation.clone().unwrap_or_default(),
                c.first_slot_value("codingScheme")
                    .unwrap_or_default()
                    .to_string(),
            )
        })
}

async fn receive(
    repo: &Repository,
    term: &'static Terminology,
    call: SoapCall,
    mut ev: AuditEvent,
) -> Result<Vec<XdsError>, Vec<XdsError>> {
    let sender = Sender::of(&call.principal);
    let by = sender.by.clone();
    let uid = repo.cfg.unique_id.clone();
    // Decoding, hashing and reading the eDs is CPU work: keep it off the async workers.
    let checked = tokio::task::spawn_blocking(move || {
        let req = parse_request(call.body(), &call.parts)?;
        drop(call);
        let mut objects = req.objects;
        let facts = augment(&mut objects, &req.documents, &uid)?;
        let effects = effects(&objects, &facts, term, &sender)?;
        for e in &effects {
            if let Effect::Encounter(entry) = e {
                national_codes(&mut objects, entry, term)?;
            }
        }
        Ok::<_, Vec<XdsError>>((objects, facts, effects))
    })
    .await;
    let (objects, facts, effects) = match checked {
        Ok(r) => r?,
        Err(_) => {
            return Err(vec![XdsError::new(
                ErrorCode::RepositoryError,
                "internal error while reading the eDispensation; nothing was stored",
            )])
        }
    };
    if effects.iter().any(|e| matches!(e, Effect::Discarded(..))) {
        ev.event = EventType::DispensationDiscarded;
    } else if effects.iter().any(|e| matches!(e, Effect::Encounter(..))) {
        ev.event = EventType::EncounterReportReceived;
        ev.class_code = Some(HCER_CODE.into());
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    repo.provide_local_with(objects, facts, Some(ev), move |conn| {
        for e in &effects {
            match e {
                Effect::Dispensed(row) => {
                    let mut row = row.clone();
                    row.received_at = now;
                    dispensations::record(conn, &row).map_err(StoreError::from)?
                }
                Effect::Encounter(_) => {}
                Effect::Discarded(id, pid) => {
                    let gone = dispensations::discard(conn, id, pid, &by).map_err(StoreError::from)?;
                    if gone == 0 {
                        return Err(RegistryFailure::Xds(vec![XdsError::metadata(format!(
                            "prescription {id} has no dispensation by this sender for this patient to discard"
                        ))]));
                    }
                }
            }
        }
        Ok::<(), RegistryFailure>(())
    })
    .await
    .map_err(RegistryFailure::into_errors)
}

/// Checks every DocumentEntry is an eD (or its discard) or an HCER; translates each eD to M10
/// and checks each HCER.
fn effects(
    objects: &[RegistryObject],
    facts: &[DocFacts],
    term: &Terminology,
    sender: &Sender,
) -> Result<Vec<Effect>, Vec<XdsError>> {
    let mut errs = Vec::new();
    let mut out = Vec::new();
    for o in objects.iter().filter(|o| o.tag == RimTag::ExtrinsicObject) {
        let (code, scheme) = class_of(o).unwrap_or_default();
        let discard = code == DISCARD_CLASS;
        let encounter = code == HCER_CODE && scheme == LOINC;
        if !(discard || encounter || (code == ED_CLASS && scheme == LOINC)) {
            errs.push(XdsError::metadata(format!(
                "DocumentEntry {} has classCode '{code}'; this recipient accepts eDispensations ({ED_CLASS}), their discards ({DISCARD_CLASS}) and HealthCare Encounter Reports ({HCER_CODE}) only",
                o.id
            )));
            continue;
        }
        let Some(f) = facts.iter().find(|f| f.entry_id == o.id) else {
            continue;
        };
        let pid = o
            .external_id(ids::DE_PATIENT_ID)
            .and_then(|x| x.value.clone())
            .unwrap_or_default();
        // A foreign pharmacy dispenses to the patient its TRC assertion names, and no other.
        if sender.foreign && sender.trc_patient.as_deref().map(str::trim) != Some(pid.trim()) {
            errs.push(XdsError::metadata(format!(
                "DocumentEntry {} is for another patient than the treatment relationship (TRC) assertion",
                o.id
            )));
            continue;
        }
        if encounter {
            match encounter_report(f, &pid) {
                Ok(()) => out.push(Effect::Encounter(o.id.clone())),
                Err(e) => errs.push(e),
            }
            continue;
        }
        match ed_to_m10(&f.data, term) {
            Err(e) => errs.push(
                XdsError::new(
                    ErrorCode::RepositoryMetadataError,
                    format!("the eDispensation {} cannot be used: {e}", f.unique_id),
                )
                .at(f.unique_id.clone()),
            ),
            Ok(m10) if discard => out.push(Effect::Discarded(m10.prescription_id, pid)),
            Ok(m10) => out.push(Effect::Dispensed(DispensationRow {
                prescription_id: m10.prescription_id,
                ed_unique_id: f.unique_id.clone(),
                patient_id: pid,
                m10_xml: m10.xml,
                received_at: 0,
                dispensed_by: sender.by.clone(),
            })),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

/// Checks an HCER against its template's rules, and that it is about the Norwegian patient its
/// metadata names (by fødselsnummer or D-number).
fn encounter_report(f: &DocFacts, pid: &str) -> Result<(), XdsError> {
    let refuse = |code: ErrorCode, why: String| {
        XdsError::new(
            code,
            format!(
                "the HealthCare Encounter Report {} cannot be used: {why}",
                f.unique_id
            ),
        )
        .at(f.unique_id.clone())
    };
    let root = crate::xds::cx::authority(pid).unwrap_or_default();
    let ext = pid.split_once("^^^").map(|(e, _)| e).unwrap_or_default();
    if root != FNR && root != DNR {
        return Err(refuse(
            ErrorCode::RegistryMetadataError,
            "its patient is not identified by a Norwegian fødselsnummer or D-number".into(),
        ));
    }
    let hcer = check_hcer(&f.data)
        .map_err(|e| refuse(ErrorCode::RepositoryMetadataError, e.to_string()))?;
    if !hcer
        .patient_ids
        .iter()
        .any(|(r, x)| r == root && x.trim() == ext.trim())
    {
        return Err(refuse(
            ErrorCode::PatientIdDoesNotMatch,
            "the document's recordTarget does not name the patient of its DocumentEntry".into(),
        ));
    }
    Ok(())
}

/// Gives an HCER's DocumentEntry the Norwegian classCode and typeCode from the terminology
/// (`national_types.tsv`), in place of the eHDSI ones it came with.
fn national_codes(
    objects: &mut [RegistryObject],
    entry: &str,
    term: &Terminology,
) -> Result<(), Vec<XdsError>> {
    let Some(t) = term.national_type(LOINC, HCER_CODE) else {
        return Err(vec![XdsError::new(
            ErrorCode::RepositoryError,
            format!("the terminology has no Norwegian document type for {HCER_CODE}; nothing was stored"),
        )]);
    };
    let Some(o) = objects.iter_mut().find(|o| o.id == entry) else {
        return Ok(());
    };
    for c in o.classifications.iter_mut() {
        let (code, display) = match c.classification_scheme.as_deref() {
            Some(s) if s == CodeKind::Class.scheme() => (&t.class_code, &t.class_display),
            Some(s) if s == CodeKind::Type.scheme() => (&t.type_code, &t.type_display),
            _ => continue,
        };
        c.node_representation = Some(code.clone());
        c.slots.retain(|s| s.name != "codingScheme");
        c.slots.push(Slot {
            name: "codingScheme".into(),
            slot_type: None,
            values: vec![t.system.clone()],
        });
        c.name = vec![LocalizedString {
            value: display.clone(),
            lang: None,
            charset: None,
        }];
    }
    Ok(())
}
