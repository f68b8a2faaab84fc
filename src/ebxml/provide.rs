//! ITI-41 wire type: ProvideAndRegisterDocumentSetRequest, its metadata and its documents.

use super::document::DocumentContent;
use super::parse::{parse_submit_objects, ParseError};
use super::rim::RegistryObject;
use super::write::write_object;
use super::{LCM, RIM, XDSB};
use crate::xml::Element;

/// One `xdsb:Document`: its id (empty when the attribute is missing) and where its bytes are.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRef {
    pub id: String,
    pub content: DocumentContent,
}

#[derive(Debug)]
pub struct ProvideRequest {
    pub objects: Vec<RegistryObject>,
    /// In message order.
    pub documents: Vec<DocumentRef>,
}

pub fn parse_provide_request(body: &Element) -> Result<ProvideRequest, ParseError> {
    if !body.is(XDSB, "ProvideAndRegisterDocumentSetRequest") {
        return Err(ParseError::UnexpectedElement {
            expected: "xdsb:ProvideAndRegisterDocumentSetRequest",
            found_ns: body.ns.clone().unwrap_or_default(),
            found: body.name.clone(),
        });
    }
    let sor = body
        .child(LCM, "SubmitObjectsRequest")
        .ok_or_else(|| ParseError::Invalid("the request has no lcm:SubmitObjectsRequest".into()))?;
    let objects = parse_submit_objects(sor)?;
    let documents = body
        .children_named(XDSB, "Document")
        .map(|d| DocumentRef {
            id: d.attr("id").map(str::trim).unwrap_or_default().to_string(),
            content: DocumentContent::read(d),
        })
        .collect();
    Ok(ProvideRequest { objects, documents })
}

/// An `lcm:SubmitObjectsRequest` (ITI-42) holding `objects`.
pub fn write_submit_objects(objects: &[RegistryObject]) -> String {
    let mut out = format!(
        r#"<lcm:SubmitObjectsRequest xmlns:lcm="{LCM}" xmlns:rim="{RIM}"><rim:RegistryObjectList>"#
    );
    for o in objects {
        write_object(&mut out, o);
    }
    out.push_str("</rim:RegistryObjectList></lcm:SubmitObjectsRequest>");
    out
}
