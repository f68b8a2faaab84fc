//! The effective settings, for `ncpeh config check`. Files are shown by path (never the
//! contents of a key), and a password in a database URL is masked.

use super::section::Section;
use super::Config;

impl Config {
    /// (dotted key, value) of every setting, defaults that depend on others filled in.
    pub fn settings(&self) -> Vec<(String, String)> {
        let mut out = vec![("data_dir".to_string(), format!("{:?}", self.data_dir))];
        for name in Config::TOP_KEYS {
            if let Some(s) = self.section(name) {
                s.show(name, &mut out);
            }
        }
        for (i, p) in self.peers.iter().enumerate() {
            p.show(&format!("peers[{i}]"), &mut out);
        }
        let derived = [
            ("tls.ca", self.ca_path().display().to_string()),
            ("tls.cert", self.cert_path().display().to_string()),
            ("tls.key", self.key_path().display().to_string()),
            ("database.url", self.database_url()),
            ("server.public_url", self.public_url()),
        ];
        for (key, value) in out.iter_mut() {
            if let Some((_, d)) = derived.iter().find(|(k, _)| k == key) {
                if value == "(unset)" {
                    *value = format!("{d:?} (default)");
                }
            }
            *value = mask_password(value);
        }
        out
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`.
fn mask_password(v: &str) -> String {
    let Some((scheme, rest)) = v.split_once("://") else {
        return v.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return v.to_string();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            super::mask_password("\"postgres://ncpeh:s3cret@db/ncpeh\""),
            "\"postgres://ncpeh:***@db/ncpeh\""
        );
        assert_eq!(
            super::mask_password("\"https://ncp.example.se/xca\""),
            "\"https://ncp.example.se/xca\""
        );
    }
}
