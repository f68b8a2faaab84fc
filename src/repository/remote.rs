//! Forwarding the augmented metadata to a remote registry over ITI-42, and reading its answer.

use super::RemoteRegistry;
use crate::ebxml::response::RegistryError;
use crate::ebxml::write::write_object;
use crate::ebxml::{RegistryObject, LCM, RIM, RS, STATUS_SUCCESS};
use crate::registry::endpoint::REGISTER;
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

pub fn submit_objects_xml(objects: &[RegistryObject]) -> String {
    let mut out = format!(
        r#"<lcm:SubmitObjectsRequest xmlns:lcm="{LCM}" xmlns:rim="{RIM}"><rim:RegistryObjectList>"#
    );
    for o in objects {
        write_object(&mut out, o);
    }
    out.push_str("</rim:RegistryObjectList></lcm:SubmitObjectsRequest>");
    out
}

impl RemoteRegistry {
    /// Sends ITI-42. Transport trouble and faults become XDSRegistryNotAvailable.
    pub async fn register(&self, objects: &[RegistryObject]) -> RemoteAnswer {
        let message_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let env = encode_request(
            REGISTER,
            &self.url,
            &message_id,
            &submit_objects_xml(objects),
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
    let errors = body
        .child(RS, "RegistryErrorList")
        .map(|l| {
            l.children_named(RS, "RegistryError")
                .map(|e| RegistryError {
                    error_code: e.attr("errorCode").unwrap_or_default().to_string(),
                    code_context: e
                        .attr("codeContext")
                        .map(str::to_string)
                        .unwrap_or_else(|| e.text().into_owned()),
                    location: e.attr("location").map(str::to_string),
                    warning: e.attr("severity").is_some_and(|s| s.ends_with(":Warning")),
                })
                .collect()
        })
        .unwrap_or_default();
    RemoteAnswer {
        success: body.attr("status") == Some(STATUS_SUCCESS),
        errors,
    }
}
