//! Where things are in a NIST testkit, and which tests make up a collection.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Environment variable naming the testkit root (the directory holding `testkit/`).
pub const TESTKIT_ENV: &str = "NCPEH_TESTKIT";

#[derive(Debug, Clone)]
pub struct Testkit {
    /// The root: holds `testkit/` and `environment/`.
    pub root: PathBuf,
    /// Roots of further testkits with the same `testkit/tests/<id>/` layout (the MHD plans,
    /// kept apart from the SOAP ones). Their tests and collections join this one's; codes.xml
    /// and A01.txt come from `root` alone.
    pub more: Vec<PathBuf>,
}

/// The root of a testkit given as its root or as its `testkit/` directory.
fn root_of(dir: &Path) -> Option<PathBuf> {
    if dir.join("testkit").join("tests").is_dir() {
        return Some(dir.to_path_buf());
    }
    if dir.join("tests").is_dir() {
        return Some(dir.parent()?.to_path_buf());
    }
    None
}

impl Testkit {
    /// Accepts either the root or its `testkit/` directory.
    pub fn open(dir: &Path) -> Option<Self> {
        Some(Testkit {
            root: root_of(dir)?,
            more: Vec::new(),
        })
    }

    /// One testkit at `root`, with no others beside it.
    pub fn at(root: &Path) -> Self {
        Testkit {
            root: root.to_path_buf(),
            more: Vec::new(),
        }
    }

    /// Adds a further testkit; None when `dir` holds none.
    pub fn add(&mut self, dir: &Path) -> Option<()> {
        let root = root_of(dir)?;
        if root != self.root && !self.more.contains(&root) {
            self.more.push(root);
        }
        Some(())
    }

    pub fn tests_dir(&self) -> PathBuf {
        self.root.join("testkit").join("tests")
    }

    /// Every `testkit/tests` directory, the first testkit's first.
    pub fn all_tests_dirs(&self) -> Vec<PathBuf> {
        std::iter::once(&self.root)
            .chain(self.more.iter())
            .map(|r| r.join("testkit").join("tests"))
            .collect()
    }

    /// The test's directory in the first testkit that has it (the first testkit's path when
    /// none has, so that the error names it).
    pub fn test_dir(&self, test: &str) -> PathBuf {
        self.all_tests_dirs()
            .into_iter()
            .map(|d| d.join(test))
            .find(|d| d.is_dir())
            .unwrap_or_else(|| self.tests_dir().join(test))
    }

    /// Whether any testkit has this test.
    pub fn has_test(&self, test: &str) -> bool {
        !test.is_empty() && self.test_dir(test).join("index.idx").exists()
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
        for dir in self.all_tests_dirs() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path().join("collections.txt");
                if let Ok(text) = std::fs::read_to_string(&p) {
                    if text.lines().any(|l| l.trim() == name) {
                        out.insert(e.file_name().to_string_lossy().into_owned());
                    }
                }
            }
        }
        for root in std::iter::once(&self.root).chain(self.more.iter()) {
            let tc = root
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

/// The MHD test plans (`shared/conformance/nist-mhd`, or `$NCPEH_MHD_TESTKIT`), for tests.
pub fn default_mhd_root() -> Option<PathBuf> {
    let dir = match std::env::var_os("NCPEH_MHD_TESTKIT") {
        Some(d) => PathBuf::from(d),
        None => shared_dir().join("conformance").join("nist-mhd"),
    };
    root_of(&dir)
}

/// The default testkit with the MHD plans beside it, for tests.
pub fn default_testkit_with_mhd() -> Option<Testkit> {
    let mut tk = default_testkit()?;
    tk.add(&default_mhd_root()?)?;
    Some(tk)
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
        let tk = Testkit::at(Path::new("/x"));
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

    #[test]
    fn a_second_testkit_adds_its_tests_and_collections() {
        let Some(tk) = default_testkit_with_mhd() else {
            return;
        };
        let rec = tk.collection("rec(mhd)_docreciprespndr");
        assert!(rec.contains(&"pdb_rplc_recresp".to_string()), "{rec:?}");
        assert!(tk.has_test("pdb_single_doc_recresp") && tk.has_test("11966"));
        assert!(tk
            .test_dir("pdb_submit_tests")
            .ends_with("nist-mhd/testkit/tests/pdb_submit_tests"));
        assert_eq!(
            tk.codes_file(),
            tk.root.join("environment/default/codes.xml")
        );
    }
}
