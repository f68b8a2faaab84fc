//! The runner's transport on the real wire: SOAP 1.2 (MTOM for documents) over mutual TLS with
//! the node's outbound client, and HL7 v2 over MLLP for the patient feed.

use super::site::Site;
use super::transport::{to_xop, SoapFault, SoapRequest, SoapResponse, Transport, TransportError};
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
    rt: tokio::runtime::Handle,
    mtom: bool,
}

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
            client: HttpsClient::new(cfg, Duration::from_secs(120)),
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
