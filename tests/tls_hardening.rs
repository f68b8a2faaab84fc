//! The SOAP listener's TLS as a peer's tool sees it (openssl s_client): TLS 1.2/1.3 with
//! forward-secret AES-GCM suites only; CRLs and the server certificate reloaded on SIGHUP; the
//! handshake bounded in time.

mod common;
use common::TestNode;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn host_port(node: &TestNode) -> String {
    node.soap.trim_start_matches("https://").to_string()
}

/// `openssl s_client` against the node with the dev client certificate and `args`; (handshake
/// completed, everything it printed).
fn s_client(node: &TestNode, cert: &str, args: &[&str]) -> (bool, String) {
    let pki = &node.pki;
    let out = Command::new("openssl")
        .arg("s_client")
        .args(["-connect", &host_port(node), "-servername", "localhost"])
        .arg("-CAfile")
        .arg(pki.join("ca.pem"))
        .arg("-cert")
        .arg(pki.join(format!("{cert}.pem")))
        .arg("-key")
        .arg(pki.join(format!("{cert}.key")))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("openssl s_client (apt package openssl)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let done = out.status.success() && text.contains("Verify return code: 0 (ok)");
    (done, text)
}

#[test]
fn only_tls_1_2_and_1_3_with_ecdhe_aes_gcm_suites_are_negotiated() {
    let node = TestNode::start();
    let (ok, out) = s_client(&node, "client", &["-tls1_3"]);
    assert!(ok && out.contains("TLS_AES_256_GCM_SHA384"), "{out}");
    let (ok, out) = s_client(
        &node,
        "client",
        &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"],
    );
    assert!(ok && out.contains("ECDHE-ECDSA-AES256-GCM-SHA384"), "{out}");

    // Each offer the client makes is one the node must turn down with an alert of its own.
    // SECLEVEL=0 lets OpenSSL offer what its own defaults would already hide.
    let refused: [(&str, &[&str]); 7] = [
        ("TLS 1.1", &["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]),
        ("TLS 1.0", &["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"]),
        (
            "a NULL cipher",
            &[
                "-tls1_2",
                "-cipher",
                "NULL-SHA256:ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0",
            ],
        ),
        (
            "RSA key exchange",
            &[
                "-tls1_2",
                "-cipher",
                "AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-SHA",
            ],
        ),
        (
            "CBC suites",
            &[
                "-tls1_2",
                "-cipher",
                "ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA",
            ],
        ),
        // Not in the eHDSI list, though rustls would speak them by default.
        (
            "ChaCha20 on TLS 1.2",
            &["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"],
        ),
        (
            "ChaCha20 on TLS 1.3",
            &["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"],
        ),
    ];
    for (what, args) in refused {
        let (ok, out) = s_client(&node, "client", args);
        assert!(!ok, "{what} was accepted:\n{out}");
        assert!(
            out.contains("alert protocol version") || out.contains("alert handshake failure"),
            "{what}: the refusal should be the node's alert:\n{out}"
        );
    }
}

/// Whether a new connection with `cert` gets a SOAP answer.
async fn answered(node: &TestNode, cert: &str) -> bool {
    let q = common::meta::query(
        ncpeh::registry::query::FIND_DOCUMENTS,
        true,
        &[
            (
                "$XDSDocumentEntryPatientId",
                "'1^^^&2.16.578.1.12.4.1.4.1&ISO'",
            ),
            (
                "$XDSDocumentEntryStatus",
                "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
            ),
        ],
    );
    let action = "urn:ihe:iti:2007:RegistryStoredQuery";
    let url = node.url("/xds/registry");
    let env = common::xdsb::envelope(node, action, &q);
    node.client_as(Some(cert))
        .soap(&url, action, env)
        .await
        .is_ok()
}

async fn reload(node: &TestNode, outcome: &str) {
    common::sighup_reload(node, outcome).await
}

fn ncpeh(args: &[&str]) {
    let out = Command::new(common::BIN)
        .args(args)
        .output()
        .expect("ncpeh");
    assert!(
        out.status.success(),
        "ncpeh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Restarts `node` with `line` added to the config section `section`.
fn restart_with(node: &mut TestNode, section: &str, line: &str) {
    let cfg = std::fs::read_to_string(&node.config).expect("config");
    let head = format!("[{section}]\n");
    std::fs::write(
        &node.config,
        cfg.replacen(&head, &format!("{head}{line}\n"), 1),
    )
    .expect("config");
    node.restart();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_client_is_refused_from_the_next_connection_after_sighup() {
    let mut node = TestNode::start();
    let pki = node.pki.display().to_string();
    ncpeh(&["pki", "crl", "--dir", &pki]);
    restart_with(
        &mut node,
        "tls",
        &format!("crl_files = [\"{pki}/crl.pem\"]"),
    );
    assert!(answered(&node, "client").await, "not revoked yet");

    let client_pem = format!("{pki}/client.pem");
    ncpeh(&["pki", "crl", "--dir", &pki, "--revoke", &client_pem]);
    assert!(
        answered(&node, "client").await,
        "the CRL file alone changes nothing before SIGHUP"
    );
    reload(&node, "ok").await;
    assert!(
        !answered(&node, "client").await,
        "a revoked client got through"
    );
    assert!(
        answered(&node, "foreign-se").await,
        "a client not revoked was refused"
    );

    // A broken CRL file is refused at reload; the last good lists stay in force.
    std::fs::write(
        format!("{pki}/crl.pem"),
        "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
    )
    .expect("spoil CRL");
    reload(&node, "failed").await;
    assert!(
        !answered(&node, "client").await,
        "the revocation was lost with the bad file"
    );
    assert!(answered(&node, "foreign-se").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_crl_refuses_the_clients_of_its_issuer() {
    let mut node = TestNode::start();
    let pki = node.pki.display().to_string();
    ncpeh(&["pki", "crl", "--dir", &pki]);
    let crl = format!("{pki}/crl.pem");
    restart_with(&mut node, "tls", &format!("crl_files = [\"{crl}\"]"));
    assert!(
        answered(&node, "client").await,
        "a current CRL refused a good client"
    );
    // An expired one is made by hand: the CLI never issues one.
    expire_crl(&node.pki);
    reload(&node, "ok").await;
    assert!(
        !answered(&node, "client").await,
        "an expired CRL still let clients in"
    );
}

/// Replaces the dev CA's CRL by one whose nextUpdate has passed.
fn expire_crl(pki: &std::path::Path) {
    use rcgen::{CertificateParams, CertificateRevocationListParams, KeyIdMethod, KeyPair};
    let key = KeyPair::from_pem(&std::fs::read_to_string(pki.join("ca.key")).unwrap()).unwrap();
    let ca =
        CertificateParams::from_ca_cert_pem(&std::fs::read_to_string(pki.join("ca.pem")).unwrap())
            .unwrap()
            .self_signed(&key)
            .unwrap();
    let now = time::OffsetDateTime::now_utc();
    let crl = CertificateRevocationListParams {
        this_update: now - time::Duration::days(2),
        next_update: now - time::Duration::days(1),
        crl_number: 99u64.into(),
        issuing_distribution_point: None,
        revoked_certs: Vec::new(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&ca, &key)
    .unwrap();
    std::fs::write(pki.join("crl.pem"), crl.pem().unwrap()).unwrap();
}

/// The leaf certificate the node presents now, as PEM body text.
fn presented_cert(node: &TestNode) -> String {
    let (ok, out) = s_client(node, "client", &["-tls1_3"]);
    assert!(ok, "{out}");
    let start = out
        .find("-----BEGIN CERTIFICATE-----")
        .expect("certificate in output");
    let end = out
        .find("-----END CERTIFICATE-----")
        .expect("end of certificate");
    out[start..end].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_certificate_is_rotated_on_sighup_without_a_restart() {
    let node = TestNode::start();
    let pid_before = node.pid();
    let file =
        |n: &TestNode| std::fs::read_to_string(n.pki.join("server.pem")).expect("server.pem");
    let old = file(&node);
    assert!(old.contains(&presented_cert(&node)));

    ncpeh(&[
        "pki",
        "renew-server",
        "--dir",
        &node.pki.display().to_string(),
    ]);
    let new = file(&node);
    assert_ne!(old, new);
    // Until the signal the node keeps presenting what it loaded.
    assert!(old.contains(&presented_cert(&node)));
    reload(&node, "ok").await;
    let now = presented_cert(&node);
    assert!(
        new.contains(&now) && !old.contains(&now),
        "the new certificate is not served"
    );
    assert!(answered(&node, "client").await);
    assert_eq!(node.pid(), pid_before, "the node was restarted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_never_finishes_the_handshake_is_cut_off() {
    let mut node = TestNode::start();
    restart_with(&mut node, "server", "handshake_timeout_secs = 1");
    let failures = "ncpeh_tls_handshake_failures_total";
    let before = node.metric(failures).await;
    // One says nothing at all; one sends the first bytes of a ClientHello and stops.
    let mut silent = tokio::net::TcpStream::connect(host_port(&node))
        .await
        .expect("connect");
    let mut partial = tokio::net::TcpStream::connect(host_port(&node))
        .await
        .expect("connect");
    partial
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .expect("send");
    let started = Instant::now();
    for s in [&mut silent, &mut partial] {
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("the node should have closed the connection");
        // EOF, or a reset: either way the node let go.
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "closed before the timeout: {took:?}"
    );
    // The count is taken as the node lets go of a connection, which may come a moment after
    // the client sees it closed.
    let until = Instant::now() + Duration::from_secs(5);
    while node.metric(failures).await < before + 2.0 {
        assert!(
            Instant::now() < until,
            "two handshake failures were not counted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        answered(&node, "client").await,
        "honest clients must still be served"
    );
}
