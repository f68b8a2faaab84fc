//! The affinity-domain code list of the testkit (`environment/default/codes.xml`) and the
//! toolkit's way of using it: before sending, any coded Classification whose
//! (code, codingScheme) is not in the list for its scheme is rewritten to the first code of
//! that list, so an old test file still carries codes the registry under test accepts.

use crate::xml::TrimmedText;
use std::collections::HashMap;
use std::path::Path;

use super::xml::{self, Element};

#[derive(Debug, thiserror::Error)]
pub enum CodesError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0}: {1}")]
    Xml(String, xml::XmlError),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Code {
    pub code: String,
    pub display: String,
    pub coding_scheme: String,
}

#[derive(Debug, Clone, Default)]
pub struct Codes {
    /// classificationScheme UUID -> (attribute name, allowed codes in file order).
    by_scheme: HashMap<String, (String, Vec<Code>)>,
}

/// One rewrite, for the step log.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeRewrite {
    pub scheme_name: String,
    pub from: (String, String),
    pub to: (String, String),
}

impl Codes {
    pub fn load(path: &Path) -> Result<Self, CodesError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CodesError::Io(p.clone(), e))?;
        let root = xml::parse(&text).map_err(|e| CodesError::Xml(p, e))?;
        Ok(Self::from_element(&root))
    }

    pub fn from_element(root: &Element) -> Self {
        let mut by_scheme = HashMap::new();
        for ct in root.children_local("CodeType") {
            // mimeType has no classScheme: it is an attribute, not a Classification.
            let Some(scheme) = ct.attr("classScheme") else {
                continue;
            };
            let codes = ct
                .children_local("Code")
                .map(|c| Code {
                    code: c.attr("code").unwrap_or_default().to_string(),
                    display: c.attr("display").unwrap_or_default().to_string(),
                    coding_scheme: c.attr("codingScheme").unwrap_or_default().to_string(),
                })
                .collect();
            let name = ct.attr("name").unwrap_or_default().to_string();
            by_scheme.insert(scheme.to_string(), (name, codes));
        }
        Codes { by_scheme }
    }

    pub fn is_known(&self, scheme: &str, code: &str, coding_scheme: &str) -> Option<bool> {
        let (_, codes) = self.by_scheme.get(scheme)?;
        Some(
            codes
                .iter()
                .any(|c| c.code == code && c.coding_scheme == coding_scheme),
        )
    }

    /// Rewrite unknown codes in place, everywhere below `root`.
    pub fn rewrite(&self, root: &mut Element) -> Vec<CodeRewrite> {
        let mut done = Vec::new();
        root.walk_mut(&mut |e| {
            if e.name != "Classification" {
                return;
            }
            let Some(scheme) = e.attr("classificationScheme") else {
                return;
            };
            let Some((name, codes)) = self.by_scheme.get(scheme) else {
                return;
            };
            let Some(first) = codes.first() else { return };
            let code = e.attr("nodeRepresentation").unwrap_or_default().to_string();
            let cs = coding_scheme_of(e).unwrap_or_default();
            if codes
                .iter()
                .any(|c| c.code == code && c.coding_scheme == cs)
            {
                return;
            }
            e.set_attr("nodeRepresentation", &first.code);
            set_coding_scheme(e, &first.coding_scheme);
            set_name(e, &first.display);
            done.push(CodeRewrite {
                scheme_name: name.clone(),
                from: (code, cs),
                to: (first.code.clone(), first.coding_scheme.clone()),
            });
        });
        done
    }
}

fn coding_scheme_of(e: &Element) -> Option<String> {
    let slot = e
        .children_local("Slot")
        .find(|s| s.attr("name") == Some("codingScheme"))?;
    let v = slot.child_local("ValueList")?.child_local("Value")?;
    Some(v.trimmed_text())
}

fn set_coding_scheme(e: &mut Element, value: &str) {
    for s in e.elements_mut() {
        if s.name == "Slot" && s.attr("name") == Some("codingScheme") {
            for vl in s.elements_mut().filter(|c| c.name == "ValueList") {
                if let Some(v) = vl.elements_mut().find(|c| c.name == "Value") {
                    v.children = vec![xml::Node::Text(value.to_string())];
                }
            }
        }
    }
}

fn set_name(e: &mut Element, display: &str) {
    for n in e.elements_mut().filter(|c| c.name == "Name") {
        for ls in n.elements_mut().filter(|c| c.name == "LocalizedString") {
            ls.set_attr("value", display);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::default_testkit;

    #[test]
    fn rewrites_unknown_codes_only() {
        let Some(tk) = default_testkit() else { return };
        let codes = Codes::load(&tk.codes_file()).unwrap();
        let conf = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f";
        assert_eq!(
            codes.is_known(conf, "N", "2.16.840.1.113883.5.25"),
            Some(true)
        );
        let src = format!(
            r#"<x xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
            <rim:Classification classificationScheme="{conf}" nodeRepresentation="N" classifiedObject="d" id="c1">
              <rim:Slot name="codingScheme"><rim:ValueList><rim:Value>2.16.840.1.113883.5.25</rim:Value></rim:ValueList></rim:Slot></rim:Classification>
            <rim:Classification classificationScheme="{conf}" nodeRepresentation="1.3.6.1.4.1.21367.2006.7.101" classifiedObject="d" id="c2">
              <rim:Slot name="codingScheme"><rim:ValueList><rim:Value>Connect-a-thon confidentialityCodes</rim:Value></rim:ValueList></rim:Slot>
              <rim:Name><rim:LocalizedString value="old"/></rim:Name></rim:Classification></x>"#
        );
        let mut root = xml::parse(&src).unwrap();
        let done = codes.rewrite(&mut root);
        assert_eq!(done.len(), 1);
        let c2 = root.elements().nth(1).unwrap();
        assert_eq!(c2.attr("nodeRepresentation"), Some(done[0].to.0.as_str()));
        assert_eq!(
            coding_scheme_of(c2).as_deref(),
            Some("2.16.840.1.113883.5.25")
        );
    }
}
