//! XUA against the real server: with `[xua] require_on_xds`, an ITI-41 needs a verified
//! assertion. Every defect of XUA-VARIANTS.txt (but the acceptable one) is refused with a
//! WS-Security fault and nothing of the submission is stored; a good assertion is served. The
//! offline checker (`ncpeh xua verify`) says the same, check by check.

mod common;
use common::answer::{self, SUCCESS};
use common::meta;
use common::xdsb::{self, Content};
use common::{TestNode, BIN};
use ncpeh::ids::action::{PROVIDE_AND_REGISTER, STORED_QUERY};
use ncpeh::registry::query::FIND_DOCUMENTS;
use ncpeh::saml::issue::{ehdsi_security, Defect, Professional, Signer};
use std::process::Command;

fn no_issuer(node: &TestNode) -> Signer {
    Signer::from_files(
        &node.pki.join("issuer-no.pem"),
        &node.pki.join("issuer-no.key"),
    )
    .unwrap()
}

fn security(signer: &Signer, defect: Option<Defect>) -> String {
    ehdsi_security(
        signer,
        &Professional::default(),
        None,
        defect,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap()
}

/// An ITI-41 of one small document for `pid`.
fn submission(pid: &str) -> String {
    let d = xdsb::doc("Doc", pid, "text/plain");
    xdsb::pnr_body(
        &meta::simple_submission(pid, &[d]),
        &[("Doc", Content::Inline(b"hello"))],
    )
}

/// How many documents the registry has for `pid` (asked with a good assertion).
async fn documents_of(node: &TestNode, pid: &str, good: &str) -> usize {
    let q = meta::query(
        FIND_DOCUMENTS,
        false,
        &[
            ("$XDSDocumentEntryPatientId", &format!("'{pid}'")),
            (
                "$XDSDocumentEntryStatus",
                "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
            ),
        ],
    );
    let r = node
        .call_as("client", "/xds/registry", STORED_QUERY, &q, Some(good))
        .await;
    assert_eq!(answer::status(&r.body), SUCCESS, "{:?}", r.fault);
    answer::objects(&r.body).len()
}

#[tokio::test]
async fn every_defect_is_refused_and_stores_nothing() {
    let node = TestNode::start_with(
        "[xua]\nrequire_on_xds = true\nnational_issuers = \"{PKI}/issuer-no.pem\"\n",
    );
    let signer = no_issuer(&node);
    let good = security(&signer, None);

    let pid = common::new_pid();
    node.add_patient(&pid);
    let r = node
        .call_as(
            "client",
            "/xds/repository",
            PROVIDE_AND_REGISTER,
            &submission(&pid),
            None,
        )
        .await;
    assert!(
        r.fault
            .as_deref()
            .unwrap_or_default()
            .contains("wsse:InvalidSecurity"),
        "no assertion: {:?}",
        r.fault
    );

    for (name, defect) in Defect::ALL {
        let pid = common::new_pid();
        node.add_patient(&pid);
        let sec = security(&signer, Some(*defect));
        let r = node
            .call_as(
                "client",
                "/xds/repository",
                PROVIDE_AND_REGISTER,
                &submission(&pid),
                Some(&sec),
            )
            .await;
        if defect.acceptable() {
            assert!(r.fault.is_none(), "{name}: {:?}", r.fault);
            assert_eq!(answer::status(&r.body), SUCCESS, "{name}");
            assert_eq!(documents_of(&node, &pid, &good).await, 1, "{name}");
        } else {
            let fault = r.fault.unwrap_or_default();
            assert!(
                fault.contains("wsse:"),
                "{name} was not refused: {:?}",
                answer::status(&r.body)
            );
            assert_eq!(
                documents_of(&node, &pid, &good).await,
                0,
                "{name} stored something"
            );
        }
    }

    // An assertion of a foreign issuer is no national assertion.
    let se = Signer::from_files(
        &node.pki.join("issuer-se.pem"),
        &node.pki.join("issuer-se.key"),
    )
    .unwrap();
    let r = node
        .call_as(
            "client",
            "/xds/repository",
            PROVIDE_AND_REGISTER,
            &submission(&pid),
            Some(&security(&se, None)),
        )
        .await;
    assert!(
        r.fault.unwrap_or_default().contains("does not chain"),
        "SE issuer accepted nationally"
    );

    let r = node
        .call_as(
            "client",
            "/xds/repository",
            PROVIDE_AND_REGISTER,
            &submission(&pid),
            Some(&good),
        )
        .await;
    assert_eq!(
        answer::status(&r.body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    assert_eq!(documents_of(&node, &pid, &good).await, 1);
}

fn xua_cli(node: &TestNode, args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&node.config)
        .arg("xua")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_offline_checker_names_each_check() {
    let node = TestNode::start();
    let dir = node.dir.path();
    let good = dir.join("good.xml");
    let issuer = node.pki.join("issuer-no.pem");
    let key = node.pki.join("issuer-no.key");
    let (code, _) = xua_cli(
        &node,
        &[
            "issue",
            "--issuer-cert",
            issuer.to_str().unwrap(),
            "--issuer-key",
            key.to_str().unwrap(),
            "--out",
            good.to_str().unwrap(),
            "--patient",
            "1^^^&2.16.578.1.12.4.1.4.1&ISO",
        ],
    );
    assert_eq!(code, 0);
    let (code, out) = xua_cli(
        &node,
        &[
            "verify",
            good.to_str().unwrap(),
            "--trust",
            issuer.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("all 2 assertion(s) pass"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");

    // As at a time before the issuer existed: the signer is not valid yet.
    let (code, out) = xua_cli(
        &node,
        &[
            "verify",
            good.to_str().unwrap(),
            "--trust",
            issuer.to_str().unwrap(),
            "--at",
            "2020-01-01T00:00:00Z",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL signer trusted: the certificate is not valid yet"),
        "{out}"
    );

    let bad = dir.join("bad.xml");
    let (code, _) = xua_cli(
        &node,
        &[
            "issue",
            "--issuer-cert",
            issuer.to_str().unwrap(),
            "--issuer-key",
            key.to_str().unwrap(),
            "--out",
            bad.to_str().unwrap(),
            "--defect",
            "secondrole",
        ],
    );
    assert_eq!(code, 0);
    let (code, out) = xua_cli(
        &node,
        &[
            "verify",
            bad.to_str().unwrap(),
            "--trust",
            issuer.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL single-valued attributes"), "{out}");
    assert!(out.contains("PASS signature"), "{out}");
}
