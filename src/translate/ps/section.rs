//! What the PS entry writers write into: a [`Section`] (narrative lines with the IDs entries point
//! to, entry ids, the finished entries) and one [`Entry`] at a time, with the helpers the entry
//! templates share (coded values, detail observations, concern acts, intervals).

use serde_json::Value;

use crate::ids::oid;
use crate::translate::cda::{self, uuid_from};
use crate::translate::coded::{Chosen, Ctx, Src};
use crate::translate::fhir::{codings, str_at, ts, Bundle};
use crate::xml::XmlWriter;

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

    /// A stable id for the n-th act of this section.
    pub fn id(&self, n: usize) -> String {
        uuid_from(&format!("{}#{n}", self.seed))
    }

    pub fn write(&self, w: &mut XmlWriter, tids: &[&str], title: &str) {
        w.open("component", &[]);
        w.open("section", &[]);
        for t in tids {
            w.template(t);
        }
        w.empty("id", &[("root", &uuid_from(&self.seed))]);
        cda::loinc_code(w, &self.code, title);
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

/// One entry being written: the document's coding context, the Bundle, the section it goes into,
/// its own XML, its number in the document and its path in warnings.
pub struct Entry<'e, 't> {
    pub cx: &'e mut Ctx<'t>,
    pub bundle: &'e Bundle<'e>,
    pub sec: &'e mut Section,
    pub w: XmlWriter,
    pub n: usize,
    pub path: String,
}

/// An observation about the entry (severity, certainty, criticality, status) in an
/// entryRelationship: a fixed code and a coded value.
pub struct Detail {
    /// entryRelationship typeCode and inversionInd
    pub rel: (&'static str, Option<&'static str>),
    pub templates: &'static [&'static str],
    /// the observation's code: (code, system, display)
    pub code: (&'static str, &'static str, &'static str),
    /// xsi:type of the value (CD or CE) and its value set
    pub value: (&'static str, &'static str),
    /// names the value in warnings
    pub part: &'static str,
}

/// The certainty (verification status) observation's code.
pub const CERTAINTY_CODE: (&str, &str, &str) = ("66455-7", oid::LOINC, "Condition status");

impl Entry<'_, '_> {
    /// Writes `src` as `elem` against value set `vs`; `part` names it under the entry's path.
    pub fn cd(
        &mut self,
        elem: &str,
        attrs: &[(&str, &str)],
        vs: &str,
        src: &[Src],
        text: Option<&str>,
        part: &str,
    ) -> Chosen {
        let path = format!("{}/{part}", self.path);
        self.cx
            .write_cd(&mut self.w, elem, attrs, vs, src, text, &path)
    }

    /// Writes a CodeableConcept as `<code>` against value set `vs`.
    pub fn code(&mut self, vs: &str, cc: Option<&Value>, text: Option<&str>, part: &str) {
        let src = codings(self.cx.term, cc);
        self.cd("code", &[], vs, &src, text, part);
    }

    /// Writes `src` as `<value xsi:type="CD">` against value set `vs`.
    pub fn value_cd(&mut self, vs: &str, src: &[Src], text: Option<&str>, part: &str) {
        self.cd("value", &[("xsi:type", "CD")], vs, src, text, part);
    }

    /// A [`Detail`] observation with value `src`; `text` is the narrative line it points to.
    pub fn detail(&mut self, d: &Detail, text: Option<&str>, src: &[Src]) {
        cda::open_observation(&mut self.w, d.rel.0, d.rel.1);
        for t in d.templates {
            self.w.template(t);
        }
        cda::code(&mut self.w, d.code.0, d.code.1, d.code.2);
        if let Some(id) = text {
            cda::text_ref(&mut self.w, id);
        }
        self.completed();
        self.cd(
            "value",
            &[("xsi:type", d.value.0)],
            d.value.1,
            src,
            None,
            d.part,
        );
        cda::close_observation(&mut self.w);
    }

    /// Opens `elem` (an act of the entry) with its templates and the id of the section's n-th act.
    pub fn open_act(&mut self, elem: &str, attrs: &[(&str, &str)], templates: &[&str], n: usize) {
        self.w.open(elem, attrs);
        for t in templates {
            self.w.template(t);
        }
        self.w.empty("id", &[("root", &self.sec.id(n))]);
    }

    /// Opens a concern act (problem or allergy): templates, id, CONC, the narrative pointer when
    /// given, and its status. The caller writes its effectiveTime next.
    pub fn open_concern(&mut self, templates: &[&str], text: Option<&str>, status: &str) {
        let id = self.sec.id(self.n);
        open_concern(&mut self.w, templates, &id, text, status);
    }

    /// Opens the concern's subject observation (closed by `cda::close_observation`).
    pub fn open_subject(&mut self, template: &str, n: usize) {
        cda::open_observation(&mut self.w, "SUBJ", Some("false"));
        self.w.template(template);
        self.w.empty("id", &[("root", &self.sec.id(n))]);
    }

    /// The entry's pointer to its narrative line.
    pub fn text_ref(&mut self, id: &str) {
        cda::text_ref(&mut self.w, id);
    }

    /// `statusCode` completed.
    pub fn completed(&mut self) {
        self.w.empty("statusCode", &[("code", "completed")]);
    }
}

/// The start of a concern act, up to its status.
pub fn open_concern(
    w: &mut XmlWriter,
    templates: &[&str],
    id: &str,
    text: Option<&str>,
    status: &str,
) {
    w.open("act", &[("classCode", "ACT"), ("moodCode", "EVN")]);
    for t in templates {
        w.template(t);
    }
    w.empty("id", &[("root", id)]);
    cda::concern_code(w);
    if let Some(t) = text {
        cda::text_ref(w, t);
    }
    w.empty("statusCode", &[("code", status)]);
}

/// An interval from FHIR dates: low (UNK when unknown) and high when known.
pub fn ivl(w: &mut XmlWriter, elem: &str, low: Option<&str>, high: Option<&str>, typed: bool) {
    let mut a: Vec<(&str, &str)> = Vec::new();
    if typed {
        a.push(("xsi:type", "IVL_TS"));
    }
    w.open(elem, &a);
    cda::time_or_unk(w, "low", low.and_then(ts).as_deref());
    if let Some(h) = high.and_then(ts) {
        w.empty("high", &[("value", &h)]);
    }
    w.close(elem);
}

/// Onset/abatement style [x] fields: (start, end) of a dateTime or Period.
pub fn period_of<'v>(r: &'v Value, base: &str) -> (Option<&'v str>, Option<&'v str>) {
    if let Some(d) = str_at(r, &format!("{base}DateTime")) {
        return (Some(d), None);
    }
    if let Some(p) = r.get(format!("{base}Period")) {
        return (str_at(p, "start"), str_at(p, "end"));
    }
    (None, None)
}
