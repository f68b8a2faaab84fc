//! The OrCD CDA header: the facts of the Norwegian source (patient, author, organisation,
//! dates) in the eHDSI header template, with null flavours where the source says nothing.

use crate::translate::cda;
use crate::xml::XmlWriter;

use super::class::OrcdClass;

/// An instance identifier: root OID and optional extension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ii {
    pub root: String,
    pub extension: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Person {
    pub id: Option<Ii>,
    pub family: Option<String>,
    pub given: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Org {
    pub id: Option<Ii>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Patient {
    pub id: Ii,
    pub family: Option<String>,
    pub given: Option<String>,
    /// M, F or anything else (written UN).
    pub gender: Option<String>,
    /// HL7 TS (YYYYMMDD...).
    pub birth: Option<String>,
}

/// Everything the header says about the source document.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The source document's id: the OrCD points at it (relatedDocument XFRM).
    pub source_id: Ii,
    pub title: Option<String>,
    /// When the source was written (HL7 TS).
    pub effective: String,
    /// N, R or V.
    pub confidentiality: String,
    pub patient: Patient,
    pub author: Person,
    pub author_time: Option<String>,
    pub author_org: Org,
    pub custodian: Org,
    pub legal: Option<(Person, String)>,
    pub service_start: Option<String>,
    pub service_stop: Option<String>,
}

impl Facts {
    /// What the eHDSI header template requires and these facts lack (the patient's name and
    /// birth date, the author's name and the signer's).
    pub fn missing(&self) -> Vec<&'static str> {
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
        let mut m = Vec::new();
        if self.patient.id.extension.is_none() || self.patient.id.root.is_empty() {
            m.push("the patient's identifier");
        }
        if blank(&self.patient.family) || blank(&self.patient.given) {
            m.push("the patient's family and given name");
        }
        if blank(&self.patient.birth) {
            m.push("the patient's birth date");
        }
        if blank(&self.author.family) || blank(&self.author.given) {
            m.push("the author's family and given name");
        }
        if let Some((signer, _)) = &self.legal {
            if blank(&signer.family) || blank(&signer.given) {
                m.push("the legal authenticator's family and given name");
            }
        }
        m
    }

    /// What the command line knows: the patient (a fødselsnummer or a CX) and now.
    pub fn for_cli(patient: Option<&str>, now: &str) -> Facts {
        let id = patient.map(|p| match crate::xds::cx::authority(p) {
            Some(root) => Ii {
                root: root.to_string(),
                extension: Some(p.split('^').next().unwrap_or(p).to_string()),
            },
            None => Ii {
                root: crate::ids::oid::FNR.to_string(),
                extension: Some(p.to_string()),
            },
        });
        Facts {
            source_id: Ii {
                root: crate::translate::cda::uuid_from(now),
                extension: None,
            },
            effective: utc(now),
            confidentiality: "N".into(),
            patient: Patient {
                id: id.unwrap_or_default(),
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

/// A registry time (XDS times are UTC) with its zone, as eHDSI wants any time more precise
/// than a day.
pub fn utc(ts: &str) -> String {
    zoned(ts, "+0000")
}

/// A time written in Norway without a zone (CDA and KITH documents): CET, or CEST in summer.
pub fn norwegian(ts: &str) -> String {
    zoned(ts, if summer(ts) { "+0200" } else { "+0100" })
}

fn zoned(ts: &str, zone: &str) -> String {
    if ts.len() <= 8 || ts.contains(['+', '-']) {
        ts.to_string()
    } else {
        format!("{ts}{zone}")
    }
}

/// Whether a local time falls in European summer time: from 02:00 on the last Sunday of March
/// to 03:00 on the last Sunday of October.
fn summer(ts: &str) -> bool {
    let n = |a: usize, b: usize| ts.get(a..b).and_then(|s| s.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (n(0, 4), n(4, 6), n(6, 8)) else {
        return false;
    };
    let hour = n(8, 10).unwrap_or(12);
    let last_sunday = |month: u32| -> u32 {
        // The day of the week of the 31st (both months have 31 days), by Zeller's rule.
        let (mm, yy) = (month, y);
        let k = yy % 100;
        let j = yy / 100;
        let h = (31 + (13 * (mm + 1)) / 5 + k + k / 4 + j / 4 + 5 * j) % 7; // 0 = Saturday
        let weekday_from_sunday = (h + 6) % 7; // 0 = Sunday
        31 - weekday_from_sunday
    };
    let (start, end) = (last_sunday(3), last_sunday(10));
    match m {
        4..=9 => true,
        3 => d > start || (d == start && hour >= 2),
        10 => d < end || (d == end && hour < 3),
        _ => false,
    }
}

/// Writes `<ClinicalDocument>` and its header, up to (not including) the body component.
pub fn write_header(w: &mut XmlWriter, class: OrcdClass, f: &Facts, doc_id: &Ii) {
    w.open(
        "ClinicalDocument",
        &[
            ("xmlns", "urn:hl7-org:v3"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("classCode", "DOCCLIN"),
            ("moodCode", "EVN"),
        ],
    );
    w.empty(
        "typeId",
        &[
            ("root", "2.16.840.1.113883.1.3"),
            ("extension", "POCD_HD000040"),
        ],
    );
    w.template(class.template());
    ii(w, "id", Some(doc_id));
    cda::loinc_code(w, class.code(), class.display());
    w.leaf("title", &[], f.title.as_deref().unwrap_or(class.title()));
    w.empty("effectiveTime", &[("value", &f.effective)]);
    cda::confidentiality(w, &f.confidentiality);
    w.empty("languageCode", &[("code", "nb-NO")]);
    patient(w, &f.patient);
    // author
    w.open("author", &[]);
    w.empty(
        "time",
        &[("value", f.author_time.as_deref().unwrap_or(&f.effective))],
    );
    w.open("assignedAuthor", &[]);
    // eHDSI: an author without an identifier is nullFlavor NA.
    match &f.author.id {
        Some(id) => ii(w, "id", Some(id)),
        None => w.empty("id", &[("nullFlavor", "NA")]),
    }
    person_rest(w, &f.author, &f.author_org);
    w.close("assignedAuthor");
    w.close("author");
    // custodian: the organisation that keeps the original
    let custodian = if f.custodian.name.is_some() || f.custodian.id.is_some() {
        &f.custodian
    } else {
        &f.author_org
    };
    w.open("custodian", &[]);
    w.open("assignedCustodian", &[]);
    org(w, "representedCustodianOrganization", custodian);
    w.close("assignedCustodian");
    w.close("custodian");
    // legal authenticator: the signer when the source names one, else the author
    let (signer, signed) = match &f.legal {
        Some((p, t)) => (p, t.as_str()),
        None => (&f.author, f.author_time.as_deref().unwrap_or(&f.effective)),
    };
    w.open("legalAuthenticator", &[("typeCode", "LA")]);
    w.empty("time", &[("value", signed)]);
    w.empty("signatureCode", &[("code", "S")]);
    w.open("assignedEntity", &[]);
    // eHDSI requires the signer's identifier: the person's, else the organisation that
    // answers for the document, else one derived from the source document (stable, local).
    let fallback = Ii {
        root: crate::translate::cda::uuid_from(&format!(
            "signer|{}|{}",
            f.source_id.root,
            f.source_id.extension.as_deref().unwrap_or("")
        )),
        extension: None,
    };
    let signer_id = signer
        .id
        .as_ref()
        .or(f.author_org.id.as_ref())
        .unwrap_or(&fallback);
    ii(w, "id", Some(signer_id));
    person_rest(w, signer, &f.author_org);
    w.close("assignedEntity");
    w.close("legalAuthenticator");
    // the care the document is about
    w.open("documentationOf", &[("typeCode", "DOC")]);
    w.open("serviceEvent", &[("classCode", "ACT"), ("moodCode", "EVN")]);
    w.open("effectiveTime", &[]);
    if let Some(t) = &f.service_start {
        w.empty("low", &[("value", t)]);
    }
    w.empty(
        "high",
        &[("value", f.service_stop.as_deref().unwrap_or(&f.effective))],
    );
    w.close("effectiveTime");
    w.close("serviceEvent");
    w.close("documentationOf");
    // this OrCD is a transformation of the Norwegian original
    w.open("relatedDocument", &[("typeCode", "XFRM")]);
    w.open("parentDocument", &[]);
    ii(w, "id", Some(&f.source_id));
    w.close("parentDocument");
    w.close("relatedDocument");
}

fn patient(w: &mut XmlWriter, p: &Patient) {
    w.open("recordTarget", &[]);
    w.open("patientRole", &[]);
    ii(w, "id", Some(&p.id));
    w.empty("addr", &[("nullFlavor", "NI")]);
    w.empty("telecom", &[("nullFlavor", "NI")]);
    w.open("patient", &[]);
    name(w, p.family.as_deref(), p.given.as_deref());
    cda::gender(w, p.gender.as_deref().unwrap_or(""));
    cda::time_or_unk(w, "birthTime", p.birth.as_deref());
    w.close("patient");
    w.close("patientRole");
    w.close("recordTarget");
}

/// addr, telecom, assignedPerson and representedOrganization of an author or signer.
fn person_rest(w: &mut XmlWriter, p: &Person, o: &Org) {
    w.empty("addr", &[("nullFlavor", "NI")]);
    w.empty("telecom", &[("nullFlavor", "NI")]);
    w.open("assignedPerson", &[]);
    name(w, p.family.as_deref(), p.given.as_deref());
    w.close("assignedPerson");
    org(w, "representedOrganization", o);
}

fn org(w: &mut XmlWriter, elem: &str, o: &Org) {
    w.open(elem, &[]);
    ii(w, "id", o.id.as_ref());
    match &o.name {
        Some(n) => w.leaf("name", &[], n),
        None => w.empty("name", &[("nullFlavor", "NI")]),
    }
    w.empty("telecom", &[("nullFlavor", "NI")]);
    // eHDSI requires the organisation's country; every source here is Norwegian.
    w.open("addr", &[]);
    w.leaf("country", &[], "NO");
    w.close("addr");
    w.close(elem);
}

fn name(w: &mut XmlWriter, family: Option<&str>, given: Option<&str>) {
    if family.is_none() && given.is_none() {
        w.empty("name", &[("nullFlavor", "NI")]);
        return;
    }
    w.open("name", &[]);
    match family {
        Some(f) => w.leaf("family", &[], f),
        None => w.empty("family", &[("nullFlavor", "NI")]),
    }
    match given {
        Some(g) => w.leaf("given", &[], g),
        None => w.empty("given", &[("nullFlavor", "NI")]),
    }
    w.close("name");
}

fn ii(w: &mut XmlWriter, elem: &str, id: Option<&Ii>) {
    match id.filter(|i| !i.root.is_empty()) {
        Some(Ii {
            root,
            extension: Some(e),
        }) => w.empty(elem, &[("root", root), ("extension", e)]),
        Some(Ii {
            root,
            extension: None,
        }) => w.empty(elem, &[("root", root)]),
        None => w.empty(elem, &[("nullFlavor", "NI")]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_get_their_zone() {
        assert_eq!(utc("20240115103000"), "20240115103000+0000");
        assert_eq!(utc("20240115"), "20240115");
        assert_eq!(norwegian("20240115103000"), "20240115103000+0100");
        assert_eq!(norwegian("20240715103000"), "20240715103000+0200");
        assert_eq!(norwegian("20170505003300+0200"), "20170505003300+0200");
        // 2024: summer time from 31 March 02:00 to 27 October 03:00
        assert_eq!(norwegian("20240331013000"), "20240331013000+0100");
        assert_eq!(norwegian("20240331030000"), "20240331030000+0200");
        assert_eq!(norwegian("20241027023000"), "20241027023000+0200");
        assert_eq!(norwegian("20241027040000"), "20241027040000+0100");
        assert_eq!(norwegian("20241026120000"), "20241026120000+0200");
    }
}
