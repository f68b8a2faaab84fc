//! ITI-62 and ITI-86 wire types: `lcm:RemoveObjectsRequest` (the ids of the registry objects
//! to remove) and `rmd:RemoveDocumentsRequest` (DocumentRequests as in ITI-43). Both are
//! answered with a plain `rs:RegistryResponse`.

use super::parse::ParseError;
use super::retrieve::{document_requests, DocumentRequest};
use super::{LCM, RIM, XDSB};
use crate::xml::{esc_attr, esc_text, Element};
use std::fmt::Write;

/// ITI-86 Remove Documents (IHE RMD).
pub const RMD: &str = "urn:ihe:iti:rmd:2017";
/// The only deletionScope ITI-62 allows (and the ebRS default).
pub const DELETE_ALL: &str = "urn:oasis:names:tc:ebxml-regrep:DeletionScopeType:DeleteAll";

/// The most ObjectRefs one request may carry: each costs lookups, and a 64 MiB body could
/// otherwise name a million.
pub const MAX_OBJECT_REFS: usize = 10_000;

/// A RemoveObjectsRequest as sent; whether its options are allowed is for the registry to say.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RemoveObjects {
    /// ObjectRef/@id, in document order (repeats kept).
    pub ids: Vec<String>,
    /// `@deletionScope`, when given.
    pub deletion_scope: Option<String>,
    /// The request selects by `rim:AdhocQuery` (ebRS allows it, ITI-62 does not).
    pub by_query: bool,
}

pub fn parse_remove_objects(body: &Element) -> Result<RemoveObjects, ParseError> {
    if !body.is(LCM, "RemoveObjectsRequest") {
        return Err(ParseError::UnexpectedElement {
            expected: "lcm:RemoveObjectsRequest",
            found_ns: body.ns.clone().unwrap_or_default(),
            found: body.name.clone(),
        });
    }
    let mut out = RemoveObjects {
        deletion_scope: body.attr("deletionScope").map(|s| s.trim().to_string()),
        by_query: body.child(RIM, "AdhocQuery").is_some(),
        ids: Vec::new(),
    };
    if let Some(list) = body.child(RIM, "ObjectRefList") {
        for r in list.children_named(RIM, "ObjectRef") {
            if out.ids.len() == MAX_OBJECT_REFS {
                return Err(ParseError::Invalid(format!(
                    "the request has more than {MAX_OBJECT_REFS} ObjectRefs"
                )));
            }
            let id = r.attr("id").ok_or(ParseError::MissingAttribute {
                element: "rim:ObjectRef",
                attr: "id",
            })?;
            out.ids.push(id.trim().to_string());
        }
    }
    Ok(out)
}

pub fn write_remove_objects(ids: &[&str]) -> String {
    let mut out = format!(
        r#"<lcm:RemoveObjectsRequest xmlns:lcm="{LCM}" xmlns:rim="{RIM}"><rim:ObjectRefList>"#
    );
    for id in ids {
        let _ = write!(out, r#"<rim:ObjectRef id="{}"/>"#, esc_attr(id));
    }
    out.push_str("</rim:ObjectRefList></lcm:RemoveObjectsRequest>");
    out
}

/// The DocumentRequests of an `rmd:RemoveDocumentsRequest`, in order.
pub fn parse_remove_documents(body: &Element) -> Result<Vec<DocumentRequest>, ParseError> {
    if !body.is(RMD, "RemoveDocumentsRequest") {
        return Err(ParseError::UnexpectedElement {
            expected: "rmd:RemoveDocumentsRequest",
            found_ns: body.ns.clone().unwrap_or_default(),
            found: body.name.clone(),
        });
    }
    document_requests(body)
}

pub fn write_remove_documents<'a>(reqs: impl IntoIterator<Item = &'a DocumentRequest>) -> String {
    let mut out = format!(r#"<rmd:RemoveDocumentsRequest xmlns:rmd="{RMD}" xmlns:xdsb="{XDSB}">"#);
    for r in reqs {
        out.push_str("<xdsb:DocumentRequest>");
        if let Some(h) = &r.home {
            let _ = write!(
                out,
                "<xdsb:HomeCommunityId>{}</xdsb:HomeCommunityId>",
                esc_text(h)
            );
        }
        let _ = write!(
            out,
            "<xdsb:RepositoryUniqueId>{}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>{}</xdsb:DocumentUniqueId></xdsb:DocumentRequest>",
            esc_text(&r.repository_uid),
            esc_text(&r.document_uid)
        );
    }
    out.push_str("</rmd:RemoveDocumentsRequest>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{parse, Limits};

    fn el(s: &str) -> Element {
        parse(s.as_bytes(), Limits::default()).unwrap()
    }

    #[test]
    fn remove_objects_round_trip_and_options() {
        let x = write_remove_objects(&["urn:uuid:1", "a\"b"]);
        let r = parse_remove_objects(&el(&x)).unwrap();
        assert_eq!(r.ids, vec!["urn:uuid:1", "a\"b"]);
        assert_eq!((r.deletion_scope, r.by_query), (None, false));
        let q = format!(
            r#"<l:RemoveObjectsRequest xmlns:l="{LCM}" xmlns:r="{RIM}" deletionScope=" x "><r:AdhocQuery id="q"/></l:RemoveObjectsRequest>"#
        );
        let r = parse_remove_objects(&el(&q)).unwrap();
        assert_eq!((r.deletion_scope.as_deref(), r.by_query), (Some("x"), true));
        assert!(r.ids.is_empty());
    }

    #[test]
    fn remove_objects_refusals() {
        let no_id = format!(
            r#"<l:RemoveObjectsRequest xmlns:l="{LCM}" xmlns:r="{RIM}"><r:ObjectRefList><r:ObjectRef/></r:ObjectRefList></l:RemoveObjectsRequest>"#
        );
        assert!(parse_remove_objects(&el(&no_id)).is_err());
        let other = format!(r#"<l:SubmitObjectsRequest xmlns:l="{LCM}"/>"#);
        assert!(parse_remove_objects(&el(&other)).is_err());
        let ids: Vec<String> = (0..=MAX_OBJECT_REFS).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert!(parse_remove_objects(&el(&write_remove_objects(&refs))).is_err());
    }

    #[test]
    fn remove_documents_round_trip_and_refusals() {
        let reqs = [DocumentRequest {
            home: None,
            repository_uid: "1.2".into(),
            document_uid: "3<4".into(),
        }];
        let x = write_remove_documents(&reqs);
        assert_eq!(parse_remove_documents(&el(&x)).unwrap(), reqs.to_vec());
        let empty = format!(r#"<r:RemoveDocumentsRequest xmlns:r="{RMD}"/>"#);
        assert!(parse_remove_documents(&el(&empty)).is_err());
        let retrieve = format!(r#"<x:RetrieveDocumentSetRequest xmlns:x="{XDSB}"/>"#);
        assert!(parse_remove_documents(&el(&retrieve)).is_err());
    }
}
