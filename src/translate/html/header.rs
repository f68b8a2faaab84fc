//! The page's head part: what the document is (type in bokmål, original title), whom it is
//! about (name, birth date, gender, ids, address), who wrote it and for which organisation,
//! who keeps it, who signed it, and when.

use crate::xml::Element;

use super::coded::{self, Ctx};
use super::out::{squash, Html};
use super::values::{self, address, ids_in, names_in, time_of, HL7};

/// One row of the header's description list.
enum Value {
    Text(String),
    Coded(coded::Coded),
}

struct Rows(Vec<(&'static str, Value)>);

impl Rows {
    fn text(&mut self, label: &'static str, v: Option<String>) {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            self.0.push((label, Value::Text(v)));
        }
    }

    fn coded(&mut self, label: &'static str, e: Option<&Element>, cx: &Ctx) {
        if let Some(c) = e.and_then(|e| coded::read(e, cx)) {
            self.0.push((label, Value::Coded(c)));
        }
    }
}

/// The document's own title, squashed; empty when it has none.
pub fn title(root: &Element) -> String {
    root.child(HL7, "title")
        .map(|t| squash(&t.deep_text()))
        .unwrap_or_default()
}

pub fn render(h: &mut Html, root: &Element, cx: &Ctx) {
    let code = root.child(HL7, "code");
    let kind = code.and_then(|c| coded::read(c, cx));
    let original_title = title(root);
    let heading = kind
        .as_ref()
        .and_then(|k| k.nb.clone())
        .or_else(|| Some(original_title.clone()).filter(|t| !t.is_empty()))
        .unwrap_or_else(|| "Klinisk dokument".to_string());

    h.open("header", &[]);
    h.leaf("h1", &[], &heading);
    if !original_title.is_empty() {
        h.open("p", &[("class", "orig-title")]);
        h.text("Originaltittel: ");
        h.leaf("span", &[("class", "orig")], &original_title);
        h.close("p");
    }
    let lang = root
        .child(HL7, "languageCode")
        .and_then(|l| l.attr("code"))
        .unwrap_or("ukjent");
    h.leaf(
        "p",
        &[("class", "banner")],
        &format!(
            "Dokument fra utlandet. Overskrifter og kodede verdier er vist på bokmål der \
             terminologien har en bokmålsbetegnelse, med originalen ved siden av; fritekst \
             står på originalspråket ({lang})."
        ),
    );

    let mut rows = Rows(Vec::new());
    rows.coded("Dokumenttype", code, cx);
    rows.text("Dokument-ID", root.child(HL7, "id").and_then(values::ii));
    rows.text("Dato", root.child(HL7, "effectiveTime").and_then(time_of));
    rows.text("Dokumentspråk", Some(lang.to_string()));
    rows.coded(
        "Konfidensialitet",
        root.child(HL7, "confidentialityCode"),
        cx,
    );
    patient(&mut rows, root, cx);
    for a in root.children_named(HL7, "author") {
        author(&mut rows, a, cx);
    }
    if let Some(c) = root.path(
        HL7,
        &[
            "custodian",
            "assignedCustodian",
            "representedCustodianOrganization",
        ],
    ) {
        rows.text("Ansvarlig virksomhet", organisation(c));
    }
    if let Some(l) = root.child(HL7, "legalAuthenticator") {
        let who = l
            .path(HL7, &["assignedEntity", "assignedPerson"])
            .and_then(names_in);
        let when = l.child(HL7, "time").and_then(time_of);
        let text = match (who, when) {
            (Some(w), Some(t)) => Some(format!("{w}, {t}")),
            (w, t) => w.or(t),
        };
        rows.text("Godkjent av", text);
    }
    for s in root.children_named(HL7, "documentationOf") {
        rows.text(
            "Tjenesteperiode",
            s.path(HL7, &["serviceEvent", "effectiveTime"])
                .and_then(time_of),
        );
    }
    write_rows(h, &rows);
    h.close("header");
}

fn patient(rows: &mut Rows, root: &Element, cx: &Ctx) {
    let Some(role) = root.path(HL7, &["recordTarget", "patientRole"]) else {
        return;
    };
    let p = role.child(HL7, "patient");
    rows.text("Pasient", p.and_then(names_in));
    rows.text(
        "Fødselsdato",
        p.and_then(|p| p.child(HL7, "birthTime")).and_then(time_of),
    );
    rows.coded(
        "Kjønn",
        p.and_then(|p| p.child(HL7, "administrativeGenderCode")),
        cx,
    );
    rows.text("Pasient-ID", ids_in(role));
    rows.text("Adresse", role.child(HL7, "addr").and_then(address));
}

fn author(rows: &mut Rows, a: &Element, cx: &Ctx) {
    let Some(who) = a.child(HL7, "assignedAuthor") else {
        return;
    };
    let person = who
        .child(HL7, "assignedPerson")
        .and_then(names_in)
        .or_else(|| {
            who.path(HL7, &["assignedAuthoringDevice", "softwareName"])
                .map(|s| squash(&s.deep_text()))
        });
    let when = a.child(HL7, "time").and_then(time_of);
    let text = match (person, when) {
        (Some(p), Some(t)) => Some(format!("{p} ({t})")),
        (p, t) => p.or(t),
    };
    rows.text("Forfatter", text);
    rows.coded("Forfatterens rolle", a.child(HL7, "functionCode"), cx);
    rows.coded("Forfatterens yrke", who.child(HL7, "code"), cx);
    if let Some(org) = who.child(HL7, "representedOrganization") {
        rows.text("Organisasjon", organisation(org));
    }
}

/// An organisation's name and its ids.
fn organisation(o: &Element) -> Option<String> {
    let name = names_in(o);
    let ids = ids_in(o);
    match (name, ids) {
        (Some(n), Some(i)) => Some(format!("{n} ({i})")),
        (n, i) => n.or(i),
    }
}

fn write_rows(h: &mut Html, rows: &Rows) {
    h.open("dl", &[("class", "facts")]);
    for (label, v) in &rows.0 {
        h.leaf("dt", &[], label);
        h.open("dd", &[]);
        match v {
            Value::Text(t) => h.text(t),
            Value::Coded(c) => coded::write(h, c),
        }
        h.close("dd");
    }
    h.close("dl");
}
