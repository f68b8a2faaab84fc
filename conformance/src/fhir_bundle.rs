//! ITI-65 Provide Document Bundle as the NIST toolkit prepares it, and what its answer says.
//!
//! Before sending (facts from the toolkit's FHIR create transaction):
//! - a DocumentReference whose `content[0].attachment.url` is `file://NAME.EXT` gets the file as
//!   a Binary entry (fullUrl `NAME`, data base64, contentType by extension), and the url
//!   becomes `NAME`;
//! - DocumentReference.subject and DocumentManifest.subject become `$patient_reference$`;
//! - `<AddMasterIdentifier/>`: every DocumentReference and DocumentManifest gets a fresh
//!   `urn:oid:` masterIdentifier;
//! - a relatesTo target written `docrefN` becomes the DocumentReference reported as `docrefN`.
//!
//! The runner further gives an entry without `request` a `POST <type>` (the plans' manifest
//! entries have none, and a transaction entry needs one) and converts STU3 to R4
//! ([`super::fhir_stu3`]).

use base64::Engine;

use super::fhir_stu3::{self, child_mut, el, value_el, value_of};
use super::metadata_prep::IdSource;
use super::testplan::MasterIds;
use super::xml::{self, Element};

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("the resource file is a <{0}>, not a FHIR Bundle")]
    NotABundle(String),
    #[error("attachment file {0}: {1}")]
    File(String, String),
}

/// The step's values for one bundle.
#[derive(Debug, Default)]
pub struct BundlePrep<'a> {
    /// `$patient_reference$`: the Patient the documents are about.
    pub patient_reference: Option<&'a str>,
    pub master_ids: MasterIds,
    /// `docrefN` -> the DocumentReference an earlier submission reported under that name.
    pub docrefs: &'a [(String, String)],
}

/// What preparation assigned, for the step log.
#[derive(Debug, Default, PartialEq)]
pub struct Prepared {
    /// (entry fullUrl, masterIdentifier value), in bundle order.
    pub master_ids: Vec<(String, String)>,
    /// fullUrls of the Binary entries made from files.
    pub binaries: Vec<String>,
}

/// The file's media type, by extension, for the Binary and its attachment.
pub fn mime_for(file: &str) -> &'static str {
    let ext = file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("txt") => "text/plain",
        Some("pdf") => "application/pdf",
        Some("xml") => "text/xml",
        Some("json") => "application/json",
        Some("html" | "htm") => "text/html",
        _ => "application/octet-stream",
    }
}

/// Sets a primitive child's value, adding the child where absent (its place is fixed later
/// by the R4 ordering).
fn set_value(e: &mut Element, name: &str, v: &str) {
    match child_mut(e, name) {
        Some(c) => c.set_attr("value", v),
        None => e.push(value_el(name, v)),
    }
}

fn set_subject(resource: &mut Element, reference: &str) {
    match child_mut(resource, "subject") {
        Some(s) => set_value(s, "reference", reference),
        None => {
            let mut s = el("subject");
            s.push(value_el("reference", reference));
            resource.push(s);
        }
    }
}

/// `relatesTo.target.reference` written `docrefN` -> that report's value.
fn resolve_docrefs(dr: &mut Element, docrefs: &[(String, String)]) {
    for rel in dr.elements_mut().filter(|c| c.name == "relatesTo") {
        let Some(target) = child_mut(rel, "target") else {
            continue;
        };
        let Some(r) = child_mut(target, "reference") else {
            continue;
        };
        let now = r.attr("value").unwrap_or_default().to_string();
        if let Some((_, v)) = docrefs.iter().find(|(k, _)| *k == now) {
            r.set_attr("value", v);
        }
    }
}

fn set_master_id(
    resource: &mut Element,
    mode: MasterIds,
    ids: &mut dyn IdSource,
) -> Option<String> {
    let present = resource.child_local("masterIdentifier").is_some();
    match mode {
        MasterIds::AsWritten => return None,
        MasterIds::FreshWherePresent if !present => return None,
        _ => {}
    }
    let value = format!("urn:oid:{}", ids.uid());
    let mut mi = el("masterIdentifier");
    mi.push(value_el("system", "urn:ietf:rfc:3986"));
    mi.push(value_el("value", &value));
    resource
        .children
        .retain(|n| !matches!(n, xml::Node::Element(e) if e.name == "masterIdentifier"));
    resource.push(mi);
    Some(value)
}

/// A `file://` attachment becomes a Binary entry; returns it, or None for other urls.
fn attach_file(
    dr: &mut Element,
    read_file: &dyn Fn(&str) -> Result<Vec<u8>, String>,
) -> Result<Option<Element>, BundleError> {
    let Some(attachment) = child_mut(dr, "content").and_then(|c| child_mut(c, "attachment")) else {
        return Ok(None);
    };
    let Some(file) = value_of(attachment, "url").and_then(|u| u.strip_prefix("file://")) else {
        return Ok(None);
    };
    let file = file.to_string();
    let bytes = read_file(&file).map_err(|e| BundleError::File(file.clone(), e))?;
    let stem = file.rsplit_once('.').map(|(s, _)| s).unwrap_or(&file);
    let mime = mime_for(&file);
    set_value(attachment, "url", stem);
    set_value(attachment, "contentType", mime);
    let mut binary = el("Binary");
    binary.push(value_el("contentType", mime));
    binary.push(value_el(
        "data",
        &base64::engine::general_purpose::STANDARD.encode(&bytes),
    ));
    let mut resource = el("resource");
    resource.push(binary);
    let mut entry = el("entry");
    entry.push(value_el("fullUrl", stem));
    entry.push(resource);
    entry.push(post_request("Binary"));
    Ok(Some(entry))
}

fn post_request(resource_type: &str) -> Element {
    let mut req = el("request");
    req.push(value_el("method", "POST"));
    req.push(value_el("url", resource_type));
    req
}

/// Prepares the bundle in place; `read_file` reads a file beside the plan.
pub fn prepare(
    bundle: &mut Element,
    prep: &BundlePrep,
    read_file: &dyn Fn(&str) -> Result<Vec<u8>, String>,
    ids: &mut dyn IdSource,
) -> Result<Prepared, BundleError> {
    if bundle.name != "Bundle" {
        return Err(BundleError::NotABundle(bundle.name.clone()));
    }
    let mut out = Prepared::default();
    let mut binaries = Vec::new();
    for entry in bundle.elements_mut().filter(|e| e.name == "entry") {
        let full_url = value_of(entry, "fullUrl").unwrap_or_default().to_string();
        let Some(resource) = child_mut(entry, "resource").and_then(|r| r.elements_mut().next())
        else {
            continue;
        };
        let kind = resource.name.clone();
        if kind == "DocumentReference" {
            resolve_docrefs(resource, prep.docrefs);
            if let Some(b) = attach_file(resource, read_file)? {
                out.binaries
                    .push(value_of(&b, "fullUrl").unwrap_or_default().to_string());
                binaries.push(b);
            }
        }
        if kind == "DocumentReference" || kind == "DocumentManifest" {
            if let Some(p) = prep.patient_reference {
                set_subject(resource, p);
            }
            if let Some(v) = set_master_id(resource, prep.master_ids, ids) {
                out.master_ids.push((full_url, v));
            }
        }
        if entry.child_local("request").is_none() {
            entry.push(post_request(&kind));
        }
    }
    for b in binaries {
        bundle.push(b);
    }
    fhir_stu3::to_r4(bundle);
    xml::fix_namespaces(bundle);
    Ok(out)
}

/// The resource type a location names: its first path segment that starts upper-case
/// (`DocumentReference/1`, `https://h/fhir/DocumentReference/1/_history/1`).
pub fn type_of(location: &str) -> Option<&str> {
    let path = match location.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map(|(_, p)| p).unwrap_or(""),
        None => location,
    };
    path.split(['/', '?'])
        .find(|s| s.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
}

/// The resource itself, not one version: what later reads must see (a replaced document's
/// new status is in its current version).
pub fn unversioned(location: &str) -> &str {
    location
        .split_once("/_history/")
        .map(|(r, _)| r)
        .unwrap_or(location)
}

/// The toolkit's reports on the created resources, in entry order: `DR0`/`REF_DR0` for
/// DocumentReferences, `DM0`/`REF_DM0` for DocumentManifests, `OTHER0`/`REF_OTHER0` for the rest.
pub fn location_reports(locations: &[String]) -> Vec<(String, String)> {
    let mut counts = [0usize; 3];
    let mut out = Vec::new();
    for loc in locations {
        let (slot, tag) = match type_of(loc) {
            Some("DocumentReference") => (0, "DR"),
            Some("DocumentManifest") => (1, "DM"),
            _ => (2, "OTHER"),
        };
        let n = counts[slot];
        counts[slot] += 1;
        out.push((format!("{tag}{n}"), loc.clone()));
        out.push((format!("REF_{tag}{n}"), unversioned(loc).to_string()));
    }
    out
}

/// What a transaction answer says: the locations of what was created, or why not.
#[derive(Debug, PartialEq)]
pub enum Answer {
    Created(Vec<String>),
    Refused(Vec<String>),
}

/// The issues of an OperationOutcome, one line each.
pub fn issues(outcome: &Element) -> Vec<String> {
    outcome
        .children_local("issue")
        .map(|i| {
            let sev = value_of(i, "severity").unwrap_or("error");
            let code = value_of(i, "code").unwrap_or("");
            let text = value_of(i, "diagnostics")
                .or_else(|| i.child_local("details").and_then(|d| value_of(d, "text")))
                .unwrap_or("");
            format!("{sev} {code}: {text}")
        })
        .collect()
}

/// A 2xx answer with a transaction-response Bundle whose entries are all 2xx is Created; an
/// OperationOutcome, a non-2xx status or anything else is Refused.
pub fn read_answer(status: u16, body: Option<&Element>) -> Answer {
    let ok = (200..300).contains(&status);
    let Some(body) = body else {
        return Answer::Refused(vec![format!("HTTP {status} without a FHIR XML body")]);
    };
    if body.name == "OperationOutcome" {
        let mut why = issues(body);
        if why.is_empty() {
            why.push(format!("HTTP {status}: OperationOutcome without issues"));
        }
        return Answer::Refused(why);
    }
    if !ok {
        return Answer::Refused(vec![format!("HTTP {status} with a <{}>", body.name)]);
    }
    if body.name != "Bundle" || value_of(body, "type") != Some("transaction-response") {
        return Answer::Refused(vec![format!(
            "HTTP {status}: expected a transaction-response Bundle, got <{}> type {}",
            body.name,
            value_of(body, "type").unwrap_or("(none)")
        )]);
    }
    let mut locations = Vec::new();
    let mut problems = Vec::new();
    for (i, entry) in body.children_local("entry").enumerate() {
        let resp = entry.child_local("response");
        let st = resp.and_then(|r| value_of(r, "status")).unwrap_or("");
        if !st.starts_with('2') {
            problems.push(format!("entry {i}: response status '{st}'"));
        }
        match resp.and_then(|r| value_of(r, "location")) {
            Some(l) => locations.push(l.to_string()),
            None => problems.push(format!("entry {i}: no response.location")),
        }
    }
    if problems.is_empty() {
        Answer::Created(locations)
    } else {
        Answer::Refused(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    struct Counting(u32);
    impl IdSource for Counting {
        fn uuid(&mut self) -> String {
            self.0 += 1;
            format!("urn:uuid:{}", self.0)
        }
        fn uid(&mut self) -> String {
            self.0 += 1;
            format!("2.25.{}", self.0)
        }
    }

    const BUNDLE: &str = r#"<Bundle xmlns="http://hl7.org/fhir"><type value="transaction"/>
      <entry><fullUrl value="urn:uuid:dr"/><resource><DocumentReference>
        <status value="current"/><subject><reference value="http://localhost:8080/fhir/Patient/a2"/></subject>
        <relatesTo><code value="replaces"/><target><reference value="docref1"/></target></relatesTo>
        <content><attachment><contentType value="text/xml"/><language value="en-us"/><url value="file://textfile.txt"/></attachment></content>
      </DocumentReference></resource><request><method value="POST"/><url value="DocumentReference"/></request></entry>
      <entry><fullUrl value="urn:uuid:dm"/><resource><DocumentManifest>
        <masterIdentifier><system value="http://example.org/documents"/><value value="1.2.3"/></masterIdentifier>
        <status value="current"/><subject><reference value="http://localhost:8080/fhir/Patient/a2"/></subject>
        <content><pReference><reference value="urn:uuid:dr"/></pReference></content>
      </DocumentManifest></resource></entry>
    </Bundle>"#;

    fn read(name: &str) -> Result<Vec<u8>, String> {
        match name {
            "textfile.txt" => Ok(b"hello".to_vec()),
            other => Err(format!("no {other}")),
        }
    }

    fn prepared(mode: MasterIds) -> (Element, Prepared) {
        let mut b = parse(BUNDLE).unwrap();
        let docrefs = [("docref1".to_string(), "DocumentReference/77".to_string())];
        let prep = BundlePrep {
            patient_reference: Some("https://node/fhir/Patient/9"),
            master_ids: mode,
            docrefs: &docrefs,
        };
        let p = prepare(&mut b, &prep, &read, &mut Counting(0)).unwrap();
        (parse(&b.to_xml()).unwrap(), p)
    }

    fn resource<'a>(b: &'a Element, ty: &str) -> &'a Element {
        b.descendants().into_iter().find(|e| e.name == ty).unwrap()
    }

    #[test]
    fn binary_subject_docref_and_master_ids() {
        let (b, p) = prepared(MasterIds::Fresh);
        let dr = resource(&b, "DocumentReference");
        let a = dr.child_local("content").unwrap().child_local("attachment");
        let a = a.unwrap();
        assert_eq!(value_of(a, "url"), Some("textfile"));
        assert_eq!(value_of(a, "contentType"), Some("text/plain"));
        let entries: Vec<&Element> = b.children_local("entry").collect();
        assert_eq!(entries.len(), 3);
        assert_eq!(value_of(entries[2], "fullUrl"), Some("textfile"));
        let bin = resource(&b, "Binary");
        assert_eq!(value_of(bin, "data"), Some("aGVsbG8="));
        assert_eq!(value_of(bin, "contentType"), Some("text/plain"));
        let req = entries[2].child_local("request").unwrap();
        assert_eq!(value_of(req, "url"), Some("Binary"));
        for ty in ["DocumentReference", "DocumentManifest"] {
            let subject = resource(&b, ty).child_local("subject").unwrap();
            assert_eq!(
                value_of(subject, "reference"),
                Some("https://node/fhir/Patient/9")
            );
        }
        let target = dr.descendants().into_iter().find(|e| e.name == "target");
        let target = target.unwrap();
        assert_eq!(value_of(target, "reference"), Some("DocumentReference/77"));
        // Fresh ids on both, added to the DocumentReference in its R4 place (before status).
        assert_eq!(
            p.master_ids,
            [
                ("urn:uuid:dr".to_string(), "urn:oid:2.25.1".to_string()),
                ("urn:uuid:dm".to_string(), "urn:oid:2.25.2".to_string())
            ]
        );
        assert_eq!(dr.elements().next().unwrap().name, "masterIdentifier");
        let dm = resource(&b, "DocumentManifest");
        let mi = dm.child_local("masterIdentifier").unwrap();
        assert_eq!(value_of(mi, "value"), Some("urn:oid:2.25.2"));
        assert_eq!(value_of(mi, "system"), Some("urn:ietf:rfc:3986"));
        assert_eq!(dm.children_local("masterIdentifier").count(), 1);
        // The manifest entry got its request; DocumentManifest.content is R4.
        let req = entries[1].child_local("request").unwrap();
        assert_eq!(value_of(req, "url"), Some("DocumentManifest"));
        let content = dm.child_local("content").unwrap();
        assert_eq!(value_of(content, "reference"), Some("urn:uuid:dr"));
        assert_eq!(p.binaries, ["textfile"]);
    }

    #[test]
    fn master_ids_as_written_or_only_where_present() {
        let (b, p) = prepared(MasterIds::AsWritten);
        assert!(p.master_ids.is_empty());
        let dm = resource(&b, "DocumentManifest");
        let mi = dm.child_local("masterIdentifier").unwrap();
        assert_eq!(value_of(mi, "value"), Some("1.2.3"));
        assert!(resource(&b, "DocumentReference")
            .child_local("masterIdentifier")
            .is_none());
        let (b, p) = prepared(MasterIds::FreshWherePresent);
        assert_eq!(p.master_ids.len(), 1);
        assert!(resource(&b, "DocumentReference")
            .child_local("masterIdentifier")
            .is_none());
    }

    #[test]
    fn a_missing_file_and_a_wrong_root_are_named() {
        let mut b = parse(&BUNDLE.replace("textfile.txt", "gone.pdf")).unwrap();
        let err = prepare(&mut b, &BundlePrep::default(), &read, &mut Counting(0));
        assert!(err.unwrap_err().to_string().contains("gone.pdf"));
        let mut p = parse(r#"<Patient xmlns="http://hl7.org/fhir"/>"#).unwrap();
        let err = prepare(&mut p, &BundlePrep::default(), &read, &mut Counting(0));
        assert!(matches!(err, Err(BundleError::NotABundle(_))));
        assert_eq!(mime_for("pdffile.pdf"), "application/pdf");
    }

    #[test]
    fn answers_and_their_reports() {
        let ok = parse(
            r#"<Bundle xmlns="http://hl7.org/fhir"><type value="transaction-response"/>
            <entry><response><status value="201 Created"/><location value="DocumentReference/5/_history/1"/></response></entry>
            <entry><response><status value="201 Created"/><location value="https://n/fhir/DocumentManifest/6"/></response></entry>
            <entry><response><status value="201"/><location value="Binary/7"/></response></entry></Bundle>"#,
        )
        .unwrap();
        let Answer::Created(locs) = read_answer(200, Some(&ok)) else {
            panic!("refused")
        };
        let reports = location_reports(&locs);
        let get = |k: &str| {
            reports
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("DR0"), Some("DocumentReference/5/_history/1"));
        assert_eq!(get("REF_DR0"), Some("DocumentReference/5"));
        assert_eq!(get("REF_DM0"), Some("https://n/fhir/DocumentManifest/6"));
        assert_eq!(get("OTHER0"), Some("Binary/7"));
        let oo = parse(
            r#"<OperationOutcome xmlns="http://hl7.org/fhir"><issue><severity value="error"/><code value="required"/>
            <diagnostics value="DocumentReference.masterIdentifier is required"/></issue></OperationOutcome>"#,
        )
        .unwrap();
        let Answer::Refused(why) = read_answer(422, Some(&oo)) else {
            panic!("created")
        };
        assert_eq!(
            why,
            ["error required: DocumentReference.masterIdentifier is required"]
        );
        assert!(matches!(read_answer(201, None), Answer::Refused(_)));
        assert!(matches!(read_answer(500, Some(&ok)), Answer::Refused(_)));
    }
}
