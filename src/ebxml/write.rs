//! ebRIM objects to XML fragments with the `rim:` prefix; the enclosing element declares it.

use super::rim::{LocalizedString, RegistryObject, RimTag, Slot};
use crate::xml::{esc_attr, esc_text};
use std::fmt::Write;

pub fn object_xml(o: &RegistryObject) -> String {
    let mut out = String::with_capacity(2048);
    write_object(&mut out, o);
    out
}

pub fn write_object(out: &mut String, o: &RegistryObject) {
    let el = o.tag.element();
    let _ = write!(out, "<rim:{el}");
    let attrs: [(&str, &Option<String>); 16] = [
        ("lid", &o.lid),
        ("objectType", &o.object_type),
        ("status", &o.status),
        ("home", &o.home),
        ("mimeType", &o.mime_type),
        ("isOpaque", &o.is_opaque),
        ("associationType", &o.association_type),
        ("sourceObject", &o.source_object),
        ("targetObject", &o.target_object),
        ("classificationScheme", &o.classification_scheme),
        ("classifiedObject", &o.classified_object),
        ("classificationNode", &o.classification_node),
        ("nodeRepresentation", &o.node_representation),
        ("identificationScheme", &o.identification_scheme),
        ("registryObject", &o.registry_object),
        ("value", &o.value),
    ];
    let _ = write!(out, " id=\"{}\"", esc_attr(&o.id));
    for (k, v) in attrs {
        if let Some(v) = v {
            let _ = write!(out, " {k}=\"{}\"", esc_attr(v));
        }
    }
    if o.tag == RimTag::ObjectRef {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for s in &o.slots {
        write_slot(out, s);
    }
    write_international(out, "Name", &o.name);
    write_international(out, "Description", &o.description);
    if let Some(v) = &o.version_name {
        let _ = write!(out, "<rim:VersionInfo versionName=\"{}\"/>", esc_attr(v));
    }
    for c in &o.classifications {
        write_object(out, c);
    }
    for e in &o.external_identifiers {
        write_object(out, e);
    }
    let _ = write!(out, "</rim:{el}>");
}

pub fn write_slot(out: &mut String, s: &Slot) {
    let _ = write!(out, "<rim:Slot name=\"{}\"", esc_attr(&s.name));
    if let Some(t) = &s.slot_type {
        let _ = write!(out, " slotType=\"{}\"", esc_attr(t));
    }
    out.push_str("><rim:ValueList>");
    for v in &s.values {
        let _ = write!(out, "<rim:Value>{}</rim:Value>", esc_text(v));
    }
    out.push_str("</rim:ValueList></rim:Slot>");
}

fn write_international(out: &mut String, el: &str, ls: &[LocalizedString]) {
    if ls.is_empty() {
        return;
    }
    let _ = write!(out, "<rim:{el}>");
    for l in ls {
        out.push_str("<rim:LocalizedString");
        if let Some(lang) = &l.lang {
            let _ = write!(out, " xml:lang=\"{}\"", esc_attr(lang));
        }
        if let Some(cs) = &l.charset {
            let _ = write!(out, " charset=\"{}\"", esc_attr(cs));
        }
        let _ = write!(out, " value=\"{}\"/>", esc_attr(&l.value));
    }
    let _ = write!(out, "</rim:{el}>");
}

/// Adds attributes to the first start tag of a stored fragment (status and home are kept
/// out of stored XML because they change or depend on who asks).
pub fn inject_attrs(xml: &str, attrs: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(xml.len() + 128);
    let at = xml[1..]
        .find([' ', '>', '/'])
        .map(|i| i + 1)
        .unwrap_or(xml.len());
    out.push_str(&xml[..at]);
    for (k, v) in attrs {
        let _ = write!(out, " {k}=\"{}\"", esc_attr(v));
    }
    out.push_str(&xml[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ebxml::{parse_object_list, RIM};

    #[test]
    fn round_trips() {
        let mut o = RegistryObject::new(RimTag::ExtrinsicObject, "urn:uuid:1");
        o.mime_type = Some("text/plain".into());
        o.set_slot("creationTime", vec!["2004".into()]);
        o.name.push(LocalizedString {
            value: "a\"b<".into(),
            ..Default::default()
        });
        let mut c = RegistryObject::new(RimTag::Classification, "cl1");
        c.classified_object = Some("urn:uuid:1".into());
        c.node_representation = Some("X".into());
        o.classifications.push(c);
        let xml = format!(
            "<rim:RegistryObjectList xmlns:rim=\"{RIM}\">{}</rim:RegistryObjectList>",
            inject_attrs(&object_xml(&o), &[("status", "S")])
        );
        let dom = crate::xml::parse(xml.as_bytes(), Default::default()).unwrap();
        let back = parse_object_list(&dom).unwrap();
        o.status = Some("S".into());
        assert_eq!(back, vec![o]);
    }
}
