//! The runner's transport on the real wire: SOAP 1.2 (MTOM for documents) over mutual TLS with
//! the node's outbound client, HL7 v2 over MLLP for the patient feed, and plain HTTPS for the
//! FHIR steps (the node's client sets no Accept header, which FHIR reads need).

use super::site::Site;
use super::transport::{
    to_xop, HttpRequest, HttpResponse, SoapFault, SoapRequest, SoapResponse, Transport,
    TransportError,
};
use base64::Engine;
use bytes::Bytes;
use hyper::Method;
use ncpeh::soap::envelope::encode_secured_request;
use ncpeh::soap::XOP;
use ncpeh::transport::client::HttpsClient;
use ncpeh::transport::tls::client_config;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct WireTransport {
    client: HttpsClient,
    /// The same client identity, for the FHIR requests.
    tls: std::sync::Arc<tokio_rustls::rustls::ClientConfig>,
    rt: tokio::runtime::Handle,
    mtom: bool,
}

/// FHIR answers are documents; a cap keeps a broken server from filling memory.
const MAX_HTTP_BODY: usize = 256 * 1024 * 1024;
const HTTP_TIMEOUT: Duration = Duration::from_secs(120);

impl WireTransport {
    /// Must be called inside a tokio runtime; `send` must then run outside its worker threads.
    pub fn new(site: &Site) -> Result<WireTransport, String> {
        let tls = site
            .tls
            .as_ref()
            .ok_or("the site file has no [tls] section (or pass --pki DIR)")?;
        let cfg = client_config(&tls.ca, Some((&tls.client_cert, &tls.client_key)))
            .map_err(|e| e.to_string())?;
        Ok(WireTransport {
            client: HttpsClient::new(cfg.clone(), Duration::from_secs(120)),
            tls: cfg,
            rt: tokio::runtime::Handle::current(),
            mtom: site.mtom,
        })
    }
}

fn err(endpoint: &str, message: impl Into<String>) -> TransportError {
    TransportError {
        endpoint: endpoint.to_string(),
        message: message.into(),
    }
}

impl Transport for WireTransport {
    fn send(&self, req: &SoapRequest) -> Result<SoapResponse, TransportError> {
        let msg_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let security = req.security.as_deref();
        let envelope =
            |body: &str| encode_secured_request(&req.action, &req.url, &msg_id, security, body);
        let has_docs = req.body.contains("urn:ihe:iti:xds-b:2007") && req.body.contains("Document");
        let (ct, chunks) = if self.mtom && (req.use_mtom || has_docs) {
            let (body, parts) = to_xop(&req.body).map_err(|e| err(&req.url, e.to_string()))?;
            let env = envelope(&body);
            let parts = parts
                .into_iter()
                .map(|p| ncpeh::soap::Attachment {
                    content_id: p.content_id,
                    mime_type: "application/octet-stream".to_string(),
                    data: Bytes::from(p.bytes),
                })
                .collect();
            ncpeh::soap::mtom::encode(&req.action, env, parts)
        } else {
            let env = envelope(&req.body);
            (
                format!(
                    "application/soap+xml; charset=UTF-8; action=\"{}\"",
                    req.action
                ),
                vec![Bytes::from(env)],
            )
        };
        let reply = self
            .rt
            .block_on(
                self.client
                    .request(Method::POST, &req.url, Some(&ct), chunks),
            )
            .map_err(|e| err(&req.url, e.to_string()))?;
        let status = reply.status;
        let decoded = ncpeh::transport::client::decode_soap_reply(reply)
            .map_err(|e| err(&req.url, format!("HTTP {status}: {e}")))?;
        if let Some(f) = decoded.fault {
            let (code, reason) = f.split_once(": ").unwrap_or((&f, ""));
            return Ok(SoapResponse {
                action: decoded.action,
                body: String::new(),
                fault: Some(SoapFault {
                    code: code.to_string(),
                    reason: reason.to_string(),
                }),
            });
        }
        let parts = decoded.parts;
        let inline = |e: &ncpeh::xml::Element| -> Option<String> {
            if !e.is(XOP, "Include") {
                return None;
            }
            let cid = ncpeh::soap::mtom::strip_cid(e.attr("href").unwrap_or_default());
            parts
                .get(&cid)
                .map(|p| base64::engine::general_purpose::STANDARD.encode(&p.body))
        };
        Ok(SoapResponse {
            action: decoded.action,
            body: ncpeh::xml::serialize(&decoded.body, &inline),
            fault: None,
        })
    }

    fn http(&self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let exchange = http_exchange(self.tls.clone(), req);
        self.rt
            .block_on(async { tokio::time::timeout(HTTP_TIMEOUT, exchange).await })
            .map_err(|_| err(&req.url, format!("timed out after {HTTP_TIMEOUT:?}")))?
            .map_err(|e| err(&req.url, e))
    }

    fn patient_feed(&self, address: &str, message: &str) -> Result<String, TransportError> {
        let mut s = TcpStream::connect(address).map_err(|e| err(address, e.to_string()))?;
        let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
        let mut framed = Vec::with_capacity(message.len() + 3);
        framed.push(0x0b);
        framed.extend_from_slice(message.as_bytes());
        framed.extend_from_slice(&[0x1c, 0x0d]);
        s.write_all(&framed)
            .map_err(|e| err(address, e.to_string()))?;
        let mut ack = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = s.read(&mut buf).map_err(|e| err(address, e.to_string()))?;
            if n == 0 {
                break;
            }
            ack.extend_from_slice(&buf[..n]);
            if ack.ends_with(&[0x1c, 0x0d]) || ack.len() > 1 << 20 {
                break;
            }
        }
        let text = String::from_utf8_lossy(&ack);
        Ok(text
            .trim_matches(|c| c == '\u{0b}' || c == '\u{1c}' || c == '\r')
            .to_string())
    }
}

/// One HTTPS request on a connection of its own (a test step's pace needs no pool).
async fn http_exchange(
    tls: std::sync::Arc<tokio_rustls::rustls::ClientConfig>,
    req: &HttpRequest,
) -> Result<HttpResponse, String> {
    use http_body_util::{BodyExt, Full, Limited};
    use hyper_util::rt::TokioIo;
    use tokio_rustls::rustls::pki_types::ServerName;

    let uri: hyper::Uri = req.url.parse().map_err(|e| format!("bad URL: {e}"))?;
    if uri.scheme_str() != Some("https") {
        return Err("only https URLs are supported".into());
    }
    let host = uri.host().ok_or("URL without host")?.to_string();
    let port = uri.port_u16().unwrap_or(443);
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let name = ServerName::try_from(host.clone()).map_err(|e| e.to_string())?;
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut builder = hyper::Request::builder()
        .method(req.method)
        .uri(path)
        .header(hyper::header::HOST, format!("{host}:{port}"))
        .header(hyper::header::ACCEPT, &req.accept);
    if let Some(ct) = &req.content_type {
        builder = builder.header(hyper::header::CONTENT_TYPE, ct);
    }
    let request = builder
        .body(Full::new(Bytes::from(req.body.clone())))
        .map_err(|e| e.to_string())?;
    let resp = sender
        .send_request(request)
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = Limited::new(resp.into_body(), MAX_HTTP_BODY)
        .collect()
        .await
        .map_err(|e| format!("response body: {e}"))?
        .to_bytes()
        .to_vec();
    Ok(HttpResponse {
        status,
        content_type,
        body,
    })
}
