//! XCA Responding Gateway: ITI-38 Cross Gateway Query and ITI-39 Cross Gateway Retrieve,
//! answered from the local registry and repository. Every returned object names our
//! homeCommunityId; a request for another community is refused.

use super::ehdsi;
use crate::ebxml::query::{parse_adhoc_query, write_adhoc_response, ReturnType};
use crate::ebxml::response::RegistryError;
use crate::ebxml::write::inject_attrs;
use crate::ebxml::{STATUS_FAILURE, STATUS_SUCCESS};
use crate::registry::query as sq;
use crate::registry::Registry;
use crate::repository::retrieve::{self, DocRequest};
use crate::repository::Repository;
use crate::soap::Fault;
use crate::transport::router::{SoapCall, SoapReply};
use crate::xds::{ErrorCode, XdsError};

pub const QUERY: &str = "urn:ihe:iti:2007:CrossGatewayQuery";
pub const QUERY_RESPONSE: &str = "urn:ihe:iti:2007:CrossGatewayQueryResponse";
pub const RETRIEVE: &str = "urn:ihe:iti:2007:CrossGatewayRetrieve";
pub const RETRIEVE_RESPONSE: &str = "urn:ihe:iti:2007:CrossGatewayRetrieveResponse";

/// Queries that name a patient; the others (by id) need the homeCommunityId.
const PATIENT_QUERIES: [&str; 5] = [
    sq::FIND_DOCUMENTS,
    sq::FIND_DOCUMENTS_BY_REFERENCE_ID,
    sq::FIND_SUBMISSION_SETS,
    sq::FIND_FOLDERS,
    sq::GET_ALL,
];

pub struct Responder<'a> {
    pub home: &'a str,
    pub registry: &'a Registry,
    pub repository: &'a Repository,
    pub ehdsi: &'a crate::config::EhdsiConfig,
    pub terminology: &'static crate::translate::Terminology,
}

impl Responder<'_> {
    pub async fn handle(&self, call: SoapCall) -> Result<SoapReply, Fault> {
        match call.soap.action.as_str() {
            QUERY => Ok(self.query(call).await),
            RETRIEVE => Ok(self.retrieve(call).await),
            other => Err(Fault::action_not_supported(other)),
        }
    }

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
        let result: Result<Vec<String>, Vec<XdsError>> = match parse_adhoc_query(&call.soap.body) {
            Err(e) => Err(vec![XdsError::registry(e.to_string())]),
            Ok(mut q) => {
                let required = !PATIENT_QUERIES.contains(&q.query_id.as_str());
                match self.check_home(q.home.as_deref(), required) {
                    Err(e) => Err(vec![e]),
                    Ok(()) => {
                        if let Err(e) = self.check_patient(&q).await {
                            return self.failure(vec![e]);
                        }
                        q.home = Some(self.home.to_string());
                        if let Some((kind, pid)) = ehdsi::ehdsi_request(&q) {
                            return self.ehdsi_query(kind, &pid, q.return_type).await;
                        }
                        self.registry
                            .stored_query(q)
                            .await
                            .map_err(|f| f.into_errors())
                    }
                }
            }
        };
        let (status, outcome, errs, objects) = match result {
            Ok(objects) => (STATUS_SUCCESS, "Success", Vec::new(), objects),
            Err(e) => (
                STATUS_FAILURE,
                "Failure",
                e.iter().map(RegistryError::from).collect(),
                Vec::new(),
            ),
        };
        SoapReply {
            action: QUERY_RESPONSE.into(),
            body: write_adhoc_response(status, &errs, &objects),
            attachments: Vec::new(),
            outcome,
        }
    }

    /// A community that does not know the patient says so (XDSUnknownPatientId), unless the
    /// registry accepts unknown patients.
    async fn check_patient(
        &self,
        q: &crate::ebxml::query::AdhocQueryRequest,
    ) -> Result<(), XdsError> {
        if self.registry.cfg.allow_unknown_patients {
            return Ok(());
        }
        let params = crate::registry::query::params::Params::parse(&q.params)?;
        let pid = [
            "$XDSDocumentEntryPatientId",
            "$XDSSubmissionSetPatientId",
            "$XDSFolderPatientId",
            "$patientId",
        ]
        .iter()
        .find_map(|n| params.single(n).ok().flatten());
        let Some(pid) = pid else { return Ok(()) };
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
        let errs: Vec<RegistryError> = errors.iter().map(RegistryError::from).collect();
        SoapReply {
            action: QUERY_RESPONSE.into(),
            body: write_adhoc_response(STATUS_FAILURE, &errs, &[]),
            attachments: Vec::new(),
            outcome: "Failure",
        }
    }

    /// A PS or eP of a Norwegian patient: pivot documents translated from the Norwegian sources.
    async fn ehdsi_query(&self, kind: ehdsi::PivotKind, pid: &str, rt: ReturnType) -> SoapReply {
        let e = ehdsi::Ehdsi {
            home: self.home,
            repository: self.repository,
            cfg: self.ehdsi,
            term: self.terminology,
        };
        let (pivots, errors) = e.find(kind, pid).await;
        let objects: Vec<String> = pivots
            .into_iter()
            .map(|p| match rt {
                ReturnType::LeafClass => p.entry_xml,
                ReturnType::ObjectRef => inject_attrs(
                    "<rim:ObjectRef/>",
                    &[("id", p.entry_uuid.as_str()), ("home", self.home)],
                ),
            })
            .collect();
        let status = match (objects.is_empty(), errors.is_empty()) {
            (_, true) => STATUS_SUCCESS,
            (false, false) => crate::ebxml::STATUS_PARTIAL,
            (true, false) => STATUS_FAILURE,
        };
        let errs: Vec<RegistryError> = errors.iter().map(RegistryError::from).collect();
        SoapReply {
            action: QUERY_RESPONSE.into(),
            body: write_adhoc_response(status, &errs, &objects),
            attachments: Vec::new(),
            outcome: retrieve::outcome_label(status),
        }
    }

    async fn retrieve(&self, call: SoapCall) -> SoapReply {
        let reqs = match retrieve::parse_request(&call.soap.body) {
            Ok(r) => r,
            Err(e) => return retrieve::failure_reply(RETRIEVE_RESPONSE, &[e]),
        };
        let mut refused = Vec::new();
        let mut ok: Vec<DocRequest> = Vec::new();
        for r in reqs {
            match self.check_home(r.home.as_deref(), true) {
                Ok(()) => ok.push(r),
                Err(e) => refused.push(e.at(r.document_uid.clone())),
            }
        }
        match self.repository.retrieve_with(ok, refused).await {
            Ok(a) => SoapReply {
                action: RETRIEVE_RESPONSE.into(),
                body: a.body,
                attachments: a.attachments,
                outcome: retrieve::outcome_label(a.status),
            },
            Err(e) => {
                tracing::error!(error = %e, "storage failure on cross-gateway retrieve");
                retrieve::failure_reply(
                    RETRIEVE_RESPONSE,
                    &[XdsError::new(
                        ErrorCode::RepositoryError,
                        "internal storage error",
                    )],
                )
            }
        }
    }
}
