//! Terminology: MVC value sets, Norwegian-to-MVC transcoding, designations per language.
//! The tables are TSV files under `data/`; they are compiled in as the default and a directory
//! given at start (`Terminology::load_dir`) replaces any table it holds a file for.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use super::TranslateError;

pub mod vs;

const VALUESETS: &str = include_str!("data/valuesets.tsv");
const SYSTEMS: &str = include_str!("data/systems.tsv");
const TRANSCODING: &str = include_str!("data/transcoding.tsv");
const DESIGNATIONS: &str = include_str!("data/designations.tsv");
const ORCD_CLASSES: &str = include_str!("data/orcd_classes.tsv");
const NATIONAL_TYPES: &str = include_str!("data/national_types.tsv");

/// The classes `orcd_classes.tsv` may name (`translate::orcd::OrcdClass` codes).
pub const ORCD_CLASS_CODES: [&str; 4] = ["34105-7", "11502-2", "18748-4", "x-clinical-image"];

/// A target concept for a national code.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub valueset: String,
    pub system: String,
    pub code: String,
}

/// The Norwegian classCode and typeCode a document from abroad is registered under.
#[derive(Debug, Clone, PartialEq)]
pub struct NationalType {
    pub system: String,
    pub class_code: String,
    pub class_display: String,
    pub type_code: String,
    pub type_display: String,
}

#[derive(Debug, Default)]
pub struct Terminology {
    /// value-set OID -> (system OID, code) -> English display
    valuesets: HashMap<String, HashMap<(String, String), String>>,
    /// code-system URI -> OID
    systems: HashMap<String, String>,
    /// (system OID, code) -> MVC targets
    transcoding: HashMap<(String, String), Vec<Mapping>>,
    /// (system OID, code, language) -> display
    designations: HashMap<(String, String, String), String>,
    /// (system OID, document type code) -> the OrCD class codes it may be given as
    orcd: HashMap<(String, String), Vec<String>>,
    /// (eHDSI system OID, document code) -> the Norwegian class and type
    national_types: HashMap<(String, String), NationalType>,
}

fn rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').collect::<Vec<_>>())
}

fn bad(file: &str, line: &[&str]) -> TranslateError {
    TranslateError::Terminology(format!("{file}: malformed row starting {:?}", line.first()))
}

impl Terminology {
    /// The tables compiled into the binary, parsed once per process.
    pub fn builtin() -> &'static Terminology {
        static T: OnceLock<Terminology> = OnceLock::new();
        T.get_or_init(|| {
            // the built-in tables are part of the build; tests/translate_terminology checks they parse
            Self::try_builtin().unwrap_or_else(|e| {
                tracing::error!(error = %e, "built-in terminology tables do not parse; running without");
                Terminology::default()
            })
        })
    }

    /// Parses the built-in tables afresh, reporting a broken table.
    pub fn try_builtin() -> Result<Terminology, TranslateError> {
        Self::from_tables(VALUESETS, SYSTEMS, TRANSCODING, DESIGNATIONS)?
            .with_orcd(ORCD_CLASSES)?
            .with_national_types(NATIONAL_TYPES)
    }

    /// Adds the eHDSI document -> Norwegian class and type table (`national_types.tsv`).
    pub fn with_national_types(mut self, table: &str) -> Result<Self, TranslateError> {
        self.national_types.clear();
        for r in rows(table) {
            let [sys, code, system, class_code, class_display, type_code, type_display] = r[..]
            else {
                return Err(bad("national_types.tsv", &r));
            };
            let t = NationalType {
                system: system.into(),
                class_code: class_code.into(),
                class_display: class_display.into(),
                type_code: type_code.into(),
                type_display: type_display.into(),
            };
            self.national_types.insert((sys.into(), code.into()), t);
        }
        Ok(self)
    }

    /// The Norwegian class and type for an eHDSI document code, when the table has one.
    pub fn national_type(&self, system: &str, code: &str) -> Option<&NationalType> {
        self.national_types
            .get(&(system.to_string(), code.to_string()))
    }

    /// Adds the document type -> OrCD class table (`orcd_classes.tsv`).
    pub fn with_orcd(mut self, table: &str) -> Result<Self, TranslateError> {
        self.orcd.clear();
        for r in rows(table) {
            let [sys, code, _display, class] = r[..] else {
                return Err(bad("orcd_classes.tsv", &r));
            };
            if !ORCD_CLASS_CODES.contains(&class) {
                return Err(TranslateError::Terminology(format!(
                    "orcd_classes.tsv: {class} is not an OrCD class (row {sys} {code})"
                )));
            }
            self.orcd
                .entry((sys.to_string(), code.to_string()))
                .or_default()
                .push(class.to_string());
        }
        Ok(self)
    }

    /// The OrCD class codes a document of this type may be given as (none: not offered).
    pub fn orcd_classes(&self, system: &str, code: &str) -> &[String] {
        self.orcd
            .get(&(system.to_string(), code.to_string()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Builds from the four tables' text.
    pub fn from_tables(
        valuesets: &str,
        systems: &str,
        transcoding: &str,
        designations: &str,
    ) -> Result<Self, TranslateError> {
        let mut t = Terminology::default();
        for r in rows(valuesets) {
            let [vs, _name, sys, code, display] = r[..] else {
                return Err(bad("valuesets.tsv", &r));
            };
            t.valuesets
                .entry(vs.to_string())
                .or_default()
                .insert((sys.to_string(), code.to_string()), display.to_string());
        }
        for r in rows(systems) {
            let [uri, oid] = r[..] else {
                return Err(bad("systems.tsv", &r));
            };
            t.systems.insert(uri.to_string(), oid.to_string());
        }
        for r in rows(transcoding) {
            let [ssys, scode, _sdisp, vs, tsys, tcode] = r[..] else {
                return Err(bad("transcoding.tsv", &r));
            };
            t.transcoding
                .entry((ssys.to_string(), scode.to_string()))
                .or_default()
                .push(Mapping {
                    valueset: vs.to_string(),
                    system: tsys.to_string(),
                    code: tcode.to_string(),
                });
        }
        for r in rows(designations) {
            let [sys, code, lang, display] = r[..] else {
                return Err(bad("designations.tsv", &r));
            };
            t.designations.insert(
                (sys.to_string(), code.to_string(), lang.to_string()),
                display.to_string(),
            );
        }
        Ok(t)
    }

    /// Loads the tables from `dir`; a table missing there falls back to the built-in one.
    pub fn load_dir(dir: &Path) -> Result<Self, TranslateError> {
        let read = |name: &str, default: &'static str| -> Result<String, TranslateError> {
            let p = dir.join(name);
            if p.exists() {
                std::fs::read_to_string(&p)
                    .map_err(|e| TranslateError::Terminology(format!("{}: {e}", p.display())))
            } else {
                Ok(default.to_string())
            }
        };
        Self::from_tables(
            &read("valuesets.tsv", VALUESETS)?,
            &read("systems.tsv", SYSTEMS)?,
            &read("transcoding.tsv", TRANSCODING)?,
            &read("designations.tsv", DESIGNATIONS)?,
        )?
        .with_orcd(&read("orcd_classes.tsv", ORCD_CLASSES)?)?
        .with_national_types(&read("national_types.tsv", NATIONAL_TYPES)?)
    }

    /// Number of concepts over all value sets.
    pub fn concept_count(&self) -> usize {
        self.valuesets.values().map(|v| v.len()).sum()
    }

    pub fn has_valueset(&self, vs: &str) -> bool {
        self.valuesets.contains_key(vs)
    }

    /// The value set's display for the concept, if the concept is a member.
    pub fn lookup(&self, vs: &str, system: &str, code: &str) -> Option<&str> {
        self.valuesets
            .get(vs)?
            .get(&(system.to_string(), code.to_string()))
            .map(String::as_str)
    }

    /// Finds a concept in any loaded value set (for designations of codes whose set is unknown).
    pub fn display_any(&self, system: &str, code: &str) -> Option<&str> {
        let key = (system.to_string(), code.to_string());
        self.valuesets
            .values()
            .find_map(|m| m.get(&key))
            .map(String::as_str)
    }

    /// OID for a FHIR code-system URI (`urn:oid:` URIs carry it themselves).
    pub fn system_oid<'a>(&'a self, uri: &'a str) -> Option<&'a str> {
        if let Some(oid) = uri.strip_prefix("urn:oid:") {
            return Some(oid);
        }
        self.systems.get(uri).map(String::as_str)
    }

    /// The MVC target of a national code within value set `vs`.
    /// A row with source code `*` maps every code of its system to the same code in the target
    /// system (code systems that republish another, e.g. Volven 7180 = WHO ATC).
    pub fn transcode(&self, system: &str, code: &str, vs: &str) -> Option<Mapping> {
        if let Some(m) = self
            .transcoding
            .get(&(system.to_string(), code.to_string()))
            .and_then(|v| v.iter().find(|m| m.valueset == vs))
        {
            return Some(m.clone());
        }
        let m = self
            .transcoding
            .get(&(system.to_string(), "*".to_string()))?
            .iter()
            .find(|m| m.valueset == vs && m.code == "*")?;
        Some(Mapping {
            valueset: m.valueset.clone(),
            system: m.system.clone(),
            code: code.to_string(),
        })
    }

    /// The national code in `source_system` whose MVC target is (`system`, `code`), for the way home.
    pub fn reverse(&self, source_system: &str, system: &str, code: &str) -> Option<&str> {
        self.transcoding
            .iter()
            .filter(|((s, c), _)| s == source_system && c != "*")
            .find(|(_, ms)| ms.iter().any(|m| m.system == system && m.code == code))
            .map(|((_, c), _)| c.as_str())
    }

    /// Designation of a concept in `lang` (e.g. `nb-NO`); `nb` matches `nb-NO`.
    pub fn designation(&self, system: &str, code: &str, lang: &str) -> Option<&str> {
        let key = (system.to_string(), code.to_string(), lang.to_string());
        if let Some(d) = self.designations.get(&key) {
            return Some(d);
        }
        if !lang.contains('-') {
            let full = format!("{lang}-NO");
            return self
                .designations
                .get(&(system.to_string(), code.to_string(), full))
                .map(String::as_str);
        }
        None
    }
}
