//! Content-Type parsing and the MTOM/XOP multipart/related codec.
//! Parts are zero-copy slices of the received body.

use bytes::Bytes;
use memchr::memmem;
use std::collections::HashMap;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MtomError {
    #[error("multipart/related Content-Type has no boundary")]
    NoBoundary,
    #[error("the multipart boundary must be 1 to 70 characters (RFC 2046)")]
    BadBoundary,
    #[error("multipart body is truncated: no closing boundary")]
    Truncated,
    #[error("multipart part has malformed headers")]
    BadPartHeaders,
    #[error("multipart part without Content-ID")]
    MissingContentId,
    #[error("duplicate Content-ID {0}")]
    DuplicateContentId(String),
    #[error("more than {0} MIME parts")]
    TooManyParts(usize),
    #[error("no root part")]
    NoRoot,
}

/// A parsed Content-Type header: lower-cased media type plus parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentType {
    pub media_type: String,
    pub params: Vec<(String, String)>,
}

impl ContentType {
    pub fn parse(s: &str) -> ContentType {
        let mut parts = split_params(s).into_iter();
        let media_type = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let params = parts
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                Some((k.trim().to_ascii_lowercase(), v.to_string()))
            })
            .collect();
        ContentType { media_type, params }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_multipart(&self) -> bool {
        self.media_type == "multipart/related"
    }
}

/// Splits on ';' outside quotes.
fn split_params(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ';' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[derive(Debug, Clone)]
pub struct Part {
    pub content_type: Option<String>,
    pub body: Bytes,
}

/// A multipart/related message: the root (SOAP) part and the attachments by Content-ID
/// (without angle brackets).
#[derive(Debug, Default)]
pub struct MtomMessage {
    pub root: Bytes,
    pub root_content_type: Option<String>,
    pub parts: HashMap<String, Part>,
}

pub const MAX_PARTS: usize = 10_000;

/// RFC 2046's limit: a longer boundary is no MIME a conforming sender makes.
pub const MAX_BOUNDARY: usize = 70;

pub fn decode(ct: &ContentType, body: Bytes) -> Result<MtomMessage, MtomError> {
    let boundary = ct.param("boundary").ok_or(MtomError::NoBoundary)?;
    if boundary.is_empty() || boundary.len() > MAX_BOUNDARY {
        return Err(MtomError::BadBoundary);
    }
    let start = ct.param("start").map(strip_cid);
    let delim = format!("--{boundary}");
    let d = delim.as_bytes();
    let delimiter = memmem::Finder::new(d);
    let find = |from: usize| {
        body.get(from..)
            .and_then(|h| delimiter.find(h))
            .map(|i| i + from)
    };

    // Position after the first delimiter line.
    let mut pos = find(0).ok_or(MtomError::Truncated)? + d.len();
    let mut parts: Vec<(Option<String>, Part)> = Vec::new();
    loop {
        if body[pos..].starts_with(b"--") {
            break;
        }
        pos = skip_line(&body, pos).ok_or(MtomError::Truncated)?;
        let next = find(pos).ok_or(MtomError::Truncated)?;
        // The CRLF before a delimiter belongs to the delimiter (never reaching back before
        // this part's start: an empty part has none of its own).
        let mut end = next;
        if end >= pos + 2 && &body[end - 2..end] == b"\r\n" {
            end -= 2;
        } else if end > pos && body[end - 1] == b'\n' {
            end -= 1;
        }
        let (headers, content_start) = parse_headers(&body[pos..end])?;
        let cid = header(&headers, "content-id").map(strip_cid);
        let ctype = header(&headers, "content-type").map(str::to_string);
        parts.push((
            cid,
            Part {
                content_type: ctype,
                body: body.slice(pos + content_start..end),
            },
        ));
        if parts.len() > MAX_PARTS {
            return Err(MtomError::TooManyParts(MAX_PARTS));
        }
        pos = next + d.len();
        if pos > body.len() {
            return Err(MtomError::Truncated);
        }
    }
    let root_idx = match &start {
        Some(s) => parts
            .iter()
            .position(|(cid, _)| cid.as_deref() == Some(s.as_str()))
            .ok_or(MtomError::NoRoot)?,
        None if parts.is_empty() => return Err(MtomError::NoRoot),
        None => 0,
    };
    let mut msg = MtomMessage::default();
    for (i, (cid, part)) in parts.into_iter().enumerate() {
        if i == root_idx {
            msg.root = part.body;
            msg.root_content_type = part.content_type;
            continue;
        }
        let cid = cid.ok_or(MtomError::MissingContentId)?;
        if msg.parts.contains_key(&cid) {
            return Err(MtomError::DuplicateContentId(cid));
        }
        msg.parts.insert(cid, part);
    }
    Ok(msg)
}

/// `<abc@x>` or `cid:abc@x` to `abc@x`, percent-decoding what `cid:` URLs escape.
pub fn strip_cid(s: &str) -> String {
    let s = s.trim();
    let s = s.strip_prefix("cid:").unwrap_or(s);
    let s = s
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(s);
    percent_decode(s)
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn skip_line(b: &[u8], pos: usize) -> Option<usize> {
    memchr::memchr(b'\n', b.get(pos..)?).map(|i| pos + i + 1)
}

/// Headers end at the first empty line. Returns the headers and the offset of the content.
fn parse_headers(b: &[u8]) -> Result<(Vec<(String, String)>, usize), MtomError> {
    let (end, sep) = match (memmem::find(b, b"\r\n\r\n"), memmem::find(b, b"\n\n")) {
        (Some(a), Some(c)) if c < a => (c, 2),
        (Some(a), _) => (a, 4),
        (None, Some(c)) => (c, 2),
        (None, None) => {
            return Err(MtomError::BadPartHeaders);
        }
    };
    let text = std::str::from_utf8(&b[..end]).map_err(|_| MtomError::BadPartHeaders)?;
    let mut headers = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let (k, v) = line.split_once(':').ok_or(MtomError::BadPartHeaders)?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    Ok((headers, end + sep))
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// One attachment to send: the part's Content-ID, MIME type and bytes.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub content_id: String,
    pub mime_type: String,
    pub data: Bytes,
}

/// A fresh Content-ID for the `n`th attachment of a message.
pub fn content_id(n: usize) -> String {
    format!("doc{n}.{}@ncpeh", uuid::Uuid::new_v4().simple())
}

/// The MIME type as a part header: anything that could break the header becomes
/// application/octet-stream (the XML still carries the registered value).
fn header_safe(mime: &str) -> &str {
    let ok = !mime.is_empty() && mime.bytes().all(|b| (0x20..0x7f).contains(&b));
    if ok {
        mime
    } else {
        "application/octet-stream"
    }
}

/// Builds an MTOM message: the SOAP envelope as the root part and attachments by Content-ID.
/// Returns the Content-Type header value and the body chunks (attachments are not copied).
pub fn encode(
    action: &str,
    envelope: String,
    attachments: Vec<Attachment>,
) -> (String, Vec<Bytes>) {
    let boundary = format!("MIMEBoundary_{}", uuid::Uuid::new_v4().simple());
    let root_id = format!("root.message@{}", uuid::Uuid::new_v4().simple());
    let ct = format!(
        "multipart/related; boundary={boundary}; type=\"application/xop+xml\"; start=\"<{root_id}>\"; start-info=\"application/soap+xml\"; action=\"{action}\""
    );
    let mut chunks = Vec::with_capacity(2 + attachments.len() * 2);
    chunks.push(Bytes::from(format!(
        "--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <{root_id}>\r\n\r\n"
    )));
    chunks.push(Bytes::from(envelope));
    for a in attachments {
        chunks.push(Bytes::from(format!(
            "\r\n--{boundary}\r\nContent-Type: {}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <{}>\r\n\r\n",
            header_safe(&a.mime_type),
            a.content_id
        )));
        chunks.push(a.data);
    }
    chunks.push(Bytes::from(format!("\r\n--{boundary}--\r\n")));
    (ct, chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_type() {
        let ct = ContentType::parse(
            r#"multipart/related; boundary="MIME;b"; type="application/xop+xml"; start="<r@x>"; action="urn:a""#,
        );
        assert!(ct.is_multipart());
        assert_eq!(ct.param("boundary"), Some("MIME;b"));
        assert_eq!(ct.param("action"), Some("urn:a"));
    }

    #[test]
    fn decodes_parts_and_refuses_truncation() {
        let body = "--b\r\nContent-Type: application/xop+xml\r\nContent-ID: <r@x>\r\n\r\n<env/>\r\n--b\r\nContent-ID: <d1@x>\r\n\r\nHELLO\r\n--b--\r\n";
        let ct = ContentType::parse("multipart/related; boundary=b; start=\"<r@x>\"");
        let m = decode(&ct, Bytes::from(body)).unwrap();
        assert_eq!(&m.root[..], b"<env/>");
        assert_eq!(&m.parts["d1@x"].body[..], b"HELLO");
        let cut = &body[..body.len() - 12];
        assert_eq!(
            decode(&ct, Bytes::from(cut.to_string())).unwrap_err(),
            MtomError::Truncated
        );
        let nocid = "--b\r\nContent-ID: <r@x>\r\n\r\n<env/>\r\n--b\r\nContent-Type: text/plain\r\n\r\nX\r\n--b--";
        assert_eq!(
            decode(&ct, Bytes::from(nocid)).unwrap_err(),
            MtomError::MissingContentId
        );
        assert_eq!(strip_cid("cid:a%40b"), "a@b");
    }

    #[test]
    fn boundaries_longer_than_rfc_2046_allows_are_refused() {
        let long = "b".repeat(MAX_BOUNDARY + 1);
        let body = format!("--{long}\r\nContent-ID: <r@x>\r\n\r\n<env/>\r\n--{long}--\r\n");
        let ct = ContentType::parse(&format!("multipart/related; boundary={long}"));
        assert_eq!(
            decode(&ct, Bytes::from(body)).unwrap_err(),
            MtomError::BadBoundary
        );
        let ok = "b".repeat(MAX_BOUNDARY);
        let body = format!("--{ok}\r\nContent-ID: <r@x>\r\n\r\n<env/>\r\n--{ok}--\r\n");
        let ct = ContentType::parse(&format!("multipart/related; boundary={ok}"));
        assert_eq!(&decode(&ct, Bytes::from(body)).unwrap().root[..], b"<env/>");
        let ct = ContentType::parse("multipart/related; boundary=\"\"");
        assert_eq!(
            decode(&ct, Bytes::new()).unwrap_err(),
            MtomError::BadBoundary
        );
    }

    #[test]
    fn part_headers_stay_one_line() {
        let a = Attachment {
            content_id: "d@x".into(),
            mime_type: "text/plain\r\nX-Evil: 1".into(),
            data: Bytes::from_static(b"hi"),
        };
        let (_, chunks) = encode("urn:a", "<e/>".into(), vec![a]);
        let head = String::from_utf8_lossy(&chunks[2]).into_owned();
        assert!(
            head.contains("Content-Type: application/octet-stream\r\n"),
            "{head}"
        );
        assert!(!head.contains("X-Evil"));
    }
}
