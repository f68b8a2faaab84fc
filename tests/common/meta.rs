//! Builds ebRIM 3.0 submissions and stored queries for tests.

use ncpeh::xds::ids;

pub const RIM: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";
pub const LCM: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0";
pub const QUERY: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0";

fn slot(name: &str, values: &[&str]) -> String {
    let v: String = values
        .iter()
        .map(|v| format!("<rim:Value>{v}</rim:Value>"))
        .collect();
    format!("<rim:Slot name=\"{name}\"><rim:ValueList>{v}</rim:ValueList></rim:Slot>")
}

fn class(id: &str, scheme: &str, obj: &str, code: &str, coding: &str) -> String {
    format!(
        "<rim:Classification id=\"{id}\" classificationScheme=\"{scheme}\" classifiedObject=\"{obj}\" nodeRepresentation=\"{code}\">{}<rim:Name><rim:LocalizedString value=\"{code}\"/></rim:Name></rim:Classification>",
        slot("codingScheme", &[coding])
    )
}

fn ext(id: &str, scheme: &str, obj: &str, value: &str, name: &str) -> String {
    format!(
        "<rim:ExternalIdentifier id=\"{id}\" identificationScheme=\"{scheme}\" registryObject=\"{obj}\" value=\"{value}\"><rim:Name><rim:LocalizedString value=\"{name}\"/></rim:Name></rim:ExternalIdentifier>"
    )
}

pub fn new_uid() -> String {
    let u = uuid::Uuid::new_v4().as_u128() % 10u128.pow(20);
    format!("2.25.{u}")
}

#[derive(Clone)]
pub struct Doc {
    pub id: String,
    pub pid: String,
    pub uid: String,
    pub class: (String, String),
    pub type_code: (String, String),
    pub format: (String, String),
    pub conf: Vec<(String, String)>,
    pub events: Vec<(String, String)>,
    pub practice: (String, String),
    pub facility: (String, String),
    pub creation: String,
    pub author: Option<String>,
    pub hash: String,
    pub size: String,
    pub repo: String,
    pub mime: String,
    pub refs: Vec<String>,
    pub object_type: String,
    /// Leave out these slot names (for negative tests).
    pub omit: Vec<&'static str>,
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

impl Doc {
    pub fn new(id: &str, pid: &str) -> Doc {
        Doc {
            id: id.to_string(),
            pid: pid.to_string(),
            uid: new_uid(),
            class: pair("11488-4", "2.16.840.1.113883.6.1"),
            type_code: pair("34133-9", "2.16.840.1.113883.6.1"),
            format: pair("urn:ihe:pcc:xphr:2007", "1.3.6.1.4.1.19376.1.2.3"),
            conf: vec![pair("N", "2.16.840.1.113883.5.25")],
            events: vec![],
            practice: pair("394802001", "2.16.840.1.113883.6.96"),
            facility: pair("35971002", "2.16.840.1.113883.6.96"),
            creation: "20240115103000".into(),
            author: Some("^Hansen^Ola^^^^^^&2.16.578.1.12.4.1.4.4&ISO".into()),
            hash: "da39a3ee5e6b4b0d3255bfef95601890afd80709".into(),
            size: "0".into(),
            repo: "2.16.578.1.12.4.5.10.1.1".into(),
            mime: "text/xml".into(),
            refs: vec![],
            object_type: ids::DE_STABLE.into(),
            omit: vec![],
        }
    }

    pub fn xml(&self) -> String {
        let id = &self.id;
        let mut s = format!(
            "<rim:ExtrinsicObject id=\"{id}\" mimeType=\"{}\" objectType=\"{}\">",
            self.mime, self.object_type
        );
        let mut slots: Vec<(&str, Vec<String>)> = vec![
            ("creationTime", vec![self.creation.clone()]),
            ("languageCode", vec!["nb-NO".into()]),
            ("sourcePatientId", vec![self.pid.replace('&', "&amp;")]),
            ("hash", vec![self.hash.clone()]),
            ("size", vec![self.size.clone()]),
            ("repositoryUniqueId", vec![self.repo.clone()]),
            ("serviceStartTime", vec!["20240101".into()]),
            ("serviceStopTime", vec!["20240102".into()]),
        ];
        if !self.refs.is_empty() {
            slots.push((
                ids::REFERENCE_ID_LIST,
                self.refs.iter().map(|r| r.replace('&', "&amp;")).collect(),
            ));
        }
        for (n, v) in slots {
            if !self.omit.contains(&n) {
                let v: Vec<&str> = v.iter().map(String::as_str).collect();
                s.push_str(&slot(n, &v));
            }
        }
        s.push_str("<rim:Name><rim:LocalizedString value=\"Epikrise\"/></rim:Name>");
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("{id}-c{n}")
        };
        if let Some(a) = &self.author {
            s.push_str(&format!(
                "<rim:Classification id=\"{}\" classificationScheme=\"{}\" classifiedObject=\"{id}\" nodeRepresentation=\"\">{}</rim:Classification>",
                next(),
                ids::DE_AUTHOR,
                slot("authorPerson", &[&a.replace('&', "&amp;")])
            ));
        }
        let codes: Vec<(&str, &(String, String))> = [
            (ids::DE_CLASS_CODE, &self.class),
            (ids::DE_TYPE_CODE, &self.type_code),
            (ids::DE_FORMAT_CODE, &self.format),
            (ids::DE_PRACTICE_SETTING, &self.practice),
            (ids::DE_FACILITY_TYPE, &self.facility),
        ]
        .into_iter()
        .chain(self.conf.iter().map(|c| (ids::DE_CONFIDENTIALITY, c)))
        .chain(self.events.iter().map(|c| (ids::DE_EVENT_CODE, c)))
        .collect();
        for (scheme, (code, coding)) in codes {
            if !code.is_empty() {
                s.push_str(&class(&next(), scheme, id, code, coding));
            }
        }
        let pid = self.pid.replace('&', "&amp;");
        s.push_str(&ext(
            &format!("{id}-e1"),
            ids::DE_PATIENT_ID,
            id,
            &pid,
            "XDSDocumentEntry.patientId",
        ));
        s.push_str(&ext(
            &format!("{id}-e2"),
            ids::DE_UNIQUE_ID,
            id,
            &self.uid,
            "XDSDocumentEntry.uniqueId",
        ));
        s.push_str("</rim:ExtrinsicObject>");
        s
    }
}

pub fn submission_set(id: &str, pid: &str, uid: &str) -> String {
    let pid = pid.replace('&', "&amp;");
    format!(
        "<rim:RegistryPackage id=\"{id}\">{}<rim:Name><rim:LocalizedString value=\"Innsending\"/></rim:Name>{}{}{}{}</rim:RegistryPackage><rim:Classification id=\"{id}-cl\" classifiedObject=\"{id}\" classificationNode=\"{}\"/>",
        slot("submissionTime", &["20240115120000"]),
        class(&format!("{id}-ct"), ids::SS_CONTENT_TYPE, id, "34133-9", "2.16.840.1.113883.6.1"),
        ext(&format!("{id}-e1"), ids::SS_UNIQUE_ID, id, uid, "XDSSubmissionSet.uniqueId"),
        ext(&format!("{id}-e2"), ids::SS_SOURCE_ID, id, "2.16.578.1.12.4.1.2.100", "XDSSubmissionSet.sourceId"),
        ext(&format!("{id}-e3"), ids::SS_PATIENT_ID, id, &pid, "XDSSubmissionSet.patientId"),
        ids::SUBMISSION_SET_NODE
    )
}

pub fn folder(id: &str, pid: &str, uid: &str) -> String {
    let pid = pid.replace('&', "&amp;");
    format!(
        "<rim:RegistryPackage id=\"{id}\"><rim:Name><rim:LocalizedString value=\"Mappe\"/></rim:Name>{}{}{}</rim:RegistryPackage><rim:Classification id=\"{id}-cl\" classifiedObject=\"{id}\" classificationNode=\"{}\"/>",
        class(&format!("{id}-cc"), ids::FOLDER_CODE_LIST, id, "Referrals", "1.3.6.1.4.1.21367.100.1"),
        ext(&format!("{id}-e1"), ids::FOLDER_UNIQUE_ID, id, uid, "XDSFolder.uniqueId"),
        ext(&format!("{id}-e2"), ids::FOLDER_PATIENT_ID, id, &pid, "XDSFolder.patientId"),
        ids::FOLDER_NODE
    )
}

pub fn assoc(id: &str, kind: &str, src: &str, tgt: &str, ss_status: Option<&str>) -> String {
    let slots = ss_status
        .map(|s| slot("SubmissionSetStatus", &[s]))
        .unwrap_or_default();
    format!("<rim:Association id=\"{id}\" associationType=\"{kind}\" sourceObject=\"{src}\" targetObject=\"{tgt}\">{slots}</rim:Association>")
}

pub fn submit(objects: &[String]) -> String {
    format!(
        "<lcm:SubmitObjectsRequest xmlns:lcm=\"{LCM}\" xmlns:rim=\"{RIM}\"><rim:RegistryObjectList>{}</rim:RegistryObjectList></lcm:SubmitObjectsRequest>",
        objects.concat()
    )
}

/// A submission of one SubmissionSet with the given documents (all Original members).
pub fn simple_submission(pid: &str, docs: &[Doc]) -> String {
    let mut objs = vec![submission_set("SubmissionSet01", pid, &new_uid())];
    for (i, d) in docs.iter().enumerate() {
        objs.push(d.xml());
        objs.push(assoc(
            &format!("as{i}"),
            ids::HAS_MEMBER,
            "SubmissionSet01",
            &d.id,
            Some("Original"),
        ));
    }
    submit(&objs)
}

/// A stored query; `params` are (name, raw value text as it goes into <rim:Value>).
pub fn query(query_id: &str, leaf: bool, params: &[(&str, &str)]) -> String {
    let rt = if leaf { "LeafClass" } else { "ObjectRef" };
    let mut s = format!(
        "<query:AdhocQueryRequest xmlns:query=\"{QUERY}\" xmlns:rim=\"{RIM}\"><query:ResponseOption returnComposedObjects=\"true\" returnType=\"{rt}\"/><rim:AdhocQuery id=\"{query_id}\">"
    );
    for (n, v) in params {
        s.push_str(&slot(n, &[&v.replace('&', "&amp;")]));
    }
    s.push_str("</rim:AdhocQuery></query:AdhocQueryRequest>");
    s
}

/// An ITI-57 request changing the availability status of the registered object `target`
/// (statuses by their last word: Approved, Deprecated).
pub fn status_update(pid: &str, target: &str, from: &str, to: &str) -> String {
    let status = |s: &str| format!("urn:oasis:names:tc:ebxml-regrep:StatusType:{s}");
    let a = format!(
        "<rim:Association id=\"urn:uuid:{}\" associationType=\"{}\" sourceObject=\"SubmissionSet01\" targetObject=\"{target}\">{}{}</rim:Association>",
        uuid::Uuid::new_v4(),
        ids::UPDATE_AVAILABILITY_STATUS,
        slot("OriginalStatus", &[&status(from)]),
        slot("NewStatus", &[&status(to)]),
    );
    submit(&[submission_set("SubmissionSet01", pid, &new_uid()), a])
}
