//! Coded elements under the eHDSI transcoding rule: the MVC code (value-set member) is the
//! element's code; every source code that is not the chosen one goes into `<translation>`; a source
//! with no MVC member becomes nullFlavor="OTH" with `<originalText>` and all source codes as
//! translations, plus a warning. Codes are never dropped and never guessed.

use super::terminology::Terminology;
use super::{TranslationWarning, WarningKind};
use crate::xml::XmlWriter;

/// One source code, its system already an OID (None when the system had no known OID).
#[derive(Debug, Clone, Default)]
pub struct Src {
    pub system: Option<String>,
    pub code: String,
    pub display: Option<String>,
}

impl Src {
    pub fn new(system: &str, code: &str, display: Option<&str>) -> Self {
        Src {
            system: Some(system.to_string()),
            code: code.to_string(),
            display: display.map(str::to_string),
        }
    }
}

/// Output context shared by the writers of one document: terminology and warnings.
pub struct Ctx<'t> {
    pub term: &'t Terminology,
    pub warnings: Vec<super::TranslationWarning>,
}

/// What `write_cd` chose; callers use it for narrative text.
pub struct Chosen {
    pub display: String,
    pub mapped: bool,
}

impl<'t> Ctx<'t> {
    pub fn new(term: &'t Terminology) -> Self {
        Ctx {
            term,
            warnings: Vec::new(),
        }
    }

    pub fn warn(&mut self, kind: WarningKind, element: &str, detail: String) {
        self.warnings.push(TranslationWarning {
            kind,
            element: element.to_string(),
            detail,
        });
    }

    /// The first of `sets` that holds one of the sources directly or through the tables; the
    /// last set when none does (so the OTH form names it).
    pub fn first_set<'s>(&self, sets: &[&'s str], src: &[Src]) -> &'s str {
        sets.iter()
            .copied()
            .find(|vs| self.choose(vs, src).is_some())
            .or_else(|| sets.last().copied())
            .unwrap_or("")
    }

    /// Finds the MVC concept for the sources: a direct member first, then a transcoding row.
    /// Returns (index of the source used directly, or None when transcoded; system; code; display).
    fn choose(&self, vs: &str, src: &[Src]) -> Option<(Option<usize>, String, String, String)> {
        for (i, s) in src.iter().enumerate() {
            if let Some(sys) = &s.system {
                if let Some(d) = self.term.lookup(vs, sys, &s.code) {
                    return Some((Some(i), sys.clone(), s.code.clone(), d.to_string()));
                }
            }
        }
        for s in src {
            if let Some(sys) = &s.system {
                if let Some(m) = self.term.transcode(sys, &s.code, vs) {
                    // a target outside the value set is no target (a table row must not bypass the MVC)
                    if let Some(d) = self.term.lookup(vs, &m.system, &m.code) {
                        return Some((None, m.system.clone(), m.code.clone(), d.to_string()));
                    }
                }
            }
        }
        None
    }

    /// Writes `<elem attrs ...>` for `src` against value set `vs`. `text` is the original text
    /// (the source's own wording); `path` names the element in warnings.
    #[allow(clippy::too_many_arguments)]
    pub fn write_cd(
        &mut self,
        w: &mut XmlWriter,
        elem: &str,
        attrs: &[(&str, &str)],
        vs: &str,
        src: &[Src],
        text: Option<&str>,
        path: &str,
    ) -> Chosen {
        let original = text
            .map(str::to_string)
            .or_else(|| src.iter().find_map(|s| s.display.clone()));
        match self.choose(vs, src) {
            Some((used, sys, code, display)) => {
                let mut a: Vec<(&str, &str)> = attrs.to_vec();
                a.push(("code", &code));
                a.push(("codeSystem", &sys));
                a.push(("displayName", &display));
                let rest: Vec<&Src> = src
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| Some(*i) != used)
                    .map(|(_, s)| s)
                    .collect();
                if original.is_none() && rest.is_empty() {
                    w.empty(elem, &a);
                } else {
                    w.open(elem, &a);
                    if let Some(t) = &original {
                        w.leaf("originalText", &[], t);
                    }
                    for s in rest {
                        self.translation(w, s, path);
                    }
                    w.close(elem);
                }
                Chosen {
                    display,
                    mapped: true,
                }
            }
            None => {
                let mut a: Vec<(&str, &str)> = attrs.to_vec();
                if src.is_empty() && original.is_none() {
                    a.push(("nullFlavor", "UNK"));
                    w.empty(elem, &a);
                    return Chosen {
                        display: String::new(),
                        mapped: false,
                    };
                }
                a.push(("nullFlavor", "OTH"));
                w.open(elem, &a);
                if let Some(t) = &original {
                    w.leaf("originalText", &[], t);
                }
                let mut codes = Vec::new();
                for s in src {
                    self.translation(w, s, path);
                    codes.push(format!("{}|{}", s.system.as_deref().unwrap_or("?"), s.code));
                }
                w.close(elem);
                if !src.is_empty() {
                    self.warn(
                        WarningKind::NoMapping,
                        path,
                        format!("no {vs} concept for {}", codes.join(", ")),
                    );
                }
                Chosen {
                    display: original.unwrap_or_default(),
                    mapped: false,
                }
            }
        }
    }

    fn translation(&mut self, w: &mut XmlWriter, s: &Src, path: &str) {
        if s.system.is_none() {
            self.warn(
                WarningKind::UnknownCodeSystem,
                path,
                format!("code {} has a system without OID", s.code),
            );
        }
        translation(w, s, true);
    }
}

/// `<translation>` for one source code; its display only when `display` is set.
pub fn translation(w: &mut XmlWriter, s: &Src, display: bool) {
    let mut a: Vec<(&str, &str)> = vec![("code", &s.code)];
    if let Some(sys) = &s.system {
        a.push(("codeSystem", sys));
    }
    if let (true, Some(d)) = (display, &s.display) {
        a.push(("displayName", d));
    }
    w.empty("translation", &a);
}

/// A code that no MVC value set binds, written as sent: `src[main]` is the element's code, `text`
/// its originalText, the other sources translations (with displays when `displays` is set).
pub fn write_as_sent(
    w: &mut XmlWriter,
    elem: &str,
    attrs: &[(&str, &str)],
    src: &[Src],
    main: usize,
    text: Option<&str>,
    displays: bool,
) {
    let Some(m) = src.get(main) else {
        return;
    };
    let sys = m.system.as_deref().unwrap_or_default();
    let mut a: Vec<(&str, &str)> = attrs.to_vec();
    a.push(("code", &m.code));
    a.push(("codeSystem", sys));
    if let Some(d) = &m.display {
        a.push(("displayName", d));
    }
    w.open(elem, &a);
    if let Some(t) = text {
        w.leaf("originalText", &[], t);
    }
    for (i, s) in src.iter().enumerate() {
        if i != main {
            translation(w, s, displays);
        }
    }
    w.close(elem);
}
