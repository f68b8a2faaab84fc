//! ebRIM/ebRS 2.1 -> 3.0 for the older testkit metadata files.
//!
//! The mapping (written from the two schema generations):
//! - `rs:SubmitObjectsRequest` (registry:xsd:2.1) -> `lcm:SubmitObjectsRequest` (lcm:3.0);
//!   `rim:LeafRegistryObjectList` -> `rim:RegistryObjectList` (rim:3.0).
//! - Every rim 2.1 element moves to the rim 3.0 namespace under the same local name.
//! - 3.0 fixes the child order of a RegistryObject: Slot*, Name?, Description?, VersionInfo?,
//!   Classification*, ExternalIdentifier*, (ContentVersionInfo? for ExtrinsicObject). 2.1
//!   files put Name first, so children are re-sorted into that order.
//! - 3.0 makes `id` required on every Identifiable, `classifiedObject` on Classification and
//!   `registryObject` on ExternalIdentifier; 2.1 left them implied by nesting. Missing ids get
//!   a symbolic `id_N` (AssignUuids turns them into UUIDs later, or the registry does);
//!   the nesting parent fills the references.
//! - `associationType` short names become URNs: HasMember is the OASIS one, the IHE document
//!   relationships (RPLC, XFRM, APND, XFRM_RPLC, signs) are `urn:ihe:iti:2007:AssociationType:*`.
//! - `status` short names (Approved, Deprecated, Submitted) become StatusType URNs.
//! - 2.1 needed `ObjectRef`s to declare every scheme/node UUID it used; 3.0 resolves
//!   references by id, and a registry may refuse references to objects it does not hold,
//!   so ObjectRefs to the XDS classification schemes/nodes are dropped. Others are kept.

use std::collections::HashSet;

use super::xml::{Element, Node};

pub const RS21: &str = "urn:oasis:names:tc:ebxml-regrep:registry:xsd:2.1";
pub const RIM21: &str = "urn:oasis:names:tc:ebxml-regrep:rim:xsd:2.1";
pub const RIM30: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";
pub const LCM30: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Rim21Error {
    #[error("not an ebRS 2.1 SubmitObjectsRequest (root <{0}>)")]
    NotSubmitObjects(String),
    #[error("<{0}> has no id to be referenced by its children")]
    NoParentId(String),
}

/// True when the document uses the 2.1 namespaces anywhere.
pub fn is_rim21(root: &Element) -> bool {
    fn any(e: &Element) -> bool {
        matches!(e.ns.as_deref(), Some(RS21) | Some(RIM21)) || e.elements().any(any)
    }
    any(root)
}

/// The XDS classification scheme and node UUIDs that 2.1 files declared as ObjectRefs.
const XDS_SCHEME_UUIDS: &[&str] = &[
    "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1",
    "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b518fff",
    "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd",
    "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2",
    "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a",
    "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8",
    "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832",
    "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
    "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1",
    "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500",
    "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a",
    "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
    "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
    "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead",
    "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
    "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
    "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab",
    "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
    "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d",
    "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d",
    "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4",
    "urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5",
    "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248",
    "urn:uuid:abd807a3-4432-4053-87b4-fd82c643d1f3",
];

pub fn association_type_urn(t: &str) -> String {
    match t {
        "HasMember" => "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember".into(),
        "RPLC" | "XFRM" | "APND" | "XFRM_RPLC" | "signs" => {
            format!("urn:ihe:iti:2007:AssociationType:{t}")
        }
        other => other.into(),
    }
}

fn status_urn(s: &str) -> String {
    match s {
        "Approved" | "Deprecated" | "Submitted" | "Withdrawn" => {
            format!("urn:oasis:names:tc:ebxml-regrep:StatusType:{s}")
        }
        other => other.into(),
    }
}

/// Sort key of a RegistryObject child in the 3.0 sequence.
fn order(local: &str) -> u8 {
    match local {
        "Slot" => 0,
        "Name" => 1,
        "Description" => 2,
        "VersionInfo" => 3,
        "Classification" => 4,
        "ExternalIdentifier" => 5,
        "ContentVersionInfo" => 6,
        _ => 7,
    }
}

struct Ids {
    used: HashSet<String>,
    next: usize,
}

impl Ids {
    fn fresh(&mut self) -> String {
        loop {
            self.next += 1;
            let id = format!("id_{}", self.next);
            if self.used.insert(id.clone()) {
                return id;
            }
        }
    }
}

fn collect_ids(e: &Element, out: &mut HashSet<String>) {
    if let Some(id) = e.attr("id") {
        out.insert(id.to_string());
    }
    for c in e.elements() {
        collect_ids(c, out);
    }
}

/// Convert a 2.1 SubmitObjectsRequest into a 3.0 one.
pub fn convert(root: &Element) -> Result<Element, Rim21Error> {
    if root.name != "SubmitObjectsRequest" || root.ns.as_deref() != Some(RS21) {
        return Err(Rim21Error::NotSubmitObjects(root.name.clone()));
    }
    let mut used = HashSet::new();
    collect_ids(root, &mut used);
    let mut ids = Ids { used, next: 0 };
    let mut out = Element::new(Some("lcm"), "SubmitObjectsRequest", Some(LCM30))
        .with_ns_decl("lcm", LCM30)
        .with_ns_decl("rim", RIM30);
    let mut list = Element::new(Some("rim"), "RegistryObjectList", Some(RIM30));
    for lists in root
        .elements()
        .filter(|e| e.name == "LeafRegistryObjectList")
    {
        for obj in lists.elements() {
            if obj.name == "ObjectRef"
                && obj
                    .attr("id")
                    .is_some_and(|id| XDS_SCHEME_UUIDS.contains(&id))
            {
                continue;
            }
            list.push(convert_object(obj, None, &mut ids)?);
        }
    }
    out.push(list);
    Ok(out)
}

fn convert_object(
    e: &Element,
    parent_id: Option<&str>,
    ids: &mut Ids,
) -> Result<Element, Rim21Error> {
    let mut out = Element::new(Some("rim"), &e.name, Some(RIM30));
    for a in e.attrs.iter().filter(|a| !a.is_ns_decl()) {
        let mut a = a.clone();
        match a.name.as_str() {
            "associationType" => a.value = association_type_urn(&a.value),
            "status" => a.value = status_urn(&a.value),
            _ => {}
        }
        out.attrs.push(a);
    }
    let identifiable = matches!(
        e.name.as_str(),
        "ExtrinsicObject"
            | "RegistryPackage"
            | "Association"
            | "Classification"
            | "ExternalIdentifier"
            | "ObjectRef"
    );
    if identifiable && out.attr("id").is_none() {
        let id = ids.fresh();
        out.set_attr("id", &id);
    }
    match e.name.as_str() {
        "Classification" if out.attr("classifiedObject").is_none() => {
            let p = parent_id.ok_or_else(|| Rim21Error::NoParentId(e.name.clone()))?;
            out.set_attr("classifiedObject", p);
        }
        "ExternalIdentifier" if out.attr("registryObject").is_none() => {
            let p = parent_id.ok_or_else(|| Rim21Error::NoParentId(e.name.clone()))?;
            out.set_attr("registryObject", p);
        }
        _ => {}
    }
    let own_id = out.attr("id").map(str::to_string);
    let mut kids: Vec<(u8, Node)> = Vec::new();
    for c in &e.children {
        match c {
            Node::Element(ce) => {
                let converted = convert_object(ce, own_id.as_deref(), ids)?;
                kids.push((order(&ce.name), Node::Element(converted)));
            }
            // Text only matters in Value/LocalizedString-like leaves.
            Node::Text(t) => {
                if !t.trim().is_empty() || e.elements().next().is_none() {
                    kids.push((order(""), Node::Text(t.clone())));
                }
            }
        }
    }
    if identifiable {
        // Stable sort: keeps the relative order of, e.g., the Slots.
        kids.sort_by_key(|(k, _)| *k);
    }
    out.children = kids.into_iter().map(|(_, n)| n).collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::tests_dir;
    use crate::xml::parse;

    const SMALL: &str = r#"<rs:SubmitObjectsRequest xmlns:rs="urn:oasis:names:tc:ebxml-regrep:registry:xsd:2.1">
      <rim:LeafRegistryObjectList xmlns:rim="urn:oasis:names:tc:ebxml-regrep:rim:xsd:2.1">
        <rim:ExtrinsicObject id="Document01" mimeType="text/plain" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">
          <rim:Name><rim:LocalizedString value="Physical"/></rim:Name>
          <rim:Slot name="creationTime"><rim:ValueList><rim:Value>20051224</rim:Value></rim:ValueList></rim:Slot>
          <rim:ExternalIdentifier value="1.2.3" identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"/>
        </rim:ExtrinsicObject>
        <rim:Association targetObject="Document01" sourceObject="SS" associationType="HasMember" status="Approved"/>
        <rim:ObjectRef id="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"/>
      </rim:LeafRegistryObjectList></rs:SubmitObjectsRequest>"#;

    #[test]
    fn converts_a_small_submission() {
        let out = convert(&parse(SMALL).unwrap()).unwrap();
        let xml = out.to_xml();
        let back = parse(&xml).unwrap();
        assert_eq!(back.ns.as_deref(), Some(LCM30));
        let list = back.child_local("RegistryObjectList").unwrap();
        assert_eq!(list.elements().count(), 2, "ObjectRef to a scheme dropped");
        let eo = list.child_local("ExtrinsicObject").unwrap();
        let order: Vec<&str> = eo.elements().map(|e| e.name.as_str()).collect();
        assert_eq!(order, ["Slot", "Name", "ExternalIdentifier"]);
        let ei = eo.child_local("ExternalIdentifier").unwrap();
        assert_eq!(ei.attr("registryObject"), Some("Document01"));
        assert!(ei.attr("id").is_some());
        let a = list.child_local("Association").unwrap();
        assert_eq!(
            a.attr("associationType"),
            Some("urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember")
        );
        assert_eq!(
            a.attr("status"),
            Some("urn:oasis:names:tc:ebxml-regrep:StatusType:Approved")
        );
    }

    fn rim21_files() -> Vec<std::path::PathBuf> {
        let Some(dir) = tests_dir() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "xml") {
                    let text = std::fs::read_to_string(&p).unwrap_or_default();
                    if text.contains(RS21) {
                        out.push(p);
                    }
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn converts_every_21_file_in_the_testkit() {
        let files = rim21_files();
        if files.is_empty() {
            eprintln!("testkit not found; skipped");
            return;
        }
        assert!(files.len() > 250, "only {} files", files.len());
        // With xmllint on the machine, the output is validated against lcm.xsd 3.0.
        let xsd = crate::testkit::shared_dir().join("schemas/nist-toolkit/v3/lcm.xsd");
        let lint = which_xmllint().filter(|_| xsd.exists());
        let tmp = tempfile::tempdir().unwrap();
        let mut invalid = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let root = parse(&std::fs::read_to_string(f).unwrap()).unwrap();
            assert!(is_rim21(&root));
            let out = convert(&root).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let xml = out.to_xml();
            let back = parse(&xml).unwrap();
            assert!(!is_rim21(&back), "{}", f.display());
            if let Some(lint) = &lint {
                let p = tmp.path().join(format!("{i}.xml"));
                std::fs::write(&p, &xml).unwrap();
                let st = std::process::Command::new(lint)
                    .arg("--noout")
                    .arg("--schema")
                    .arg(&xsd)
                    .arg(&p)
                    .output()
                    .unwrap();
                if !st.status.success() {
                    invalid.push(format!(
                        "{}: {}",
                        f.display(),
                        String::from_utf8_lossy(&st.stderr)
                    ));
                }
            }
        }
        assert!(
            invalid.is_empty(),
            "{} invalid: {:?}",
            invalid.len(),
            &invalid[..invalid.len().min(3)]
        );
    }

    fn which_xmllint() -> Option<std::path::PathBuf> {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("xmllint"))
                .find(|p| p.exists())
        })
    }
}
