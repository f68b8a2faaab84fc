//! How the `[confidentiality]` settings read their values: a reach word, and the code table
//! (`"CODE^^SCHEME" = "nobody" | "national" | "cross_border"`).

use super::setting::Setting;
use crate::xds::confidentiality::{default_rules, CodeRule, Reach};

const REACHES: &str = "must be \"nobody\", \"national\" or \"cross_border\"";

impl Setting for Reach {
    fn from_toml(v: &toml::Value) -> Result<Self, String> {
        let s = v
            .as_str()
            .ok_or_else(|| format!("expected a string, found {}", v.type_str()))?;
        Reach::from_env(s)
    }
    fn from_env(s: &str) -> Result<Self, String> {
        Reach::parse(s.trim()).ok_or_else(|| format!("{REACHES}, not {s:?}"))
    }
    fn show(&self) -> String {
        format!("{:?}", self.name())
    }
}

/// The rows of the policy table. Set in the file, it replaces the built-in table as a whole, so
/// that what is written is all there is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeTable(pub Vec<CodeRule>);

impl Default for CodeTable {
    fn default() -> Self {
        CodeTable(default_rules())
    }
}

impl CodeTable {
    /// The rows from (key, reach word) pairs; every bad row is named.
    fn from_pairs<'a>(
        pairs: impl Iterator<Item = (&'a str, Result<&'a str, String>)>,
    ) -> Result<Self, String> {
        let mut rules: Vec<CodeRule> = Vec::new();
        let mut bad = Vec::new();
        for (key, word) in pairs {
            let rule = word
                .and_then(|w| Reach::from_env(w).map_err(|m| format!("{key:?}: {m}")))
                .and_then(|reach| CodeRule::parse(key, reach));
            match rule {
                Ok(r) if rules.iter().any(|q| q.key() == r.key()) => {
                    bad.push(format!("{key:?} is given twice"))
                }
                Ok(r) => rules.push(r),
                Err(m) => bad.push(m),
            }
        }
        if bad.is_empty() {
            Ok(CodeTable(rules))
        } else {
            Err(bad.join("; "))
        }
    }
}

impl Setting for CodeTable {
    fn from_toml(v: &toml::Value) -> Result<Self, String> {
        let t = v.as_table().ok_or_else(|| {
            format!(
                "expected a table of \"CODE^^SCHEME\" = \"nobody\" | \"national\" | \"cross_border\", found {}",
                v.type_str()
            )
        })?;
        CodeTable::from_pairs(t.iter().map(|(k, v)| {
            let word = v
                .as_str()
                .ok_or_else(|| format!("{k:?}: expected a string, found {}", v.type_str()));
            (k.as_str(), word)
        }))
    }
    /// `CODE^^SCHEME=reach` pairs separated by commas.
    fn from_env(s: &str) -> Result<Self, String> {
        CodeTable::from_pairs(
            s.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| match p.rsplit_once('=') {
                    Some((k, w)) => (k.trim(), Ok(w.trim())),
                    None => (p, Err(format!("{p:?} is not CODE^^SCHEME=reach"))),
                }),
        )
    }
    fn show(&self) -> String {
        let rows: Vec<String> = self
            .0
            .iter()
            .map(|r| format!("{:?} = {:?}", r.key(), r.reach.name()))
            .collect();
        format!("{{ {} }}", rows.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::xds::confidentiality::{ConfidentialityPolicy, VOLVEN_9603};

    #[test]
    fn the_table_reads_from_file_and_environment() {
        let c = Config::from_toml("", "", Vec::new()).unwrap();
        assert_eq!(c.confidentiality.policy(), ConfidentialityPolicy::default());
        let file = format!(
            "[confidentiality]\nunknown = \"nobody\"\n[confidentiality.codes]\n\"NORS^^{VOLVEN_9603}\" = \"cross_border\"\n"
        );
        let c = Config::from_toml(&file, "t.toml", Vec::new()).unwrap();
        let p = c.confidentiality.policy();
        assert_eq!(
            p.rules.len(),
            1,
            "a table in the file replaces the built-in one"
        );
        assert_eq!(p.reach_of("NORS", VOLVEN_9603), Reach::CrossBorder);
        assert_eq!(p.reach_of("N", VOLVEN_9603), Reach::Nobody);
        let env = vec![(
            "NCPEH_CONFIDENTIALITY__CODES".to_string(),
            format!("N^^{VOLVEN_9603}=cross_border, NORN_*^^{VOLVEN_9603}=nobody"),
        )];
        let c = Config::from_toml("", "", env).unwrap();
        assert_eq!(c.confidentiality.codes.0.len(), 2);
        let shown = c.settings();
        let row = shown
            .iter()
            .find(|(k, _)| k == "confidentiality.codes")
            .unwrap();
        assert!(
            row.1
                .contains("\"NORN_*^^2.16.578.1.12.4.1.1.9603\" = \"nobody\""),
            "{row:?}"
        );
    }

    #[test]
    fn bad_rows_are_named() {
        let file = "[confidentiality]\nunknown = \"abroad\"\ncodes = { \"N\" = \"national\", \"R^^1.2\" = \"secret\", \"V^^1.2\" = 3 }\n";
        let e = Config::from_toml(file, "t.toml", Vec::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("confidentiality.unknown"), "{e}");
        assert!(e.contains("\"N\" is not CODE^^CODING-SCHEME"), "{e}");
        assert!(e.contains("\"R^^1.2\": must be"), "{e}");
        assert!(e.contains("\"V^^1.2\": expected a string"), "{e}");
        let env = vec![(
            "NCPEH_CONFIDENTIALITY__CODES".to_string(),
            "N^^1.2=national,N^^urn:oid:1.2=nobody".to_string(),
        )];
        let e = Config::from_toml("", "", env).unwrap_err().to_string();
        assert!(e.contains("given twice"), "{e}");
    }
}
