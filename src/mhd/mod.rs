//! IHE MHD 4.x (FHIR R4) in front of the node's own registry and repository, under `/fhir` on
//! the mutual-TLS listener: ITI-65 Provide Document Bundle (Document Recipient, XDS on FHIR),
//! ITI-66/67 searches and ITI-68 Retrieve Document (Document Responder), the patients of the
//! identity feed, and the CapabilityStatement. The XDS rules and the stored queries are those
//! of ITI-41 and ITI-18: MHD only maps.

mod actors;
pub mod codes;
pub mod dtm;
pub mod fhir;
mod from_rim;
pub mod patient;
pub mod provide;
mod recipient;
mod responder;
mod rim;
pub mod search;
pub mod to_rim;

use crate::audit::Auditor;
use crate::registry::Registry;
use crate::repository::Repository;
use crate::soap::{Access, Endpoint};
use crate::transport::rest::{RestFuture, RestReply, RestRequest, RestService};
use fhir::{Format, Issue};
use fhirbolt::model::r4::Resource;
use http::Method;

pub struct MhdService {
    pub registry: Registry,
    pub repository: Repository,
    pub auditor: Auditor,
    /// This server's FHIR base URL (`<public_url>/fhir`).
    pub base: String,
}

/// Transactions as metrics and log labels.
pub mod label {
    pub const PROVIDE: &str = "ITI-65";
    pub const FIND_LISTS: &str = "ITI-66";
    pub const FIND_REFERENCES: &str = "ITI-67";
    pub const RETRIEVE: &str = "ITI-68";
    pub const PATIENT: &str = "Patient";
    pub const METADATA: &str = "metadata";
    pub const OTHER: &str = "other";
}

const ENDPOINT: Endpoint = Endpoint {
    path: "/fhir",
    wsdl: "",
    schemas: &[],
    actions: &[
        label::PROVIDE,
        label::FIND_LISTS,
        label::FIND_REFERENCES,
        label::RETRIEVE,
        label::PATIENT,
        label::METADATA,
    ],
    // The registry's callers; with `[xua] require_on_xds` MHD is refused, as there is no IUA.
    access: Access::National { xds: true },
};

/// The id part of an `urn:uuid:` entryUUID (FHIR ids have no colons).
pub fn bare(uuid: &str) -> &str {
    uuid.strip_prefix("urn:uuid:").unwrap_or(uuid)
}

/// A resource answered with `status`.
pub fn resource_reply(status: u16, r: &Resource, f: Format, action: &'static str) -> RestReply {
    let outcome = if status < 400 { "OK" } else { "Failure" };
    RestReply {
        status,
        content_type: f.media_type().to_string(),
        body: fhir::write(r, f).into(),
        headers: Vec::new(),
        action,
        outcome,
    }
}

pub fn error_reply(status: u16, issues: &[Issue], f: Format, action: &'static str) -> RestReply {
    resource_reply(status, &fhir::outcome(issues), f, action)
}

/// What a request asks for, once its path and formats are read.
pub struct Asked<'a> {
    pub req: &'a RestRequest,
    pub format: Format,
}

impl MhdService {
    async fn route(&self, req: RestRequest) -> RestReply {
        let params = search::pairs(&req.query);
        let format_param = params
            .iter()
            .find(|(k, _)| k == "_format")
            .map(|(_, v)| v.as_str());
        let sent = req.content_type.as_deref().and_then(Format::named);
        let format = Format::answer(
            req.accept.as_deref(),
            format_param,
            sent.unwrap_or(Format::Json),
        );
        let path = req.path.trim_start_matches('/').to_string();
        let segs: Vec<&str> = path.split('/').collect();
        let a = Asked { req: &req, format };
        match (&req.method, segs.as_slice()) {
            (&Method::GET, [""] | ["metadata"]) => responder::capability(self, &a),
            (&Method::POST, [""] | ["Bundle"]) => match sent {
                Some(f) => recipient::provide(self, &a, f).await,
                None => error_reply(
                    415,
                    &[Issue::error(
                        "not-supported",
                        "send application/fhir+json or application/fhir+xml",
                    )],
                    format,
                    label::PROVIDE,
                ),
            },
            (&Method::GET, ["DocumentReference"]) => {
                responder::find_references(self, &a, &req.query).await
            }
            (&Method::POST, ["DocumentReference", "_search"]) => {
                let form = String::from_utf8_lossy(&req.body).into_owned();
                responder::find_references(self, &a, &form).await
            }
            (&Method::GET, ["DocumentReference", id]) => responder::reference(self, &a, id).await,
            (&Method::GET, ["List"]) => responder::find_lists(self, &a).await,
            (&Method::GET, ["List", id]) => responder::list(self, &a, id).await,
            (&Method::GET, ["Binary", id]) => responder::binary(self, &a, id).await,
            (&Method::GET, ["Patient"]) => responder::find_patients(self, &a).await,
            (&Method::GET, ["Patient", id]) => responder::patient(self, &a, id).await,
            (_, ["metadata" | "DocumentReference" | "List" | "Binary" | "Patient", ..])
            | (_, [""]) => error_reply(
                405,
                &[Issue::error(
                    "not-supported",
                    format!("{} is not supported here", req.method),
                )],
                format,
                label::OTHER,
            ),
            _ => error_reply(
                404,
                &[Issue::error(
                    "not-found",
                    "no such resource type or path; see /fhir/metadata",
                )],
                format,
                label::OTHER,
            ),
        }
    }
}

impl RestService for MhdService {
    fn endpoint(&self) -> &'static Endpoint {
        &ENDPOINT
    }

    fn call(&self, req: RestRequest) -> RestFuture<'_> {
        Box::pin(self.route(req))
    }

    fn refusal(&self, status: u16, reason: &str, accept: Option<&str>) -> RestReply {
        let f = Format::answer(accept, None, Format::Json);
        let code = match status {
            401 | 403 => "forbidden",
            413 => "too-costly",
            503 => "transient",
            408 => "timeout",
            _ => "invalid",
        };
        error_reply(status, &[Issue::error(code, reason)], f, label::OTHER)
    }
}
