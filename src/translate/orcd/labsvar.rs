//! A KITH svarrapport (laboratory report, `http://www.kith.no/xmlstds/labsvar/...`, v1.3/1.4 as
//! NILAR stores them) as an OrCD source: its header facts, and its results rendered to a PDF in
//! bokmål as the laboratory reported them: analysis and code, value and unit, reference range,
//! flag, sample and time taken. The OrCD laboratory template carries the original only, so the
//! coded results travel in the PDF with their codes.

use crate::ids::oid::HER;
use crate::translate::pdf::{Block, PdfDoc};
use crate::xml::Element;

use super::header::{Facts, Ii, Org};
use super::kith::{hcprof, is_kith, pdf_doc, read_patient, shown, ts};

/// Whether the document is a KITH laboratory report.
pub fn is_svarrapport(root: &Element) -> bool {
    is_kith(root, "labsvar")
}

/// The facts over `base` and the PDF content of a svarrapport.
pub fn read(root: &Element, base: &Facts) -> (Facts, PdfDoc) {
    let ns = root.ns.clone().unwrap_or_default();
    let txt = |e: Option<&Element>| {
        e.map(|e| e.deep_text().trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let attr = |e: Option<&Element>, a: &str| e.and_then(|e| e.attr(a)).map(str::to_string);
    let mut f = base.clone();
    if let Some(id) = txt(root.child(&ns, "MsgId")) {
        f.source_id = Ii {
            root: id.to_uppercase(),
            extension: None,
        };
    }
    let Some(rep) = root.child(&ns, "ServReport") else {
        return (f, pdf_doc("Laboratoriesvar".into()));
    };
    let title = attr(rep.child(&ns, "MsgDescr"), "DN")
        .map(|d| format!("Laboratoriesvar, {}", d.to_lowercase()))
        .unwrap_or_else(|| "Laboratoriesvar".into());
    f.title = Some(title.clone());
    if let Some(t) = attr(rep.child(&ns, "IssueDate"), "V").and_then(|t| ts(&t)) {
        f.effective = t.clone();
        f.author_time = Some(t);
    }
    let patient = rep.child(&ns, "Patient");
    if let Some(p) = patient {
        read_patient(p, &ns, &mut f);
        // the care the report is about: when the samples were taken
        let mut taken: Vec<String> = p
            .children_named(&ns, "AnalysedSubject")
            .filter_map(|s| attr(s.path(&ns, &["CollectedSample", "CollectedDate"]), "V"))
            .filter_map(|t| ts(&t))
            .collect();
        taken.sort();
        f.service_start = taken.first().cloned();
        f.service_stop = taken.last().cloned();
    }
    let inst = rep.path(&ns, &["ServProvider", "HCP", "Inst"]);
    if let Some(i) = inst {
        f.author_org = Org {
            id: txt(i.child(&ns, "Id")).map(|id| Ii {
                root: HER.into(),
                extension: Some(id),
            }),
            name: txt(i.child(&ns, "Name")),
        };
        f.custodian = f.author_org.clone();
    }
    // The laboratory's responsible professional answers for the report.
    let responsible = rep
        .children_named(&ns, "RelServProv")
        .find(|r| attr(r.child(&ns, "Relation"), "V").as_deref() == Some("AHP"))
        .and_then(|r| r.path(&ns, &["HCP", "HCProf"]));
    if let Some(h) = responsible {
        f.author = hcprof(h, &ns);
    }
    let mut doc = pdf_doc(title);
    doc.created = Some(f.effective.clone());
    doc.blocks = blocks(rep, patient, &ns, &f, inst, responsible);
    (f, doc)
}

fn blocks(
    rep: &Element,
    patient: Option<&Element>,
    ns: &str,
    f: &Facts,
    inst: Option<&Element>,
    responsible: Option<&Element>,
) -> Vec<Block> {
    let text = |e: Option<&Element>| {
        e.map(|e| e.deep_text().trim().to_string())
            .unwrap_or_default()
    };
    let dn = |e: Option<&Element>| e.and_then(|e| e.attr("DN")).unwrap_or_default().to_string();
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
    if let Some(i) = inst {
        let dept = i
            .path(ns, &["Dept", "Name"])
            .map(|d| format!(", {}", d.deep_text().trim()))
            .unwrap_or_default();
        b.push(Block::Field(
            "Laboratorium".into(),
            format!("{}{dept}", text(i.child(ns, "Name"))),
        ));
    }
    if let Some(r) = rep.path(ns, &["Requester", "HCP", "Inst"]) {
        let who = r
            .path(ns, &["HCPerson", "Name"])
            .map(|n| format!(", {}", n.deep_text().trim()))
            .unwrap_or_default();
        b.push(Block::Field(
            "Rekvirent".into(),
            format!("{}{who}", text(r.child(ns, "Name"))),
        ));
    }
    if let Some(h) = responsible {
        b.push(Block::Field("Ansvarlig".into(), text(h.child(ns, "Name"))));
    }
    b.push(Block::Field("Rapportert".into(), shown(&f.effective)));
    let status = dn(rep.child(ns, "Status"));
    if !status.is_empty() {
        b.push(Block::Field("Status".into(), status));
    }
    let Some(p) = patient else { return b };
    // samples by their number, as the results refer to them
    let samples: Vec<(String, String)> = p
        .children_named(ns, "AnalysedSubject")
        .map(|s| {
            let taken = s
                .path(ns, &["CollectedSample", "CollectedDate"])
                .and_then(|d| d.attr("V"))
                .and_then(ts)
                .map(|t| format!(", tatt {}", shown(&t)))
                .unwrap_or_default();
            (
                text(s.child(ns, "IdByServProvider")),
                format!("{}{taken}", dn(s.child(ns, "TypeCoded"))),
            )
        })
        .collect();
    let mut rows = Vec::new();
    for r in p.children_named(ns, "ResultItem") {
        let inv = r.path(ns, &["Investigation", "Id"]);
        let analysis = match (
            inv.and_then(|i| i.attr("DN")),
            inv.and_then(|i| i.attr("V")),
        ) {
            (Some(d), Some(c)) => format!("{d} ({c})"),
            (Some(d), None) => d.to_string(),
            (None, Some(c)) => c.to_string(),
            (None, None) => text(r.path(ns, &["Investigation", "Spec"])),
        };
        let num = r.path(ns, &["NumResult", "NumResultValue"]);
        let value = match num {
            Some(n) => n.attr("V").unwrap_or_default().to_string(),
            None => text(r.path(ns, &["TextResult", "Result"])),
        };
        let unit = num
            .and_then(|n| n.attr("U"))
            .filter(|u| *u != "0")
            .unwrap_or_default()
            .to_string();
        let sample = text(r.child(ns, "RefAnalysedSubject"));
        let sample = samples
            .iter()
            .find(|(n, _)| *n == sample)
            .map(|(_, s)| s.clone())
            .unwrap_or_default();
        rows.push(vec![
            analysis,
            value,
            unit,
            text(r.path(ns, &["RefInterval", "Descr"])),
            dn(r.child(ns, "DevResultInd")),
            sample,
        ]);
    }
    if !rows.is_empty() {
        b.push(Block::Heading("Resultater".into()));
        b.push(Block::Table {
            header: [
                "Analyse",
                "Resultat",
                "Enhet",
                "Referanse",
                "Avvik",
                "Prøve",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        });
    }
    let comment = text(rep.child(ns, "Comment"));
    if !comment.is_empty() {
        b.push(Block::Heading("Kommentar".into()));
        b.push(Block::Paragraph(comment));
    }
    b
}
