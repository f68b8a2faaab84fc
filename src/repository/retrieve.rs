//! ITI-43 Retrieve Document Set: every requested document that is here comes back as an MTOM
//! attachment with its registered mimeType; the others get an error each.

use super::{Repository, XDSB};
use crate::ebxml::response::{write_registry_response, RegistryError};
use crate::ebxml::{STATUS_FAILURE, STATUS_PARTIAL, STATUS_SUCCESS};
use crate::soap::XOP;
use crate::store::documents::DocumentRow;
use crate::store::StoreError;
use crate::xds::{ErrorCode, XdsError};
use crate::xml::{esc_text, Element};
use bytes::Bytes;
use std::collections::HashMap;
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq)]
pub struct DocRequest {
    pub home: Option<String>,
    pub repository_uid: String,
    pub document_uid: String,
}

pub fn parse_request(body: &Element) -> Result<Vec<DocRequest>, XdsError> {
    if !body.is(XDSB, "RetrieveDocumentSetRequest") {
        return Err(XdsError::new(
            ErrorCode::RepositoryError,
            format!(
                "expected xdsb:RetrieveDocumentSetRequest, found {}",
                body.name
            ),
        ));
    }
    let text = |e: &Element, n: &str| e.child(XDSB, n).map(|c| c.text().trim().to_string());
    let reqs: Vec<DocRequest> = body
        .children_named(XDSB, "DocumentRequest")
        .map(|r| DocRequest {
            home: text(r, "HomeCommunityId").filter(|s| !s.is_empty()),
            repository_uid: text(r, "RepositoryUniqueId").unwrap_or_default(),
            document_uid: text(r, "DocumentUniqueId").unwrap_or_default(),
        })
        .collect();
    if reqs.is_empty() {
        return Err(XdsError::new(
            ErrorCode::RepositoryError,
            "the request has no DocumentRequest",
        ));
    }
    Ok(reqs)
}

/// The answer body, its attachments (Content-ID, MIME type, bytes) and the status.
pub struct RetrieveAnswer {
    pub body: String,
    pub attachments: Vec<(String, String, Bytes)>,
    pub status: &'static str,
}

/// What the database gave back for one document uniqueId.
enum Found {
    Doc(DocumentRow, Bytes),
    OverBudget,
}

impl Repository {
    pub async fn retrieve(&self, reqs: Vec<DocRequest>) -> Result<RetrieveAnswer, StoreError> {
        self.retrieve_with(reqs, Vec::new()).await
    }

    /// As `retrieve`, with errors already found for requests that were not passed on (the
    /// cross-gateway community checks).
    pub async fn retrieve_with(
        &self,
        reqs: Vec<DocRequest>,
        refused: Vec<XdsError>,
    ) -> Result<RetrieveAnswer, StoreError> {
        let ours = self.cfg.unique_id.clone();
        // Request order, without repeats: the size budget favours documents asked for first.
        let mut wanted: Vec<String> = Vec::new();
        for r in reqs.iter().filter(|r| r.repository_uid == ours) {
            if !wanted.contains(&r.document_uid) {
                wanted.push(r.document_uid.clone());
            }
        }
        let blobs = self.blobs.clone();
        let budget = self.cfg.max_retrieve_bytes;
        let found: HashMap<String, Found> = self
            .registry
            .store
            .read(move |conn| {
                let mut rows: HashMap<String, DocumentRow> = blobs
                    .find(conn, &wanted)?
                    .into_iter()
                    .map(|r| (r.unique_id.clone(), r))
                    .collect();
                let mut out = HashMap::new();
                let mut used = 0usize;
                for uid in &wanted {
                    let Some(row) = rows.remove(uid) else {
                        continue;
                    };
                    let size = usize::try_from(row.size).unwrap_or(usize::MAX);
                    if used.saturating_add(size) > budget {
                        out.insert(row.unique_id.clone(), Found::OverBudget);
                        continue;
                    }
                    used += size;
                    let data = blobs.get(conn, &row)?;
                    out.insert(row.unique_id.clone(), Found::Doc(row, data));
                }
                Ok::<_, StoreError>(out)
            })
            .await?;
        Ok(answer(&reqs, &ours, &found, refused))
    }
}

fn answer(
    reqs: &[DocRequest],
    ours: &str,
    found: &HashMap<String, Found>,
    refused: Vec<XdsError>,
) -> RetrieveAnswer {
    let mut errors = refused;
    let mut docs = String::new();
    let mut attachments = Vec::new();
    for r in reqs {
        let err = |code, ctx: String| XdsError::new(code, ctx).at(r.document_uid.clone());
        if r.repository_uid != ours {
            errors.push(err(
                ErrorCode::UnknownRepositoryId,
                format!(
                    "repositoryUniqueId '{}' is not this repository ({ours})",
                    r.repository_uid
                ),
            ));
            continue;
        }
        match found.get(&r.document_uid) {
            Some(Found::Doc(row, data)) => {
                let cid = format!("doc{}.{}@ncpeh", attachments.len(), uuid::Uuid::new_v4().simple());
                write_document_response(&mut docs, r, row, &cid);
                attachments.push((cid, header_safe(&row.mime_type), data.clone()));
            }
            Some(Found::OverBudget) => errors.push(err(
                ErrorCode::RepositoryError,
                format!(
                    "document {} is not returned: the answer would exceed the size limit; ask for it alone",
                    r.document_uid
                ),
            )),
            None => errors.push(err(
                ErrorCode::DocumentUniqueIdError,
                format!("document uniqueId '{}' is not in this repository", r.document_uid),
            )),
        }
    }
    let status = match (attachments.is_empty(), errors.is_empty()) {
        (false, true) => STATUS_SUCCESS,
        (false, false) => STATUS_PARTIAL,
        (true, _) => STATUS_FAILURE,
    };
    let errs: Vec<RegistryError> = errors.iter().map(RegistryError::from).collect();
    let mut body = format!(r#"<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="{XDSB}">"#);
    body.push_str(&write_registry_response(status, &errs));
    body.push_str(&docs);
    body.push_str("</xdsb:RetrieveDocumentSetResponse>");
    RetrieveAnswer {
        body,
        attachments,
        status,
    }
}

fn write_document_response(out: &mut String, r: &DocRequest, row: &DocumentRow, cid: &str) {
    out.push_str("<xdsb:DocumentResponse>");
    if let Some(h) = &r.home {
        let _ = write!(
            out,
            "<xdsb:HomeCommunityId>{}</xdsb:HomeCommunityId>",
            esc_text(h)
        );
    }
    let _ = write!(
        out,
        concat!(
            "<xdsb:RepositoryUniqueId>{}</xdsb:RepositoryUniqueId>",
            "<xdsb:DocumentUniqueId>{}</xdsb:DocumentUniqueId>",
            "<xdsb:mimeType>{}</xdsb:mimeType>",
            r#"<xdsb:Document><xop:Include xmlns:xop="{}" href="cid:{}"/></xdsb:Document>"#,
            "</xdsb:DocumentResponse>"
        ),
        esc_text(&row.repository_uid),
        esc_text(&row.unique_id),
        esc_text(&row.mime_type),
        XOP,
        cid
    );
}

/// A RetrieveDocumentSetResponse that carries only errors.
pub fn failure_reply(action: &str, errs: &[XdsError]) -> crate::transport::router::SoapReply {
    let errs: Vec<RegistryError> = errs.iter().map(RegistryError::from).collect();
    let body = format!(
        r#"<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="{XDSB}">{}</xdsb:RetrieveDocumentSetResponse>"#,
        write_registry_response(STATUS_FAILURE, &errs)
    );
    crate::transport::router::SoapReply {
        action: action.into(),
        body,
        attachments: Vec::new(),
        outcome: "Failure",
    }
}

pub fn outcome_label(status: &str) -> &'static str {
    match status {
        STATUS_SUCCESS => "Success",
        STATUS_PARTIAL => "PartialSuccess",
        _ => "Failure",
    }
}

/// The MIME type as a part header: anything that could break the header becomes
/// application/octet-stream (the XML still carries the registered value).
pub fn header_safe(mime: &str) -> String {
    let ok = !mime.is_empty() && mime.bytes().all(|b| (0x20..0x7f).contains(&b));
    if ok {
        mime.to_string()
    } else {
        "application/octet-stream".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(repo: &str, doc: &str) -> DocRequest {
        DocRequest {
            home: None,
            repository_uid: repo.into(),
            document_uid: doc.into(),
        }
    }

    #[test]
    fn partial_success_and_error_codes() {
        let row = DocumentRow {
            unique_id: "1.2.3".into(),
            repository_uid: "9.9".into(),
            entry_uuid: "urn:uuid:x".into(),
            mime_type: "text/plain".into(),
            size: 2,
            hash: String::new(),
            chunk_count: 1,
            stored_at: 0,
        };
        let found = HashMap::from([(
            "1.2.3".to_string(),
            Found::Doc(row, Bytes::from_static(b"hi")),
        )]);
        let a = answer(
            &[req("9.9", "1.2.3"), req("9.9", "4.5"), req("8.8", "1.2.3")],
            "9.9",
            &found,
            Vec::new(),
        );
        assert_eq!(a.status, STATUS_PARTIAL);
        assert_eq!(a.attachments.len(), 1);
        assert!(
            a.body.contains("XDSDocumentUniqueIdError")
                && a.body.contains("XDSUnknownRepositoryId")
        );
        assert!(a.body.contains("<xdsb:mimeType>text/plain</xdsb:mimeType>"));
        let a = answer(&[req("9.9", "4.5")], "9.9", &found, Vec::new());
        assert_eq!(a.status, STATUS_FAILURE);
        assert_eq!(
            header_safe("text/plain\r\nX: y"),
            "application/octet-stream"
        );
    }
}
