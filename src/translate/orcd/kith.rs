//! A KITH epikrise (discharge letter, `http://www.kith.no/xmlstds/epikrise/...`) as an OrCD
//! source: its header facts, and its content rendered to a readable PDF in bokmål, as the
//! hospital wrote it (the OrCD templates carry the original only, so coded content goes into
//! the PDF with its codes).

use crate::ids::oid::{DNR, FNR, HER, HPR};
use crate::translate::pdf::{Block, PdfDoc};
use crate::xml::Element;

use super::header::{norwegian, Facts, Ii, Org, Person};

const XHTML: &str = "http://www.w3.org/1999/xhtml";

/// Whether the document is a KITH message of this standard (`epikrise`, `labsvar`, ...).
pub(super) fn is_kith(root: &Element, standard: &str) -> bool {
    root.name == "Message"
        && root.ns.as_deref().is_some_and(|ns| {
            ns.strip_prefix("http://www.kith.no/xmlstds/")
                .and_then(|rest| rest.strip_prefix(standard))
                .is_some_and(|rest| rest.starts_with('/'))
        })
}

/// Whether the document is a KITH epikrise message.
pub fn is_epikrise(root: &Element) -> bool {
    is_kith(root, "epikrise")
}

/// The facts over `base` and the PDF content of an epikrise.
pub fn read(root: &Element, base: &Facts) -> (Facts, PdfDoc) {
    let ns = root.ns.clone().unwrap_or_default();
    let el = |e: &Element, path: &[&str]| e.path(&ns, path).cloned();
    let v = |e: Option<Element>| e.and_then(|e| e.attr("V").map(str::to_string));
    let txt = |e: Option<Element>| {
        e.map(|e| e.deep_text().trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let mut f = base.clone();
    if let Some(id) = txt(el(root, &["MsgId"])) {
        f.source_id = Ii {
            root: id.to_uppercase(),
            extension: None,
        };
    }
    let Some(rprt) = root.child(&ns, "ServRprt") else {
        return (f, pdf_doc(base.title.clone().unwrap_or_default()));
    };
    let title = txt(el(rprt, &["MsgDescr"])).unwrap_or_else(|| "Epikrise".into());
    f.title = Some(title.clone());
    if let Some(t) = v(el(rprt, &["IssueDate"])).and_then(|t| ts(&t)) {
        f.effective = t.clone();
        f.author_time = Some(t);
    }
    let patient = rprt.child(&ns, "Patient");
    if let Some(p) = patient {
        read_patient(p, &ns, &mut f);
    }
    // the hospital that wrote it, and the physician responsible
    let inst = rprt.path(&ns, &["ServProvider", "HCP", "Inst"]);
    if let Some(i) = inst {
        f.author_org = Org {
            id: txt(el(i, &["Id"])).map(|id| Ii {
                root: HER.into(),
                extension: Some(id),
            }),
            name: txt(el(i, &["Name"])),
        };
        f.custodian = f.author_org.clone();
    }
    let responsible = rprt
        .children_local("RelServProvider")
        .find(|r| v(el(r, &["Relation"])).as_deref() == Some("AHP"))
        .and_then(|r| r.path(&ns, &["HCP", "HCProf"]));
    if let Some(h) = responsible {
        let person = hcprof(h, &ns);
        if let Some(t) = v(el(rprt, &["ApprDate"])).and_then(|t| ts(&t)) {
            f.legal = Some((person.clone(), t));
        }
        f.author = person;
    }
    if let Some(ev) = rprt.path(&ns, &["Event", "ReportedEvent"]) {
        f.service_start = v(el(ev, &["StartDateTime"])).and_then(|t| ts(&t));
        f.service_stop = v(el(ev, &["EndDateTime"])).and_then(|t| ts(&t));
    }
    let doc = content(rprt, &ns, &title, &f, responsible, inst);
    (f, doc)
}

/// A KITH `Patient`: fødselsnummer or D-number, "Family, Given", sex and birth date.
pub(super) fn read_patient(p: &Element, ns: &str, f: &mut Facts) {
    let txt = |name: &str| {
        p.child(ns, name)
            .map(|e| e.deep_text().trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let v = |name: &str| {
        p.child(ns, name)
            .and_then(|e| e.attr("V"))
            .map(str::to_string)
    };
    if let Some(id) = txt("OffId") {
        let root = if v("TypeOffId").as_deref() == Some("DNR") {
            DNR
        } else {
            FNR
        };
        f.patient.id = Ii {
            root: root.into(),
            extension: Some(id),
        };
    }
    if let Some(n) = txt("Name") {
        let (family, given) = match n.split_once(',') {
            Some((a, b)) => (a.trim().to_string(), Some(b.trim().to_string())),
            None => (n.clone(), None),
        };
        f.patient.family = Some(family);
        f.patient.given = given.or(f.patient.given.take());
    }
    f.patient.gender = match v("Sex").as_deref() {
        Some("1") => Some("M".into()),
        Some("2") => Some("F".into()),
        _ => f.patient.gender.take(),
    };
    if let Some(b) = v("DateOfBirth").and_then(|b| ts(&b)) {
        f.patient.birth = Some(b);
    }
}

/// HCProf `<Name>` is one string ("Overlege Rita Lin"): its last word is taken as the family
/// name and the rest as given (eHDSI wants both); the PDF shows it as written.
pub(super) fn hcprof(h: &Element, ns: &str) -> Person {
    let text = |n: &str| {
        h.child(ns, n)
            .map(|e| e.deep_text().trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let hpr = h
        .child(ns, "TypeId")
        .and_then(|t| t.attr("V"))
        .is_some_and(|v| v == "HPR");
    let name = text("Name");
    let (given, family) = match name.as_deref().and_then(|n| n.rsplit_once(' ')) {
        Some((g, f)) => (Some(g.trim().to_string()), Some(f.to_string())),
        None => (None, name.clone()),
    };
    Person {
        id: text("Id").filter(|_| hpr).map(|id| Ii {
            root: HPR.into(),
            extension: Some(id),
        }),
        family,
        given,
    }
}

pub(super) fn pdf_doc(title: String) -> PdfDoc {
    PdfDoc {
        created: None,
        title,
        lang: "nb-NO".into(),
        author: None,
        blocks: Vec::new(),
    }
}

/// ISO date or date-time (`2017-05-05T00:33:00`) as an HL7 TS (`20170505003300`).
pub(super) fn ts(iso: &str) -> Option<String> {
    let digits: String = iso
        .chars()
        .take_while(|c| *c != '+' && *c != 'Z')
        .filter(char::is_ascii_digit)
        .collect();
    (digits.len() >= 8).then(|| norwegian(&digits.chars().take(14).collect::<String>()))
}

/// A TS as a Norwegian date for the page (`05.05.2017`, with the time when there is one).
pub(super) fn shown(t: &str) -> String {
    let d = |a: usize, b: usize| t.get(a..b).unwrap_or("");
    let date = format!("{}.{}.{}", d(6, 8), d(4, 6), d(0, 4));
    if t.len() >= 12 {
        format!("{date} {}:{}", d(8, 10), d(10, 12))
    } else {
        date
    }
}

fn content(
    rprt: &Element,
    ns: &str,
    title: &str,
    f: &Facts,
    responsible: Option<&Element>,
    inst: Option<&Element>,
) -> PdfDoc {
    let mut doc = pdf_doc(title.to_string());
    doc.created = Some(f.effective.clone());
    let mut b = Vec::new();
    let name = [f.patient.family.as_deref(), f.patient.given.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    b.push(Block::Field("Pasient".into(), name));
    if let Some(id) = &f.patient.id.extension {
        b.push(Block::Field("Fødselsnummer".into(), id.clone()));
    }
    if let Some(t) = &f.patient.birth {
        b.push(Block::Field("Født".into(), shown(t)));
    }
    if let Some(n) = inst.and_then(|i| i.child(ns, "Name")) {
        let dept = inst
            .and_then(|i| i.path(ns, &["Dept", "Name"]))
            .map(|d| format!(", {}", d.deep_text().trim()))
            .unwrap_or_default();
        b.push(Block::Field(
            "Fra".into(),
            format!("{}{dept}", n.deep_text().trim()),
        ));
    }
    if let Some(h) = responsible.and_then(|h| h.child(ns, "Name")) {
        b.push(Block::Field(
            "Ansvarlig lege".into(),
            h.deep_text().trim().to_string(),
        ));
    }
    if let (Some(a), Some(z)) = (&f.service_start, &f.service_stop) {
        b.push(Block::Field(
            "Opphold".into(),
            format!("{} – {}", shown(a), shown(z)),
        ));
    }
    let event = rprt.child(ns, "Event");
    if let Some(o) = event
        .and_then(|e| e.child(ns, "AdmOutcome"))
        .and_then(|o| o.attr("DN"))
    {
        b.push(Block::Field("Utskrevet til".into(), o.to_string()));
    }
    b.push(Block::Field("Dato".into(), shown(&f.effective)));
    if let Some(e) = event {
        event_blocks(e, ns, &mut b);
    }
    doc.blocks = b;
    doc
}

/// The event's diagnoses (a table with their codes), described findings by kind, medicines,
/// and the commented headings, in the letter's order within each group.
fn event_blocks(e: &Element, ns: &str, b: &mut Vec<Block>) {
    let items: Vec<&Element> = e.children_local("InfItem").collect();
    let kind = |i: &Element| {
        i.child(ns, "Type")
            .map(|t| {
                (
                    t.attr("V").unwrap_or("").to_string(),
                    t.attr("DN").unwrap_or("").to_string(),
                )
            })
            .unwrap_or_default()
    };
    let mut diagnoses = Vec::new();
    let mut medicines = Vec::new();
    let mut described: Vec<(String, Vec<Block>)> = Vec::new();
    for i in &items {
        let (_, label) = kind(i);
        if let Some(c) = i.path(ns, &["Observation", "CodedDescr", "Concept"]) {
            let modifier = i
                .path(ns, &["Observation", "CodedDescr", "Modifier", "Value"])
                .map(|m| {
                    format!(
                        " ({} {})",
                        m.attr("V").unwrap_or(""),
                        m.attr("DN").unwrap_or("")
                    )
                })
                .unwrap_or_default();
            diagnoses.push(vec![
                label.clone(),
                c.attr("V").unwrap_or("").to_string(),
                format!("{}{modifier}", c.attr("DN").unwrap_or("")),
            ]);
        } else if let Some(d) = i.path(ns, &["Observation", "Description"]) {
            let blocks = xhtml_blocks(d);
            match described.iter_mut().find(|(l, _)| *l == label) {
                Some((_, v)) => v.extend(blocks),
                None => described.push((label.clone(), blocks)),
            }
        } else if let Some(m) = i.child(ns, "Medication") {
            let drug = m.child(ns, "DrugId");
            let dose = m
                .child(ns, "UnitDose")
                .map(|u| {
                    format!(
                        "{} {}",
                        u.attr("V").unwrap_or(""),
                        u.attr("U").unwrap_or("")
                    )
                })
                .unwrap_or_default();
            let text = |n: &str| {
                m.child(ns, n)
                    .map(|x| x.deep_text().trim().to_string())
                    .unwrap_or_default()
            };
            medicines.push(vec![
                drug.and_then(|d| d.attr("DN")).unwrap_or("").to_string(),
                drug.and_then(|d| d.attr("V")).unwrap_or("").to_string(),
                dose.trim().to_string(),
                text("DosageText"),
                [
                    m.child(ns, "Status")
                        .and_then(|s| s.attr("DN"))
                        .unwrap_or(""),
                    &text("Comment"),
                ]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(". "),
            ]);
        }
    }
    if !diagnoses.is_empty() {
        b.push(Block::Heading("Diagnoser".into()));
        b.push(Block::Table {
            header: vec!["Type".into(), "Kode (ICD-10)".into(), "Diagnose".into()],
            rows: diagnoses,
        });
    }
    for c in e.children_local("Comment") {
        if let Some(h) = c.child(ns, "Heading").and_then(|h| h.attr("DN")) {
            b.push(Block::Heading(h.to_string()));
        }
        if let Some(t) = c.child(ns, "TextResultValue") {
            b.extend(xhtml_blocks(t));
        }
    }
    for (label, blocks) in described {
        b.push(Block::Heading(label));
        b.extend(blocks);
    }
    if !medicines.is_empty() {
        b.push(Block::Heading("Legemidler ved utskrivning".into()));
        b.push(Block::Table {
            header: vec![
                "Legemiddel".into(),
                "ATC".into(),
                "Styrke".into(),
                "Dosering".into(),
                "Merknad".into(),
            ],
            rows: medicines,
        });
    }
}

/// The paragraphs, lists and tables of an XHTML fragment, in order.
fn xhtml_blocks(holder: &Element) -> Vec<Block> {
    let mut out = Vec::new();
    for e in holder.elements() {
        xhtml(e, &mut out);
    }
    out
}

fn xhtml(e: &Element, out: &mut Vec<Block>) {
    let flat = |e: &Element| {
        e.deep_text()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let in_xhtml = e.ns.as_deref() == Some(XHTML);
    match e.name.as_str() {
        "p" if in_xhtml => {
            let t = flat(e);
            if !t.is_empty() {
                out.push(Block::Paragraph(t));
            }
        }
        "ul" | "ol" if in_xhtml => {
            let items: Vec<String> = e
                .children_local("li")
                .map(|li| format!("• {}", flat(li)))
                .collect();
            if !items.is_empty() {
                out.push(Block::Paragraph(items.join("\n")));
            }
        }
        "table" if in_xhtml => {
            let rows: Vec<Vec<String>> = e
                .descendants()
                .into_iter()
                .filter(|r| r.name == "tr")
                .map(|r| {
                    r.elements()
                        .filter(|c| c.name == "td" || c.name == "th")
                        .map(flat)
                        .collect()
                })
                .collect();
            if let Some((head, rest)) = rows.split_first() {
                out.push(Block::Table {
                    header: head.clone(),
                    rows: rest.to_vec(),
                });
            }
        }
        _ => {
            // div and other containers: their children, in order.
            if e.elements().next().is_some() {
                for c in e.elements() {
                    xhtml(c, out);
                }
            } else {
                let t = flat(e);
                if !t.is_empty() {
                    out.push(Block::Paragraph(t));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_become_ts() {
        assert_eq!(
            ts("2017-05-05T00:33:00").as_deref(),
            Some("20170505003300+0200")
        );
        assert_eq!(ts("1969-11-13").as_deref(), Some("19691113"));
        assert_eq!(ts("2017"), None);
        assert_eq!(shown("20170505003300+0200"), "05.05.2017 00:33");
        assert_eq!(shown("19691113"), "13.11.1969");
    }
}
