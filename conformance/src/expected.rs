//! `<ExpectedContents>` checks over an ebRIM 3.0 query response (ITI-18 AdhocQueryResponse),
//! or over a retrieve response for the two checks that make sense there.

use super::plan_xml::{parse_use_id, PlanError, UseId};
use super::xml::Element;
use crate::xml::TrimmedText;

pub const SS_CLASS_NODE: &str = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd";
pub const FOLDER_CLASS_NODE: &str = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2";
pub const SS_UNIQUE_ID: &str = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8";
pub const FOLDER_UNIQUE_ID: &str = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a";
const APPROVED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved";
const DEPRECATED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated";
const HAS_MEMBER: &str = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember";
const XFRM_RPLC: &str = "urn:ihe:iti:2007:AssociationType:XFRM_RPLC";

/// Every check the testkit uses.
#[derive(Debug, Clone, PartialEq)]
pub enum ContentCheck {
    /// Exactly one SubmissionSet, one DocumentEntry, and the SS holds the document.
    SsWithOneDoc,
    SsWithTwoDoc,
    SsWithOneFol,
    SsWithOneDocOneFol,
    SsWithTwoDocOneFol,
    /// Two docs and a folder in the SS; one of the docs is also in the folder.
    SsWithTwoDocOneFolOneDocInFol,
    DocApp,
    DocDep,
    OneDocApp,
    OneDocDep,
    FolApp,
    SsApproved,
    NoDocument,
    NoSubmissionSet,
    /// The response holds no objects at all.
    None,
    HasXfrmRplc,
    Documents(usize),
    Folders(usize),
    SubmissionSets(usize),
    Associations(usize),
    ObjectRefs(usize),
    /// `<DocumentEntries><MustOnlyInclude><DocumentEntry>`: the only DocumentEntries
    /// returned are these (uuid from a UseId, optional objectType).
    DocumentEntriesOnly(Vec<(UseId, Option<String>)>),
}

fn count_attr(e: &Element) -> Result<usize, PlanError> {
    let s = e.attr("count").unwrap_or("");
    s.trim().parse().map_err(|_| PlanError::Invalid {
        path: String::new(),
        msg: format!("<{} count=\"{s}\"> is not a count", e.name),
    })
}

pub fn parse_checks(
    e: &Element,
    unknown: &mut Vec<String>,
) -> Result<Vec<ContentCheck>, PlanError> {
    let mut out = Vec::new();
    for c in e.elements() {
        let check = match c.name.as_str() {
            "SSwithOneDoc" => ContentCheck::SsWithOneDoc,
            "SSwithTwoDoc" => ContentCheck::SsWithTwoDoc,
            "SSwithOneFol" => ContentCheck::SsWithOneFol,
            "SSwithOneDocOneFol" => ContentCheck::SsWithOneDocOneFol,
            "SSwithTwoDocOneFol" => ContentCheck::SsWithTwoDocOneFol,
            "SSwithTwoDocOneFolOneDocInFol" => ContentCheck::SsWithTwoDocOneFolOneDocInFol,
            "DocApp" => ContentCheck::DocApp,
            "DocDep" => ContentCheck::DocDep,
            "OneDocApp" => ContentCheck::OneDocApp,
            "OneDocDep" => ContentCheck::OneDocDep,
            "FolApp" => ContentCheck::FolApp,
            "SSApproved" => ContentCheck::SsApproved,
            "NoDocument" => ContentCheck::NoDocument,
            "NoSubmissionSet" => ContentCheck::NoSubmissionSet,
            "None" => ContentCheck::None,
            "HasXFRM_RPLC" => ContentCheck::HasXfrmRplc,
            "Documents" => ContentCheck::Documents(count_attr(c)?),
            "Folders" => ContentCheck::Folders(count_attr(c)?),
            "SubmissionSets" => ContentCheck::SubmissionSets(count_attr(c)?),
            "Associations" => ContentCheck::Associations(count_attr(c)?),
            "ObjectRefs" => ContentCheck::ObjectRefs(count_attr(c)?),
            "DocumentEntries" => ContentCheck::DocumentEntriesOnly(parse_doc_entries(c, unknown)?),
            other => {
                unknown.push(format!("ExpectedContents/{other}"));
                continue;
            }
        };
        out.push(check);
    }
    Ok(out)
}

fn parse_doc_entries(
    e: &Element,
    unknown: &mut Vec<String>,
) -> Result<Vec<(UseId, Option<String>)>, PlanError> {
    let mut out = Vec::new();
    for m in e.elements() {
        if m.name != "MustOnlyInclude" {
            unknown.push(format!("DocumentEntries/{}", m.name));
            continue;
        }
        for d in m.children_local("DocumentEntry") {
            let mut use_id = None;
            let mut ty = None;
            for f in d.elements() {
                match f.name.as_str() {
                    "UseId" => use_id = Some(parse_use_id(f)?),
                    "DocumentEntryType" => ty = Some(f.trimmed_text()),
                    other => unknown.push(format!("DocumentEntry/{other}")),
                }
            }
            let use_id = use_id.ok_or_else(|| PlanError::Invalid {
                path: String::new(),
                msg: "DocumentEntry without UseId".into(),
            })?;
            out.push((use_id, ty));
        }
    }
    Ok(out)
}

/// What a query response holds, sorted by kind.
struct Contents<'a> {
    docs: Vec<&'a Element>,
    sss: Vec<&'a Element>,
    folders: Vec<&'a Element>,
    assocs: Vec<&'a Element>,
    refs: Vec<&'a Element>,
}

fn has_class_node(pkg: &Element, all: &[&Element], node: &str) -> bool {
    let id = pkg.attr("id").unwrap_or("");
    let nested = pkg
        .children_local("Classification")
        .any(|c| c.attr("classificationNode") == Some(node));
    nested
        || all.iter().any(|c| {
            c.name == "Classification"
                && c.attr("classificationNode") == Some(node)
                && c.attr("classifiedObject") == Some(id)
        })
}

fn has_ext_id(pkg: &Element, scheme: &str) -> bool {
    pkg.children_local("ExternalIdentifier")
        .any(|x| x.attr("identificationScheme") == Some(scheme))
}

fn sort_contents(response: &Element) -> Contents<'_> {
    let list: Vec<&Element> = response
        .descendants()
        .into_iter()
        .find(|e| e.name == "RegistryObjectList")
        .map(|l| l.elements().collect())
        .unwrap_or_default();
    let mut c = Contents {
        docs: Vec::new(),
        sss: Vec::new(),
        folders: Vec::new(),
        assocs: Vec::new(),
        refs: Vec::new(),
    };
    for e in &list {
        match e.name.as_str() {
            "ExtrinsicObject" => c.docs.push(e),
            "Association" => c.assocs.push(e),
            "ObjectRef" => c.refs.push(e),
            "RegistryPackage" => {
                if has_class_node(e, &list, SS_CLASS_NODE) || has_ext_id(e, SS_UNIQUE_ID) {
                    c.sss.push(e)
                } else if has_class_node(e, &list, FOLDER_CLASS_NODE)
                    || has_ext_id(e, FOLDER_UNIQUE_ID)
                {
                    c.folders.push(e)
                }
            }
            _ => {}
        }
    }
    c
}

fn id(e: &Element) -> &str {
    e.attr("id").unwrap_or("")
}

fn has_member(c: &Contents, source: &Element, target: &Element) -> bool {
    c.assocs.iter().any(|a| {
        a.attr("associationType") == Some(HAS_MEMBER)
            && a.attr("sourceObject") == Some(id(source))
            && a.attr("targetObject") == Some(id(target))
    })
}

fn expect_count(what: &str, got: usize, want: usize) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("expected {want} {what}, got {got}"))
    }
}

fn count_status(items: &[&Element], status: &str) -> usize {
    items
        .iter()
        .filter(|e| e.attr("status") == Some(status))
        .count()
}

fn all_status(what: &str, items: &[&Element], status: &str) -> Result<(), String> {
    match items.iter().find(|e| e.attr("status") != Some(status)) {
        None => Ok(()),
        Some(e) => Err(format!(
            "{what} {} has status {}, expected {status}",
            id(e),
            e.attr("status").unwrap_or("(none)")
        )),
    }
}

/// The shape checks: SS with N docs and M folders, every one a member of the SS.
fn ss_shape(c: &Contents, docs: usize, fols: usize) -> Result<(), String> {
    expect_count("SubmissionSets", c.sss.len(), 1)?;
    expect_count("DocumentEntries", c.docs.len(), docs)?;
    expect_count("Folders", c.folders.len(), fols)?;
    let ss = c.sss[0];
    for m in c.docs.iter().chain(c.folders.iter()) {
        if !has_member(c, ss, m) {
            return Err(format!("no HasMember from SubmissionSet to {}", id(m)));
        }
    }
    Ok(())
}

/// Ids resolved from the check's UseIds, in the same order.
pub type ResolvedIds = Vec<String>;

/// Run one check. `resolved` carries the ids of a `DocumentEntriesOnly` check.
pub fn check(
    response: &Element,
    check: &ContentCheck,
    resolved: &ResolvedIds,
) -> Result<(), String> {
    let c = sort_contents(response);
    match check {
        ContentCheck::SsWithOneDoc => ss_shape(&c, 1, 0),
        ContentCheck::SsWithTwoDoc => ss_shape(&c, 2, 0),
        ContentCheck::SsWithOneFol => ss_shape(&c, 0, 1),
        ContentCheck::SsWithOneDocOneFol => ss_shape(&c, 1, 1),
        ContentCheck::SsWithTwoDocOneFol => ss_shape(&c, 2, 1),
        ContentCheck::SsWithTwoDocOneFolOneDocInFol => {
            ss_shape(&c, 2, 1)?;
            let fol = c.folders[0];
            let in_fol = c.docs.iter().filter(|d| has_member(&c, fol, d)).count();
            expect_count("DocumentEntries in the Folder", in_fol, 1)
        }
        ContentCheck::DocApp => all_status("DocumentEntry", &c.docs, APPROVED),
        ContentCheck::DocDep => all_status("DocumentEntry", &c.docs, DEPRECATED),
        // Exactly one entry in that status among those returned (12022 returns two docs, one
        // of each).
        ContentCheck::OneDocApp => expect_count(
            "Approved DocumentEntries",
            count_status(&c.docs, APPROVED),
            1,
        ),
        ContentCheck::OneDocDep => expect_count(
            "Deprecated DocumentEntries",
            count_status(&c.docs, DEPRECATED),
            1,
        ),
        ContentCheck::FolApp => all_status("Folder", &c.folders, APPROVED),
        ContentCheck::SsApproved => all_status("SubmissionSet", &c.sss, APPROVED),
        ContentCheck::NoDocument => expect_count("DocumentEntries", c.docs.len(), 0),
        ContentCheck::NoSubmissionSet => expect_count("SubmissionSets", c.sss.len(), 0),
        ContentCheck::None => {
            let n = c.docs.len() + c.sss.len() + c.folders.len() + c.assocs.len() + c.refs.len();
            expect_count("objects", n, 0)
        }
        ContentCheck::HasXfrmRplc => {
            if c.assocs
                .iter()
                .any(|a| a.attr("associationType") == Some(XFRM_RPLC))
            {
                Ok(())
            } else {
                Err("no XFRM_RPLC Association".into())
            }
        }
        ContentCheck::Documents(n) => expect_count("DocumentEntries", c.docs.len(), *n),
        ContentCheck::Folders(n) => expect_count("Folders", c.folders.len(), *n),
        ContentCheck::SubmissionSets(n) => expect_count("SubmissionSets", c.sss.len(), *n),
        ContentCheck::Associations(n) => expect_count("Associations", c.assocs.len(), *n),
        ContentCheck::ObjectRefs(n) => expect_count("ObjectRefs", c.refs.len(), *n),
        ContentCheck::DocumentEntriesOnly(entries) => {
            for d in &c.docs {
                let pos = resolved.iter().position(|r| r == id(d));
                let Some(pos) = pos else {
                    return Err(format!("unexpected DocumentEntry {}", id(d)));
                };
                if let Some((_, Some(ty))) = entries.get(pos) {
                    if d.attr("objectType") != Some(ty.as_str()) {
                        return Err(format!("DocumentEntry {} is not of type {ty}", id(d)));
                    }
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    const RESP: &str = r#"<query:AdhocQueryResponse xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"><rim:RegistryObjectList>
      <rim:ExtrinsicObject id="d1" status="urn:oasis:names:tc:ebxml-regrep:StatusType:Approved" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"/>
      <rim:RegistryPackage id="ss" status="urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"><rim:ExternalIdentifier identificationScheme="urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8" value="1.2" registryObject="ss" id="e"/></rim:RegistryPackage>
      <rim:Association id="a" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" sourceObject="ss" targetObject="d1"/>
    </rim:RegistryObjectList></query:AdhocQueryResponse>"#;

    #[test]
    fn ss_with_one_doc_and_counts() {
        let r = parse(RESP).unwrap();
        let none = Vec::new();
        assert_eq!(check(&r, &ContentCheck::SsWithOneDoc, &none), Ok(()));
        assert_eq!(check(&r, &ContentCheck::DocApp, &none), Ok(()));
        assert_eq!(check(&r, &ContentCheck::Associations(1), &none), Ok(()));
        assert!(check(&r, &ContentCheck::SsWithTwoDoc, &none).is_err());
        assert!(check(&r, &ContentCheck::DocDep, &none).is_err());
        assert!(check(&r, &ContentCheck::None, &none).is_err());
        assert_eq!(check(&r, &ContentCheck::Folders(0), &none), Ok(()));
    }

    /// The ExpectedContents of 11897/approved over the Result in the testkit's sample log.
    #[test]
    fn expected_contents_of_11897_over_the_sample_log() {
        let Some(tk) = crate::testkit::default_testkit() else {
            return;
        };
        let Ok(log) = std::fs::read_to_string(tk.root.join("logs/sq-log.xml")) else {
            return;
        };
        let plan = crate::testplan::read_plan(&tk.test_dir("11897").join("approved/testplan.xml"))
            .unwrap();
        let checks = plan.steps[0]
            .transaction
            .as_ref()
            .unwrap()
            .expected_contents
            .clone()
            .unwrap();
        let log = parse(&log).unwrap();
        let result = log
            .descendants()
            .into_iter()
            .find(|e| e.name == "Result")
            .unwrap();
        for c in &checks {
            assert_eq!(check(result, c, &Vec::new()), Ok(()), "{c:?}");
        }
        assert!(check(result, &ContentCheck::Documents(6), &Vec::new()).is_err());
    }
}
