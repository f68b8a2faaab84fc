//! XCA Responding Gateway: ITI-38 Cross Gateway Query and ITI-39 Cross Gateway Retrieve,
//! answered from the local registry and repository. Every returned object names our
//! homeCommunityId; a request for another community is refused.

use super::ehdsi;
use crate::ebxml::query::{parse_adhoc_query, write_adhoc_response, AdhocQueryRequest, ReturnType};
use crate::ebxml::response::RegistryError;
use crate::ebxml::retrieve::{parse_retrieve_request, DocumentRequest};
use crate::ebxml::write::inject_attrs;
use crate::ebxml::ResponseStatus;
use crate::ids::action;
use crate::registry::query as sq;
use crate::registry::service::query_reply;
use crate::registry::Registry;
use crate::repository::retrieve::RetrieveAnswer;
use crate::repository::service::storage_failure;
use crate::repository::Repository;
use crate::saml::xspa::permissions;
use crate::soap::{
    Access, Endpoint, Fault, Principal, ServiceFuture, SoapCall, SoapReply, SoapService,
};
use crate::xds::confidentiality::{Audience, Viewer};
use crate::xds::{ErrorCode, XdsError};
use std::sync::Arc;

/// National consumers see what stays in Norway; a foreign contact point (as the trust policy
/// classified the caller) sees only what may cross the border.
pub fn audience(call: &SoapCall) -> Audience {
    viewer(call).audience
}

/// The audience and, for a foreign contact point, the patient of its TRC assertion.
fn viewer(call: &SoapCall) -> Viewer {
    if call.principal.is_foreign() {
        Viewer::cross_border(call.principal.patient.clone())
    } else {
        Viewer::national()
    }
}

/// Queries that name a patient; the others (by id) need the homeCommunityId.
const PATIENT_QUERIES: [&str; 5] = [
    sq::FIND_DOCUMENTS,
    sq::FIND_DOCUMENTS_BY_REFERENCE_ID,
    sq::FIND_SUBMISSION_SETS,
    sq::FIND_FOLDERS,
    sq::GET_ALL,
];

pub struct XcaResponding {
    /// This community's homeCommunityId.
    pub home: String,
    pub registry: Registry,
    pub repository: Repository,
    pub ehdsi: Arc<crate::config::EhdsiConfig>,
    pub terminology: &'static crate::translate::Terminology,
    /// ITI-92 at this gateway is audited with the change it makes.
    pub auditor: crate::audit::Auditor,
}

const ENDPOINT: Endpoint = Endpoint {
    path: "/xca",
    wsdl: include_str!("../../wsdl/xca.wsdl"),
    schemas: crate::ebxml::schemas::XDS_SCHEMAS,
    actions: &[
        action::XC_QUERY,
        action::XC_RETRIEVE,
        action::RESTRICTED_UPDATE,
    ],
    access: Access::CrossBorder {
        trc: true,
        permissions: &["PRD-010"],
    },
};

impl SoapService for XcaResponding {
    fn endpoint(&self) -> &'static Endpoint {
        &ENDPOINT
    }

    fn call(&self, call: SoapCall) -> ServiceFuture<'_> {
        Box::pin(async move {
            match call.action() {
                action::XC_QUERY => Ok(self.query(call).await),
                action::XC_RETRIEVE => {
                    let answer = self.retrieve(call).await;
                    Ok(answer.into_reply(action::XC_RETRIEVE_RESPONSE))
                }
                action::RESTRICTED_UPDATE if !self.registry.allows(action::RESTRICTED_UPDATE) => {
                    Err(Fault::action_not_supported(action::RESTRICTED_UPDATE))
                }
                action::RESTRICTED_UPDATE => Ok(self.restricted_update(call).await),
                other => Err(Fault::action_not_supported(other)),
            }
        })
    }
}

impl XcaResponding {
    /// ITI-92 from another community of the affinity domain. A foreign contact point reads
    /// Norwegian records and never changes them.
    async fn restricted_update(&self, call: SoapCall) -> SoapReply {
        if call.principal.is_foreign() {
            let errs = [RegistryError::from(&XdsError::registry(
                "a foreign contact point may not update Norwegian metadata",
            ))];
            let body =
                crate::ebxml::response::write_registry_response(ResponseStatus::Failure, &errs);
            return SoapReply::new(
                action::RESTRICTED_UPDATE_RESPONSE,
                body,
                ResponseStatus::Failure.label(),
            );
        }
        crate::registry::service::update(
            &self.registry,
            &self.auditor,
            ENDPOINT.path,
            call,
            crate::registry::update::UpdateKind::Restricted,
        )
        .await
    }
}

/// The patient a query names, if it names one.
fn query_patient(q: &AdhocQueryRequest) -> Result<Option<String>, XdsError> {
    let params = crate::registry::query::params::Params::parse(&q.params)?;
    Ok([
        "$XDSDocumentEntryPatientId",
        "$XDSSubmissionSetPatientId",
        "$XDSFolderPatientId",
        "$patientId",
    ]
    .iter()
    .find_map(|n| params.single(n).ok().flatten()))
}

/// A foreign contact point may ask about the patient its TRC assertion names (and sees no other
/// patient's objects in answers to queries by id), with the permissions the class needs.
fn cross_border_query(principal: &Principal, q: &AdhocQueryRequest) -> Result<(), XdsError> {
    if !principal.is_foreign() {
        return Ok(());
    }
    let asked = query_patient(q)?;
    match (asked.as_deref(), principal.patient.as_deref()) {
        (Some(a), Some(trc)) if a.trim() == trc.trim() => {}
        (Some(_), _) => {
            return Err(XdsError::registry(
                "the treatment relationship (TRC) assertion is for another patient than the query",
            ))
        }
        // A query by ids: the answer keeps only the TRC patient's objects.
        (None, _) => {}
    }
    let needed = match ehdsi::ehdsi_request(q).map(|r| r.kind) {
        Some(ehdsi::PivotKind::Ps) => permissions::PATIENT_SUMMARY,
        Some(ehdsi::PivotKind::Ep) => permissions::EPRESCRIPTION,
        Some(ehdsi::PivotKind::Orcd) => permissions::ORIGINAL_CLINICAL_DOCUMENT,
        None => return Ok(()),
    };
    let missing = principal.missing_permissions(needed);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(XdsError::registry(format!(
            "insufficient permissions: the health professional lacks {}",
            missing.join(", ")
        )))
    }
}

impl XcaResponding {
    /// The community check for a homeCommunityId given (or not) with a request.
    fn check_home(&self, home: Option<&str>, required: bool) -> Result<(), XdsError> {
        match home.map(str::trim).filter(|h| !h.is_empty()) {
            Some(h) if h == self.home => Ok(()),
            Some(h) => Err(XdsError::new(
                ErrorCode::UnknownCommunity,
                format!("homeCommunityId {h} is not this community ({})", self.home),
            )),
            None if required => Err(XdsError::new(
                ErrorCode::MissingHomeCommunityId,
                "this request needs the homeCommunityId of the community asked",
            )),
            None => Ok(()),
        }
    }

    async fn query(&self, call: SoapCall) -> SoapReply {
        let viewer = viewer(&call);
        let mut q = match parse_adhoc_query(call.body()) {
            Ok(q) => q,
            Err(e) => return self.failure(vec![XdsError::registry(e.to_string())]),
        };
        let required = !PATIENT_QUERIES.contains(&q.query_id.as_str());
        if let Err(e) = self.check_home(q.home.as_deref(), required) {
            return self.failure(vec![e]);
        }
        if let Err(e) = cross_border_query(&call.principal, &q) {
            return self.failure(vec![e]);
        }
        if let Err(e) = self.check_patient(&q).await {
            return self.failure(vec![e]);
        }
        q.home = Some(self.home.clone());
        if let Some(req) = ehdsi::ehdsi_request(&q) {
            return self.ehdsi_query(&req, q.return_type, viewer.audience).await;
        }
        let result = self
            .registry
            .stored_query(q, viewer)
            .await
            .map_err(|f| f.into_errors());
        query_reply(action::XC_QUERY_RESPONSE, result)
    }

    /// A community that does not know the patient says so (XDSUnknownPatientId), unless the
    /// registry accepts unknown patients.
    async fn check_patient(&self, q: &AdhocQueryRequest) -> Result<(), XdsError> {
        if self.registry.cfg.allow_unknown_patients {
            return Ok(());
        }
        let Some(pid) = query_patient(q)? else {
            return Ok(());
        };
        let store = self.registry.store.clone();
        let probe = pid.clone();
        let known = store
            .read(move |conn| {
                crate::store::patients::exists(conn, &probe).map_err(crate::store::StoreError::from)
            })
            .await
            .map_err(|_| XdsError::registry("internal storage error"))?;
        if known {
            Ok(())
        } else {
            Err(XdsError::new(
                ErrorCode::UnknownPatientId,
                format!("patient {pid} is not known in community {}", self.home),
            ))
        }
    }

    fn failure(&self, errors: Vec<XdsError>) -> SoapReply {
        query_reply(action::XC_QUERY_RESPONSE, Err(errors))
    }

    /// A PS, eP or OrCD of a Norwegian patient: pivot documents translated from the Norwegian
    /// sources.
    async fn ehdsi_query(
        &self,
        req: &ehdsi::EhdsiRequest,
        rt: ReturnType,
        audience: Audience,
    ) -> SoapReply {
        let e = ehdsi::Ehdsi {
            home: &self.home,
            repository: &self.repository,
            cfg: &self.ehdsi,
            term: self.terminology,
        };
        let (pivots, errors) = e.find(req, audience).await;
        let objects: Vec<String> = pivots
            .into_iter()
            .map(|p| match rt {
                ReturnType::LeafClass => p.entry_xml,
                ReturnType::ObjectRef => inject_attrs(
                    "<rim:ObjectRef/>",
                    &[("id", p.entry_uuid.as_str()), ("home", self.home.as_str())],
                ),
            })
            .collect();
        let status = ResponseStatus::of(!objects.is_empty(), !errors.is_empty());
        let errs: Vec<RegistryError> = errors.iter().map(RegistryError::from).collect();
        let body = write_adhoc_response(status, &errs, &objects);
        SoapReply::new(action::XC_QUERY_RESPONSE, body, status.label())
    }

    async fn retrieve(&self, call: SoapCall) -> RetrieveAnswer {
        let viewer = viewer(&call);
        let reqs = match parse_retrieve_request(call.body()) {
            Ok(r) => r,
            Err(e) => return RetrieveAnswer::unreadable(e),
        };
        let mut refused = Vec::new();
        let mut ok: Vec<DocumentRequest> = Vec::new();
        for r in reqs {
            match self.check_home(r.home.as_deref(), true) {
                Ok(()) => ok.push(r),
                Err(e) => refused.push(e.at(r.document_uid.clone())),
            }
        }
        self.repository
            .retrieve_with(ok, refused, viewer)
            .await
            .unwrap_or_else(storage_failure)
    }
}
