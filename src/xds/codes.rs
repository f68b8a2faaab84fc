//! Affinity-domain code checking: permissive (any code with a coding scheme) or a strict list.
//! The list can be the NIST toolkit's codes.xml or a TSV of `scheme-name<TAB>code<TAB>codingScheme`.

use super::model::{Code, CodeKind};
use std::collections::{HashMap, HashSet};
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub enum CodePolicy {
    #[default]
    Permissive,
    Strict(HashMap<String, HashSet<(String, String)>>),
}

#[derive(Debug, thiserror::Error)]
pub enum CodeListError {
    #[error("cannot read code list {0}: {1}")]
    Io(String, std::io::Error),
    #[error("code list {0}: {1}")]
    Format(String, String),
}

impl CodePolicy {
    pub fn load(path: &Path) -> Result<CodePolicy, CodeListError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CodeListError::Io(name.clone(), e))?;
        let mut map: HashMap<String, HashSet<(String, String)>> = HashMap::new();
        if text.trim_start().starts_with('<') {
            let root = crate::xml::parse(text.as_bytes(), Default::default())
                .map_err(|e| CodeListError::Format(name.clone(), e.to_string()))?;
            for ct in root.elements().filter(|e| e.name == "CodeType") {
                let scheme = ct.attr("classScheme").unwrap_or_default().to_string();
                let set = map.entry(scheme).or_default();
                for c in ct.elements().filter(|e| e.name == "Code") {
                    if let (Some(code), Some(cs)) = (c.attr("code"), c.attr("codingScheme")) {
                        set.insert((code.to_string(), cs.to_string()));
                    }
                }
            }
        } else {
            for (n, line) in text.lines().enumerate() {
                let line = line.trim_end();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let f: Vec<&str> = line.split('\t').collect();
                let [kind, code, cs] = f.as_slice() else {
                    return Err(CodeListError::Format(
                        name,
                        format!("line {}: want 3 tab-separated fields", n + 1),
                    ));
                };
                let scheme = CodeKind::ALL
                    .into_iter()
                    .find(|k| k.label() == *kind || k.scheme() == *kind)
                    .map(|k| k.scheme().to_string())
                    .unwrap_or_else(|| kind.to_string());
                map.entry(scheme)
                    .or_default()
                    .insert((code.to_string(), cs.to_string()));
            }
        }
        Ok(CodePolicy::Strict(map))
    }

    /// None when acceptable, else the reason.
    pub fn check(&self, kind: CodeKind, code: &Code) -> Option<String> {
        if code.code.is_empty() {
            return Some(format!(
                "{} has no code value (nodeRepresentation)",
                kind.label()
            ));
        }
        if code.scheme.is_empty() {
            return Some(format!(
                "{} '{}' has no codingScheme slot",
                kind.label(),
                code.code
            ));
        }
        match self {
            CodePolicy::Permissive => None,
            CodePolicy::Strict(map) => {
                let known = map
                    .get(kind.scheme())
                    .map(|s| s.contains(&(code.code.clone(), code.scheme.clone())))
                    .unwrap_or(false);
                (!known).then(|| {
                    format!(
                        "{} '{}' in scheme '{}' is not in the affinity domain's code list",
                        kind.label(),
                        code.code,
                        code.scheme
                    )
                })
            }
        }
    }
}
