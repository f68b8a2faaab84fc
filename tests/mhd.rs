//! MHD (FHIR R4) on the real node over mutual TLS, called with curl as a FHIR client would:
//! ITI-65 is found by ITI-18 and retrieved byte-identical by ITI-43; ITI-41 is found by ITI-67
//! and retrieved by ITI-68; replacement, JSON and XML, and bad input answered with an
//! OperationOutcome that stores nothing.
mod common;

use base64::Engine;
use common::{answer, meta, new_pid, xdsb, TestNode};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

const FNR: &str = "2.16.578.1.12.4.1.4.1";

/// A FHIR call with curl: (HTTP status, Content-Type, body).
fn curl(
    node: &TestNode,
    method: &str,
    path: &str,
    accept: &str,
    body: Option<(&str, &[u8])>,
) -> (u16, String, Vec<u8>) {
    let pki = &node.pki;
    let out_file = node
        .dir
        .path()
        .join(format!("curl-{}.out", uuid::Uuid::new_v4().simple()));
    let mut c = Command::new("curl");
    c.args(["-sS", "-X", method, "--cacert"])
        .arg(pki.join("ca.pem"))
        .arg("--cert")
        .arg(pki.join("client.pem"))
        .arg("--key")
        .arg(pki.join("client.key"))
        .args(["-H", &format!("Accept: {accept}"), "-o"])
        .arg(&out_file)
        .args(["-w", "%{http_code} %{content_type}"]);
    if let Some((ct, data)) = body {
        let f = node
            .dir
            .path()
            .join(format!("curl-{}.in", uuid::Uuid::new_v4().simple()));
        std::fs::write(&f, data).expect("write body");
        c.args(["-H", &format!("Content-Type: {ct}"), "--data-binary"])
            .arg(format!("@{}", f.display()));
    }
    c.arg(node.url(&format!("/fhir{path}")));
    let out = c.output().expect("run curl");
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let w = String::from_utf8_lossy(&out.stdout).to_string();
    let (status, ct) = w.split_once(' ').unwrap_or((&w, ""));
    let body = std::fs::read(&out_file).unwrap_or_default();
    (status.parse().expect("status"), ct.to_string(), body)
}

/// A FHIR JSON read.
fn get(node: &TestNode, path: &str) -> (u16, String, Vec<u8>) {
    curl(node, "GET", path, "application/fhir+json", None)
}

fn json_of(b: &[u8]) -> Value {
    serde_json::from_slice(b)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(b)))
}

fn fhir_patient_id(pid: &str) -> String {
    let value = pid.split('^').next().unwrap();
    format!("{FNR}-{value}")
}

fn uid() -> String {
    meta::new_uid()
}

/// An ITI-65 Bundle (JSON) of one List, one DocumentReference and its Binary.
fn bundle(pid: &str, doc_uid: &str, set_uid: &str, data: &[u8], relates_to: Option<&str>) -> Value {
    let value = pid.split('^').next().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    let mut dr = json!({
        "resourceType": "DocumentReference",
        "contained": [
            {"resourceType": "Practitioner", "id": "a1", "name": [{"family": "Hansen", "given": ["Ola"]}]},
            {"resourceType": "Patient", "id": "p1", "identifier": [{"system": format!("urn:oid:{FNR}"), "value": value}],
             "name": [{"family": "Testesen", "given": ["Kari"]}], "birthDate": "1980-02-03", "gender": "female"}
        ],
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{doc_uid}")},
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "34133-9", "display": "Epikrise"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "11488-4"}]}],
        "subject": {"reference": format!("Patient/{}", fhir_patient_id(pid))},
        "author": [{"reference": "#a1"}],
        "description": "Epikrise etter innleggelse",
        "securityLabel": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N"}]}],
        "content": [{
            "attachment": {"contentType": "text/plain", "language": "nb-NO", "url": "urn:uuid:5c5d4f12-0001-4bcd-9e3a-000000000001",
                           "title": "Epikrise", "creation": "2024-01-15T10:30:00+01:00"},
            "format": {"system": "urn:oid:1.3.6.1.4.1.19376.1.2.3", "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient"}
        }],
        "context": {
            "period": {"start": "2024-01-01", "end": "2024-01-02"},
            "facilityType": {"coding": [{"system": "http://snomed.info/sct", "code": "35971002"}]},
            "practiceSetting": {"coding": [{"system": "http://snomed.info/sct", "code": "394802001"}]},
            "sourcePatientInfo": {"reference": "#p1"}
        }
    });
    if let Some(target) = relates_to {
        dr["relatesTo"] = json!([{"code": "replaces", "target": {"reference": format!("DocumentReference/{target}")}}]);
    }
    json!({
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:5c5d4f12-0000-4bcd-9e3a-000000000000",
             "resource": {
                "resourceType": "List",
                "extension": [
                    {"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId",
                     "valueIdentifier": {"value": "urn:oid:2.16.578.1.12.4.5.100.1"}},
                    {"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType",
                     "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "225728007"}]}}
                ],
                "identifier": [{"use": "usual", "system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{set_uid}")}],
                "status": "current", "mode": "working",
                "code": {"coding": [{"system": "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes", "code": "submissionset"}]},
                "subject": {"reference": format!("Patient/{}", fhir_patient_id(pid))},
                "date": "2024-01-15T10:31:00+01:00",
                "entry": [{"item": {"reference": "urn:uuid:5c5d4f12-0002-4bcd-9e3a-000000000002"}}]
             },
             "request": {"method": "POST", "url": "List"}},
            {"fullUrl": "urn:uuid:5c5d4f12-0002-4bcd-9e3a-000000000002", "resource": dr,
             "request": {"method": "POST", "url": "DocumentReference"}},
            {"fullUrl": "urn:uuid:5c5d4f12-0001-4bcd-9e3a-000000000001",
             "resource": {"resourceType": "Binary", "contentType": "text/plain", "data": b64},
             "request": {"method": "POST", "url": "Binary"}}
        ]
    })
}

fn post_bundle(node: &TestNode, b: &Value) -> (u16, Value) {
    let body = serde_json::to_vec(b).unwrap();
    let (status, ct, out) = curl(
        node,
        "POST",
        "",
        "application/fhir+json",
        Some(("application/fhir+json", &body)),
    );
    assert!(ct.starts_with("application/fhir+json"), "content type {ct}");
    (status, json_of(&out))
}

/// The id in a `Type/id` location of a transaction-response entry.
fn location(resp: &Value, n: usize) -> String {
    resp["entry"][n]["response"]["location"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn iti65_is_found_by_iti18_and_retrieved_byte_identical_by_iti43() {
    let node = TestNode::start();
    let pid = new_pid();
    node.add_patient(&pid);
    let data = "Epikrise: pasienten ble utskrevet i god form.\r\nKontroll om 6 uker.\n".as_bytes();
    let (doc_uid, set_uid) = (uid(), uid());
    let (status, resp) = post_bundle(&node, &bundle(&pid, &doc_uid, &set_uid, data, None));
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["type"], "transaction-response");
    assert_eq!(resp["entry"].as_array().map(Vec::len), Some(3));
    for n in 0..3 {
        assert_eq!(resp["entry"][n]["response"]["status"], "201 Created");
    }
    let (list_loc, dr_loc, bin_loc) = (location(&resp, 0), location(&resp, 1), location(&resp, 2));
    assert!(list_loc.starts_with("List/"), "{list_loc}");
    assert!(dr_loc.starts_with("DocumentReference/"), "{dr_loc}");
    assert!(bin_loc.starts_with("Binary/"), "{bin_loc}");

    // XDS sees one DocumentEntry with the uniqueId the masterIdentifier gave, and ITI-43 gives
    // back the very bytes.
    assert_eq!(
        xdsb::find_documents(&node, &pid).await,
        vec![doc_uid.clone()]
    );
    let r = xdsb::retrieve(&node, &[("2.16.578.1.12.4.5.10.1.1", &doc_uid)]).await;
    let docs = xdsb::documents(&r);
    assert_eq!(docs.len(), 1, "{:?}", answer::error_codes(&r.body));
    assert_eq!(&docs[0].2[..], data);
    assert_eq!(docs[0].1, "text/plain");

    // ITI-67 by patient.identifier, and the DocumentReference read.
    let value = pid.split('^').next().unwrap();
    let q = format!("/DocumentReference?patient.identifier=urn:oid:{FNR}%7C{value}&status=current");
    let (status, _, body) = get(&node, &q);
    assert_eq!(status, 200);
    let set = json_of(&body);
    assert_eq!(set["type"], "searchset");
    assert_eq!(set["total"], 1);
    let dr = &set["entry"][0]["resource"];
    assert_eq!(
        dr["masterIdentifier"]["value"],
        format!("urn:oid:{doc_uid}")
    );
    assert_eq!(dr["status"], "current");
    assert_eq!(dr["type"]["coding"][0]["code"], "34133-9");
    assert_eq!(dr["type"]["coding"][0]["system"], "http://loinc.org");
    assert_eq!(dr["category"][0]["coding"][0]["code"], "11488-4");
    assert_eq!(
        dr["subject"]["reference"],
        format!("Patient/{}", fhir_patient_id(&pid))
    );
    assert_eq!(dr["content"][0]["attachment"]["contentType"], "text/plain");
    assert_eq!(
        dr["content"][0]["attachment"]["creation"],
        "2024-01-15T09:30:00Z"
    );
    assert_eq!(dr["content"][0]["attachment"]["size"], data.len());
    assert_eq!(dr["context"]["period"]["start"], "2024-01-01");
    assert_eq!(dr["description"], "Epikrise etter innleggelse");
    let author = dr["contained"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resourceType"] == "Practitioner")
        .unwrap();
    assert_eq!(author["name"][0]["family"], "Hansen");
    let (status, _, one) = get(&node, &format!("/{dr_loc}"));
    assert_eq!(status, 200);
    assert_eq!(json_of(&one)["id"], dr["id"]);

    // ITI-68: the document itself, or a Binary resource when a FHIR type is asked for.
    let url = dr["content"][0]["attachment"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.ends_with(&bin_loc), "{url} vs {bin_loc}");
    let (status, ct, raw) = curl(&node, "GET", &format!("/{bin_loc}"), "text/plain", None);
    assert_eq!((status, ct.as_str()), (200, "text/plain"));
    assert_eq!(raw, data);
    let (status, _, b) = get(&node, &format!("/{bin_loc}"));
    assert_eq!(status, 200);
    let b = json_of(&b);
    assert_eq!(b["resourceType"], "Binary");
    let back = base64::engine::general_purpose::STANDARD
        .decode(b["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(back, data);

    // ITI-66: the SubmissionSet as a List with its one member.
    let (status, _, l) = get(&node, &format!("/{list_loc}"));
    assert_eq!(status, 200);
    let l = json_of(&l);
    assert_eq!(l["code"]["coding"][0]["code"], "submissionset");
    assert_eq!(l["entry"][0]["item"]["reference"], dr_loc);
    let q = format!("/List?patient.identifier=urn:oid:{FNR}%7C{value}&code=submissionset");
    let (status, _, found) = get(&node, &q);
    assert_eq!(status, 200);
    assert_eq!(json_of(&found)["total"], 1);

    // The patient, and the CapabilityStatement.
    let (status, _, p) = get(&node, &format!("/Patient/{}", fhir_patient_id(&pid)));
    assert_eq!(status, 200);
    assert_eq!(json_of(&p)["identifier"][0]["value"], value);
    let (status, _, cap) = get(&node, "/metadata");
    assert_eq!(status, 200);
    let cap = json_of(&cap);
    assert_eq!(cap["resourceType"], "CapabilityStatement");
    assert_eq!(cap["fhirVersion"], "4.0.1");
}

#[tokio::test]
async fn iti41_is_found_by_iti67_and_retrieved_by_iti68() {
    let node = TestNode::start();
    let pid = new_pid();
    node.add_patient(&pid);
    let bytes = b"<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><title>Lab</title></ClinicalDocument>";
    let d = xdsb::doc("Document01", &pid, "text/xml");
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid, std::slice::from_ref(&d)),
        &[("Document01", xdsb::Content::Inline(bytes))],
    );
    let r = node
        .call(
            "/xds/repository",
            "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
            &body,
        )
        .await;
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );

    let value = pid.split('^').next().unwrap();
    let q = format!(
        "/DocumentReference?patient=Patient/{}&type=http://loinc.org%7C34133-9",
        fhir_patient_id(&pid)
    );
    let (status, _, body) = get(&node, &q);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let set = json_of(&body);
    assert_eq!(set["total"], 1);
    let dr = &set["entry"][0]["resource"];
    assert_eq!(
        dr["masterIdentifier"]["value"],
        format!("urn:oid:{}", d.uid)
    );
    assert_eq!(
        dr["content"][0]["attachment"]["creation"],
        "2024-01-15T10:30:00Z"
    );
    assert_eq!(dr["securityLabel"][0]["coding"][0]["code"], "N");
    assert_eq!(dr["content"][0]["format"]["code"], "urn:ihe:pcc:xphr:2007");
    let author = dr["contained"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resourceType"] == "Practitioner")
        .unwrap();
    assert_eq!(author["name"][0]["family"], "Hansen");
    // A type the document does not have finds nothing.
    let q = format!("/DocumentReference?patient.identifier=urn:oid:{FNR}%7C{value}&type=http://loinc.org%7C11502-2");
    let (_, _, none) = get(&node, &q);
    assert_eq!(json_of(&none)["total"], 0);

    let url = dr["content"][0]["attachment"]["url"].as_str().unwrap();
    let path = &url[url.find("/fhir/").unwrap() + 5..];
    let (status, ct, raw) = curl(&node, "GET", path, "*/*", None);
    assert_eq!((status, ct.as_str()), (200, "text/xml"));
    assert_eq!(raw, bytes);
}

#[tokio::test]
async fn a_replacement_supersedes_the_original_and_xml_is_spoken_too() {
    let node = TestNode::start();
    let pid = new_pid();
    node.add_patient(&pid);
    let (status, first) = post_bundle(&node, &bundle(&pid, &uid(), &uid(), b"v1", None));
    assert_eq!(status, 200, "{first}");
    let original = location(&first, 1);
    let id = original.trim_start_matches("DocumentReference/");
    let (status, second) = post_bundle(&node, &bundle(&pid, &uid(), &uid(), b"v2", Some(id)));
    assert_eq!(status, 200, "{second}");
    let (_, ct, xml) = curl(
        &node,
        "GET",
        &format!("/{original}"),
        "application/fhir+xml",
        None,
    );
    assert!(ct.starts_with("application/fhir+xml"), "{ct}");
    let xml = String::from_utf8_lossy(&xml);
    assert!(xml.contains("<status value=\"superseded\"/>"), "{xml}");

    // The same Bundle as FHIR XML is taken as well.
    let b = bundle(&pid, &uid(), &uid(), b"xml", None);
    let r: fhirbolt::model::r4::Resource =
        fhirbolt::json::from_slice(&serde_json::to_vec(&b).unwrap(), None).unwrap();
    let x = fhirbolt::xml::to_vec(&r, None).unwrap();
    let (status, ct, out) = curl(
        &node,
        "POST",
        "",
        "application/fhir+xml",
        Some(("application/fhir+xml", &x)),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&out));
    assert!(ct.starts_with("application/fhir+xml"));
    assert!(String::from_utf8_lossy(&out).contains("201 Created"));
    assert_eq!(
        xdsb::find_documents(&node, &pid).await.len(),
        2,
        "v2 and the XML one are current"
    );
}

#[tokio::test]
async fn bad_bundles_get_an_operation_outcome_and_store_nothing() {
    let node = TestNode::start();
    let pid = new_pid();
    node.add_patient(&pid);
    let issues = |v: &Value| -> Vec<String> {
        v["issue"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|i| {
                        format!(
                            "{} {} {}",
                            i["code"], i["details"]["coding"][0]["code"], i["diagnostics"]
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };

    // A patient the feed never registered: the XDS rule and its code.
    let stranger = new_pid();
    let (status, oo) = post_bundle(&node, &bundle(&stranger, &uid(), &uid(), b"x", None));
    assert_eq!(
        (status, oo["resourceType"].as_str()),
        (422, Some("OperationOutcome")),
        "{oo}"
    );
    assert!(
        issues(&oo)
            .iter()
            .any(|i| i.contains("XDSUnknownPatientId")),
        "{:?}",
        issues(&oo)
    );

    // No masterIdentifier: refused before XDS, with where.
    let mut b = bundle(&pid, &uid(), &uid(), b"x", None);
    b["entry"][1]["resource"]
        .as_object_mut()
        .unwrap()
        .remove("masterIdentifier");
    let (status, oo) = post_bundle(&node, &b);
    assert_eq!(status, 422);
    assert_eq!(oo["issue"][0]["code"], "required");
    assert!(oo["issue"][0]["expression"][0]
        .as_str()
        .unwrap()
        .contains("masterIdentifier"));

    // The same document uniqueId twice: the second submission is refused whole.
    let doc_uid = uid();
    assert_eq!(
        post_bundle(&node, &bundle(&pid, &doc_uid, &uid(), b"x", None)).0,
        200
    );
    let (status, oo) = post_bundle(&node, &bundle(&pid, &doc_uid, &uid(), b"y", None));
    assert_eq!(status, 422);
    assert!(
        issues(&oo)
            .iter()
            .any(|i| i.contains("XDSDuplicateUniqueIdInRegistry")
                || i.contains("XDSNonIdenticalHash")),
        "{:?}",
        issues(&oo)
    );

    // A subject on another server is not fetched.
    let mut b = bundle(&pid, &uid(), &uid(), b"x", None);
    b["entry"][1]["resource"]["subject"]["reference"] =
        json!("https://elsewhere.example/fhir/Patient/1");
    let (status, oo) = post_bundle(&node, &b);
    assert_eq!(status, 422);
    assert!(
        issues(&oo)[0].contains("not a Patient of this server"),
        "{:?}",
        issues(&oo)
    );

    // Unreadable bodies, an unknown element, a DOCTYPE, a wrong media type.
    for (ct, body) in [
        ("application/fhir+json", b"{\"resourceType\": \"Bundle\", ".to_vec()),
        ("application/fhir+json", b"{\"resourceType\": \"Bundle\", \"type\": \"transaction\", \"bogus\": 1}".to_vec()),
        ("application/fhir+xml", b"<?xml version=\"1.0\"?><!DOCTYPE b [<!ENTITY x \"y\">]><Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"transaction\"/></Bundle>".to_vec()),
    ] {
        let (status, _, out) = curl(&node, "POST", "", "application/fhir+json", Some((ct, &body)));
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(&out));
        assert_eq!(json_of(&out)["resourceType"], "OperationOutcome");
    }
    // A refusal quotes the body; a control character in it, fine in JSON, is no XML: the XML
    // answer drops it and stays well-formed for a strict parser.
    let mut b = bundle(&pid, &uid(), &uid(), b"x", None);
    b["entry"][0]["request"]["method"] = json!("PUT\u{1}\u{b}X");
    let body = serde_json::to_vec(&b).unwrap();
    let (status, ct, out) = curl(
        &node,
        "POST",
        "",
        "application/fhir+xml",
        Some(("application/fhir+json", &body)),
    );
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&out));
    assert!(ct.starts_with("application/fhir+xml"), "{ct}");
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("method PUTX is not taken"), "{text}");
    let mut lint = Command::new("xmllint")
        .args(["--noout", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xmllint (libxml2-utils)");
    lint.stdin.take().unwrap().write_all(&out).unwrap();
    let lint = lint.wait_with_output().unwrap();
    assert!(
        lint.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&lint.stderr)
    );

    // Nesting that would overflow the reader's stack (and abort the node) is refused first.
    let n = 100_000;
    let deep_xml = format!(
        "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"transaction\"/>{}{}</Bundle>",
        "<entry><resource><Bundle><type value=\"collection\"/>".repeat(n),
        "</Bundle></resource></entry>".repeat(n)
    );
    let deep_json = format!(
        "{{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{}{}]}}",
        "{\"resource\":{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[".repeat(n),
        "]}}".repeat(n)
    );
    // Just under the limits: read in full (and refused as no Bundle), the node unharmed.
    let ext_xml = format!(
        "<Patient xmlns=\"http://hl7.org/fhir\">{}<valueString value=\"a\"/>{}</Patient>",
        "<extension url=\"http://x\">".repeat(98),
        "</extension>".repeat(98)
    );
    let ext_json = format!(
        "{{\"resourceType\":\"Patient\",{}\"valueString\":\"a\"{}}}",
        "\"extension\":[{\"url\":\"http://x\",".repeat(62),
        "}]".repeat(62)
    );
    for (ct, body, want) in [
        ("application/fhir+xml", deep_xml, "deeper than"),
        ("application/fhir+json", deep_json, "recursion limit"),
        ("application/fhir+xml", ext_xml, "takes a Bundle"),
        ("application/fhir+json", ext_json, "takes a Bundle"),
    ] {
        let (status, _, out) = curl(
            &node,
            "POST",
            "",
            "application/fhir+json",
            Some((ct, body.as_bytes())),
        );
        let text = String::from_utf8_lossy(&out);
        assert_eq!(status, 400, "{}", &text[..text.len().min(300)]);
        assert!(text.contains(want), "{}", &text[..text.len().min(300)]);
    }
    let (status, _, _) = get(&node, "/metadata");
    assert_eq!(status, 200, "the node survived the nesting");
    let (status, _, _) = curl(
        &node,
        "POST",
        "",
        "application/fhir+json",
        Some(("text/plain", b"hello")),
    );
    assert_eq!(status, 415);
    let (status, _, _) = curl(
        &node,
        "DELETE",
        "/DocumentReference/x",
        "application/fhir+json",
        None,
    );
    assert_eq!(status, 405);
    let (status, _, _) = get(&node, "/Observation");
    assert_eq!(status, 404);
    let (status, _, out) = get(
        &node,
        "/DocumentReference?patient.identifier=urn:oid:1.2%7C1&bogus=2",
    );
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&out).contains("bogus"));

    // Only the one good submission is in the registry.
    assert_eq!(xdsb::find_documents(&node, &pid).await, vec![doc_uid]);

    // Without a client certificate there is no TLS session at all.
    let out = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(node.pki.join("ca.pem"))
        .arg(node.url("/fhir/metadata"))
        .output()
        .expect("curl");
    let refused = !out.status.success()
        || !String::from_utf8_lossy(&out.stdout).contains("CapabilityStatement");
    assert!(refused, "metadata answered without a client certificate");
}
