//! `ncpeh document submit`, run as a health trust would run it: a PDF with metadata from flags
//! and from a TOML template, over mTLS with the trust's client certificate, to a running node;
//! then found by ITI-18 and retrieved byte-identical by ITI-43. Refusals say why in words.

mod common;

use common::ehdsi as eh;
use common::{new_pid, xdsb, TestNode};
use std::process::{Command, Output};

fn submit(node: &TestNode, file: &std::path::Path, extra: &[&str], cert: &str) -> Output {
    let to = format!("{}/xds/repository", node.soap);
    let pem = |n: &str| node.pki.join(n).to_string_lossy().into_owned();
    Command::new(common::BIN)
        .args(["--config"])
        .arg(&node.config)
        .args(["document", "submit"])
        .arg(file)
        .args(["--to", &to, "--ca", &pem("ca.pem")])
        .args([
            "--cert",
            &pem(&format!("{cert}.pem")),
            "--key",
            &pem(&format!("{cert}.key")),
        ])
        .args(extra)
        .output()
        .expect("ncpeh runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const PDF: &[u8] = b"%PDF-1.4\n% ncpeh test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

#[tokio::test]
async fn a_health_trust_submits_a_document_that_is_then_found_and_retrieved() {
    let node = TestNode::start();
    let pid = new_pid();
    node.add_patient(&pid);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("epikrise.pdf");
    std::fs::write(&file, PDF).expect("write");

    // Everything as flags.
    let o = submit(
        &node,
        &file,
        &[
            "--patient",
            &pid,
            "--class",
            "A00-1^Epikriser og sammenfatninger",
            "--type",
            "A03-2^Epikrise",
            "--facility",
            "86.211^Allmennhelsetjeneste",
            "--practice",
            "1^Allmennmedisin",
            "--source-id",
            "2.16.578.1.12.4.1.2.81234",
            "--author",
            "9144900^Lin^Rita^^^^^^&2.16.578.1.12.4.1.4.4&ISO",
            "--title",
            "Epikrise etter innleggelse",
        ],
        "client",
    );
    assert!(o.status.success(), "{}", text(&o));
    let said = text(&o);
    assert!(said.starts_with("registered: document 2.25."), "{said}");
    let uid = said
        .split_whitespace()
        .nth(2)
        .expect("the uniqueId")
        .to_string();
    assert_eq!(xdsb::find_documents(&node, &pid).await, vec![uid.clone()]);
    let r = xdsb::retrieve(&node, &[(eh::REPO, uid.as_str())]).await;
    let docs = xdsb::documents(&r);
    assert_eq!(docs.len(), 1, "ITI-43 returns the document");
    assert_eq!(
        docs[0].1, "application/pdf",
        "the mimeType sniffed from the bytes"
    );
    assert_eq!(&docs[0].2[..], PDF, "byte-identical");

    // The trust's constant metadata in a template; a flag still wins over it.
    let tpl = dir.path().join("trust.toml");
    std::fs::write(
        &tpl,
        "class = \"A00-1^Epikriser og sammenfatninger\"\ntype = \"A13-2^Poliklinisk epikrise\"\nfacility = \"86.211\"\npractice = \"1\"\nsource_id = \"2.16.578.1.12.4.1.2.81234\"\ninstitution = \"Fjordby sykehus HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974899\"\n",
    )
    .expect("write");
    let tpl_arg = tpl.to_string_lossy().into_owned();
    let o = submit(
        &node,
        &file,
        &["--patient", &pid, "--template", &tpl_arg, "--type", "A03-2"],
        "client",
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("(A00-1 / A03-2)"), "{}", text(&o));
    assert_eq!(xdsb::find_documents(&node, &pid).await.len(), 2);
}

#[tokio::test]
async fn refusals_are_explained() {
    let node = TestNode::start();
    let pid = new_pid();
    node.add_patient(&pid);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("x.pdf");
    std::fs::write(&file, PDF).expect("write");

    // Every missing key at once, and nothing sent.
    let o = submit(
        &node,
        &file,
        &["--patient", &pid, "--class", "A00-1"],
        "client",
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let said = text(&o);
    for key in ["type", "facility", "practice", "source_id"] {
        assert!(said.contains(key), "{key} named: {said}");
    }
    let full = [
        "--class",
        "A00-1",
        "--type",
        "A03-2",
        "--facility",
        "86.211",
        "--practice",
        "1",
        "--source-id",
        "2.16.578.1.12.4.1.2.81234",
    ];
    // A patient the registry does not know: the registry's error, in words, exit 1.
    let stranger = new_pid();
    let mut args = vec!["--patient", stranger.as_str()];
    args.extend_from_slice(&full);
    let o = submit(&node, &file, &args, "client");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("refused:") && text(&o).contains("XDSUnknownPatientId"),
        "{}",
        text(&o)
    );
    // A certificate the node does not trust: no answer, exit 2.
    let mut args = vec!["--patient", pid.as_str()];
    args.extend_from_slice(&full);
    let o = submit(&node, &file, &args, "untrusted");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        xdsb::find_documents(&node, &pid).await.is_empty(),
        "nothing registered"
    );
}
