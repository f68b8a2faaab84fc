//! The /xds/registry SOAP endpoint: ITI-42 and ITI-18 actions.

use super::Registry;
use crate::ebxml::query::{parse_adhoc_query, write_adhoc_response};
use crate::ebxml::response::{write_registry_response, RegistryError};
use crate::ebxml::{parse_submit_objects, STATUS_FAILURE, STATUS_SUCCESS};
use crate::soap::Fault;
use crate::transport::router::{SoapCall, SoapReply};
use crate::xds::validate::Expect;
use crate::xds::XdsError;

pub const REGISTER: &str = "urn:ihe:iti:2007:RegisterDocumentSet-b";
pub const REGISTER_RESPONSE: &str = "urn:ihe:iti:2007:RegisterDocumentSet-bResponse";
pub const QUERY: &str = "urn:ihe:iti:2007:RegistryStoredQuery";
pub const QUERY_RESPONSE: &str = "urn:ihe:iti:2007:RegistryStoredQueryResponse";

pub async fn handle(reg: &Registry, call: SoapCall) -> Result<SoapReply, Fault> {
    match call.soap.action.as_str() {
        REGISTER => Ok(register(reg, call).await),
        QUERY => Ok(query(reg, call).await),
        other => Err(Fault::action_not_supported(other)),
    }
}

fn errors(v: &[XdsError]) -> Vec<RegistryError> {
    v.iter().map(RegistryError::from).collect()
}

async fn register(reg: &Registry, call: SoapCall) -> SoapReply {
    let result = match parse_submit_objects(&call.soap.body) {
        Ok(objects) => reg
            .register(objects, Expect::default())
            .await
            .map_err(|f| f.into_errors()),
        Err(e) => Err(vec![XdsError::metadata(e.to_string())]),
    };
    let (status, outcome, errs) = match result {
        Ok(warnings) => (STATUS_SUCCESS, "Success", errors(&warnings)),
        Err(e) => (STATUS_FAILURE, "Failure", errors(&e)),
    };
    SoapReply {
        action: REGISTER_RESPONSE.into(),
        body: write_registry_response(status, &errs),
        attachments: Vec::new(),
        outcome,
    }
}

async fn query(reg: &Registry, call: SoapCall) -> SoapReply {
    let result = match parse_adhoc_query(&call.soap.body) {
        Ok(q) => reg.stored_query(q).await.map_err(|f| f.into_errors()),
        Err(e) => Err(vec![XdsError::registry(e.to_string())]),
    };
    let (status, outcome, errs, objects) = match result {
        Ok(objects) => (STATUS_SUCCESS, "Success", Vec::new(), objects),
        Err(e) => (STATUS_FAILURE, "Failure", errors(&e), Vec::new()),
    };
    SoapReply {
        action: QUERY_RESPONSE.into(),
        body: write_adhoc_response(status, &errs, &objects),
        attachments: Vec::new(),
        outcome,
    }
}
