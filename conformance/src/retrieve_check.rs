//! Checks on retrieved documents (ITI-43 and its gateway forms).
//!
//! - The bytes must equal what this run submitted for that uniqueId (found in the PnR step
//!   logs); only when the run did not submit it are they compared with the
//!   `<ReferenceDocument>` file. The testkit's own files do not always match what its plans
//!   submit (12029 submits readme.txt and names my_document.pdf as the reference), so the
//!   submitted bytes are the authority.
//! - With `<ReferenceMetadata>`, size, SHA-1 hash and mimeType must agree with the
//!   DocumentEntry returned by that earlier query step.
//! - `<ExpectedMimeType>` applies to every returned document.

use crate::xml::TrimmedText;
use base64::Engine;
use sha1::{Digest, Sha1};

use super::messages::{Interpreted, RetrievedDocument};
use super::metadata_prep::{substitute_str, DE_UNIQUE_ID};
use super::session::{Runner, SectionCtx};
use super::testplan::Transaction;
use super::xml::Element;

fn unique_id_of(eo: &Element) -> Option<&str> {
    eo.children_local("ExternalIdentifier")
        .find(|x| x.attr("identificationScheme") == Some(DE_UNIQUE_ID))
        .and_then(|x| x.attr("value"))
}

fn entry_with_uid<'a>(root: &'a Element, uid: &str) -> Option<&'a Element> {
    root.descendants()
        .into_iter()
        .find(|e| e.name == "ExtrinsicObject" && unique_id_of(e) == Some(uid))
}

/// The bytes this run sent for the document with `uid`, if it sent one.
fn submitted_bytes(r: &Runner, uid: &str) -> Option<Vec<u8>> {
    for step in r.logs.all_steps() {
        let Some(input) = &step.input else { continue };
        if input.name != "ProvideAndRegisterDocumentSetRequest" {
            continue;
        }
        let Some(eo) = entry_with_uid(input, uid) else {
            continue;
        };
        let id = eo.attr("id")?;
        let doc = input
            .children_local("Document")
            .find(|d| d.attr("id") == Some(id))?;
        let text: String = doc
            .deep_text()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        return base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .ok();
    }
    None
}

/// The mimeType this run registered for the document with `uid`, if it submitted one.
fn submitted_mime_type(r: &Runner, uid: &str) -> Option<String> {
    r.logs
        .all_steps()
        .filter_map(|step| step.input.as_ref())
        .filter(|input| input.name == "ProvideAndRegisterDocumentSetRequest")
        .find_map(|input| {
            entry_with_uid(input, uid)
                .and_then(|eo| eo.attr("mimeType"))
                .map(str::to_string)
        })
}

fn slot_value(eo: &Element, name: &str) -> Option<String> {
    let slot = eo
        .children_local("Slot")
        .find(|s| s.attr("name") == Some(name))?;
    Some(
        slot.child_local("ValueList")?
            .child_local("Value")?
            .trimmed_text(),
    )
}

fn check_against_metadata(
    eo: &Element,
    doc: &RetrievedDocument,
    bytes: &[u8],
    problems: &mut Vec<String>,
) {
    let uid = &doc.unique_id;
    if let Some(size) = slot_value(eo, "size") {
        if size != bytes.len().to_string() {
            problems.push(format!(
                "document {uid}: {} bytes, metadata size {size}",
                bytes.len()
            ));
        }
    }
    if let Some(hash) = slot_value(eo, "hash") {
        let got = hex::encode(Sha1::digest(bytes));
        if !hash.eq_ignore_ascii_case(&got) {
            problems.push(format!("document {uid}: SHA-1 {got}, metadata hash {hash}"));
        }
    }
    if let Some(m) = eo.attr("mimeType") {
        if doc.mime_type.as_deref() != Some(m) {
            let got = doc.mime_type.as_deref().unwrap_or("(none)");
            problems.push(format!("document {uid}: mimeType {got}, metadata {m}"));
        }
    }
}

pub(crate) fn check(
    r: &Runner,
    ctx: &SectionCtx,
    t: &Transaction,
    subs: &[(String, String)],
    got: &Interpreted,
    problems: &mut Vec<String>,
) {
    for rd in &t.reference_documents {
        let uid = substitute_str(&rd.uid, subs);
        let Some(doc) = got.documents.iter().find(|d| d.unique_id == uid) else {
            problems.push(format!("document {uid} not returned"));
            continue;
        };
        let have = match &doc.bytes {
            Ok(b) => b,
            Err(e) => {
                problems.push(format!("document {uid}: not base64: {e}"));
                continue;
            }
        };
        let want = match submitted_bytes(r, &uid) {
            Some(b) => Ok(b),
            None => {
                // Relative to the section, or (as `submit/x.txt`) to the test.
                let p = ctx.dir.join(&rd.file);
                let p = if p.exists() {
                    p
                } else {
                    ctx.dir.join("..").join(&rd.file)
                };
                std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))
            }
        };
        match want {
            Ok(w) if &w == have => {}
            Ok(w) => problems.push(format!(
                "document {uid}: {} bytes returned, {} expected, contents differ",
                have.len(),
                w.len()
            )),
            Err(e) => problems.push(e),
        }
        for m in &t.reference_metadata {
            let (test, section) = r.tk.resolve_testdir(&ctx.test, &ctx.section, &m.testdir);
            let result = r
                .logs
                .step(&test, &section, &m.step)
                .and_then(|s| s.result.as_ref());
            match result.and_then(|res| entry_with_uid(res, &uid)) {
                Some(eo) => check_against_metadata(eo, doc, have, problems),
                None => problems.push(format!(
                    "ReferenceMetadata {test}/{section}/{}: no DocumentEntry {uid}",
                    m.step
                )),
            }
        }
    }
    if let Some(m) = &t.expected_mime_type {
        for d in &got.documents {
            // What this run registered is the authority for its own documents (12313 lists
            // text/plain for a pair whose second document 12318 registered as text/xml).
            let registered = submitted_mime_type(r, &d.unique_id);
            let want = registered.as_deref().unwrap_or(m.as_str());
            if d.mime_type.as_deref() != Some(want) {
                let got = d.mime_type.as_deref().unwrap_or("(none)");
                problems.push(format!(
                    "document {}: mimeType {got}, expected {want}",
                    d.unique_id
                ));
            }
        }
    }
}
