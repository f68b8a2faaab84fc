//! XDR Document Recipient for eDispensations (ITI-41 at /xdr): a foreign pharmacy's eD
//! (class 60593-1) is stored with its metadata, turned into a Norwegian M10-shaped dispensation
//! record, and closes the ePrescription it dispenses. A discard (DISCARD-60593-1) reopens it.
//! Everything is one transaction: a bad eD stores nothing.

use crate::ebxml::{RegistryObject, RimTag};
use crate::ids::action;
use crate::saml::xspa::permissions;
use crate::ids::ehdsi::{DISCARD_CLASS, ED_CLASS};
use crate::ids::oid::LOINC;
use crate::registry::RegistryFailure;
use crate::repository::provide::{augment, parse_request, to_registry_errors, DocFacts};
use crate::repository::service::provide_reply;
use crate::repository::Repository;
use crate::soap::{Access, Endpoint, ServiceFuture, SoapCall, SoapService};
use crate::store::dispensations::{self, DispensationRow};
use crate::store::StoreError;
use crate::translate::{ed_to_m10, Terminology};
use crate::xds::model::CodeKind;
use crate::xds::{ids, ErrorCode, XdsError};

pub struct XdrRecipient {
    pub repository: Repository,
    pub terminology: &'static Terminology,
}

const ENDPOINT: Endpoint = Endpoint {
    path: "/xdr",
    wsdl: include_str!("../../wsdl/xdr.wsdl"),
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
            Ok(
                match receive(&self.repository, self.terminology, call).await {
                    Ok(w) => provide_reply(true, &to_registry_errors(&w)),
                    Err(e) => provide_reply(false, &to_registry_errors(&e)),
                },
            )
        })
    }
}

/// What one received document does to a prescription.
enum Effect {
    Dispensed(DispensationRow),
    Discarded(String),
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
) -> Result<Vec<XdsError>, Vec<XdsError>> {
    let req = parse_request(call.body(), &call.parts)?;
    drop(call);
    let mut objects = req.objects;
    let documents = req.documents;
    let uid = repo.cfg.unique_id.clone();
    // Hashing and reading the eDs is CPU work: keep it off the async workers.
    let checked = tokio::task::spawn_blocking(move || {
        let facts = augment(&mut objects, &documents, &uid)?;
        let effects = effects(&objects, &facts, term)?;
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
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    repo.provide_local_with(objects, facts, move |conn| {
        for e in &effects {
            match e {
                Effect::Dispensed(row) => {
                    let mut row = row.clone();
                    row.received_at = now;
                    dispensations::record(conn, &row).map_err(StoreError::from)?
                }
                Effect::Discarded(id) => {
                    dispensations::discard(conn, id).map_err(StoreError::from)?;
                }
            }
        }
        Ok::<(), RegistryFailure>(())
    })
    .await
    .map_err(RegistryFailure::into_errors)
}

/// Checks every DocumentEntry is an eD (or its discard) and translates each eD to M10.
fn effects(
    objects: &[RegistryObject],
    facts: &[DocFacts],
    term: &Terminology,
) -> Result<Vec<Effect>, Vec<XdsError>> {
    let mut errs = Vec::new();
    let mut out = Vec::new();
    for o in objects.iter().filter(|o| o.tag == RimTag::ExtrinsicObject) {
        let (code, scheme) = class_of(o).unwrap_or_default();
        let discard = code == DISCARD_CLASS;
        if !(discard || (code == ED_CLASS && scheme == LOINC)) {
            errs.push(XdsError::metadata(format!(
                "DocumentEntry {} has classCode '{code}'; this recipient accepts eDispensations ({ED_CLASS}) and their discards ({DISCARD_CLASS}) only",
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
        match ed_to_m10(&f.data, term) {
            Err(e) => errs.push(
                XdsError::new(
                    ErrorCode::RepositoryMetadataError,
                    format!("the eDispensation {} cannot be used: {e}", f.unique_id),
                )
                .at(f.unique_id.clone()),
            ),
            Ok(m10) if discard => out.push(Effect::Discarded(m10.prescription_id)),
            Ok(m10) => out.push(Effect::Dispensed(DispensationRow {
                prescription_id: m10.prescription_id,
                ed_unique_id: f.unique_id.clone(),
                patient_id: pid,
                m10_xml: m10.xml,
                received_at: 0,
            })),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}
