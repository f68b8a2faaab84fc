//! ITI-43 Retrieve Document Set: every requested document that is here comes back as an MTOM
//! attachment with its registered mimeType; the others get an error each.

use super::Repository;
use crate::ebxml::response::RegistryError;
use crate::ebxml::retrieve::{write_retrieve_response, DocumentRequest, DocumentResponse};
use crate::ebxml::ResponseStatus;
use crate::registry::gate::Gate;
use crate::soap::mtom::content_id;
use crate::soap::{Attachment, SoapReply};
use crate::store::documents::DocumentRow;
use crate::store::StoreError;
use crate::xds::confidentiality::Viewer;
use crate::xds::{ErrorCode, XdsError};
use bytes::Bytes;
use std::collections::HashMap;

/// The documents found (as attachments) and the errors for the others.
pub struct RetrieveAnswer {
    pub status: ResponseStatus,
    pub errors: Vec<XdsError>,
    pub docs: Vec<DocumentResponse>,
    pub attachments: Vec<Attachment>,
}

impl RetrieveAnswer {
    /// An answer that carries only errors.
    pub fn failure(errors: Vec<XdsError>) -> RetrieveAnswer {
        RetrieveAnswer {
            status: ResponseStatus::Failure,
            errors,
            docs: Vec::new(),
            attachments: Vec::new(),
        }
    }

    /// The answer to a request that could not be read.
    pub fn unreadable(e: crate::ebxml::ParseError) -> RetrieveAnswer {
        RetrieveAnswer::failure(vec![XdsError::new(
            ErrorCode::RepositoryError,
            e.to_string(),
        )])
    }

    /// The RetrieveDocumentSetResponse (ITI-43 or ITI-39) with its MTOM attachments.
    pub fn into_reply(self, response_action: &'static str) -> SoapReply {
        let errs: Vec<RegistryError> = self.errors.iter().map(RegistryError::from).collect();
        let body = write_retrieve_response(self.status, &errs, &self.docs);
        SoapReply::new(response_action, body, self.status.label())
            .with_attachments(self.attachments)
    }
}

/// What the database gave back for one document uniqueId.
enum Found {
    Doc(DocumentRow, Bytes),
    OverBudget,
}

impl Repository {
    pub async fn retrieve(
        &self,
        reqs: Vec<DocumentRequest>,
        viewer: Viewer,
    ) -> Result<RetrieveAnswer, StoreError> {
        self.retrieve_with(reqs, Vec::new(), viewer).await
    }

    /// As `retrieve`, with errors already found for requests that were not passed on (the
    /// cross-gateway community checks). A document the audience may not see is answered as
    /// one that is not here, with the same error and text, so that its existence does not
    /// show.
    pub async fn retrieve_with(
        &self,
        reqs: Vec<DocumentRequest>,
        refused: Vec<XdsError>,
        viewer: Viewer,
    ) -> Result<RetrieveAnswer, StoreError> {
        let ours = self.cfg.unique_id.clone();
        // Request order, without repeats: the size budget favours documents asked for first.
        let mut seen = std::collections::HashSet::new();
        let wanted: Vec<String> = reqs
            .iter()
            .filter(|r| r.repository_uid == ours && seen.insert(r.document_uid.as_str()))
            .map(|r| r.document_uid.clone())
            .collect();
        let blobs = self.blobs.clone();
        let budget = self.cfg.max_retrieve_bytes;
        let policy = self.registry.confidentiality.clone();
        let local_registry = self.cfg.registry_url.is_none();
        let found: HashMap<String, Found> = self
            .registry
            .store
            .read(move |conn| {
                let rows = blobs.find(conn, &wanted)?;
                let mut gate = Gate::new(&policy, viewer);
                gate.learn(conn, rows.iter().map(|r| r.entry_uuid.as_str()))?;
                // With the registry here, a document whose entry was removed (ITI-62) is gone
                // at once, bytes or not; eHDSI pivots have no entry of their own. With a
                // remote registry there is nothing here to hide a document by.
                let pivots = if local_registry {
                    let unknown: Vec<String> = rows
                        .iter()
                        .filter(|r| !gate.knows(&r.entry_uuid))
                        .map(|r| r.unique_id.clone())
                        .collect();
                    crate::store::pivots::pivots_among(conn, &unknown)?
                } else {
                    Default::default()
                };
                let mut rows: HashMap<String, DocumentRow> = rows
                    .into_iter()
                    .filter(|r| {
                        !local_registry
                            || gate.knows(&r.entry_uuid)
                            || pivots.contains(&r.unique_id)
                    })
                    .filter(|r| gate.shows(&r.entry_uuid))
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
    reqs: &[DocumentRequest],
    ours: &str,
    found: &HashMap<String, Found>,
    refused: Vec<XdsError>,
) -> RetrieveAnswer {
    let mut errors = refused;
    let mut docs = Vec::new();
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
                let cid = content_id(attachments.len());
                docs.push(DocumentResponse {
                    home: r.home.clone(),
                    repository_uid: row.repository_uid.clone(),
                    document_uid: row.unique_id.clone(),
                    mime_type: row.mime_type.clone(),
                    content_id: cid.clone(),
                });
                attachments.push(Attachment {
                    content_id: cid,
                    mime_type: row.mime_type.clone(),
                    data: data.clone(),
                });
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
    RetrieveAnswer {
        status: ResponseStatus::of(!docs.is_empty(), !errors.is_empty()),
        errors,
        docs,
        attachments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(repo: &str, doc: &str) -> DocumentRequest {
        DocumentRequest {
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
        assert_eq!(a.status, ResponseStatus::PartialSuccess);
        assert_eq!(a.attachments.len(), 1);
        let codes: Vec<ErrorCode> = a.errors.iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            [
                ErrorCode::DocumentUniqueIdError,
                ErrorCode::UnknownRepositoryId
            ]
        );
        assert_eq!(a.docs[0].mime_type, "text/plain");
        let a = answer(&[req("9.9", "4.5")], "9.9", &found, Vec::new());
        assert_eq!(a.status, ResponseStatus::Failure);
    }
}
