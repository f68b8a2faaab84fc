//! ITI-43 / ITI-39 wire types: RetrieveDocumentSetRequest and RetrieveDocumentSetResponse
//! (the document itself travels as an MTOM part named by `xop:Include`, or inline base64).

use super::document::DocumentContent;
use super::parse::ParseError;
use super::response::{read_error_list, write_registry_response, RegistryError};
use super::{ResponseStatus, XDSB};
use crate::soap::XOP;
use crate::xml::{esc_text, Element};
use std::fmt::Write;

/// One DocumentRequest.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRequest {
    pub home: Option<String>,
    pub repository_uid: String,
    pub document_uid: String,
}

fn child_text(e: &Element, name: &str) -> Option<String> {
    e.child(XDSB, name).map(|c| c.text().trim().to_string())
}

/// The most DocumentRequests one retrieve may carry. Real requests name a few documents; a
/// body of 64 MiB could name 400,000, and each costs a lookup and an answer entry.
pub const MAX_DOCUMENT_REQUESTS: usize = 1000;

/// The DocumentRequests of a RetrieveDocumentSetRequest, in order (at least one, at most
/// [`MAX_DOCUMENT_REQUESTS`]).
pub fn parse_retrieve_request(body: &Element) -> Result<Vec<DocumentRequest>, ParseError> {
    if !body.is(XDSB, "RetrieveDocumentSetRequest") {
        return Err(ParseError::UnexpectedElement {
            expected: "xdsb:RetrieveDocumentSetRequest",
            found_ns: body.ns.clone().unwrap_or_default(),
            found: body.name.clone(),
        });
    }
    document_requests(body)
}

/// The `xdsb:DocumentRequest` children of `body` (ITI-43 and ITI-86 share them), at least one
/// and at most [`MAX_DOCUMENT_REQUESTS`].
pub(super) fn document_requests(body: &Element) -> Result<Vec<DocumentRequest>, ParseError> {
    let reqs: Vec<DocumentRequest> = body
        .children_named(XDSB, "DocumentRequest")
        .take(MAX_DOCUMENT_REQUESTS + 1)
        .map(|r| DocumentRequest {
            home: child_text(r, "HomeCommunityId").filter(|s| !s.is_empty()),
            repository_uid: child_text(r, "RepositoryUniqueId").unwrap_or_default(),
            document_uid: child_text(r, "DocumentUniqueId").unwrap_or_default(),
        })
        .collect();
    if reqs.is_empty() {
        return Err(ParseError::Invalid(
            "the request has no DocumentRequest".into(),
        ));
    }
    if reqs.len() > MAX_DOCUMENT_REQUESTS {
        return Err(ParseError::Invalid(format!(
            "the request has more than {MAX_DOCUMENT_REQUESTS} DocumentRequests; send at most {MAX_DOCUMENT_REQUESTS} per request"
        )));
    }
    Ok(reqs)
}

fn write_home(out: &mut String, home: Option<&str>) {
    if let Some(h) = home {
        let _ = write!(
            out,
            "<xdsb:HomeCommunityId>{}</xdsb:HomeCommunityId>",
            esc_text(h)
        );
    }
}

pub fn write_retrieve_request<'a>(reqs: impl IntoIterator<Item = &'a DocumentRequest>) -> String {
    let mut out = format!(r#"<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="{XDSB}">"#);
    for r in reqs {
        out.push_str("<xdsb:DocumentRequest>");
        write_home(&mut out, r.home.as_deref());
        let _ = write!(
            out,
            "<xdsb:RepositoryUniqueId>{}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>{}</xdsb:DocumentUniqueId></xdsb:DocumentRequest>",
            esc_text(&r.repository_uid),
            esc_text(&r.document_uid)
        );
    }
    out.push_str("</xdsb:RetrieveDocumentSetRequest>");
    out
}

/// One DocumentResponse to write; the document goes as the MTOM part `content_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentResponse {
    pub home: Option<String>,
    pub repository_uid: String,
    pub document_uid: String,
    pub mime_type: String,
    pub content_id: String,
}

/// A DocumentResponse as read from an answer (`content` is None when it carries no Document).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedDocument {
    pub response: DocumentResponse,
    pub content: Option<DocumentContent>,
}

pub fn write_retrieve_response(
    status: ResponseStatus,
    errors: &[RegistryError],
    docs: &[DocumentResponse],
) -> String {
    let mut out = format!(r#"<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="{XDSB}">"#);
    out.push_str(&write_registry_response(status, errors));
    for d in docs {
        out.push_str("<xdsb:DocumentResponse>");
        write_home(&mut out, d.home.as_deref());
        let _ = write!(
            out,
            concat!(
                "<xdsb:RepositoryUniqueId>{}</xdsb:RepositoryUniqueId>",
                "<xdsb:DocumentUniqueId>{}</xdsb:DocumentUniqueId>",
                "<xdsb:mimeType>{}</xdsb:mimeType>",
                r#"<xdsb:Document><xop:Include xmlns:xop="{}" href="cid:{}"/></xdsb:Document>"#,
                "</xdsb:DocumentResponse>"
            ),
            esc_text(&d.repository_uid),
            esc_text(&d.document_uid),
            esc_text(&d.mime_type),
            XOP,
            esc_text(&d.content_id)
        );
    }
    out.push_str("</xdsb:RetrieveDocumentSetResponse>");
    out
}

/// The status, errors and DocumentResponses of a RetrieveDocumentSetResponse.
pub fn read_retrieve_response(
    body: &Element,
) -> (
    Option<ResponseStatus>,
    Vec<RegistryError>,
    Vec<ReceivedDocument>,
) {
    let rr = body.child(super::RS, "RegistryResponse");
    let status = rr
        .and_then(|r| r.attr("status"))
        .and_then(ResponseStatus::from_urn);
    let errors = rr.map(read_error_list).unwrap_or_default();
    let docs = body
        .children_named(XDSB, "DocumentResponse")
        .map(|d| {
            let content = d.child(XDSB, "Document").map(DocumentContent::read);
            ReceivedDocument {
                response: DocumentResponse {
                    home: child_text(d, "HomeCommunityId").filter(|s| !s.is_empty()),
                    repository_uid: child_text(d, "RepositoryUniqueId").unwrap_or_default(),
                    document_uid: child_text(d, "DocumentUniqueId").unwrap_or_default(),
                    mime_type: child_text(d, "mimeType").unwrap_or_default(),
                    content_id: String::new(),
                },
                content,
            }
        })
        .collect();
    (status, errors, docs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{parse, Limits};

    fn req(home: Option<&str>, repo: &str, doc: &str) -> DocumentRequest {
        DocumentRequest {
            home: home.map(str::to_string),
            repository_uid: repo.into(),
            document_uid: doc.into(),
        }
    }

    #[test]
    fn request_round_trip_and_refusals() {
        let reqs = [
            req(Some("urn:oid:1.2"), "9.9", "1<2"),
            req(None, "9.9", "3"),
        ];
        let x = write_retrieve_request(&reqs);
        let back = parse_retrieve_request(&parse(x.as_bytes(), Limits::default()).unwrap());
        assert_eq!(back.unwrap(), reqs.to_vec());
        let empty = format!(r#"<x:RetrieveDocumentSetRequest xmlns:x="{XDSB}"/>"#);
        let e = parse(empty.as_bytes(), Limits::default()).unwrap();
        assert!(parse_retrieve_request(&e).is_err());
    }

    #[test]
    fn response_round_trip() {
        let d = DocumentResponse {
            home: None,
            repository_uid: "9.9".into(),
            document_uid: "1.2.3".into(),
            mime_type: "text/plain".into(),
            content_id: "doc0@ncpeh".into(),
        };
        let x = write_retrieve_response(ResponseStatus::Success, &[], std::slice::from_ref(&d));
        let (status, errors, docs) =
            read_retrieve_response(&parse(x.as_bytes(), Limits::default()).unwrap());
        assert_eq!(status, Some(ResponseStatus::Success));
        assert!(errors.is_empty());
        assert_eq!(
            docs[0].content,
            Some(DocumentContent::Part("doc0@ncpeh".into()))
        );
        assert_eq!(docs[0].response.document_uid, "1.2.3");
    }
}
