//! Decoding SOAP 1.2 request envelopes (with WS-Addressing) and encoding responses.

use super::fault::Fault;
use super::{SOAP11, SOAP12, WSA, WSSE};
use crate::xml::{self, esc_text, Element};

/// A decoded request: addressing headers plus the first body element.
#[derive(Debug)]
pub struct SoapRequest {
    pub action: String,
    pub message_id: Option<String>,
    pub to: Option<String>,
    pub reply_to: Option<String>,
    /// The wsse:Security header exactly as it arrived, standalone (see [`super::wss`]), for the
    /// trust layer to verify and the gateways to forward.
    pub security: Option<String>,
    pub body: Element,
}

/// Parses an envelope. `http_action` is the action from the Content-Type, used when the
/// envelope has no wsa:Action (and checked against it when both are present).
pub fn decode_request(
    bytes: &[u8],
    http_action: Option<&str>,
    limits: xml::Limits,
) -> Result<SoapRequest, Fault> {
    let mut root = xml::parse(bytes, limits).map_err(|e| Fault::sender(e.to_string()))?;
    if root.is(SOAP11, "Envelope") {
        return Err(Fault::version_mismatch());
    }
    if !root.is(SOAP12, "Envelope") {
        return Err(Fault::sender("The message is not a SOAP 1.2 Envelope"));
    }
    let body = take_body(&mut root).map_err(|why| Fault::sender(format!("The {why}")))?;
    let header = take_child(&mut root, "Header");
    let header = header.as_ref();
    let get = |name: &str| -> Option<String> {
        header
            .and_then(|h| h.child(WSA, name))
            .map(|e| e.text().trim().to_string())
    };
    let reply_to = header
        .and_then(|h| h.child(WSA, "ReplyTo"))
        .and_then(|r| r.child(WSA, "Address"))
        .map(|a| a.text().trim().to_string());
    let security = header
        .and_then(|h| h.child(WSSE, "Security"))
        .and_then(|_| super::wss::security_header(bytes));
    if let Some(h) = header {
        check_must_understand(h)?;
    }
    let action = match (get("Action"), http_action) {
        (Some(a), _) if !a.is_empty() => a,
        (_, Some(a)) if !a.is_empty() => a.to_string(),
        _ => return Err(Fault::missing_header("wsa:Action")),
    };
    Ok(SoapRequest {
        action,
        message_id: get("MessageID"),
        to: get("To"),
        reply_to,
        security,
        body,
    })
}

/// The element inside a SOAP 1.2 envelope's Body, moved out of the tree, not cloned: it may be
/// tens of megabytes. The error names what is missing.
pub fn take_body(env: &mut Element) -> Result<Element, &'static str> {
    take_child(env, "Body")
        .ok_or("envelope has no Body")?
        .children
        .into_iter()
        .find_map(|n| match n {
            xml::Node::Element(e) => Some(e),
            xml::Node::Text(_) => None,
        })
        .ok_or("SOAP Body is empty")
}

/// The first SOAP 1.2 child of the envelope with this name, taken out of it.
fn take_child(env: &mut Element, name: &str) -> Option<Element> {
    let at = env
        .children
        .iter()
        .position(|n| matches!(n, xml::Node::Element(e) if e.is(SOAP12, name)))?;
    match env.children.swap_remove(at) {
        xml::Node::Element(e) => Some(e),
        xml::Node::Text(_) => None,
    }
}

/// Headers we process; any other header marked mustUnderstand="true" gets a fault.
fn check_must_understand(header: &Element) -> Result<(), Fault> {
    for h in header.elements() {
        let mu = h.attr_ns(SOAP12, "mustUnderstand");
        if matches!(mu, Some("true") | Some("1")) {
            let known = h.ns.as_deref() == Some(WSA) || h.ns.as_deref() == Some(WSSE);
            if !known {
                let mut f = Fault::sender(format!(
                    "Header {{{}}}{} is not understood",
                    h.ns.as_deref().unwrap_or(""),
                    h.name
                ));
                f.code = super::FaultCode::MustUnderstand;
                return Err(f);
            }
        }
    }
    Ok(())
}

/// A response envelope around an already-serialised body element.
pub fn encode_response(action: &str, relates_to: Option<&str>, body_xml: &str) -> String {
    let relates = relates_to
        .map(|r| format!("<wsa:RelatesTo>{}</wsa:RelatesTo>", esc_text(r)))
        .unwrap_or_default();
    let mut out = String::with_capacity(body_xml.len() + 512);
    out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    out.push_str(&format!(
        r#"<env:Envelope xmlns:env="{SOAP12}" xmlns:wsa="{WSA}"><env:Header><wsa:Action env:mustUnderstand="1">{}</wsa:Action>{relates}</env:Header><env:Body>"#,
        esc_text(action)
    ));
    out.push_str(body_xml);
    out.push_str("</env:Body></env:Envelope>");
    out
}

/// A request envelope, for the node's own outbound calls.
pub fn encode_request(action: &str, to: &str, message_id: &str, body_xml: &str) -> String {
    encode_secured_request(action, to, message_id, None, body_xml)
}

/// A request envelope carrying a wsse:Security header (standalone XML, as
/// [`super::wss::security_header`] cuts it out of an incoming request), placed as it is.
pub fn encode_secured_request(
    action: &str,
    to: &str,
    message_id: &str,
    security: Option<&str>,
    body_xml: &str,
) -> String {
    let security = security.unwrap_or_default();
    let mut out = String::with_capacity(body_xml.len() + security.len() + 640);
    out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    out.push_str(&format!(
        concat!(
            r#"<env:Envelope xmlns:env="{}" xmlns:wsa="{}"><env:Header>"#,
            r#"<wsa:Action env:mustUnderstand="1">{}</wsa:Action><wsa:MessageID>{}</wsa:MessageID>"#,
            r#"<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>"#,
            r#"<wsa:To env:mustUnderstand="1">{}</wsa:To>"#
        ),
        SOAP12,
        WSA,
        esc_text(action),
        esc_text(message_id),
        esc_text(to)
    ));
    out.push_str(security);
    out.push_str("</env:Header><env:Body>");
    out.push_str(body_xml);
    out.push_str("</env:Body></env:Envelope>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(ns: &str, header: &str) -> String {
        format!(
            r#"<e:Envelope xmlns:e="{ns}" xmlns:a="{WSA}"><e:Header>{header}</e:Header><e:Body><x:q xmlns:x="urn:q"/></e:Body></e:Envelope>"#
        )
    }

    #[test]
    fn decodes_addressing() {
        let x = env(
            SOAP12,
            "<a:Action>urn:act</a:Action><a:MessageID>urn:uuid:1</a:MessageID><a:To>https://h/x</a:To>",
        );
        let r = decode_request(x.as_bytes(), None, xml::Limits::default()).unwrap();
        assert_eq!(r.action, "urn:act");
        assert_eq!(r.message_id.as_deref(), Some("urn:uuid:1"));
        assert!(r.body.is("urn:q", "q"));
    }

    #[test]
    fn soap11_and_missing_action() {
        let x = env(SOAP11, "<a:Action>urn:act</a:Action>");
        let f = decode_request(x.as_bytes(), None, xml::Limits::default()).unwrap_err();
        assert_eq!(f.code, super::super::FaultCode::VersionMismatch);
        let x = env(SOAP12, "");
        let f = decode_request(x.as_bytes(), None, xml::Limits::default()).unwrap_err();
        assert_eq!(f.subcode, Some("wsa:MessageAddressingHeaderRequired"));
    }
}
