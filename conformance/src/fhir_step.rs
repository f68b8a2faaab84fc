//! The MHD (FHIR) steps: FhirCreatePatientTransaction, FhirReadTransaction and
//! ProvideDocumentBundleTransaction, over plain HTTPS to the site's `fhir` base.
//!
//! **The test's patient.** In the toolkit, FhirCreatePatientTransaction creates a Patient on a
//! supporting FHIR server, and the plans' `PatientLookup` reads it through
//! `UseReport test="supporting_fhir_patients" section="patient1" step="create"
//! reportName="Ref"` (a test that is not in the kit). Here there is no supporting server: the
//! test's own patient id (the one the SOAP tests get too) is fed to the node over ITI-8, and
//! its Patient resource is found with `GET {fhir}/Patient?identifier=urn:oid:AUTH|VALUE`.
//! FhirCreatePatientTransaction does exactly that and reports the Patient's URL as `Ref` and
//! `Url`; `supporting_fhir_patients` means the Patient that this test's `register_patient`
//! section created (the runner runs that section first when `index.idx` leaves it out), or,
//! for a test without one, the same lookup made on the spot.

use base64::Engine;

use super::fhir_bundle::{self, Answer, BundlePrep};
use super::fhir_stu3::value_of;
use super::session::{Runner, SectionCtx, TestState};
use super::steplog::StepLog;
use super::testplan::{ExpectedStatus, TestStep, Transaction, TransactionKind, UseReport};
use super::transport::{Endpoint, HttpRequest, HttpResponse};
use super::xml::{self, Element};

/// The supporting test the plans take their Patient from (see the module comment).
pub const SUPPORTING_FHIR_PATIENTS: &str = "supporting_fhir_patients";
/// The section of an MHD test that registers its patient.
pub const REGISTER_PATIENT: &str = "register_patient";

const FHIR_XML: &str = "application/fhir+xml";

fn base(r: &Runner) -> Result<String, String> {
    let b = r.site.url(Endpoint::Fhir).map_err(|e| e.to_string())?;
    Ok(b.trim_end_matches('/').to_string())
}

/// A reference as the node or a plan writes it, as a URL: absolute ones stay.
pub fn resolve(base: &str, reference: &str) -> String {
    if reference.starts_with("https://") || reference.starts_with("http://") {
        reference.to_string()
    } else {
        format!("{base}/{}", reference.trim_start_matches('/'))
    }
}

/// `VALUE^^^&AUTHORITY&ISO` -> (VALUE, AUTHORITY).
pub fn split_pid(pid: &str) -> Option<(&str, &str)> {
    let (value, rest) = pid.split_once("^^^&")?;
    let authority = rest.strip_suffix("&ISO").unwrap_or(rest);
    (!value.is_empty() && !authority.is_empty()).then_some((value, authority))
}

/// Query-string escaping for a token parameter (`|` and anything outside the unreserved set).
fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn get(r: &Runner, url: &str, accept: &str) -> Result<HttpResponse, String> {
    let req = HttpRequest {
        method: "GET",
        url: url.to_string(),
        accept: accept.to_string(),
        content_type: None,
        body: Vec::new(),
    };
    r.transport.http(&req).map_err(|e| e.to_string())
}

fn is_xml(resp: &HttpResponse) -> bool {
    resp.content_type.contains("xml")
}

fn is_json(resp: &HttpResponse) -> bool {
    resp.content_type.contains("json")
}

/// The body as an XML element, when it is XML.
fn xml_body(resp: &HttpResponse) -> Result<Option<Element>, String> {
    if !is_xml(resp) || resp.body.is_empty() {
        return Ok(None);
    }
    let text = std::str::from_utf8(&resp.body).map_err(|e| format!("response body: {e}"))?;
    xml::parse(text)
        .map(Some)
        .map_err(|e| format!("response body: {e}"))
}

/// Feeds the test's patient (once) and finds its Patient on the node.
fn find_patient(
    r: &mut Runner,
    st: &mut TestState,
    ctx: &SectionCtx,
) -> Result<(String, String, Option<Element>), String> {
    super::feeding::ensure_fed(r, st, ctx)?;
    let pid = st.patient_id.clone();
    let (value, authority) =
        split_pid(&pid).ok_or_else(|| format!("patient id {pid} is not VALUE^^^&OID&ISO"))?;
    let base = base(r)?;
    let token = format!("urn:oid:{authority}|{value}");
    let search = format!("{base}/Patient?identifier={}", query_escape(&token));
    let resp = get(r, &search, FHIR_XML)?;
    let bundle = xml_body(&resp)?;
    if resp.status != 200 {
        return Err(format!("{search}: HTTP {}", resp.status));
    }
    let found = bundle.as_ref().and_then(|b| {
        b.children_local("entry").find_map(|e| {
            let patient = e.child_local("resource")?.child_local("Patient")?;
            match value_of(patient, "id") {
                Some(id) => Some(format!("{base}/Patient/{id}")),
                None => value_of(e, "fullUrl").map(str::to_string),
            }
        })
    });
    let url = found.ok_or_else(|| format!("{search}: no Patient for {token} (was it fed?)"))?;
    st.fhir_patient = Some((pid, url.clone()));
    Ok((search, url, bundle))
}

/// The `supporting_fhir_patients` report: this test's `register_patient` Patient, else the
/// one found for the current patient id.
fn supporting_patient(
    r: &Runner,
    st: &TestState,
    ctx: &SectionCtx,
    u: &UseReport,
) -> Option<String> {
    let registered = r
        .logs
        .section(&ctx.test, REGISTER_PATIENT)
        .and_then(|s| s.steps.iter().find_map(|st| st.report(&u.report_name)));
    if let Some(v) = registered {
        return Some(v.to_string());
    }
    match &st.fhir_patient {
        Some((pid, url)) if *pid == st.patient_id => Some(url.clone()),
        _ => None,
    }
}

/// Before the substitutions of a FHIR step: the Patient a `supporting_fhir_patients`
/// UseReport names must exist.
pub(crate) fn ensure_supporting_patient(
    r: &mut Runner,
    st: &mut TestState,
    ctx: &SectionCtx,
    t: &Transaction,
) -> Result<(), String> {
    let wanted = t
        .use_reports
        .iter()
        .find(|u| u.test.as_deref() == Some(SUPPORTING_FHIR_PATIENTS));
    let Some(u) = wanted else { return Ok(()) };
    if supporting_patient(r, st, ctx, u).is_none() {
        find_patient(r, st, ctx)?;
    }
    Ok(())
}

/// The value of a UseReport into `supporting_fhir_patients`.
pub(crate) fn supporting_report(
    r: &Runner,
    st: &TestState,
    ctx: &SectionCtx,
    u: &UseReport,
) -> Result<String, String> {
    supporting_patient(r, st, ctx, u).ok_or_else(|| {
        format!(
            "UseReport {} from {SUPPORTING_FHIR_PATIENTS}: this test has no FHIR patient yet",
            u.report_name
        )
    })
}

fn sub<'a>(subs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    subs.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Got Success or Failure; is that what the step expects?
fn judge(step: &TestStep, succeeded: bool, why: &[String]) -> Result<(), String> {
    let want = step.expected_status.unwrap_or(ExpectedStatus::Success);
    match (want, succeeded) {
        (ExpectedStatus::Success, true) => Ok(()),
        (ExpectedStatus::Success, false) | (ExpectedStatus::PartialSuccess, false) => Err(format!(
            "expected Success, got Failure [{}]",
            why.join("; ")
        )),
        (ExpectedStatus::Failure, false) => {
            // An expected error code must be named by one of the issues.
            let missing: Vec<&String> = step
                .expected_error_codes
                .iter()
                .chain(step.expected_error_messages.iter())
                .filter(|c| !why.iter().any(|w| w.contains(c.as_str())))
                .collect();
            match missing.is_empty() {
                true => Ok(()),
                false => Err(format!(
                    "expected error {missing:?} not returned [{}]",
                    why.join("; ")
                )),
            }
        }
        (w, _) => Err(format!(
            "expected {}, got {}",
            w.as_str(),
            if succeeded { "Success" } else { "Failure" }
        )),
    }
}

pub(crate) fn exchange(
    r: &mut Runner,
    st: &mut TestState,
    ctx: &SectionCtx,
    step: &TestStep,
    t: &Transaction,
    subs: &[(String, String)],
    log: &mut StepLog,
) -> Result<(), String> {
    match t.kind {
        TransactionKind::FhirCreatePatient => create_patient(r, st, ctx, step, log),
        TransactionKind::FhirRead => read(r, ctx, step, t, subs, log),
        _ => provide(r, ctx, step, t, subs, log),
    }
}

/// FhirCreatePatientTransaction: the test's patient fed and found (the plan's Patient file,
/// a fixed MRN, is not what the node gets: ids come from the feed).
fn create_patient(
    r: &mut Runner,
    st: &mut TestState,
    ctx: &SectionCtx,
    step: &TestStep,
    log: &mut StepLog,
) -> Result<(), String> {
    let found = find_patient(r, st, ctx);
    log.step_status = Some(if found.is_ok() { "Success" } else { "Failure" }.into());
    log.reports
        .push(("$patientid$".into(), st.patient_id.clone()));
    let why = match found {
        Ok((search, url, bundle)) => {
            log.endpoint = Some(search);
            log.result = bundle;
            log.reports.push(("Ref".into(), url.clone()));
            log.reports.push(("Url".into(), url));
            Vec::new()
        }
        Err(e) => vec![e],
    };
    judge(step, why.is_empty(), &why)
}

/// A Binary's bytes, from FHIR XML or JSON.
fn binary_data(resp: &HttpResponse, xml: Option<&Element>) -> Result<Vec<u8>, String> {
    let b64 = if let Some(x) = xml {
        if x.name != "Binary" {
            return Err(format!("expected a Binary, got <{}>", x.name));
        }
        value_of(x, "data").map(str::to_string)
    } else if is_json(resp) {
        let v: serde_json::Value =
            serde_json::from_slice(&resp.body).map_err(|e| format!("response body: {e}"))?;
        if v["resourceType"] != "Binary" {
            return Err(format!("expected a Binary, got {}", v["resourceType"]));
        }
        v["data"].as_str().map(str::to_string)
    } else {
        return Err(format!(
            "a Binary was asked for, {} came",
            resp.content_type
        ));
    };
    let b64 = b64.ok_or("the Binary has no data")?;
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| format!("Binary.data: {e}"))
}

/// (resourceType, status, content[0].attachment.url) of a FHIR XML or JSON resource.
fn resource_facts(
    resp: &HttpResponse,
    xml: Option<&Element>,
) -> (Option<String>, Option<String>, Option<String>) {
    if let Some(x) = xml {
        let url = x
            .child_local("content")
            .and_then(|c| c.child_local("attachment"))
            .and_then(|a| value_of(a, "url"));
        return (
            Some(x.name.clone()),
            value_of(x, "status").map(str::to_string),
            url.map(str::to_string),
        );
    }
    if !is_json(resp) {
        return (None, None, None);
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&resp.body) else {
        return (None, None, None);
    };
    let s = |v: &serde_json::Value| v.as_str().map(str::to_string);
    (
        s(&v["resourceType"]),
        s(&v["status"]),
        s(&v["content"][0]["attachment"]["url"]),
    )
}

/// FhirReadTransaction: GET the `Ref`, with the Accept the step asks for.
fn read(
    r: &mut Runner,
    ctx: &SectionCtx,
    step: &TestStep,
    t: &Transaction,
    subs: &[(String, String)],
    log: &mut StepLog,
) -> Result<(), String> {
    let target = sub(subs, "Ref").ok_or("no Ref: the step names nothing to read")?;
    let url = resolve(&base(r)?, target);
    let f = &t.fhir;
    let accept = f
        .request_type
        .as_deref()
        .or(f.accept_type.as_deref())
        .unwrap_or(FHIR_XML)
        .to_string();
    let fhir_accept = accept.contains("fhir");
    log.endpoint = Some(url.clone());
    log.reports.push(("Url".into(), url.clone()));
    let resp = get(r, &url, &accept)?;
    let body = xml_body(&resp)?;
    let (rtype, status, attachment_url) = resource_facts(&resp, body.as_ref());
    let mut why = Vec::new();
    if resp.status != 200 {
        why.push(format!("HTTP {} for {url}", resp.status));
        if let Some(b) = body.as_ref().filter(|b| b.name == "OperationOutcome") {
            why.extend(fhir_bundle::issues(b));
        }
    } else if resp.body.is_empty() {
        why.push(format!("HTTP 200 without content for {url}"));
    } else if fhir_accept && rtype.is_none() {
        why.push(format!(
            "{accept} was asked for, {} came",
            resp.content_type
        ));
    }
    log.step_status = Some(if why.is_empty() { "Success" } else { "Failure" }.into());
    log.result = Some(match &body {
        Some(b) => b.clone(),
        None => Element::new(None, "Body", None)
            .with_attr("status", &resp.status.to_string())
            .with_attr("contentType", &resp.content_type)
            .with_attr("size", &resp.body.len().to_string()),
    });
    if rtype.as_deref() == Some("DocumentReference") {
        if let Some(u) = attachment_url {
            log.reports.push(("BinaryUrl".into(), u));
        }
    }
    let got = judge(step, why.is_empty(), &why);
    if !why.is_empty() {
        return got;
    }
    let mut problems = Vec::new();
    if let Err(e) = got {
        problems.push(e);
    }
    if f.must_be_superseded && status.as_deref() != Some("superseded") {
        problems.push(format!(
            "MustBeSuperseded: {} status is {}",
            rtype.as_deref().unwrap_or("resource"),
            status.as_deref().unwrap_or("(none)")
        ));
    }
    if let Some(file) = &f.reference_document {
        let p = ctx.dir.join(file);
        let want = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        let got = if fhir_accept {
            binary_data(&resp, body.as_ref())
        } else {
            Ok(resp.body.clone())
        };
        match got {
            Ok(g) if g == want => {}
            Ok(g) => problems.push(format!(
                "ReferenceDocument {file}: {} bytes read, {} in the file, not the same",
                g.len(),
                want.len()
            )),
            Err(e) => problems.push(format!("ReferenceDocument {file}: {e}")),
        }
    }
    super::assertions::run_reports(t, log, &mut problems);
    match problems.is_empty() {
        true => Ok(()),
        false => Err(problems.join("; ")),
    }
}

/// ProvideDocumentBundleTransaction (ITI-65).
fn provide(
    r: &mut Runner,
    ctx: &SectionCtx,
    step: &TestStep,
    t: &Transaction,
    subs: &[(String, String)],
    log: &mut StepLog,
) -> Result<(), String> {
    let file = t.fhir.resource_file.as_deref().ok_or("no ResourceFile")?;
    log.metadata_file = Some(file.to_string());
    let mut bundle = super::plan_xml::read_file(&ctx.dir, file)?;
    // The `$...$` symbols anywhere; docrefN only where a relatesTo names one.
    let (symbols, docrefs): (Vec<_>, Vec<_>) =
        subs.iter().cloned().partition(|(k, _)| k.starts_with('$'));
    super::metadata_prep::substitute(&mut bundle, &symbols);
    let prep = BundlePrep {
        patient_reference: sub(subs, "$patient_reference$"),
        master_ids: t.fhir.master_ids,
        docrefs: &docrefs,
    };
    let read_file = |name: &str| -> Result<Vec<u8>, String> {
        std::fs::read(ctx.dir.join(name)).map_err(|e| e.to_string())
    };
    let prepared = fhir_bundle::prepare(&mut bundle, &prep, &read_file, r.ids.as_mut())
        .map_err(|e| e.to_string())?;
    log.assignments.uids = prepared.master_ids;
    let base = base(r)?;
    log.endpoint = Some(base.clone());
    let req = HttpRequest {
        method: "POST",
        url: base.clone(),
        accept: FHIR_XML.into(),
        content_type: Some(FHIR_XML.into()),
        body: bundle.to_xml().into_bytes(),
    };
    log.input = Some(bundle);
    let resp = r.transport.http(&req).map_err(|e| e.to_string())?;
    let body = xml_body(&resp)?;
    let answer = fhir_bundle::read_answer(resp.status, body.as_ref());
    log.result = body;
    let why = match answer {
        Answer::Created(locations) => {
            // Relative locations as the node wrote them; reads resolve them on the base.
            log.reports
                .extend(fhir_bundle::location_reports(&locations));
            Vec::new()
        }
        Answer::Refused(why) => why,
    };
    log.step_status = Some(if why.is_empty() { "Success" } else { "Failure" }.into());
    judge(step, why.is_empty(), &why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_references_and_queries() {
        assert_eq!(
            split_pid("abc^^^&1.3.6.1.4.1.21367.2005.3.7&ISO"),
            Some(("abc", "1.3.6.1.4.1.21367.2005.3.7"))
        );
        assert_eq!(split_pid("abc"), None);
        assert_eq!(
            resolve("https://n/fhir", "DocumentReference/1"),
            "https://n/fhir/DocumentReference/1"
        );
        assert_eq!(resolve("https://n/fhir", "https://o/x"), "https://o/x");
        assert_eq!(query_escape("urn:oid:1.2|ab c"), "urn:oid:1.2%7Cab%20c");
    }
}
