//! The node's outbound certificate (what it presents to peers) is renewed on SIGHUP like the
//! server's: after `pki renew-server` and a SIGHUP, the next call to a peer comes on a new
//! connection with the new certificate, not on the kept-alive one made with the old.

mod common;
use common::{init_pki, new_pid, TestNode};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex};

/// Client certificates (DER) presented to the recording peer, one per TLS connection.
type Seen = Arc<Mutex<Vec<Vec<u8>>>>;

/// A peer that requires a client certificate of the dev CA, notes it per connection, keeps
/// connections alive, and answers every request with a SOAP fault.
async fn recording_peer(pki: &std::path::Path) -> (String, Seen) {
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new({
            let mut roots = rustls::RootCertStore::empty();
            for c in ncpeh::pki::load_certs(&pki.join("ca.pem")).unwrap() {
                roots.add(c).unwrap();
            }
            roots
        }),
        ncpeh::transport::tls::provider(),
    )
    .build()
    .unwrap();
    let cfg = rustls::ServerConfig::builder_with_provider(ncpeh::transport::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            ncpeh::pki::load_certs(&pki.join("foreign-se.pem")).unwrap(),
            ncpeh::pki::load_key(&pki.join("foreign-se.key")).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/xca", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let noted = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, noted) = (acceptor.clone(), noted.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Some(leaf) = tls.get_ref().1.peer_certificates().and_then(|c| c.first()) {
                    noted.lock().unwrap().push(leaf.to_vec());
                }
                let svc = hyper::service::service_fn(|_req: Request<Incoming>| async {
                    let fault = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code><s:Reason><s:Text xml:lang=\"en\">recorded</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>";
                    let mut r = Response::new(Full::new(Bytes::from(fault)));
                    *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
                    r.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/soap+xml"),
                    );
                    Ok::<_, std::convert::Infallible>(r)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    (url, seen)
}

async fn ask_the_peer(ig: &TestNode) {
    let pid = new_pid();
    let q = common::meta::query(
        ncpeh::registry::query::FIND_DOCUMENTS,
        true,
        &[
            ("$XDSDocumentEntryPatientId", &format!("'{pid}'")),
            (
                "$XDSDocumentEntryStatus",
                "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
            ),
        ],
    );
    let r = ig
        .call("/xca/initiating", ncpeh::ids::action::STORED_QUERY, &q)
        .await;
    assert_eq!(
        common::answer::error_codes(&r.body),
        ["XDSUnavailableCommunity"],
        "the faulting peer is reported"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_certificate_presented_to_peers_is_renewed_on_sighup() {
    let pki_dir = tempfile::tempdir().unwrap();
    let pki = pki_dir.path().join("pki");
    init_pki(&pki);
    let (url, seen) = recording_peer(&pki).await;
    let ig = TestNode::start_in_pki(
        &pki,
        "server",
        &format!("[[peers]]\nhome_community_id = \"urn:oid:2.2\"\ncountry = \"SE\"\nxca_url = \"{url}\"\n"),
    );
    let leaf = |p: &std::path::Path| ncpeh::pki::load_certs(p).unwrap()[0].to_vec();
    let old = leaf(&pki.join("server.pem"));

    ask_the_peer(&ig).await;
    ask_the_peer(&ig).await;
    assert_eq!(
        *seen.lock().unwrap(),
        vec![old.clone()],
        "two calls on one kept-alive connection, with the node's certificate"
    );

    let out = std::process::Command::new(common::BIN)
        .args(["pki", "renew-server", "--dir"])
        .arg(&pki)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new = leaf(&pki.join("server.pem"));
    assert_ne!(old, new);

    common::sighup_reload(&ig, "ok").await;

    ask_the_peer(&ig).await;
    let presented = seen.lock().unwrap().clone();
    assert_eq!(presented.len(), 2, "a new connection after the reload");
    assert_eq!(presented[1], new, "the renewed certificate");
}
