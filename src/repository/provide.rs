//! ITI-41 Provide and Register Document Set-b: the request is split into metadata and
//! documents, the repository computes size and SHA-1 and adds its repositoryUniqueId, and the
//! submission is registered together with the bytes.

use super::Repository;
use crate::audit::AuditEvent;
use crate::ebxml::document::ContentError;
use crate::ebxml::provide::parse_provide_request;
use crate::ebxml::response::RegistryError;
use crate::ebxml::{RegistryObject, RimTag};
use crate::registry::register::{audit_submission, store_submission};
use crate::registry::submission::prepare;
use crate::registry::RegistryFailure;
use crate::soap::mtom::Part;
use crate::store::documents::{chunk_count, DocumentRow};
use crate::store::DbConn;
use crate::xds::validate::Expect;
use crate::xds::{ids, ErrorCode, XdsError};
use crate::xml::Element;
use bytes::Bytes;
use sha1::{Digest, Sha1};
use std::collections::{HashMap, HashSet};

/// The metadata of an ITI-41 request with its documents' bytes.
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

/// Reads the request and resolves each document's bytes; every problem is reported.
pub fn parse_request(
    body: &Element,
    parts: &HashMap<String, Part>,
) -> Result<ProvideRequest, Vec<XdsError>> {
    let req = parse_provide_request(body).map_err(|e| vec![XdsError::metadata(e.to_string())])?;
    let mut errs = Vec::new();
    let mut documents: Vec<(String, Bytes)> = Vec::new();
    let mut seen = HashSet::new();
    for d in req.documents {
        if d.id.is_empty() {
            errs.push(XdsError::metadata("an xdsb:Document has no id attribute"));
            continue;
        }
        if !seen.insert(d.id.clone()) {
            errs.push(
                XdsError::metadata(format!("xdsb:Document id {} appears more than once", d.id))
                    .at(d.id),
            );
            continue;
        }
        match d.content.resolve(parts) {
            Ok(b) => documents.push((d.id, b)),
            Err(e) => {
                let code = match e {
                    ContentError::NoSuchPart(_) => ErrorCode::MissingDocument,
                    ContentError::Base64(_) | ContentError::Unexpected => {
                        ErrorCode::RepositoryError
                    }
                };
                errs.push(XdsError::new(code, e.to_string()).at(d.id));
            }
        }
    }
    if errs.is_empty() {
        Ok(ProvideRequest {
            objects: req.objects,
            documents,
        })
    } else {
        Err(errs)
    }
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
    // Hashed lookups both ways: the client decides how many documents and entries there are.
    let by_id: HashMap<&str, &Bytes> = documents.iter().map(|(id, d)| (id.as_str(), d)).collect();
    let described: HashSet<String> = objects
        .iter()
        .filter(|o| o.tag == RimTag::ExtrinsicObject)
        .map(|o| o.id.clone())
        .collect();
    for o in objects
        .iter_mut()
        .filter(|o| o.tag == RimTag::ExtrinsicObject)
    {
        let Some(data) = by_id.get(o.id.as_str()).copied() else {
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
        if !described.contains(id) {
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
        audit: Option<AuditEvent>,
    ) -> Result<Vec<XdsError>, RegistryFailure> {
        self.provide_local_with(objects, facts, audit, |_| Ok(()))
            .await
    }

    /// As `provide_local`, with `extra` run in the same transaction (all or nothing), and the
    /// audit record, when given, last in it.
    pub async fn provide_local_with<F>(
        &self,
        objects: Vec<RegistryObject>,
        facts: Vec<DocFacts>,
        audit: Option<AuditEvent>,
        extra: F,
    ) -> Result<Vec<XdsError>, RegistryFailure>
    where
        F: FnOnce(&mut DbConn) -> Result<(), RegistryFailure> + Send + 'static,
    {
        let reg = &self.registry;
        let mut sub = prepare(
            objects,
            &reg.policy,
            Expect {
                repository_fields: true,
                ..Expect::default()
            },
        )
        .map_err(RegistryFailure::Xds)?;
        sub.submitted_by = audit
            .as_ref()
            .map(AuditEvent::submitter)
            .unwrap_or_default();
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
                extra(conn)?;
                audit_submission(conn, &sub, audit)?;
                Ok(warnings)
            })
            .await
    }

    /// Stores documents only (after a remote registry accepted their metadata).
    pub async fn store_documents(&self, facts: Vec<DocFacts>) -> Result<(), RegistryFailure> {
        self.store_with_sources(facts.into_iter().map(|f| (f, None)).collect())
            .await
    }

    /// Stores eHDSI pivot documents, each with the uniqueId of the Norwegian source it was
    /// translated from, so that a change to the source drops the pivot.
    pub async fn store_pivots(
        &self,
        pivots: Vec<(DocFacts, String)>,
    ) -> Result<(), RegistryFailure> {
        // A pivot's uniqueId comes from its content, so one stored and recorded already is this
        // very document. Finding that out is a read; writing it again would be a write
        // transaction on every eHDSI query, queued behind all other writers.
        let uids: Vec<String> = pivots.iter().map(|(f, _)| f.unique_id.clone()).collect();
        let blobs = self.blobs.clone();
        let stored = self
            .registry
            .store
            .read(move |conn| {
                let recorded = crate::store::pivots::pivots_among(conn, &uids)
                    .map_err(crate::store::StoreError::from)?;
                let rows = blobs.find(conn, &uids)?;
                Ok::<_, crate::store::StoreError>(
                    rows.into_iter()
                        .filter(|r| recorded.contains(&r.unique_id))
                        .map(|r| (r.unique_id, r.hash))
                        .collect::<std::collections::HashSet<_>>(),
                )
            })
            .await
            .map_err(RegistryFailure::Store)?;
        let new: Vec<_> = pivots
            .into_iter()
            .filter(|(f, _)| !stored.contains(&(f.unique_id.clone(), f.hash.clone())))
            .map(|(f, s)| (f, Some(s)))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        self.store_with_sources(new).await
    }

    async fn store_with_sources(
        &self,
        facts: Vec<(DocFacts, Option<String>)>,
    ) -> Result<(), RegistryFailure> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let repo_uid = self.cfg.unique_id.clone();
        let blobs = self.blobs.clone();
        self.registry
            .store
            .write(move |conn| {
                for (f, source) in &facts {
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
                    if let Some(source) = source {
                        crate::store::pivots::record(conn, &f.unique_id, source)?;
                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ebxml::{Slot, LCM, XDSB};
    use crate::soap::XOP;

    fn entry(id: &str, slots: &[(&str, &str)]) -> RegistryObject {
        let mut o = RegistryObject::new(RimTag::ExtrinsicObject, id);
        o.mime_type = Some("text/plain".into());
        for (n, v) in slots {
            o.slots.push(Slot {
                name: n.to_string(),
                slot_type: None,
                values: vec![v.to_string()],
            });
        }
        let mut uid = RegistryObject::new(RimTag::ExternalIdentifier, format!("{id}-uid"));
        uid.identification_scheme = Some(ids::DE_UNIQUE_ID.into());
        uid.value = Some(" 1.2.3 ".into());
        o.external_identifiers.push(uid);
        o
    }

    const HELLO_SHA1: &str = "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d";

    #[test]
    fn sets_hash_size_and_repository_and_accepts_matching_values() {
        let mut objs = vec![entry(
            "Doc",
            &[
                ("hash", &HELLO_SHA1.to_uppercase()),
                ("size", "5"),
                ("repositoryUniqueId", "9.9"),
            ],
        )];
        let docs = vec![("Doc".to_string(), Bytes::from_static(b"hello"))];
        let facts = augment(&mut objs, &docs, "1.1").unwrap();
        assert_eq!(facts.len(), 1);
        assert_eq!(
            (
                facts[0].unique_id.as_str(),
                facts[0].hash.as_str(),
                facts[0].size
            ),
            ("1.2.3", HELLO_SHA1, 5)
        );
        assert_eq!(objs[0].first_slot_value("hash"), Some(HELLO_SHA1));
        assert_eq!(objs[0].first_slot_value("size"), Some("5"));
        assert_eq!(objs[0].first_slot_value("repositoryUniqueId"), Some("1.1"));
    }

    #[test]
    fn mismatches_and_missing_pieces_are_reported() {
        let docs = vec![("Doc".to_string(), Bytes::from_static(b"hello"))];
        let mut objs = vec![entry(
            "Doc",
            &[
                ("hash", "0000000000000000000000000000000000000000"),
                ("size", "6"),
            ],
        )];
        let errs = augment(&mut objs, &docs, "1.1").unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(errs
            .iter()
            .all(|e| e.code == ErrorCode::RepositoryMetadataError));

        let mut objs = vec![entry("Other", &[])];
        let codes: Vec<ErrorCode> = augment(&mut objs, &docs, "1.1")
            .unwrap_err()
            .iter()
            .map(|e| e.code)
            .collect();
        assert_eq!(
            codes,
            vec![
                ErrorCode::MissingDocument,
                ErrorCode::MissingDocumentMetadata
            ]
        );
    }

    #[test]
    fn parses_inline_and_xop_documents() {
        let xml = format!(
            r#"<x:ProvideAndRegisterDocumentSetRequest xmlns:x="{XDSB}"><l:SubmitObjectsRequest xmlns:l="{LCM}"><r:RegistryObjectList xmlns:r="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"/></l:SubmitObjectsRequest><x:Document id="A">aGVs
bG8=</x:Document><x:Document id="B"><i:Include xmlns:i="{XOP}" href="cid:b%40x"/></x:Document><x:Document id="C"><i:Include xmlns:i="{XOP}" href="cid:none"/></x:Document></x:ProvideAndRegisterDocumentSetRequest>"#
        );
        let dom = crate::xml::parse(xml.as_bytes(), Default::default()).unwrap();
        let mut parts = HashMap::new();
        parts.insert(
            "b@x".to_string(),
            Part {
                content_type: None,
                body: Bytes::from_static(b"bytes"),
            },
        );
        let errs = parse_request(&dom, &parts).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(
            (errs[0].code, errs[0].location.as_deref()),
            (ErrorCode::MissingDocument, Some("C"))
        );
        parts.insert(
            "none".to_string(),
            Part {
                content_type: None,
                body: Bytes::new(),
            },
        );
        let req = parse_request(&dom, &parts).unwrap();
        let got: Vec<(&str, &[u8])> = req
            .documents
            .iter()
            .map(|(i, b)| (i.as_str(), &b[..]))
            .collect();
        assert_eq!(
            got,
            vec![("A", &b"hello"[..]), ("B", &b"bytes"[..]), ("C", &b""[..])]
        );
    }
}
