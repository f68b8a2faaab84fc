//! Forwarding the augmented metadata to a remote registry over ITI-42, and reading its answer.

use super::RemoteRegistry;
use crate::ebxml::provide::write_submit_objects;
use crate::ebxml::response::{read_error_list, RegistryError};
use crate::ebxml::{RegistryObject, ResponseStatus, RS};
use crate::ids::action::REGISTER;
use crate::soap::envelope::encode_request;
use crate::xds::{ErrorCode, XdsError};
use crate::xml::Element;

/// What the remote registry said.
#[derive(Debug)]
pub struct RemoteAnswer {
    pub success: bool,
    /// Its errors and warnings, passed back to the document source unchanged.
    pub errors: Vec<RegistryError>,
}

impl RemoteRegistry {
    /// Sends ITI-42. Transport trouble and faults become XDSRegistryNotAvailable.
    pub async fn register(&self, objects: &[RegistryObject]) -> RemoteAnswer {
        let message_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let env = encode_request(
            REGISTER,
            &self.url,
            &message_id,
            &write_submit_objects(objects),
        );
        let unavailable = |why: String| RemoteAnswer {
            success: false,
            errors: vec![RegistryError::from(&XdsError::new(
                ErrorCode::RegistryNotAvailable,
                why,
            ))],
        };
        let resp = match self.client.soap(&self.url, REGISTER, env).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(url = %self.url, error = %e, "remote registry not reachable");
                return unavailable(format!(
                    "the registry at {} could not be reached: {e}",
                    self.url
                ));
            }
        };
        if let Some(f) = resp.fault {
            return unavailable(format!("the registry answered with a SOAP fault: {f}"));
        }
        if !resp.body.is(RS, "RegistryResponse") {
            return unavailable(format!(
                "the registry answered with {} instead of rs:RegistryResponse",
                resp.body.name
            ));
        }
        read_response(&resp.body)
    }
}

pub fn read_response(body: &Element) -> RemoteAnswer {
    RemoteAnswer {
        success: body.attr("status").and_then(ResponseStatus::from_urn)
            == Some(ResponseStatus::Success),
        errors: read_error_list(body),
    }
}
