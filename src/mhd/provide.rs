//! ITI-65 Provide Document Bundle: a transaction Bundle of one SubmissionSet (List, or an R4
//! DocumentManifest), DocumentReferences and the Binaries they point to, turned into one XDS
//! submission. Every problem found in the Bundle is reported at once.

use super::fhir::{self, Issue};
use super::rim;
use super::to_rim::{self, entry_uuid_of};
use super::{bare, patient};
use crate::ebxml::RegistryObject;
use crate::xds::ids;
use base64::Engine;
use bytes::Bytes;
use fhirbolt::model::r4::resources::{Bundle, DocumentReference};
use fhirbolt::model::r4::Resource;

/// The XDS submission of a Bundle, and where each of its entries ended up.
#[derive(Debug)]
pub struct Submission {
    pub objects: Vec<RegistryObject>,
    pub documents: Vec<(String, Bytes)>,
    /// Per Bundle entry, in order: `Type/id` of what it became.
    pub locations: Vec<String>,
    pub patient: String,
    pub set_unique_id: String,
    pub document_unique_ids: Vec<String>,
}

/// What each entry is, once the Bundle was read through.
enum Role {
    Document(usize),
    Set,
    Binary(usize),
}

pub fn submission(bundle: &Bundle, base: &str) -> Result<Submission, Vec<Issue>> {
    let mut issues = Vec::new();
    if fhir::text(Some(&bundle.r#type)).as_deref() != Some("transaction") {
        issues.push(
            Issue::error("invalid", "ITI-65 takes a Bundle of type 'transaction'")
                .at("Bundle.type"),
        );
    }
    let mut docs: Vec<(usize, &DocumentReference)> = Vec::new();
    let mut set: Option<(
        usize,
        to_rim::SetFields,
        Option<&fhirbolt::model::r4::types::Reference>,
    )> = None;
    let mut binaries: Vec<usize> = Vec::new();
    for (n, e) in bundle.entry.iter().enumerate() {
        let at = format!("Bundle.entry[{n}]");
        if let Some(m) = e.request.as_ref().and_then(|r| fhir::text(Some(&r.method))) {
            if m != "POST" {
                issues.push(
                    Issue::error(
                        "not-supported",
                        format!("ITI-65 creates resources; method {m} is not taken"),
                    )
                    .at(format!("{at}.request.method")),
                );
            }
        }
        match &e.resource {
            Some(Resource::DocumentReference(dr)) => docs.push((n, dr)),
            Some(Resource::Binary(_)) => binaries.push(n),
            Some(Resource::List(l)) => {
                let folder = l
                    .code
                    .iter()
                    .flat_map(|c| c.coding.iter())
                    .any(|c| fhir::text(c.code.as_ref()).as_deref() == Some("folder"));
                if folder {
                    issues.push(
                        Issue::error(
                            "not-supported",
                            "Folders are not created through MHD here; use ITI-41",
                        )
                        .at(format!("{at}.resource")),
                    );
                } else if set.is_some() {
                    issues.push(
                        Issue::error("invalid", "a Bundle holds one SubmissionSet")
                            .at(format!("{at}.resource")),
                    );
                } else {
                    set = Some((n, to_rim::list_fields(l), l.subject.as_deref()));
                }
            }
            Some(Resource::DocumentManifest(m)) => {
                if set.is_some() {
                    issues.push(
                        Issue::error("invalid", "a Bundle holds one SubmissionSet")
                            .at(format!("{at}.resource")),
                    );
                } else {
                    set = Some((n, to_rim::manifest_fields(m), m.subject.as_deref()));
                }
            }
            Some(_) => issues.push(
                Issue::error(
                    "not-supported",
                    "ITI-65 takes List, DocumentManifest, DocumentReference and Binary entries",
                )
                .at(format!("{at}.resource")),
            ),
            None => issues.push(
                Issue::error("required", "the entry has no resource").at(format!("{at}.resource")),
            ),
        }
    }
    let Some((set_n, fields, set_subject)) = set else {
        issues.push(
            Issue::error(
                "required",
                "the Bundle has no SubmissionSet (List or DocumentManifest)",
            )
            .at("Bundle.entry"),
        );
        return Err(issues);
    };
    if docs.is_empty() {
        issues.push(
            Issue::error("required", "the Bundle has no DocumentReference").at("Bundle.entry"),
        );
    }
    let set_at = format!("Bundle.entry[{set_n}].resource");
    let pid = match patient::subject_cx(set_subject, base, &format!("{set_at}.subject")) {
        Ok(p) => p,
        Err(i) => {
            issues.push(i);
            String::new()
        }
    };
    let set_id = rim::new_uuid();
    let mut objects = Vec::new();
    match to_rim::submission_set(&fields, &set_id, &pid, &set_at) {
        Ok(o) => objects.push(o),
        Err(mut v) => issues.append(&mut v),
    }
    let mut roles: Vec<Option<Role>> = (0..bundle.entry.len()).map(|_| None).collect();
    roles[set_n] = Some(Role::Set);
    let mut documents = Vec::new();
    let mut doc_ids = Vec::new();
    let mut unique_ids = Vec::new();
    for (n, dr) in &docs {
        let at = format!("Bundle.entry[{n}].resource");
        let id = entry_uuid_of(&dr.identifier).unwrap_or_else(rim::new_uuid);
        let dr_pid =
            match patient::subject_cx(dr.subject.as_deref(), base, &format!("{at}.subject")) {
                Ok(p) => p,
                Err(i) => {
                    issues.push(i);
                    continue;
                }
            };
        match to_rim::document_entry(dr, &id, &dr_pid, &at) {
            Ok(o) => {
                unique_ids.extend(
                    o.external_id(ids::DE_UNIQUE_ID)
                        .and_then(|e| e.value.clone()),
                );
                objects.push(o);
            }
            Err(mut v) => issues.append(&mut v),
        }
        match document_bytes(bundle, dr, &binaries, &at) {
            Ok((bytes, binary)) => {
                documents.push((id.clone(), bytes));
                if let Some(b) = binary {
                    roles[b] = Some(Role::Binary(doc_ids.len()));
                }
            }
            Err(i) => issues.push(i),
        }
        for (r, rel) in dr.relates_to.iter().enumerate() {
            match relation(rel, base, &format!("{at}.relatesTo[{r}]")) {
                Ok((kind, target)) => objects.push(rim::association(kind, &id, &target)),
                Err(i) => issues.push(i),
            }
        }
        let mut member = rim::association(ids::HAS_MEMBER, &set_id, &id);
        member.set_slot("SubmissionSetStatus", vec!["Original".into()]);
        objects.push(member);
        roles[*n] = Some(Role::Document(doc_ids.len()));
        doc_ids.push(id);
    }
    for n in &binaries {
        if roles[*n].is_none() {
            issues.push(
                Issue::error("invalid", "no DocumentReference points to this Binary")
                    .at(format!("Bundle.entry[{n}]")),
            );
        }
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    let locations = roles
        .iter()
        .map(|r| match r {
            Some(Role::Document(i)) => format!("DocumentReference/{}", bare(&doc_ids[*i])),
            Some(Role::Binary(i)) => format!("Binary/{}", bare(&doc_ids[*i])),
            _ => format!("List/{}", bare(&set_id)),
        })
        .collect();
    Ok(Submission {
        objects,
        documents,
        locations,
        patient: pid,
        set_unique_id: fields.unique_id.clone().unwrap_or_default(),
        document_unique_ids: unique_ids,
    })
}

/// The document's bytes: inline in the attachment, or in the Binary entry its url names
/// (the entry's fullUrl, or `Binary/id`). Also which entry that was.
fn document_bytes(
    bundle: &Bundle,
    dr: &DocumentReference,
    binaries: &[usize],
    at: &str,
) -> Result<(Bytes, Option<usize>), Issue> {
    let at = format!("{at}.content[0].attachment");
    let a = dr
        .content
        .first()
        .map(|c| &c.attachment)
        .ok_or_else(|| Issue::error("required", "content is missing").at(&at))?;
    if let Some(data) = fhir::text(a.data.as_ref()) {
        return decode(&data, &at).map(|b| (b, None));
    }
    let url = fhir::text(a.url.as_ref()).ok_or_else(|| {
        Issue::error(
            "required",
            "the attachment has neither data nor a url to a Binary in the Bundle",
        )
        .at(&at)
    })?;
    for n in binaries {
        let e = &bundle.entry[*n];
        let Some(Resource::Binary(b)) = &e.resource else {
            continue;
        };
        let full = fhir::text(e.full_url.as_ref());
        let by_id = fhir::text(b.id.as_ref()).map(|i| format!("Binary/{i}"));
        if full.as_deref() == Some(url.as_str()) || by_id.as_deref() == Some(url.as_str()) {
            let data = fhir::text(b.data.as_ref()).unwrap_or_default();
            return decode(&data, &format!("Bundle.entry[{n}].resource.data"))
                .map(|b| (b, Some(*n)));
        }
    }
    Err(Issue::error(
        "invalid",
        format!(
            "the attachment url '{}' names no Binary in the Bundle",
            url.chars().take(120).collect::<String>()
        ),
    )
    .at(format!("{at}.url")))
}

fn decode(data: &str, at: &str) -> Result<Bytes, Issue> {
    // Base64 in XML may be wrapped over lines.
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map(Bytes::from)
        .map_err(|_| Issue::error("invalid", "the document data is not base64").at(at))
}

/// A relatesTo as (association type, target entryUUID). The target must be a DocumentReference
/// of this server.
fn relation(
    rel: &fhirbolt::model::r4::resources::DocumentReferenceRelatesTo,
    base: &str,
    at: &str,
) -> Result<(&'static str, String), Issue> {
    let code = fhir::text(Some(&rel.code)).unwrap_or_default();
    let kind = match code.as_str() {
        "replaces" => ids::RPLC,
        "transforms" => ids::XFRM,
        "appends" => ids::APND,
        "signs" => ids::SIGNS,
        other => {
            return Err(Issue::error(
                "invalid",
                format!("relatesTo.code '{other}' is not replaces, transforms, appends or signs"),
            )
            .at(format!("{at}.code")))
        }
    };
    let target = fhir::text(rel.target.reference.as_ref()).unwrap_or_default();
    let local = target
        .strip_prefix(base)
        .map(|r| r.trim_start_matches('/'))
        .unwrap_or(&target);
    let id = local
        .strip_prefix("DocumentReference/")
        .filter(|id| uuid::Uuid::parse_str(id).is_ok())
        .ok_or_else(|| {
            Issue::error(
                "invalid",
                format!(
                    "relatesTo.target '{}' is not a DocumentReference of this server",
                    target.chars().take(120).collect::<String>()
                ),
            )
            .at(format!("{at}.target"))
        })?;
    Ok((kind, format!("urn:uuid:{id}")))
}
