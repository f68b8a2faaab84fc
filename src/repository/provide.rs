//! ITI-41 Provide and Register Document Set-b: the request is split into metadata and
//! documents, the repository computes size and SHA-1 and adds its repositoryUniqueId, and the
//! submission is registered together with the bytes.

use super::{Repository, XDSB};
use crate::ebxml::response::RegistryError;
use crate::ebxml::{parse_submit_objects, RegistryObject, RimTag, LCM};
use crate::registry::register::store_submission;
use crate::registry::submission::prepare;
use crate::registry::RegistryFailure;
use crate::soap::mtom::{strip_cid, Part};
use crate::soap::XOP;
use crate::store::documents::{chunk_count, DocumentRow};
use crate::store::DbConn;
use crate::xds::validate::Expect;
use crate::xds::{ids, ErrorCode, XdsError};
use crate::xml::{Element, Node};
use base64::Engine;
use bytes::Bytes;
use sha1::{Digest, Sha1};
use std::collections::HashMap;

/// The parts of a ProvideAndRegisterDocumentSetRequest.
#[derive(Debug)]
pub struct ProvideRequest {
    pub objects: Vec<RegistryObject>,
    /// (xdsb:Document id, bytes) in message order. MTOM bytes are slices of the request body.
    pub documents: Vec<(String, Bytes)>,
}

/// A document checked against its DocumentEntry, ready to store.
#[derive(Debug, Clone)]
pub struct DocFacts {
    /// The DocumentEntry id as submitted (possibly symbolic).
    pub entry_id: String,
    pub unique_id: String,
    pub mime_type: String,
    pub hash: String,
    pub size: u64,
    pub data: Bytes,
}

pub fn parse_request(
    body: &Element,
    parts: &HashMap<String, Part>,
) -> Result<ProvideRequest, Vec<XdsError>> {
    if !body.is(XDSB, "ProvideAndRegisterDocumentSetRequest") {
        return Err(vec![XdsError::metadata(format!(
            "expected xdsb:ProvideAndRegisterDocumentSetRequest, found {{{}}}{}",
            body.ns.as_deref().unwrap_or_default(),
            body.name
        ))]);
    }
    let sor = body.child(LCM, "SubmitObjectsRequest").ok_or_else(|| {
        vec![XdsError::metadata(
            "the request has no lcm:SubmitObjectsRequest",
        )]
    })?;
    let objects = parse_submit_objects(sor).map_err(|e| vec![XdsError::metadata(e.to_string())])?;
    let mut errs = Vec::new();
    let mut documents: Vec<(String, Bytes)> = Vec::new();
    for d in body.children_named(XDSB, "Document") {
        let Some(id) = d.attr("id").map(str::trim).filter(|s| !s.is_empty()) else {
            errs.push(XdsError::metadata("an xdsb:Document has no id attribute"));
            continue;
        };
        if documents.iter().any(|(x, _)| x == id) {
            errs.push(
                XdsError::metadata(format!("xdsb:Document id {id} appears more than once")).at(id),
            );
            continue;
        }
        match document_bytes(d, parts) {
            Ok(b) => documents.push((id.to_string(), b)),
            Err(e) => errs.push(e.at(id)),
        }
    }
    if errs.is_empty() {
        Ok(ProvideRequest { objects, documents })
    } else {
        Err(errs)
    }
}

/// The bytes of one xdsb:Document: an xop:Include resolved against the MTOM parts (no copy),
/// or inline base64.
fn document_bytes(d: &Element, parts: &HashMap<String, Part>) -> Result<Bytes, XdsError> {
    if let Some(inc) = d.child(XOP, "Include") {
        let href = inc.attr("href").unwrap_or_default();
        let cid = strip_cid(href);
        return parts.get(&cid).map(|p| p.body.clone()).ok_or_else(|| {
            XdsError::new(
                ErrorCode::MissingDocument,
                format!("xop:Include href=\"{href}\" names no MIME part of this message"),
            )
        });
    }
    if d.elements().next().is_some() {
        return Err(XdsError::new(
            ErrorCode::RepositoryError,
            "xdsb:Document holds an element other than xop:Include",
        ));
    }
    let mut text = Vec::new();
    for n in &d.children {
        if let Node::Text(t) = n {
            text.extend(t.bytes().filter(|b| !b.is_ascii_whitespace()));
        }
    }
    base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map(Bytes::from)
        .map_err(|e| {
            XdsError::new(
                ErrorCode::RepositoryError,
                format!("xdsb:Document is not valid base64: {e}"),
            )
        })
}

/// Pairs documents with DocumentEntries, checks submitted size/hash and writes the
/// repository's own hash, size and repositoryUniqueId into the metadata.
/// CPU-bound (SHA-1): call from a blocking thread for large documents.
pub fn augment(
    objects: &mut [RegistryObject],
    documents: &[(String, Bytes)],
    repository_uid: &str,
) -> Result<Vec<DocFacts>, Vec<XdsError>> {
    let mut errs = Vec::new();
    let mut facts = Vec::new();
    let loose_uid: HashMap<String, String> = objects
        .iter()
        .filter(|o| {
            o.tag == RimTag::ExternalIdentifier
                && o.identification_scheme.as_deref() == Some(ids::DE_UNIQUE_ID)
        })
        .filter_map(|o| Some((o.registry_object.clone()?, o.value.clone()?)))
        .collect();
    for o in objects
        .iter_mut()
        .filter(|o| o.tag == RimTag::ExtrinsicObject)
    {
        let Some((_, data)) = documents.iter().find(|(id, _)| *id == o.id) else {
            errs.push(
                XdsError::new(
                    ErrorCode::MissingDocument,
                    format!("DocumentEntry {} has no xdsb:Document in the request", o.id),
                )
                .at(o.id.clone()),
            );
            continue;
        };
        let hash = hex::encode(Sha1::digest(data));
        let size = data.len() as u64;
        if let Some(h) = o.first_slot_value("hash") {
            if !h.trim().eq_ignore_ascii_case(&hash) {
                errs.push(metadata_mismatch(&o.id, "hash", h, &hash));
            }
        }
        if let Some(s) = o.first_slot_value("size") {
            if s.trim().parse::<u64>().ok() != Some(size) {
                errs.push(metadata_mismatch(&o.id, "size", s, &size.to_string()));
            }
        }
        o.set_slot("hash", vec![hash.clone()]);
        o.set_slot("size", vec![size.to_string()]);
        o.set_slot("repositoryUniqueId", vec![repository_uid.to_string()]);
        let unique_id = o
            .external_id(ids::DE_UNIQUE_ID)
            .and_then(|x| x.value.clone())
            .or_else(|| loose_uid.get(&o.id).cloned())
            .unwrap_or_default()
            .trim()
            .to_string();
        facts.push(DocFacts {
            entry_id: o.id.clone(),
            unique_id,
            mime_type: o.mime_type.clone().unwrap_or_default(),
            hash,
            size,
            data: data.clone(),
        });
    }
    for (id, _) in documents {
        let described = objects
            .iter()
            .any(|o| o.tag == RimTag::ExtrinsicObject && o.id == *id);
        if !described {
            errs.push(
                XdsError::new(
                    ErrorCode::MissingDocumentMetadata,
                    format!(
                        "xdsb:Document {id} has no DocumentEntry (ExtrinsicObject) in the metadata"
                    ),
                )
                .at(id.clone()),
            );
        }
    }
    if errs.is_empty() {
        Ok(facts)
    } else {
        Err(errs)
    }
}

fn metadata_mismatch(entry: &str, slot: &str, given: &str, actual: &str) -> XdsError {
    XdsError::new(
        ErrorCode::RepositoryMetadataError,
        format!(
            "DocumentEntry {entry}: submitted {slot} '{}' does not match the document ({actual})",
            given.trim()
        ),
    )
    .at(entry.to_string())
}

impl Repository {
    /// Registers with the local registry and stores the bytes in one transaction.
    /// Returns the registry's warnings.
    pub async fn provide_local(
        &self,
        objects: Vec<RegistryObject>,
        facts: Vec<DocFacts>,
    ) -> Result<Vec<XdsError>, RegistryFailure> {
        let reg = &self.registry;
        let sub = prepare(
            objects,
            &reg.policy,
            Expect {
                repository_fields: true,
            },
        )
        .map_err(RegistryFailure::Xds)?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let docs: Vec<(DocumentRow, Bytes)> = facts
            .into_iter()
            .map(|f| {
                let uuid = sub.id_map.get(&f.entry_id).cloned().unwrap_or(f.entry_id);
                let row = DocumentRow {
                    unique_id: f.unique_id,
                    repository_uid: self.cfg.unique_id.clone(),
                    entry_uuid: uuid,
                    mime_type: f.mime_type,
                    size: f.size as i64,
                    hash: f.hash,
                    chunk_count: chunk_count(f.data.len()),
                    stored_at: now,
                };
                (row, f.data)
            })
            .collect();
        let allow_unknown = reg.cfg.allow_unknown_patients;
        let blobs = self.blobs.clone();
        reg.store
            .write(move |conn| {
                let warnings = store_submission(conn, &sub, allow_unknown)?;
                for (row, data) in &docs {
                    put_document(conn, blobs.as_ref(), row, data)?;
                }
                Ok(warnings)
            })
            .await
    }

    /// Stores documents only (after a remote registry accepted their metadata).
    pub async fn store_documents(&self, facts: Vec<DocFacts>) -> Result<(), RegistryFailure> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let repo_uid = self.cfg.unique_id.clone();
        let blobs = self.blobs.clone();
        self.registry
            .store
            .write(move |conn| {
                for f in &facts {
                    let row = DocumentRow {
                        unique_id: f.unique_id.clone(),
                        repository_uid: repo_uid.clone(),
                        entry_uuid: f.entry_id.clone(),
                        mime_type: f.mime_type.clone(),
                        size: f.size as i64,
                        hash: f.hash.clone(),
                        chunk_count: chunk_count(f.data.len()),
                        stored_at: now,
                    };
                    put_document(conn, blobs.as_ref(), &row, &f.data)?;
                }
                Ok(())
            })
            .await
    }
}

/// A uniqueId already stored with the same hash is the same document (the registry accepts
/// such a resubmission); with another hash it is refused.
fn put_document(
    conn: &mut DbConn,
    blobs: &dyn super::blob::BlobStore,
    row: &DocumentRow,
    data: &Bytes,
) -> Result<(), RegistryFailure> {
    if row.unique_id.is_empty() {
        return Err(XdsError::new(
            ErrorCode::RepositoryMetadataError,
            "a DocumentEntry has no uniqueId",
        )
        .into());
    }
    if let Some(old) = blobs
        .find(conn, std::slice::from_ref(&row.unique_id))?
        .into_iter()
        .next()
    {
        if old.hash.eq_ignore_ascii_case(&row.hash) && old.size == row.size {
            return Ok(());
        }
        return Err(XdsError::new(
            ErrorCode::NonIdenticalHash,
            format!(
                "document uniqueId {} is already stored with different content",
                row.unique_id
            ),
        )
        .into());
    }
    blobs.put(conn, row, data)?;
    Ok(())
}

/// Converts XDS errors for the RegistryResponse.
pub fn to_registry_errors(v: &[XdsError]) -> Vec<RegistryError> {
    v.iter().map(RegistryError::from).collect()
}
