//! Replays every committed fuzz corpus (fuzz/corpus/<target>/) through the entry functions the
//! libFuzzer targets run (fuzz/entries.rs), on stable and without a fuzzer. Each input that once
//! crashed, hung or reached new code stays a regression test.

#[path = "../fuzz/entries.rs"]
mod entries;

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Kept small so that the repository stays small; cmin keeps the corpora far below it.
const MAX_INPUT: u64 = 1024 * 1024;
/// Slower than this in a debug build is worth a look, though not a failure: the fuzzer's own
/// limit (1 s, optimised, with sanitizers) is the one that counts.
const SLOW: Duration = Duration::from_secs(2);

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn replay(target: &str, entry: fn(&[u8])) {
    let dir = fuzz_dir().join("corpus").join(target);
    let listing = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: no corpus for target {target}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = listing
        .map(|e| e.expect("read the corpus folder").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "{}: the corpus of {target} is empty",
        dir.display()
    );
    let started = Instant::now();
    let mut failed = Vec::new();
    for f in &files {
        let size = f.metadata().expect("corpus file metadata").len();
        assert!(
            size <= MAX_INPUT,
            "{}: {size} bytes, over the corpus limit",
            f.display()
        );
        let data = std::fs::read(f).expect("read a corpus file");
        let t = Instant::now();
        if catch_unwind(AssertUnwindSafe(|| entry(&data))).is_err() {
            failed.push(f.display().to_string());
        }
        if t.elapsed() > SLOW {
            eprintln!("{target}: {} took {:?}", f.display(), t.elapsed());
        }
    }
    eprintln!(
        "{target}: replayed {} inputs in {:?}",
        files.len(),
        started.elapsed()
    );
    assert!(
        failed.is_empty(),
        "{target}: these inputs panic: {failed:#?}"
    );
}

macro_rules! replay_tests {
    ($($target:ident),* $(,)?) => {
        /// The targets that have a replay test below.
        const REPLAYED: &[&str] = &[$(stringify!($target)),*];
        $(
            #[test]
            fn $target() {
                replay(stringify!($target), entries::$target);
            }
        )*
    };
}

replay_tests!(
    xml_dom,
    soap_request,
    mtom,
    stored_query_params,
    ebrim,
    mllp,
    hl7v2,
    xcpd,
    saml_assertion,
    xua,
    ips_to_ps,
    eresept_to_ep,
    ed_to_m10,
    pivot_to_nb,
    pivot_to_html,
    journal_to_orcd,
    hcer,
    mhd,
);

/// The fuzz manifest, the entry table and the tests above name the same targets, and each has a
/// corpus folder: a new target cannot go without its replay.
#[test]
fn every_fuzz_target_is_replayed() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let bins: BTreeSet<&str> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|b| b.lines().find_map(|l| l.trim().strip_prefix("name = ")))
        .map(|n| n.trim_matches('"'))
        .collect();
    let table: BTreeSet<&str> = entries::TARGETS.iter().map(|(n, _)| *n).collect();
    let tested: BTreeSet<&str> = REPLAYED.iter().copied().collect();
    assert_eq!(bins, table, "fuzz/Cargo.toml and entries::TARGETS differ");
    assert_eq!(
        table, tested,
        "entries::TARGETS and the replay tests differ"
    );
    let corpora: BTreeSet<String> = std::fs::read_dir(fuzz_dir().join("corpus"))
        .expect("fuzz/corpus")
        .map(|e| {
            e.expect("read fuzz/corpus")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let corpora: BTreeSet<&str> = corpora.iter().map(String::as_str).collect();
    assert_eq!(
        table, corpora,
        "every target has one corpus folder, and no folder is stray"
    );
}

/// Findings of fuzz runs, kept as named tests as well as in the corpora (cmin may rename or drop
/// a corpus file; these stay).
mod findings {
    use super::entries;

    /// xml_dom, 2026-12-01: a quote and a second colon were read as part of an element name
    /// (`<r:x="a:b"/>` is element `x="a:b"` in namespace r), which the writer then wrote as an
    /// undeclared prefix `x="a`. Such names are now refused as malformed.
    #[test]
    fn xml_dom_element_name_with_quote_and_colon() {
        entries::xml_dom(br#"<r:x="a:b" xmlns:r="urn:r"/>"#);
        entries::xml_dom(br#"<r:x="a:b" xmlns:r="urn:r"></r:x="a:b">"#);
        entries::xml_dom(br#"<r xmlns:p="urn:p" p:a:b="1"/>"#);
        let crash =
            include_bytes!("../fuzz/corpus/xml_dom/crash-0bed192ee6059b47b3bf44b1250ea55f441860c3");
        entries::xml_dom(crash);
    }

    /// mhd, 2026-12-02, found while writing the target: a JSON body may carry control
    /// characters, refusals quote the body, and the FHIR model wrote them into XML answers as
    /// they were (no strict parser takes that). The XML writer now drops them.
    #[test]
    fn mhd_control_characters_in_an_xml_answer() {
        entries::mhd(br#"{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"X\u0001Y","url":"List"}}]}"#);
        entries::mhd(br#"{"resourceType":"Bundle","t\u000bype":"transaction"}"#);
        entries::mhd(b"?patient.identifier=urn:oid:1.2|1&b%01ogus=1");
    }

    /// mhd, 2026-12-02, after 18 s: a mutated `fullUrl` with a byte that is not UTF-8 made the
    /// FHIR model's XML reader panic (an unwrap). The node caught it on the reading thread, but
    /// the panic message printed the input. Bodies that are not UTF-8 are now refused first.
    #[test]
    fn mhd_element_name_not_utf8() {
        let crash =
            include_bytes!("../fuzz/corpus/mhd/crash-e56e611734035648d0f40ee9e794f7fa8a180138");
        entries::mhd(crash);
    }
}
