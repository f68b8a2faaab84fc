//! Who may see a document: its confidentialityCodes (Volven 9603, HL7 Confidentiality) set how far
//! it reaches, and the caller is national or cross-border. The policy table comes from the
//! `[confidentiality]` config section; the filtering itself is in `crate::registry::gate`.

/// Norway's confidentiality code system (Volven 9603: N, NORS, NORU, NORN_*).
pub const VOLVEN_9603: &str = "2.16.578.1.12.4.1.1.9603";
/// HL7 v3 Confidentiality (L, M, N, R, U, V).
pub const HL7_CONFIDENTIALITY: &str = "2.16.840.1.113883.5.25";
/// The country whose certificates make a gateway caller national.
pub const NATIONAL_COUNTRY: &str = "NO";

/// Who is asking. Decided by the service that receives the call, from the endpoint and the
/// caller's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Callers of /xds/*, and national consumers on /xca.
    National,
    /// Foreign contact points on /xca, /xcpd and /xdr.
    CrossBorder,
}

/// Who sees an answer: the audience and, for a foreign contact point, the one patient its
/// treatment relationship (TRC) assertion names. A cross-border viewer without a patient sees
/// no patient's objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub audience: Audience,
    pub patient: Option<String>,
}

impl Viewer {
    pub fn national() -> Viewer {
        Viewer {
            audience: Audience::National,
            patient: None,
        }
    }

    pub fn cross_border(patient: Option<String>) -> Viewer {
        Viewer {
            audience: Audience::CrossBorder,
            patient,
        }
    }

    /// Whether objects of the patient `pid` may be shown to this viewer.
    pub fn sees_patient(&self, pid: &str) -> bool {
        match self.audience {
            Audience::National => true,
            Audience::CrossBorder => self
                .patient
                .as_deref()
                .is_some_and(|p| p.trim() == pid.trim()),
        }
    }
}

/// How far a document may travel; ordered from the most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reach {
    Nobody,
    National,
    CrossBorder,
}

impl Reach {
    pub fn admits(self, audience: Audience) -> bool {
        match audience {
            Audience::National => self >= Reach::National,
            Audience::CrossBorder => self == Reach::CrossBorder,
        }
    }

    /// The word used in the config file.
    pub fn name(self) -> &'static str {
        match self {
            Reach::Nobody => "nobody",
            Reach::National => "national",
            Reach::CrossBorder => "cross_border",
        }
    }

    pub fn parse(s: &str) -> Option<Reach> {
        [Reach::Nobody, Reach::National, Reach::CrossBorder]
            .into_iter()
            .find(|r| r.name() == s)
    }
}

/// One row of the policy: a code of one coding scheme, or every code of it that starts with a
/// prefix (`NORN_*`; `*` alone is every code of the scheme).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRule {
    pub code: String,
    pub scheme: String,
    pub reach: Reach,
}

impl CodeRule {
    /// Reads the config form `CODE^^SCHEME` (the XDS stored-query form of a code).
    pub fn parse(key: &str, reach: Reach) -> Result<CodeRule, String> {
        let bad = || format!("{key:?} is not CODE^^CODING-SCHEME, e.g. \"NORS^^{VOLVEN_9603}\"");
        let (code, scheme) = key.split_once("^^").ok_or_else(bad)?;
        let (code, scheme) = (code.trim(), scheme.trim());
        if code.is_empty() || scheme.is_empty() || scheme.contains('^') {
            return Err(bad());
        }
        if code.trim_end_matches('*').contains('*') || code.matches('*').count() > 1 {
            return Err(format!(
                "{key:?}: '*' may only end the code (a prefix such as NORN_*)"
            ));
        }
        Ok(CodeRule {
            code: code.to_string(),
            scheme: bare(scheme).to_string(),
            reach,
        })
    }

    /// The config form, `CODE^^SCHEME`.
    pub fn key(&self) -> String {
        format!("{}^^{}", self.code, self.scheme)
    }

    /// How closely the rule names the code: None when it does not match; an exact code beats
    /// any prefix, a longer prefix a shorter one.
    fn specificity(&self, code: &str, scheme: &str) -> Option<usize> {
        if self.scheme != bare(scheme) {
            return None;
        }
        match self.code.strip_suffix('*') {
            Some(prefix) => code.starts_with(prefix).then_some(prefix.len()),
            None => (self.code == code).then_some(usize::MAX),
        }
    }
}

/// `urn:oid:1.2` and `1.2` name the same coding scheme.
fn bare(scheme: &str) -> &str {
    scheme.strip_prefix("urn:oid:").unwrap_or(scheme)
}

/// The code table and what a code it does not name may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfidentialityPolicy {
    pub rules: Vec<CodeRule>,
    pub unknown: Reach,
}

impl Default for ConfidentialityPolicy {
    fn default() -> Self {
        ConfidentialityPolicy {
            rules: default_rules(),
            unknown: Reach::National,
        }
    }
}

/// NORN_* (denied: wrong patient, duplicate, ...) is shown to nobody, every other 9603 code but
/// plain N stays in Norway, and only a plain N (9603 or HL7) crosses the border.
pub fn default_rules() -> Vec<CodeRule> {
    let rule = |code: &str, scheme: &str, reach| CodeRule {
        code: code.into(),
        scheme: scheme.into(),
        reach,
    };
    vec![
        rule("N", HL7_CONFIDENTIALITY, Reach::CrossBorder),
        rule("N", VOLVEN_9603, Reach::CrossBorder),
        rule("NORN_*", VOLVEN_9603, Reach::Nobody),
        rule("*", VOLVEN_9603, Reach::National),
    ]
}

impl ConfidentialityPolicy {
    /// The reach of one code: the most specific rule that names it, else `unknown`.
    pub fn reach_of(&self, code: &str, scheme: &str) -> Reach {
        self.rules
            .iter()
            .filter_map(|r| r.specificity(code, scheme).map(|s| (s, r.reach)))
            .max_by_key(|(s, _)| *s)
            .map_or(self.unknown, |(_, reach)| reach)
    }

    /// The reach of a document with these (code, scheme) pairs: its most restrictive code. A
    /// document without a code reaches as far as an unknown code.
    pub fn reach<'a>(&self, codes: impl IntoIterator<Item = (&'a str, &'a str)>) -> Reach {
        codes
            .into_iter()
            .map(|(c, s)| self.reach_of(c, s))
            .min()
            .unwrap_or(self.unknown)
    }

    pub fn shows<'a>(
        &self,
        codes: impl IntoIterator<Item = (&'a str, &'a str)>,
        audience: Audience,
    ) -> bool {
        self.reach(codes).admits(audience)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_matches_the_norwegian_profile() {
        let p = ConfidentialityPolicy::default();
        let reach = |c: &str, s: &str| p.reach_of(c, s);
        assert_eq!(reach("N", VOLVEN_9603), Reach::CrossBorder);
        assert_eq!(reach("N", HL7_CONFIDENTIALITY), Reach::CrossBorder);
        assert_eq!(
            reach("N", "urn:oid:2.16.840.1.113883.5.25"),
            Reach::CrossBorder
        );
        assert_eq!(reach("NORN_DUP", VOLVEN_9603), Reach::Nobody);
        assert_eq!(reach("NORN_FEILPAS", VOLVEN_9603), Reach::Nobody);
        assert_eq!(reach("NORS", VOLVEN_9603), Reach::National);
        assert_eq!(reach("NORU", VOLVEN_9603), Reach::National);
        // Not in the table: national (HL7 R and V, the NIST test codes, other schemes).
        assert_eq!(reach("V", HL7_CONFIDENTIALITY), Reach::National);
        assert_eq!(reach("NORN_DUP", "1.2.3"), Reach::National);
        // The most restrictive code wins; no code at all counts as unknown.
        let n = ("N", HL7_CONFIDENTIALITY);
        assert!(p.shows([n], Audience::CrossBorder));
        assert!(!p.shows([n, ("NORS", VOLVEN_9603)], Audience::CrossBorder));
        assert!(p.shows([n, ("NORS", VOLVEN_9603)], Audience::National));
        assert!(!p.shows([n, ("NORN_DUP", VOLVEN_9603)], Audience::National));
        assert_eq!(p.reach([]), Reach::National);
    }

    #[test]
    fn rules_parse_and_the_most_specific_wins() {
        let r = |k: &str, reach| CodeRule::parse(k, reach).unwrap();
        let p = ConfidentialityPolicy {
            rules: vec![
                r("NOR*^^1.2", Reach::National),
                r("NORN_*^^urn:oid:1.2", Reach::Nobody),
                r("NORN_OK^^1.2", Reach::CrossBorder),
            ],
            unknown: Reach::Nobody,
        };
        assert_eq!(p.reach_of("NORS", "1.2"), Reach::National);
        assert_eq!(p.reach_of("NORN_DUP", "1.2"), Reach::Nobody);
        assert_eq!(p.reach_of("NORN_OK", "1.2"), Reach::CrossBorder);
        assert_eq!(p.reach_of("X", "1.2"), Reach::Nobody);
        assert_eq!(r("N^^urn:oid:1.2", Reach::National).key(), "N^^1.2");
        for bad in ["N", "^^1.2", "N^^", "N*X^^1.2", "N**^^1.2", "N^^1^2"] {
            assert!(CodeRule::parse(bad, Reach::National).is_err(), "{bad}");
        }
    }

    #[test]
    fn reach_admits_audiences() {
        assert!(!Reach::National.admits(Audience::CrossBorder));
        let v = Viewer::cross_border(Some("1^^^&2.3&ISO".into()));
        assert!(v.sees_patient("1^^^&2.3&ISO") && !v.sees_patient("2^^^&2.3&ISO"));
        assert!(!Viewer::cross_border(None).sees_patient("1^^^&2.3&ISO"));
        assert!(Viewer::national().sees_patient("anyone"));
        assert!(Reach::CrossBorder.admits(Audience::National));
        assert!(!Reach::Nobody.admits(Audience::National));
    }
}
