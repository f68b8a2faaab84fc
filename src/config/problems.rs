//! Every problem found in the configuration, each under its dotted key, so that one run shows
//! all of them (as Stalwart keeps its errors keyed by setting name).

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("config {0} is not valid TOML: {1}")]
    Syntax(String, String),
    #[error(transparent)]
    Invalid(#[from] Problems),
}

/// One bad setting: `server.max_connections: must be at least 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

/// Keys that are no longer settings, and what to write instead.
const GONE: [(&str, &str); 2] = [
    (
        "registry.home_community_id",
        "moved to node.home_community_id",
    ),
    (
        "server.idle_timeout_secs",
        "no longer a setting: it only capped a connection's life (at 20 times its value); \
         set server.connection_lifetime_secs instead",
    ),
];

impl Problems {
    pub fn push(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            key: key.into(),
            message: message.into(),
        });
    }

    /// Records the result of one check under `key`.
    pub fn check(&mut self, key: &str, result: Result<(), String>) {
        if let Err(m) = result {
            self.push(key, m);
        }
    }

    /// A key that is not a setting: `name` is its unknown part, `known` the names it could be.
    pub fn unknown(&mut self, key: &str, name: &str, known: &[&str], note: &str) {
        let message = match GONE.iter().find(|(k, _)| *k == key) {
            Some((_, why)) => why.to_string(),
            None => {
                let close = |k: &&&str| {
                    edit_distance(k, name) <= 2 || (name.len() >= 3 && k.starts_with(name))
                };
                match known.iter().find(close) {
                    Some(k) => format!("unknown setting (did you mean {k}?)"),
                    None => "unknown setting".to_string(),
                }
            }
        };
        self.push(key, format!("{message}{note}"));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<(), Problems> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} problem{} in the configuration:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.0 {
            write!(f, "\n  {}: {}", p.key, p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Levenshtein distance, for "did you mean" on key names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(super::edit_distance("listen", "listn"), 1);
        assert_eq!(super::edit_distance("listen", "listen"), 0);
        assert!(super::edit_distance("url", "pool_size") > 2);
    }
}
