//! An `xdsb:Document` on the wire: an MTOM part named by `xop:Include`, or inline base64.

use crate::soap::mtom::{strip_cid, Part};
use crate::soap::XOP;
use crate::xml::Element;
use base64::Engine;
use bytes::Bytes;
use std::collections::HashMap;

/// Where an `xdsb:Document` carries its bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum DocumentContent {
    /// An MTOM part, by Content-ID (without `cid:`).
    Part(String),
    /// Inline base64 text (whitespace included, as sent).
    Inline(String),
    /// Something else: an element other than `xop:Include`.
    Unexpected,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContentError {
    #[error("xop:Include href=\"cid:{0}\" names no MIME part of this message")]
    NoSuchPart(String),
    #[error("xdsb:Document is not valid base64: {0}")]
    Base64(String),
    #[error("xdsb:Document holds an element other than xop:Include")]
    Unexpected,
}

impl DocumentContent {
    pub fn read(doc: &Element) -> DocumentContent {
        if let Some(inc) = doc.child(XOP, "Include") {
            return DocumentContent::Part(strip_cid(inc.attr("href").unwrap_or_default()));
        }
        if doc.elements().next().is_some() {
            return DocumentContent::Unexpected;
        }
        DocumentContent::Inline(doc.text().into_owned())
    }

    /// The bytes: an MTOM part (shared, not copied) or the decoded base64.
    pub fn resolve(&self, parts: &HashMap<String, Part>) -> Result<Bytes, ContentError> {
        match self {
            DocumentContent::Part(cid) => parts
                .get(cid)
                .map(|p| p.body.clone())
                .ok_or_else(|| ContentError::NoSuchPart(cid.clone())),
            DocumentContent::Inline(text) => {
                let b64: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
                base64::engine::general_purpose::STANDARD
                    .decode(&b64)
                    .map(Bytes::from)
                    .map_err(|e| ContentError::Base64(e.to_string()))
            }
            DocumentContent::Unexpected => Err(ContentError::Unexpected),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{parse, Limits};

    #[test]
    fn inline_and_part() {
        let d = parse(
            format!(r#"<d xmlns:x="{XOP}"> aGk= </d>"#).as_bytes(),
            Limits::default(),
        )
        .unwrap();
        let c = DocumentContent::read(&d);
        assert_eq!(
            c.resolve(&HashMap::new()).unwrap(),
            Bytes::from_static(b"hi")
        );
        let d = parse(
            format!(r#"<d><x:Include xmlns:x="{XOP}" href="cid:a%40b"/></d>"#).as_bytes(),
            Limits::default(),
        )
        .unwrap();
        let c = DocumentContent::read(&d);
        assert_eq!(c, DocumentContent::Part("a@b".into()));
        assert_eq!(
            c.resolve(&HashMap::new()),
            Err(ContentError::NoSuchPart("a@b".into()))
        );
        let bad = DocumentContent::Inline("!!".into());
        assert!(matches!(
            bad.resolve(&HashMap::new()),
            Err(ContentError::Base64(_))
        ));
    }
}
