//! The Document Recipient: ITI-65 Provide Document Bundle, stored as one XDS submission with
//! its audit record in the same transaction.

use super::fhir::{self, Format, Issue};
use super::{error_reply, label, provide, resource_reply, Asked, MhdService};
use crate::audit::{fill_principal, EventType};
use crate::ebxml::response::RegistryError;
use crate::repository::service::{store_submission, Stored};
use crate::transport::rest::RestReply;
use fhirbolt::model::r4::resources::{Bundle, BundleEntry, BundleEntryResponse};
use fhirbolt::model::r4::Resource;

/// XDS errors as OperationOutcome issues, each with its XDS code.
pub fn xds_issues(errors: &[RegistryError]) -> Vec<Issue> {
    errors
        .iter()
        .map(|e| {
            let code = match e.error_code.as_str() {
                "XDSDuplicateUniqueIdInRegistry" => "duplicate",
                "XDSUnknownPatientId"
                | "XDSDocumentUniqueIdError"
                | "XDSUnresolvedReferenceException" => "not-found",
                "XDSRegistryError" | "XDSRepositoryError" => "exception",
                _ => "invalid",
            };
            Issue {
                severity: if e.warning { "warning" } else { "error" },
                code,
                diagnostics: e.code_context.clone(),
                expression: None,
                xds_code: Some(e.error_code.clone()),
            }
        })
        .collect()
}

/// The HTTP status of a failed submission: storage trouble is the server's, anything else the
/// submitter's.
fn failure_status(errors: &[RegistryError]) -> u16 {
    let internal = errors.iter().any(|e| {
        matches!(
            e.error_code.as_str(),
            "XDSRegistryError" | "XDSRepositoryError"
        )
    });
    if internal {
        500
    } else {
        422
    }
}

pub async fn provide(svc: &MhdService, a: &Asked<'_>, sent: Format) -> RestReply {
    let f = a.format;
    let fail = |status, issues: &[Issue]| error_reply(status, issues, f, label::PROVIDE);
    // Reading megabytes of base64 is CPU work: off the async workers.
    let body = a.req.body.clone();
    let base = svc.base.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        let bundle = match fhir::read(&body, sent) {
            Ok(Resource::Bundle(b)) => b,
            Ok(_) => return Err((400, vec![Issue::error("invalid", "ITI-65 takes a Bundle")])),
            Err(e) => return Err((400, vec![Issue::error("structure", e.to_string())])),
        };
        provide::submission(&bundle, &base).map_err(|i| (422, i))
    })
    .await;
    let sub = match parsed {
        Ok(Ok(s)) => s,
        Ok(Err((status, issues))) => return fail(status, &issues),
        Err(e) => {
            tracing::error!(error = %e, "bundle reading task failed");
            return fail(
                500,
                &[Issue::error(
                    "exception",
                    "internal error; nothing was stored",
                )],
            );
        }
    };
    let mut ev = svc
        .auditor
        .plain_event(EventType::ProvideDocumentBundle, "/fhir", label::PROVIDE);
    fill_principal(&mut ev, &a.req.principal);
    ev.patient_ids.push(sub.patient.clone());
    ev.submission_set = Some(sub.set_unique_id.clone());
    ev.document_ids = sub.document_unique_ids.clone();
    let locations = sub.locations;
    match store_submission(&svc.repository, sub.objects, sub.documents, &ev).await {
        Stored::Audited(_) => {}
        Stored::Remote(_) => svc.auditor.record(ev).await,
        Stored::Failed(errors) => {
            let status = failure_status(&errors);
            svc.auditor.failed(ev, &errors).await;
            return fail(status, &xds_issues(&errors));
        }
    }
    let entry = locations
        .into_iter()
        .map(|loc| BundleEntry {
            response: Some(BundleEntryResponse {
                status: fhir::string("201 Created"),
                location: Some(fhir::uri(loc)),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let answer = Resource::Bundle(Box::new(Bundle {
        id: Some(fhir::id(uuid::Uuid::new_v4().to_string())),
        r#type: fhir::code("transaction-response"),
        entry,
        ..Default::default()
    }));
    resource_reply(200, &answer, f, label::PROVIDE)
}
