//! The served WSDLs as real SOAP tool chains load them: every WSDL of every endpoint resolves
//! completely (each schemaLocation, followed transitively, answers 200 with well-formed XML, and
//! unknown schemas 404), and Python zeep builds a client from each WSDL over mutual TLS and calls
//! ITI-41, ITI-42, ITI-18, ITI-43, ITI-38 and ITI-55 through it (tests/zeep/clients.py), its
//! typed requests built from the served schemas and the node's answers read through them.

mod common;
use common::meta::{self, Doc};
use common::{ehdsi, xdsb, TestNode};
use ncpeh::xml::Element;
use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every endpoint the node registers: (path, the WSDL service name it must declare).
const ENDPOINTS: &[(&str, &str)] = &[
    ("/xds/registry", "DocumentRegistry_Service"),
    ("/xds/repository", "DocumentRepository_Service"),
    ("/xca", "RespondingGateway_Service"),
    ("/xca/initiating", "InitiatingGateway_Service"),
    ("/xcpd", "RespondingGateway_Service"),
    ("/xcpd/initiating", "InitiatingGateway_Service"),
    ("/xdr", "DocumentRecipient_Service"),
];

const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";
const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";

async fn get(node: &TestNode, url: &str) -> (u16, String) {
    let r = node
        .client()
        .request(hyper::Method::GET, url, None, vec![])
        .await
        .expect("GET");
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

/// The schemaLocation of every xsd:import and xsd:include anywhere in `e`.
fn locations(e: &Element, out: &mut Vec<String>) {
    if e.ns.as_deref() == Some(XSD_NS) && (e.name == "import" || e.name == "include") {
        if let Some(l) = e.attr("schemaLocation") {
            out.push(l.to_string());
        }
    }
    for c in e.elements() {
        locations(c, out);
    }
}

#[tokio::test]
async fn every_wsdl_resolves_completely() {
    let node = TestNode::start();
    let mut fetched = 0;
    for (path, service) in ENDPOINTS {
        let wsdl_url = node.url(&format!("{path}?wsdl"));
        let (status, text) = get(&node, &wsdl_url).await;
        assert_eq!(status, 200, "{wsdl_url}");
        assert!(text.contains(service), "{wsdl_url} names {service}");
        let root = ncpeh::xml::parse(text.as_bytes(), Default::default())
            .expect("the WSDL is well-formed XML");
        assert!(root.is(WSDL_NS, "definitions"), "{wsdl_url}: {}", root.name);
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::new();
        let mut first = Vec::new();
        locations(&root, &mut first);
        assert!(!first.is_empty(), "{wsdl_url} imports no schema");
        queue.extend(first.into_iter().map(|l| (wsdl_url.clone(), l)));
        while let Some((from, location)) = queue.pop_front() {
            let prefix = node.url(&format!("{path}?xsd="));
            assert!(
                location.starts_with(&prefix),
                "{from} imports {location}, not a schema of {path} ({prefix}…)"
            );
            if !seen.insert(location.clone()) {
                continue;
            }
            let (status, text) = get(&node, &location).await;
            assert_eq!(status, 200, "{location} (imported by {from})");
            let xsd = ncpeh::xml::parse(text.as_bytes(), Default::default())
                .unwrap_or_else(|e| panic!("{location} is not well-formed: {e}"));
            assert!(xsd.is(XSD_NS, "schema"), "{location}: {}", xsd.name);
            fetched += 1;
            let mut more = Vec::new();
            locations(&xsd, &mut more);
            queue.extend(more.into_iter().map(|l| (location.clone(), l)));
        }
        let (status, _) = get(&node, &node.url(&format!("{path}?xsd=nosuch.xsd"))).await;
        assert_eq!(status, 404, "an unknown schema at {path}");
        let (status, _) = get(&node, &node.url(&format!("{path}?xsd=../rs.xsd"))).await;
        assert_eq!(status, 404, "a path for a schema name at {path}");
    }
    // registry 4 (lcm, query, rs, rim), repository 5 (+ XDS.b, rmd; no query), XCA 5 and XCA
    // initiating 5 (query, lcm, rs, rim, XDS.b), XDR 5 (Recipient, Repository, lcm, rs, rim), each
    // XCPD 3 (two interactions and the data types).
    assert_eq!(fetched, 30, "schema fetches over all endpoints");
}

/// The Python of the test venv with zeep, or None after saying why the zeep test is skipped.
/// Under NCPEH_TEST_REQUIRE_ZEEP=1 (set by tests/run.sh, which installs zeep) a missing zeep
/// fails the test instead.
fn zeep_python() -> Option<PathBuf> {
    let py = std::env::var_os("NCPEH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    let ok = Command::new(&py)
        .args(["-c", "import zeep, lxml, requests"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(py);
    }
    let why = format!(
        "no Python with zeep at {} (set NCPEH_PYTHON; tests/run.sh installs zeep in .venv)",
        py.display()
    );
    if std::env::var("NCPEH_TEST_REQUIRE_ZEEP").as_deref() == Ok("1") {
        panic!("{why}");
    }
    eprintln!("SKIP: {why}");
    None
}

#[tokio::test]
async fn zeep_clients_call_every_gateway_and_xds_actor() {
    let Some(py) = zeep_python() else { return };
    let node = TestNode::start();
    let (fnr, pid) = ehdsi::fnr_patient(&node);
    let dir = node.dir.path().join("zeep");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write input");
        p
    };

    // ITI-41 (through zeep): a text document, the repository fills hash, size and repository.
    // No CR/LF at either end: zeep strips them from binary MTOM parts (zeep 4.3,
    // wsdl/attachments.py), so the retrieved bytes would differ from the node's answer.
    let content = "Hei fra zeep: ITI-41 med inline base64.";
    let provided = xdsb::doc("Document01", &pid, "text/plain");
    let pnr = write(
        "provide.xml",
        &meta::simple_submission(&pid, std::slice::from_ref(&provided)),
    );
    // ITI-42 (through zeep): metadata only.
    let registered = Doc::new("Document02", &pid);
    let register = write(
        "register.xml",
        &meta::simple_submission(&pid, std::slice::from_ref(&registered)),
    );
    let xcpd = write("xcpd.xml", &common::xcpd_request(&fnr));
    let inputs = serde_json::json!({
        "base": node.soap,
        "ca": node.pki.join("ca.pem"),
        "cert": node.pki.join("client.pem"),
        "key": node.pki.join("client.key"),
        "pid": pid,
        "fnr": fnr,
        "home": "urn:oid:2.16.578.1.12.4.5.10.1",
        "repository": xdsb::REPO_UID,
        "provide": pnr,
        "provided_uid": provided.uid,
        "provided_content": content,
        "register": register,
        "registered_uid": registered.uid,
        "xcpd": xcpd,
        "xsd_dir": Path::new(env!("CARGO_MANIFEST_DIR")).join("wsdl/xsd"),
    });
    let inputs_path = write("inputs.json", &inputs.to_string());

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/zeep/clients.py");
    let out = Command::new(&py)
        .arg(&script)
        .arg(&inputs_path)
        // requests lets REQUESTS_CA_BUNDLE override a session's own CA; the script turns
        // the environment off for its session, and the child gets none of these anyway.
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        // Keep the inputs (the node's temporary folder goes with it) for running the script again.
        let kept = std::env::temp_dir().join(format!("ncpeh-wsdl-zeep-{}", uuid::Uuid::new_v4()));
        let _ = std::fs::create_dir_all(&kept);
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let _ = std::fs::copy(e.path(), kept.join(e.file_name()));
        }
        panic!(
            "zeep clients failed (inputs kept in {}):\n{stdout}\n{stderr}",
            kept.display()
        );
    }
    // The script's summary: one line per call, checked here too.
    let summary: serde_json::Value = serde_json::from_str(
        stdout
            .lines()
            .last()
            .expect("the script prints a summary line"),
    )
    .unwrap_or_else(|e| panic!("summary is not JSON ({e}):\n{stdout}"));
    let success = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success";
    assert_eq!(summary["iti41"]["status"], success, "{summary}");
    assert_eq!(summary["iti42"]["status"], success, "{summary}");
    assert_eq!(summary["iti18"]["status"], success, "{summary}");
    let found: BTreeSet<&str> = summary["iti18"]["unique_ids"]
        .as_array()
        .expect("unique ids")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(
        found,
        BTreeSet::from([provided.uid.as_str(), registered.uid.as_str()]),
        "{summary}"
    );
    assert_eq!(summary["iti43"]["status"], success, "{summary}");
    assert_eq!(summary["iti43"]["content"], content, "{summary}");
    assert_eq!(
        summary["iti43_unknown"]["error_codes"],
        serde_json::json!(["XDSDocumentUniqueIdError"]),
        "{summary}"
    );
    assert_eq!(summary["iti38"]["status"], success, "{summary}");
    assert_eq!(summary["iti55"]["ack"], "AA", "{summary}");
    assert_eq!(summary["iti55"]["patient"], fnr, "{summary}");
    assert_eq!(summary["validated"], 14, "{summary}");
}
