//! DOM to ebRIM objects.

use super::rim::{LocalizedString, RegistryObject, RimTag, Slot};
use super::{LCM, RIM};
use crate::xml::Element;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    #[error("expected {expected}, found {{{}}}{}", found_ns, found)]
    UnexpectedElement {
        expected: &'static str,
        found_ns: String,
        found: String,
    },
    #[error("{element} is missing the required attribute '{attr}'")]
    MissingAttribute {
        element: &'static str,
        attr: &'static str,
    },
    #[error("{0}")]
    Invalid(String),
}

/// A fragment this registry stored (`rim:` prefix undeclared) read back; None if it does not
/// parse, which would mean the stored row is damaged.
pub fn parse_stored_object(xml: &str) -> Option<RegistryObject> {
    let doc = format!("<rim:RegistryObjectList xmlns:rim=\"{RIM}\">{xml}</rim:RegistryObjectList>");
    let root = crate::xml::parse(doc.as_bytes(), crate::xml::Limits::default()).ok()?;
    parse_object_list(&root).ok()?.pop()
}

/// `lcm:SubmitObjectsRequest` to its objects (in document order).
pub fn parse_submit_objects(body: &Element) -> Result<Vec<RegistryObject>, ParseError> {
    if !body.is(LCM, "SubmitObjectsRequest") {
        return Err(unexpected("lcm:SubmitObjectsRequest", body));
    }
    let list = body.child(RIM, "RegistryObjectList").ok_or_else(|| {
        ParseError::Invalid("SubmitObjectsRequest has no RegistryObjectList".into())
    })?;
    parse_object_list(list)
}

pub fn parse_object_list(list: &Element) -> Result<Vec<RegistryObject>, ParseError> {
    let mut out = Vec::new();
    for e in list.elements() {
        if e.ns.as_deref() != Some(RIM) {
            return Err(unexpected("an ebRIM 3.0 object", e));
        }
        let tag = RimTag::from_element(&e.name)
            .ok_or_else(|| unexpected("an ebRIM 3.0 registry object", e))?;
        out.push(parse_object(tag, e)?);
    }
    Ok(out)
}

fn parse_object(tag: RimTag, e: &Element) -> Result<RegistryObject, ParseError> {
    let id = e.attr("id").ok_or(ParseError::MissingAttribute {
        element: tag.element(),
        attr: "id",
    })?;
    let mut o = RegistryObject::new(tag, id.trim());
    let a = |n: &str| e.attr(n).map(|v| v.trim().to_string());
    o.lid = a("lid");
    o.object_type = a("objectType");
    o.status = a("status");
    o.home = a("home");
    o.mime_type = a("mimeType");
    o.is_opaque = a("isOpaque");
    o.association_type = a("associationType");
    o.source_object = a("sourceObject");
    o.target_object = a("targetObject");
    o.classification_scheme = a("classificationScheme");
    o.classified_object = a("classifiedObject");
    o.classification_node = a("classificationNode");
    o.node_representation = e.attr("nodeRepresentation").map(str::to_string);
    o.identification_scheme = a("identificationScheme");
    o.registry_object = a("registryObject");
    o.value = e.attr("value").map(str::to_string);

    for c in e.elements() {
        if c.ns.as_deref() != Some(RIM) {
            continue;
        }
        match c.name.as_str() {
            "Slot" => o.slots.push(parse_slot(c)?),
            "Name" => o.name = parse_international(c),
            "Description" => o.description = parse_international(c),
            "VersionInfo" => o.version_name = c.attr("versionName").map(str::to_string),
            "Classification" => {
                let mut cl = parse_object(RimTag::Classification, c)?;
                if cl.classified_object.is_none() {
                    cl.classified_object = Some(o.id.clone());
                }
                o.classifications.push(cl);
            }
            "ExternalIdentifier" => {
                let mut ei = parse_object(RimTag::ExternalIdentifier, c)?;
                if ei.registry_object.is_none() {
                    ei.registry_object = Some(o.id.clone());
                }
                o.external_identifiers.push(ei);
            }
            _ => {}
        }
    }
    Ok(o)
}

fn parse_slot(e: &Element) -> Result<Slot, ParseError> {
    let name = e.attr("name").ok_or(ParseError::MissingAttribute {
        element: "Slot",
        attr: "name",
    })?;
    let values = e
        .child(RIM, "ValueList")
        .map(|vl| {
            vl.children_named(RIM, "Value")
                .map(|v| v.text().into_owned())
                .collect()
        })
        .unwrap_or_default();
    Ok(Slot {
        name: name.to_string(),
        slot_type: e.attr("slotType").map(str::to_string),
        values,
    })
}

fn parse_international(e: &Element) -> Vec<LocalizedString> {
    e.children_named(RIM, "LocalizedString")
        .map(|l| LocalizedString {
            value: l.attr("value").unwrap_or_default().to_string(),
            lang: l.attr_ns(crate::xml::XML, "lang").map(str::to_string),
            charset: l.attr("charset").map(str::to_string),
        })
        .collect()
}

fn unexpected(expected: &'static str, found: &Element) -> ParseError {
    ParseError::UnexpectedElement {
        expected,
        found_ns: found.ns.clone().unwrap_or_default(),
        found: found.name.clone(),
    }
}
