//! What the toolkit does to a metadata file before it is sent:
//! placeholders, 2.1 -> 3.0, fresh UUIDs (AssignUuids), fresh uniqueIds (unless NoAssignUids),
//! the test patient id (unless NoPatientId), submissionTime, sourceId, and codes.
//! Every assignment is recorded under the symbol (the id written in the file) so a later
//! step can find it with `<UseId section="AssignedUids|AssignedUuids|AssignedPatientId">`.

use super::codes::{CodeRewrite, Codes};
use super::rim21;
use super::xml::Element;

pub const DE_UNIQUE_ID: &str = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab";
pub const DE_PATIENT_ID: &str = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427";
pub const SS_UNIQUE_ID: &str = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8";
pub const SS_PATIENT_ID: &str = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446";
pub const SS_SOURCE_ID: &str = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832";
pub const FOL_UNIQUE_ID: &str = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a";
pub const FOL_PATIENT_ID: &str = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a";

/// Symbol -> value pairs, in assignment order; one list per log section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assignments {
    pub uids: Vec<(String, String)>,
    pub uuids: Vec<(String, String)>,
    pub patient_ids: Vec<(String, String)>,
    pub source_ids: Vec<(String, String)>,
    pub code_rewrites: Vec<CodeRewrite>,
}

impl Assignments {
    /// Look up by log section name as UseId writes it.
    pub fn lookup(&self, section: &str, symbol: &str) -> Option<&str> {
        let list = match section {
            "AssignedUids" => &self.uids,
            "AssignedUuids" => &self.uuids,
            "AssignedPatientId" => &self.patient_ids,
            "AssignedSourceId" => &self.source_ids,
            _ => return None,
        };
        list.iter()
            .find(|(s, _)| s == symbol)
            .map(|(_, v)| v.as_str())
    }
}

/// The per-step switches from the test plan plus the run's values.
pub struct PrepOptions<'a> {
    pub assign_uuids: bool,
    /// From `<NoAssignUids>`: `None` keeps every uniqueId, `Some(id)` keeps that object's.
    pub no_assign_uids: &'a [Option<String>],
    pub no_patient_id: bool,
    pub patient_id: &'a str,
    /// Replaces XDSSubmissionSet.sourceId when set (the site's source OID).
    pub source_id: Option<&'a str>,
    /// `yyyyMMddHHmmss`, UTC.
    pub submission_time: &'a str,
    /// Rewrite unknown codes (the toolkit's approach); None sends them unchanged.
    pub codes: Option<&'a Codes>,
}

/// Generates fresh identifiers; a trait so tests can be deterministic.
pub trait IdSource {
    fn uuid(&mut self) -> String;
    fn uid(&mut self) -> String;
}

/// UUID v4 ids, and OIDs under `2.25` (the UUID-derived arc: unique without a registered root).
pub struct RandomIds;

impl IdSource for RandomIds {
    fn uuid(&mut self) -> String {
        format!("urn:uuid:{}", uuid::Uuid::new_v4())
    }
    fn uid(&mut self) -> String {
        format!("2.25.{}", uuid::Uuid::new_v4().as_u128())
    }
}

/// Replace every `symbol` with its value in attribute values and text.
pub fn substitute(root: &mut Element, subs: &[(String, String)]) {
    if subs.is_empty() {
        return;
    }
    root.map_strings(&|s| substitute_str(s, subs));
}

pub fn substitute_str(s: &str, subs: &[(String, String)]) -> String {
    let mut out = s.to_string();
    for (k, v) in subs {
        if !k.is_empty() && out.contains(k.as_str()) {
            out = out.replace(k.as_str(), v);
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum PrepError {
    #[error(transparent)]
    Rim21(#[from] rim21::Rim21Error),
    #[error("no RegistryObjectList in the metadata")]
    NoObjectList,
}

/// Bring a (possibly 2.1) metadata document to 3.0; other documents pass through.
pub fn to_rim30(root: Element) -> Result<Element, PrepError> {
    if rim21::is_rim21(&root) {
        Ok(rim21::convert(&root)?)
    } else {
        Ok(root)
    }
}

fn find_list(root: &mut Element) -> Option<&mut Element> {
    if root.name == "RegistryObjectList" {
        return Some(root);
    }
    for c in root.elements_mut() {
        if let Some(l) = find_list(c) {
            return Some(l);
        }
    }
    None
}

const ID_REFS: &[&str] = &[
    "id",
    "lid",
    "classifiedObject",
    "registryObject",
    "sourceObject",
    "targetObject",
];

/// Prepare a submission (ITI-41/42/57/92 metadata) in place. `root` must already be 3.0.
pub fn prepare_submission(
    root: &mut Element,
    opts: &PrepOptions,
    ids: &mut dyn IdSource,
) -> Result<Assignments, PrepError> {
    let mut a = Assignments::default();
    let list = find_list(root).ok_or(PrepError::NoObjectList)?;

    if opts.assign_uuids {
        // Every symbolic id (anything not already a UUID) becomes a UUID, references too.
        let mut map: Vec<(String, String)> = Vec::new();
        list.walk_mut(&mut |e| {
            if let Some(id) = e.attr("id") {
                if !id.starts_with("urn:uuid:") && e.name != "RegistryObjectList" {
                    let id = id.to_string();
                    if !map.iter().any(|(s, _)| *s == id) {
                        map.push((id, ids.uuid()));
                    }
                }
            }
        });
        list.walk_mut(&mut |e| {
            for a in e.attrs.iter_mut().filter(|a| a.ns.is_none()) {
                if ID_REFS.contains(&a.name.as_str()) {
                    if let Some((_, u)) = map.iter().find(|(s, _)| *s == a.value) {
                        a.value = u.clone();
                    }
                }
            }
        });
        a.uuids = map;
    }

    // Objects carrying uniqueId/patientId/sourceId are the top-level ones.
    for obj in list.elements_mut() {
        let current_id = obj.attr("id").unwrap_or_default().to_string();
        // The symbol is the id written in the file, before any UUID was assigned.
        let symbol = a
            .uuids
            .iter()
            .find(|(_, u)| *u == current_id)
            .map(|(s, _)| s.clone())
            .unwrap_or(current_id);
        let keep_uid = opts
            .no_assign_uids
            .iter()
            .any(|n| n.as_deref().is_none_or(|id| id == symbol));
        let is_ss = obj
            .children_local("ExternalIdentifier")
            .any(|x| x.attr("identificationScheme") == Some(SS_UNIQUE_ID));
        for x in obj
            .elements_mut()
            .filter(|x| x.name == "ExternalIdentifier")
        {
            let scheme = x
                .attr("identificationScheme")
                .unwrap_or_default()
                .to_string();
            match scheme.as_str() {
                DE_UNIQUE_ID | SS_UNIQUE_ID | FOL_UNIQUE_ID => {
                    if !keep_uid {
                        x.set_attr("value", &ids.uid());
                    }
                    let v = x.attr("value").unwrap_or_default().to_string();
                    a.uids.push((symbol.clone(), v));
                }
                DE_PATIENT_ID | SS_PATIENT_ID | FOL_PATIENT_ID => {
                    if !opts.no_patient_id {
                        x.set_attr("value", opts.patient_id);
                    }
                    let v = x.attr("value").unwrap_or_default().to_string();
                    a.patient_ids.push((symbol.clone(), v));
                }
                SS_SOURCE_ID => {
                    if let Some(src) = opts.source_id {
                        x.set_attr("value", src);
                    }
                    let v = x.attr("value").unwrap_or_default().to_string();
                    a.source_ids.push((symbol.clone(), v));
                }
                _ => {}
            }
        }
        // The test data's own submissionTime is kept (SQ tests query by it); only a missing
        // one is filled in.
        let has_time = obj
            .elements()
            .any(|s| s.name == "Slot" && s.attr("name") == Some("submissionTime"));
        if is_ss && !has_time {
            set_slot(obj, "submissionTime", opts.submission_time);
        }
    }

    if let Some(codes) = opts.codes {
        a.code_rewrites = codes.rewrite(list);
    }
    Ok(a)
}

/// Set a single-valued Slot, adding it (first, as 3.0 orders Slots) when absent.
fn set_slot(obj: &mut Element, name: &str, value: &str) {
    let rim = obj.ns.clone();
    let prefix = obj.prefix.clone();
    if let Some(slot) = obj
        .elements_mut()
        .find(|s| s.name == "Slot" && s.attr("name") == Some(name))
    {
        slot.children.clear();
        let mut vl = Element::new(prefix.as_deref(), "ValueList", rim.as_deref());
        let mut v = Element::new(prefix.as_deref(), "Value", rim.as_deref());
        v.push_text(value);
        vl.push(v);
        slot.push(vl);
        return;
    }
    let mut slot = Element::new(prefix.as_deref(), "Slot", rim.as_deref()).with_attr("name", name);
    let mut vl = Element::new(prefix.as_deref(), "ValueList", rim.as_deref());
    let mut v = Element::new(prefix.as_deref(), "Value", rim.as_deref());
    v.push_text(value);
    vl.push(v);
    slot.push(vl);
    obj.children.insert(0, super::xml::Node::Element(slot));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    struct Seq(u32);
    impl IdSource for Seq {
        fn uuid(&mut self) -> String {
            self.0 += 1;
            format!("urn:uuid:00000000-0000-0000-0000-{:012}", self.0)
        }
        fn uid(&mut self) -> String {
            self.0 += 1;
            format!("1.2.3.{}", self.0)
        }
    }

    const SUB: &str = r#"<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList>
      <rim:ExtrinsicObject id="Document01" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">
        <rim:ExternalIdentifier id="e1" registryObject="Document01" identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" value="OLD"/>
        <rim:ExternalIdentifier id="e2" registryObject="Document01" identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" value="$uid$"/>
      </rim:ExtrinsicObject>
      <rim:RegistryPackage id="SubmissionSet01">
        <rim:ExternalIdentifier id="e3" registryObject="SubmissionSet01" identificationScheme="urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8" value="x"/>
      </rim:RegistryPackage>
      <rim:Association id="a1" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" sourceObject="SubmissionSet01" targetObject="Document01"/>
    </rim:RegistryObjectList></lcm:SubmitObjectsRequest>"#;

    #[test]
    fn assigns_uuids_uids_patient_and_time() {
        let mut root = parse(SUB).unwrap();
        substitute(&mut root, &[("$uid$".into(), "9.9".into())]);
        let opts = PrepOptions {
            assign_uuids: true,
            no_assign_uids: &[Some("Document01".into())],
            no_patient_id: false,
            patient_id: "P^^^&1.2&ISO",
            source_id: None,
            submission_time: "20260101000000",
            codes: None,
        };
        let a = prepare_submission(&mut root, &opts, &mut Seq(0)).unwrap();
        let doc_uuid = a.lookup("AssignedUuids", "Document01").unwrap().to_string();
        assert!(doc_uuid.starts_with("urn:uuid:"));
        assert_eq!(
            a.lookup("AssignedUids", "Document01"),
            Some("9.9"),
            "kept by NoAssignUids"
        );
        assert_ne!(a.lookup("AssignedUids", "SubmissionSet01"), Some("x"));
        assert_eq!(
            a.lookup("AssignedPatientId", "Document01"),
            Some("P^^^&1.2&ISO")
        );
        let xml = root.to_xml();
        assert!(xml.contains(&format!("targetObject=\"{doc_uuid}\"")));
        assert!(xml.contains(
            "<rim:Slot name=\"submissionTime\"><rim:ValueList><rim:Value>20260101000000"
        ));
        assert!(!xml.contains("\"Document01\""));
    }
}
