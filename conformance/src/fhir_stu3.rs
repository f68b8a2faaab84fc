//! The NIST MHD test plans are FHIR STU3; an MHD 4.x recipient speaks R4. This module turns
//! exactly the STU3 elements the plans' bundles use into R4, and nothing else:
//!
//! | STU3 | R4 |
//! |---|---|
//! | DocumentReference.class | category |
//! | DocumentReference.created | content\[0\].attachment.creation |
//! | DocumentReference.indexed | date |
//! | DocumentManifest.content.pReference | content (a Reference) |
//! | Binary.content | Binary.data |
//! | securityLabel system `http://hl7.org/fhir/v3/Confidentiality` | `http://terminology.hl7.org/CodeSystem/v3-Confidentiality` |
//!
//! Contained resources lose `meta.lastUpdated` and `meta.versionId`, as the toolkit strips them,
//! and each goes into a `contained` of its own (the plans put several in one, which FHIR XML
//! does not allow).
//! FHIR XML is ordered, and the plans' files are not always in order (DocumentReference has
//! `contained` before `meta`, its context and the contained Patient's identifier are out of
//! order), so DocumentReference, DocumentManifest, attachment, context and Identifier children
//! are put in R4 order.

use super::xml::{Element, Node};

pub const FHIR_NS: &str = "http://hl7.org/fhir";
const CONFIDENTIALITY_STU3: &str = "http://hl7.org/fhir/v3/Confidentiality";
const CONFIDENTIALITY_R4: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

const DOCUMENT_REFERENCE: &[&str] = &[
    "id",
    "meta",
    "implicitRules",
    "language",
    "text",
    "contained",
    "extension",
    "modifierExtension",
    "masterIdentifier",
    "identifier",
    "status",
    "docStatus",
    "type",
    "category",
    "subject",
    "date",
    "author",
    "authenticator",
    "custodian",
    "relatesTo",
    "description",
    "securityLabel",
    "content",
    "context",
];

const DOCUMENT_MANIFEST: &[&str] = &[
    "id",
    "meta",
    "implicitRules",
    "language",
    "text",
    "contained",
    "extension",
    "modifierExtension",
    "masterIdentifier",
    "identifier",
    "status",
    "type",
    "subject",
    "created",
    "author",
    "recipient",
    "source",
    "description",
    "content",
    "related",
];

const ATTACHMENT: &[&str] = &[
    "id",
    "extension",
    "contentType",
    "language",
    "data",
    "url",
    "size",
    "hash",
    "title",
    "creation",
];

const CONTEXT: &[&str] = &[
    "id",
    "extension",
    "modifierExtension",
    "encounter",
    "event",
    "period",
    "facilityType",
    "practiceSetting",
    "sourcePatientInfo",
    "related",
];

const IDENTIFIER: &[&str] = &[
    "id",
    "extension",
    "use",
    "type",
    "system",
    "value",
    "period",
    "assigner",
];

/// An element of the FHIR namespace, unprefixed (the bundles declare it as the default).
pub fn el(name: &str) -> Element {
    Element::new(None, name, Some(FHIR_NS))
}

/// `<name value="v"/>`, FHIR's way of writing a primitive.
pub fn value_el(name: &str, v: &str) -> Element {
    el(name).with_attr("value", v)
}

/// The `value` of a primitive child.
pub fn value_of<'a>(e: &'a Element, child: &str) -> Option<&'a str> {
    e.child_local(child).and_then(|c| c.attr("value"))
}

pub fn child_mut<'a>(e: &'a mut Element, name: &str) -> Option<&'a mut Element> {
    e.elements_mut().find(|c| c.name == name)
}

/// The resource of every `entry`, mutably.
pub fn resources_mut(bundle: &mut Element) -> impl Iterator<Item = &mut Element> {
    bundle
        .elements_mut()
        .filter(|e| e.name == "entry")
        .filter_map(|e| child_mut(e, "resource"))
        .filter_map(|r| r.elements_mut().next())
}

/// Every STU3 element the plans use, turned into R4, and the R4 order restored.
pub fn to_r4(bundle: &mut Element) {
    for resource in resources_mut(bundle) {
        split_contained(resource);
        strip_contained_meta(resource);
        match resource.name.as_str() {
            "DocumentReference" => document_reference(resource),
            "DocumentManifest" => document_manifest(resource),
            "Binary" => rename(resource, "content", "data"),
            _ => {}
        }
        resource.walk_mut(&mut |e| {
            if e.name == "identifier" || e.name == "masterIdentifier" {
                sort_children(e, IDENTIFIER);
            }
        });
    }
}

fn rename(e: &mut Element, from: &str, to: &str) {
    for c in e.elements_mut().filter(|c| c.name == from) {
        c.name = to.to_string();
    }
}

fn document_reference(dr: &mut Element) {
    rename(dr, "class", "category");
    rename(dr, "indexed", "date");
    let created = dr
        .elements()
        .find(|c| c.name == "created")
        .and_then(|c| c.attr("value"))
        .map(str::to_string);
    dr.children
        .retain(|n| !matches!(n, Node::Element(e) if e.name == "created"));
    if let Some(created) = created {
        let attachment = child_mut(dr, "content").and_then(|c| child_mut(c, "attachment"));
        if let Some(a) = attachment {
            if a.child_local("creation").is_none() {
                a.push(value_el("creation", &created));
            }
        }
    }
    for label in dr.elements_mut().filter(|c| c.name == "securityLabel") {
        for coding in label.elements_mut().filter(|c| c.name == "coding") {
            if let Some(system) = child_mut(coding, "system") {
                if system.attr("value") == Some(CONFIDENTIALITY_STU3) {
                    system.set_attr("value", CONFIDENTIALITY_R4);
                }
            }
        }
    }
    for content in dr.elements_mut().filter(|c| c.name == "content") {
        if let Some(a) = child_mut(content, "attachment") {
            sort_children(a, ATTACHMENT);
        }
    }
    if let Some(ctx) = child_mut(dr, "context") {
        sort_children(ctx, CONTEXT);
    }
    sort_children(dr, DOCUMENT_REFERENCE);
}

fn document_manifest(dm: &mut Element) {
    for content in dm.elements_mut().filter(|c| c.name == "content") {
        let inner = content
            .elements()
            .find(|c| c.name == "pReference")
            .map(|p| p.children.clone());
        if let Some(inner) = inner {
            content.children = inner;
        }
    }
    sort_children(dm, DOCUMENT_MANIFEST);
}

/// FHIR XML wraps each contained resource in its own `contained`; the plans put several in one
/// (HAPI reads that, a strict reader does not), so each gets its own wrapper again.
fn split_contained(resource: &mut Element) {
    let mut out = Vec::with_capacity(resource.children.len());
    for n in std::mem::take(&mut resource.children) {
        match n {
            Node::Element(c) if c.name == "contained" && c.elements().count() > 1 => {
                for inner in c.elements() {
                    let mut wrapper = el("contained");
                    wrapper.push(inner.clone());
                    out.push(Node::Element(wrapper));
                }
            }
            other => out.push(other),
        }
    }
    resource.children = out;
}

/// The toolkit sends contained resources without lastUpdated and versionId.
fn strip_contained_meta(resource: &mut Element) {
    for contained in resource.elements_mut().filter(|c| c.name == "contained") {
        for inner in contained.elements_mut() {
            if let Some(meta) = child_mut(inner, "meta") {
                meta.children.retain(|n| {
                    !matches!(n, Node::Element(e) if e.name == "lastUpdated" || e.name == "versionId")
                });
            }
            // An empty meta is not valid FHIR.
            inner.children.retain(|n| {
                !matches!(n, Node::Element(e) if e.name == "meta" && e.elements().next().is_none())
            });
        }
    }
}

/// Children in `order` (stable among equals; unknown names last). Whitespace between them
/// goes: it would no longer sit between the same elements.
pub fn sort_children(e: &mut Element, order: &[&str]) {
    let rank = |n: &Node| match n {
        Node::Element(c) => order
            .iter()
            .position(|o| *o == c.name)
            .unwrap_or(order.len()),
        Node::Text(_) => order.len(),
    };
    e.children
        .retain(|n| !matches!(n, Node::Text(t) if t.trim().is_empty()));
    e.children.sort_by_key(rank);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    const STU3: &str = r##"<Bundle xmlns="http://hl7.org/fhir"><type value="transaction"/>
      <entry><resource><DocumentReference>
        <contained><Patient><id value="a2"/><meta><lastUpdated value="2013-07-01T13:11:33Z"/></meta>
          <identifier><use value="usual"/><value value="MRN"/><system value="urn:oid:1.2.3"/></identifier></Patient>
          <Practitioner><id value="a3"/></Practitioner></contained>
        <meta><lastUpdated value="2013-07-01T13:11:33Z"/></meta>
        <status value="current"/>
        <class><coding><code value="REPORTS"/></coding></class>
        <subject><reference value="Patient/1"/></subject>
        <created value="2005-12-24"/><indexed value="2013-07-01T23:11:33+10:00"/>
        <securityLabel><coding><system value="http://hl7.org/fhir/v3/Confidentiality"/><code value="N"/></coding></securityLabel>
        <content><attachment><contentType value="text/plain"/><url value="textfile"/></attachment></content>
        <context><sourcePatientInfo><reference value="#a2"/></sourcePatientInfo><period><start value="2004"/></period></context>
      </DocumentReference></resource></entry>
      <entry><resource><DocumentManifest><status value="current"/>
        <content><pReference><reference value="urn:uuid:1"/></pReference></content></DocumentManifest></resource></entry>
      <entry><resource><Binary><contentType value="text/plain"/><content value="aGk="/></Binary></resource></entry>
    </Bundle>"##;

    fn names(e: &Element) -> Vec<&str> {
        e.elements().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn each_contained_resource_gets_its_own_wrapper() {
        let mut b = parse(STU3).unwrap();
        to_r4(&mut b);
        let dr = resources_mut(&mut b).next().unwrap();
        let wrappers: Vec<Vec<&str>> = dr
            .elements()
            .filter(|c| c.name == "contained")
            .map(names)
            .collect();
        assert_eq!(wrappers, vec![vec!["Patient"], vec!["Practitioner"]]);
    }

    #[test]
    fn the_plans_stu3_elements_become_r4() {
        let mut b = parse(STU3).unwrap();
        to_r4(&mut b);
        let resources: Vec<Element> = resources_mut(&mut b).map(|r| r.clone()).collect();
        let dr = &resources[0];
        assert_eq!(
            names(dr),
            [
                "meta",
                "contained",
                "contained",
                "status",
                "category",
                "subject",
                "date",
                "securityLabel",
                "content",
                "context"
            ]
        );
        assert_eq!(value_of(dr, "date"), Some("2013-07-01T23:11:33+10:00"));
        let attachment = dr.child_local("content").unwrap().child_local("attachment");
        let attachment = attachment.unwrap();
        assert_eq!(names(attachment), ["contentType", "url", "creation"]);
        assert_eq!(value_of(attachment, "creation"), Some("2005-12-24"));
        let system = dr.descendants().into_iter().find(|e| e.name == "system");
        let labels: Vec<&str> = dr
            .descendants()
            .into_iter()
            .filter(|e| e.name == "system")
            .filter_map(|e| e.attr("value"))
            .collect();
        assert!(system.is_some());
        assert!(labels.contains(&CONFIDENTIALITY_R4), "{labels:?}");
        let ctx = dr.child_local("context").unwrap();
        assert_eq!(names(ctx), ["period", "sourcePatientInfo"]);
        // The contained Patient: no meta left, identifier in order.
        let patient = dr.child_local("contained").unwrap().child_local("Patient");
        let patient = patient.unwrap();
        assert_eq!(names(patient), ["id", "identifier"]);
        let id = patient.child_local("identifier").unwrap();
        assert_eq!(names(id), ["use", "system", "value"]);
        // DocumentManifest.content is the Reference itself.
        let content = resources[1].child_local("content").unwrap();
        assert_eq!(names(content), ["reference"]);
        assert_eq!(value_of(content, "reference"), Some("urn:uuid:1"));
        assert_eq!(value_of(&resources[2], "data"), Some("aGk="));
        // Still one well-formed FHIR document.
        let again = parse(&b.to_xml()).unwrap();
        assert_eq!(again.ns.as_deref(), Some(FHIR_NS));
    }
}
