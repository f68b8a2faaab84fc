//! Graceful shutdown of `ncpeh serve`: SIGTERM while a large ITI-41 (MTOM) is still being
//! uploaded. The listeners close at once (new connections are refused) while the upload in
//! flight finishes and is answered; the node then exits 0 and the document is there. With a
//! grace period shorter than the upload, the request is cut unanswered, the node still exits 0,
//! and nothing of the submission is kept.

mod common;
use bytes::Bytes;
use common::xdsb::{self, Content, REPO_UID};
use common::{answer, meta, TestNode};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A request body fed from a channel, so the test decides when each piece goes out.
struct Fed(mpsc::Receiver<Bytes>);

impl Body for Fed {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

/// An HTTP/1.1 connection to the node's SOAP listener with the client certificate.
async fn connect<B>(node: &TestNode) -> hyper::client::conn::http1::SendRequest<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tls = ncpeh::transport::tls::client_config(
        &node.pki.join("ca.pem"),
        Some((&node.pki.join("client.pem"), &node.pki.join("client.key"))),
    )
    .expect("client TLS");
    let addr = node.soap.trim_start_matches("https://");
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("127.0.0.1").expect("server name");
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender
}

/// Bytes that do not repeat in any short period (a document, not a pattern).
fn document(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// An ITI-41 upload held open after its first half.
struct Upload {
    uid: String,
    data: Vec<u8>,
    rest: Vec<Bytes>,
    feed: mpsc::Sender<Bytes>,
    answer: tokio::task::JoinHandle<Result<ncpeh::transport::client::SoapResponse, String>>,
}

/// Starts an MTOM ITI-41 of one `len`-byte document and sends about half of the body.
async fn start_upload(node: &TestNode, pid: &str, len: usize) -> Upload {
    let data = document(len);
    let d = xdsb::doc("Big", pid, "application/pdf");
    let body = xdsb::pnr_body(
        &meta::simple_submission(pid, std::slice::from_ref(&d)),
        &[("Big", Content::Cid("big@test"))],
    );
    let (ct, mut chunks) = xdsb::mtom_body(
        xdsb::PROVIDE,
        xdsb::envelope(node, xdsb::PROVIDE, &body),
        vec![("big@test".into(), Bytes::from(data.clone()))],
    );
    let total: usize = chunks.iter().map(Bytes::len).sum();
    // Split the document part in two: everything before its middle goes now.
    let doc_at = chunks
        .iter()
        .position(|c| c.len() == len)
        .expect("document part");
    let doc = chunks.remove(doc_at);
    chunks.insert(doc_at, doc.slice(len / 2..));
    chunks.insert(doc_at, doc.slice(..len / 2));
    let rest = chunks.split_off(doc_at + 1);
    let mut sender = connect::<Fed>(node).await;
    let (feed, rx) = mpsc::channel(64);
    let req = hyper::Request::post("/xds/repository")
        .header(
            hyper::header::HOST,
            node.soap.trim_start_matches("https://"),
        )
        .header(hyper::header::CONTENT_TYPE, &ct)
        .header(hyper::header::CONTENT_LENGTH, total)
        .body(Fed(rx))
        .expect("request");
    let answer = tokio::spawn(async move {
        let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        ncpeh::transport::client::decode_soap_reply(ncpeh::transport::client::HttpReply {
            status,
            content_type,
            body,
        })
        .map_err(|e| e.to_string())
    });
    for c in chunks {
        feed.send(c).await.expect("body piece accepted");
    }
    // Let the first half reach the node: the request is in flight when the signal comes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    Upload {
        uid: d.uid,
        data,
        rest,
        feed,
        answer,
    }
}

/// Whether a TCP connection to `addr` is refused within `limit` (polling).
async fn refused_within(addr: &str, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Waits for the node to exit on a blocking thread (the runtime keeps serving the client).
async fn exit_status(node: TestNode, limit: Duration) -> (TestNode, Option<i32>, Duration) {
    let started = Instant::now();
    tokio::task::spawn_blocking(move || {
        let mut node = node;
        let st = node.wait_exit(limit);
        let code = st.map(|s| s.code().unwrap_or(-1));
        (node, code, started.elapsed())
    })
    .await
    .expect("wait task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_upload_in_flight_refuses_new_connections_and_exits_0() {
    let node = TestNode::start_logged();
    let pid = common::new_pid();
    node.add_patient(&pid);
    // An idle keep-alive connection must not hold the shutdown up.
    let mut idle = connect::<http_body_util::Empty<Bytes>>(&node).await;
    let wsdl = idle
        .send_request(
            hyper::Request::get("/xds/repository?wsdl")
                .header(hyper::header::HOST, "127.0.0.1")
                .body(http_body_util::Empty::new())
                .expect("request"),
        )
        .await
        .expect("WSDL");
    assert_eq!(wsdl.status(), 200);

    let upload = start_upload(&node, &pid, 6 * 1024 * 1024).await;
    node.terminate();
    let addrs = [
        node.soap.trim_start_matches("https://").to_string(),
        node.admin.trim_start_matches("http://").to_string(),
        node.feed.clone().expect("MLLP listener"),
    ];
    for a in &addrs {
        assert!(
            refused_within(a, Duration::from_secs(5)).await,
            "{a} still accepts connections after SIGTERM"
        );
    }
    assert!(
        !upload.answer.is_finished(),
        "the upload is still in flight"
    );
    for c in upload.rest {
        upload
            .feed
            .send(c)
            .await
            .expect("rest of the body accepted");
    }
    let r = tokio::time::timeout(Duration::from_secs(60), upload.answer)
        .await
        .expect("answered within a minute")
        .expect("answer task")
        .expect("the request in flight is answered");
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    // The grace period is 30 s; with the request answered, the idle connection alone must not
    // keep the node up.
    let (mut node, code, took) = exit_status(node, Duration::from_secs(20)).await;
    assert_eq!(code, Some(0), "exit status after SIGTERM");
    assert!(took < Duration::from_secs(10), "exit took {took:?}");
    drop(idle);

    let log = node.log();
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("shutdown complete"), "{log}");
    let shutdown_lines: Vec<&str> = log.lines().filter(|l| l.contains("shut")).collect();
    assert_eq!(shutdown_lines.len(), 2, "{shutdown_lines:?}");
    let id_number = pid.split('^').next().unwrap_or_default();
    assert!(
        !shutdown_lines.iter().any(|l| l.contains(id_number)),
        "no patient data in the shutdown lines"
    );

    // Acknowledged, so kept: registered, and the same bytes come back.
    node.restart();
    assert_eq!(
        xdsb::find_documents(&node, &pid).await,
        vec![upload.uid.clone()]
    );
    let r = xdsb::retrieve(&node, &[(REPO_UID, &upload.uid)]).await;
    let docs = xdsb::documents(&r);
    assert_eq!(docs.len(), 1);
    assert!(docs[0].2[..] == upload.data[..], "the stored bytes differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_outlasting_the_grace_period_is_cut_unanswered_and_nothing_is_kept() {
    let mut node = TestNode::start_logged();
    // [server] is written by the harness; the grace goes into that section.
    let cfg = std::fs::read_to_string(&node.config).expect("config");
    std::fs::write(
        &node.config,
        cfg.replacen("[server]\n", "[server]\nshutdown_grace_secs = 1\n", 1),
    )
    .expect("config");
    node.restart();
    let pid = common::new_pid();
    node.add_patient(&pid);

    let upload = start_upload(&node, &pid, 4 * 1024 * 1024).await;
    node.terminate();
    // The rest of the body is held back past the grace period.
    let (mut node, code, took) = exit_status(node, Duration::from_secs(20)).await;
    assert_eq!(code, Some(0), "exit status after SIGTERM");
    assert!(took < Duration::from_secs(10), "exit took {took:?}");
    for c in upload.rest {
        // The node is gone: the pieces may or may not be taken by the client connection.
        if upload.feed.send(c).await.is_err() {
            break;
        }
    }
    let r = tokio::time::timeout(Duration::from_secs(30), upload.answer)
        .await
        .expect("the client learns the connection is gone")
        .expect("answer task");
    assert!(r.is_err(), "a cut request gets no answer: {r:?}");
    let log = node.log();
    assert!(log.contains("unanswered requests cut"), "{log}");

    node.restart();
    assert!(
        xdsb::find_documents(&node, &pid).await.is_empty(),
        "nothing registered"
    );
    let r = xdsb::retrieve(&node, &[(REPO_UID, &upload.uid)]).await;
    assert!(xdsb::documents(&r).is_empty(), "no bytes stored");
}
