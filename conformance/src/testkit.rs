//! Where things are in a NIST testkit, and which tests make up a collection.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Environment variable naming the testkit root (the directory holding `testkit/`).
pub const TESTKIT_ENV: &str = "NCPEH_TESTKIT";

#[derive(Debug, Clone)]
pub struct Testkit {
    /// The root: holds `testkit/` and `environment/`.
    pub root: PathBuf,
}

impl Testkit {
    /// Accepts either the root or its `testkit/` directory.
    pub fn open(dir: &Path) -> Option<Self> {
        if dir.join("testkit").join("tests").is_dir() {
            return Some(Testkit {
                root: dir.to_path_buf(),
            });
        }
        if dir.join("tests").is_dir() {
            let root = dir.parent()?.to_path_buf();
            return Some(Testkit { root });
        }
        None
    }

    pub fn tests_dir(&self) -> PathBuf {
        self.root.join("testkit").join("tests")
    }

    pub fn test_dir(&self, test: &str) -> PathBuf {
        self.tests_dir().join(test)
    }

    pub fn codes_file(&self) -> PathBuf {
        self.root
            .join("environment")
            .join("default")
            .join("codes.xml")
    }

    pub fn patient_feed_template(&self) -> PathBuf {
        self.root.join("A01.txt")
    }

    /// Tests whose `collections.txt` names the collection, plus `static.collections/<name>.tc`.
    pub fn collection(&self, name: &str) -> Vec<String> {
        let mut out = BTreeSet::new();
        if let Ok(rd) = std::fs::read_dir(self.tests_dir()) {
            for e in rd.flatten() {
                let p = e.path().join("collections.txt");
                if let Ok(text) = std::fs::read_to_string(&p) {
                    if text.lines().any(|l| l.trim() == name) {
                        out.insert(e.file_name().to_string_lossy().into_owned());
                    }
                }
            }
        }
        let tc = self
            .root
            .join("testkit")
            .join("static.collections")
            .join(format!("{name}.tc"));
        if let Ok(text) = std::fs::read_to_string(tc) {
            out.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string),
            );
        }
        out.into_iter().collect()
    }

    /// The collections a test's `collections.txt` names.
    pub fn collections_of(&self, test: &str) -> Vec<String> {
        let text = std::fs::read_to_string(self.test_dir(test).join("collections.txt"));
        text.map(|t| {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
    }

    /// Map a `testdir` attribute, relative to a section directory, to `(test, section)`.
    /// The testkit writes both `../submit` (sibling section) and `submit` (meaning the same),
    /// and `../../12346/single_doc` for another test.
    pub fn resolve_testdir(&self, test: &str, section: &str, testdir: &str) -> (String, String) {
        let parts: Vec<&str> = testdir
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        let mut path: Vec<String> = vec![test.to_string(), section.to_string()];
        for p in &parts {
            if *p == ".." {
                path.pop();
            } else {
                path.push(p.to_string());
            }
        }
        match path.len() {
            2 => (path[0].clone(), path[1].clone()),
            // `submit` written relative to the test, not the section.
            3 if !parts.contains(&"..") => (test.to_string(), parts.join("/")),
            0 => (String::new(), String::new()),
            1 => (path[0].clone(), String::new()),
            n => (path[n - 2].clone(), path[n - 1].clone()),
        }
    }
}

/// The shared reference folder: `$NCPEH_SHARED`, else `shared/` beside the project.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("NCPEH_SHARED") {
        Some(d) => PathBuf::from(d),
        // This crate is the project's conformance/ folder.
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    }
}

/// The testkit used by unit tests: `$NCPEH_TESTKIT`, else the shared NIST testkit.
pub fn default_testkit() -> Option<Testkit> {
    if let Ok(dir) = std::env::var(TESTKIT_ENV) {
        return Testkit::open(Path::new(&dir));
    }
    Testkit::open(&shared_dir().join("conformance").join("nist-testkit"))
}

/// `testkit/tests` of the default testkit, for tests.
pub fn tests_dir() -> Option<PathBuf> {
    default_testkit().map(|t| t.tests_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn testdir_forms() {
        let tk = Testkit {
            root: PathBuf::from("/x"),
        };
        let r = |d| tk.resolve_testdir("12021", "retrieve", d);
        assert_eq!(r("../submit"), ("12021".into(), "submit".into()));
        assert_eq!(r("submit"), ("12021".into(), "submit".into()));
        assert_eq!(
            r("../../12346/single_doc"),
            ("12346".into(), "single_doc".into())
        );
    }

    #[test]
    fn collections_from_the_testkit() {
        let Some(tk) = default_testkit() else { return };
        let rb = tk.collection("R.b");
        assert!(rb.contains(&"11990".to_string()), "{rb:?}");
        assert!(tk.collection("PR.b").contains(&"11966".to_string()));
    }
}
