//! The eHDSI OrCD path's sources: the patient's registered Norwegian journal documents whose
//! typeCode maps to an asked OrCD class (`orcd_classes.tsv`), within the query's time filters,
//! that the audience may see, with the header facts the registry and the patient index know.

use crate::ebxml::parse::parse_stored_object;
use crate::store::patients::{self, PatientRow};
use crate::store::registry::ObjectRow;
use crate::translate::orcd::{self, xcn, xon, Facts, Ii, OrcdClass, Patient};
use crate::translate::Terminology;
use crate::xds::model::CodeKind;
use crate::xds::{cx, ids};

/// The OrCD class a registered document is offered as, if it is one of `asked`: its typeCodes
/// in the table, and whether its bytes are a picture or a report.
pub fn class_for(
    term: &Terminology,
    types: &[(String, String)],
    data: &[u8],
    asked: &[OrcdClass],
) -> Option<OrcdClass> {
    let media = orcd::media_of(data);
    types
        .iter()
        .flat_map(|(code, scheme)| orcd::classes_of_type(term, scheme, code))
        .find(|c| c.media() == media && asked.contains(c))
}

/// The header facts for a document: its metadata (title, author, organisation, dates) and the
/// patient index's demographics.
pub fn base_facts(row: &ObjectRow, pid: &str, patient: Option<&PatientRow>) -> Facts {
    let meta = parse_stored_object(&row.xml);
    let author = meta
        .as_ref()
        .and_then(|m| m.classifications_in(ids::DE_AUTHOR).next());
    let person = author
        .and_then(|a| a.first_slot_value("authorPerson"))
        .map(xcn)
        .unwrap_or_default();
    let org = author
        .and_then(|a| a.first_slot_value("authorInstitution"))
        .map(xon)
        .unwrap_or_default();
    let ts = |t: Option<i64>| t.map(|t| orcd::utc(&format!("{t:014}")));
    let effective = ts(row.creation_time).unwrap_or_else(crate::xds::time::now_dtm);
    let confidentiality = row_confidentiality(meta.as_ref());
    Facts {
        source_id: unique_id_ii(&row.unique_id),
        title: meta
            .as_ref()
            .and_then(|m| m.name_text())
            .map(str::to_string),
        effective,
        confidentiality,
        patient: Patient {
            id: Ii {
                root: cx::authority(pid).unwrap_or_default().to_string(),
                extension: Some(pid.split('^').next().unwrap_or(pid).to_string()),
            },
            family: patient.and_then(|p| p.family.clone()),
            given: patient.and_then(|p| p.given.clone()),
            gender: patient.and_then(|p| p.gender.clone()),
            birth: patient.and_then(|p| p.birth_date.clone()),
        },
        author: person,
        author_time: None,
        author_org: org.clone(),
        custodian: org,
        legal: None,
        service_start: ts(row.service_start),
        service_stop: ts(row.service_stop),
    }
}

/// The patient index row for the facts (None when the index has no entry).
pub fn patient_row(
    conn: &mut crate::store::DbConn,
    pid: &str,
) -> Result<Option<PatientRow>, crate::store::StoreError> {
    Ok(patients::get(conn, pid)?)
}

/// eHDSI knows N, R and V; every Norwegian code the policy lets across the border other than
/// N is at least restricted.
fn row_confidentiality(meta: Option<&crate::ebxml::RegistryObject>) -> String {
    let codes: Vec<&str> = meta
        .into_iter()
        .flat_map(|m| m.classifications_in(CodeKind::Confidentiality.scheme()))
        .filter_map(|c| c.node_representation.as_deref())
        .collect();
    if codes.iter().all(|c| *c == "N") {
        "N".into()
    } else {
        "R".into()
    }
}

/// A uniqueId as an II: `root^extension` or an OID alone.
fn unique_id_ii(uid: &str) -> Ii {
    match uid.split_once('^') {
        Some((root, ext)) => Ii {
            root: root.to_string(),
            extension: Some(ext.to_string()),
        },
        None => Ii {
            root: uid.to_string(),
            extension: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ids_split_into_root_and_extension() {
        assert_eq!(unique_id_ii("1.2.3^abc").extension.as_deref(), Some("abc"));
        assert_eq!(unique_id_ii("1.2.3").root, "1.2.3");
    }
}
