//! PS section bodies: one writer per FHIR resource type, each adding a narrative line (with an ID
//! the entry's `<text><reference>` points to) and the coded entry.

use crate::ids::oid;
use serde_json::Value;
use sha1::{Digest, Sha1};

use super::coded::Ctx;
use super::fhir::{cc_text, str_at, ts, Bundle};
use super::WarningKind;
use crate::xml::XmlWriter;

/// A name-based UUID (SHA-1, version 5 layout) so that output ids are stable for the same input.
pub fn uuid_from(seed: &str) -> String {
    let h = Sha1::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x: String = b.iter().map(|v| format!("{v:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
    .to_uppercase()
}

pub struct Section {
    pub code: String,
    seed: String,
    pub lines: Vec<(String, String)>,
    pub entries: Vec<String>,
}

impl Section {
    pub fn new(code: &str, seed: &str, idx: usize) -> Self {
        Section {
            code: code.to_string(),
            seed: format!("{seed}#s{idx}"),
            lines: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// Adds a narrative line and returns its ID for `<reference value="#ID">`.
    pub fn narrative_line(&mut self, text: &str) -> String {
        let id = format!("s{}-{}", self.code.replace('-', ""), self.lines.len() + 1);
        self.lines.push((id.clone(), text.to_string()));
        id
    }

    pub(crate) fn id(&self, n: usize) -> String {
        uuid_from(&format!("{}#{n}", self.seed))
    }

    pub fn write(&self, w: &mut XmlWriter, tids: &[&str], title: &str) {
        w.open("component", &[]);
        w.open("section", &[]);
        for t in tids {
            w.template(t);
        }
        w.empty("id", &[("root", &uuid_from(&self.seed))]);
        w.empty(
            "code",
            &[
                ("code", &self.code),
                ("codeSystem", oid::LOINC),
                ("codeSystemName", "LOINC"),
                ("displayName", title),
            ],
        );
        w.leaf("title", &[], title);
        w.open("text", &[]);
        if self.lines.is_empty() {
            w.leaf("paragraph", &[], "No information");
        }
        for (id, t) in &self.lines {
            w.leaf("paragraph", &[("ID", id)], t);
        }
        w.close("text");
        for e in &self.entries {
            w.open("entry", &[]);
            w.raw(e);
            w.close("entry");
        }
        w.close("section");
        w.close("component");
    }
}

pub(crate) fn text_ref(w: &mut XmlWriter, id: &str) {
    w.open("text", &[]);
    w.empty("reference", &[("value", &format!("#{id}"))]);
    w.close("text");
}

pub(crate) fn ivl(
    w: &mut XmlWriter,
    elem: &str,
    low: Option<&str>,
    high: Option<&str>,
    typed: bool,
) {
    let mut a: Vec<(&str, &str)> = Vec::new();
    if typed {
        a.push(("xsi:type", "IVL_TS"));
    }
    w.open(elem, &a);
    match low.and_then(ts) {
        Some(l) => w.empty("low", &[("value", &l)]),
        None => w.empty("low", &[("nullFlavor", "UNK")]),
    }
    if let Some(h) = high.and_then(ts) {
        w.empty("high", &[("value", &h)]);
    }
    w.close(elem);
}

/// Onset/abatement style [x] fields: (start, end) of a dateTime or Period.
pub(crate) fn period_of<'v>(r: &'v Value, base: &str) -> (Option<&'v str>, Option<&'v str>) {
    if let Some(d) = str_at(r, &format!("{base}DateTime")) {
        return (Some(d), None);
    }
    if let Some(p) = r.get(format!("{base}Period")) {
        return (str_at(p, "start"), str_at(p, "end"));
    }
    (None, None)
}

/// Writes one resource as a PS entry of section `sec`.
pub fn write_entry(cx: &mut Ctx, b: &Bundle, sec: &mut Section, r: &Value, n: usize) {
    let rt = str_at(r, "resourceType").unwrap_or("");
    let path = format!("section[{}]/entry[{}]", sec.code, sec.entries.len() + 1);
    let mut w = XmlWriter::default();
    let ok = match (sec.code.as_str(), rt) {
        (_, "MedicationStatement" | "MedicationRequest" | "MedicationAdministration") => {
            super::ps_meds::medication(cx, b, sec, r, n, &path, &mut w)
        }
        (_, "AllergyIntolerance") => super::ps_meds::allergy(cx, sec, r, n, &path, &mut w),
        (_, "Condition") => super::ps_clinical::problem(cx, sec, r, n, &path, &mut w),
        (_, "Procedure") => super::ps_clinical::procedure(cx, sec, r, n, &path, &mut w),
        (_, "DeviceUseStatement") => super::ps_clinical::device(cx, b, sec, r, n, &path, &mut w),
        (_, "Immunization") => super::ps_clinical::immunization(cx, sec, r, n, &path, &mut w),
        (_, "Observation") => super::ps_results::observation(cx, b, sec, r, n, &path, &mut w),
        _ => false,
    };
    if ok {
        sec.entries.push(w.s);
    } else {
        // no entry template for this resource here: keep what it says in the narrative
        let t = cc_text(r.get("code")).unwrap_or_else(|| rt.to_string());
        let v = super::ps_results::value_text(r)
            .map(|v| format!(": {v}"))
            .unwrap_or_default();
        let d = str_at(r, "effectiveDateTime")
            .map(|d| format!(" ({})", super::fhir::human_date(d)))
            .unwrap_or_default();
        // the codes stay readable in the text: [code system]
        let codes: Vec<String> = super::fhir::codings(cx.term, r.get("code"))
            .iter()
            .chain(super::fhir::codings(cx.term, r.get("valueCodeableConcept")).iter())
            .map(|c| format!("[{} {}]", c.code, c.system.as_deref().unwrap_or("?")))
            .collect();
        sec.narrative_line(format!("{t}{v}{d} {}", codes.join(" ")).trim_end());
        cx.warn(
            WarningKind::Dropped,
            &path,
            format!("{rt} has no entry template in this section; narrative only"),
        );
    }
}

pub(crate) fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}
