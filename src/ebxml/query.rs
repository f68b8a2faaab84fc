//! ebRS 3.0 AdhocQueryRequest (the stored query call) and AdhocQueryResponse.

use super::parse::ParseError;
use super::response::{write_error_list, RegistryError};
use super::rim::Slot;
use super::{ResponseStatus, QUERY, RIM, RS};
use crate::xml::{esc_attr, Element};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnType {
    ObjectRef,
    LeafClass,
}

#[derive(Debug, Clone)]
pub struct AdhocQueryRequest {
    pub return_type: ReturnType,
    pub query_id: String,
    pub home: Option<String>,
    pub params: Vec<Slot>,
}

pub fn parse_adhoc_query(body: &Element) -> Result<AdhocQueryRequest, ParseError> {
    if !body.is(QUERY, "AdhocQueryRequest") {
        return Err(ParseError::UnexpectedElement {
            expected: "query:AdhocQueryRequest",
            found_ns: body.ns.clone().unwrap_or_default(),
            found: body.name.clone(),
        });
    }
    let return_type = match body
        .child(QUERY, "ResponseOption")
        .and_then(|r| r.attr("returnType"))
    {
        None | Some("ObjectRef") => ReturnType::ObjectRef,
        Some("LeafClass") | Some("LeafClassWithRepositoryItem") => ReturnType::LeafClass,
        Some(other) => {
            return Err(ParseError::Invalid(format!(
                "unsupported returnType '{other}'"
            )))
        }
    };
    let q = body
        .child(RIM, "AdhocQuery")
        .ok_or_else(|| ParseError::Invalid("AdhocQueryRequest has no AdhocQuery".into()))?;
    let query_id = q
        .attr("id")
        .ok_or(ParseError::MissingAttribute {
            element: "AdhocQuery",
            attr: "id",
        })?
        .trim()
        .to_string();
    let params = q
        .children_named(RIM, "Slot")
        .map(|s| Slot {
            name: s.attr("name").unwrap_or_default().to_string(),
            slot_type: None,
            values: s
                .child(RIM, "ValueList")
                .map(|vl| {
                    vl.children_named(RIM, "Value")
                        .map(|v| v.text().into_owned())
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    Ok(AdhocQueryRequest {
        return_type,
        query_id,
        home: q.attr("home").map(str::to_string),
        params,
    })
}

/// Writes an AdhocQueryResponse. `objects` are serialised rim: fragments.
pub fn write_adhoc_response(
    status: ResponseStatus,
    errors: &[RegistryError],
    objects: &[String],
) -> String {
    let size: usize = objects.iter().map(String::len).sum();
    let mut out = String::with_capacity(size + 512);
    out.push_str(&format!(
        r#"<query:AdhocQueryResponse xmlns:query="{QUERY}" xmlns:rim="{RIM}" xmlns:rs="{RS}" status="{}">"#,
        status.urn()
    ));
    write_error_list(&mut out, errors);
    out.push_str("<rim:RegistryObjectList>");
    for o in objects {
        out.push_str(o);
    }
    out.push_str("</rim:RegistryObjectList></query:AdhocQueryResponse>");
    out
}

/// Writes an AdhocQueryRequest (for the node's own client and tests).
pub fn write_adhoc_request(req: &AdhocQueryRequest) -> String {
    let rt = match req.return_type {
        ReturnType::ObjectRef => "ObjectRef",
        ReturnType::LeafClass => "LeafClass",
    };
    let mut out = format!(
        r#"<query:AdhocQueryRequest xmlns:query="{QUERY}" xmlns:rim="{RIM}"><query:ResponseOption returnComposedObjects="true" returnType="{rt}"/><rim:AdhocQuery id="{}""#,
        esc_attr(&req.query_id)
    );
    if let Some(h) = &req.home {
        out.push_str(&format!(" home=\"{}\"", esc_attr(h)));
    }
    out.push('>');
    for s in &req.params {
        super::write::write_slot(&mut out, s);
    }
    out.push_str("</rim:AdhocQuery></query:AdhocQueryRequest>");
    out
}
