//! The packaged /etc/ncpeh/ncpeh.toml (pkg/ncpeh.toml) names every key the node knows, each
//! under its own section, so that a new setting cannot ship undocumented. The .deb itself is
//! built, installed and started by tests/deb.sh.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ncpeh");

/// Every (section, key) `ncpeh config check` prints for a config with one peer.
fn known_keys() -> BTreeSet<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = \"{}\"\n[[peers]]\nhome_community_id = \"urn:oid:1.2\"\ncountry = \"SE\"\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["config", "check", "--config"])
        .arg(&cfg)
        .output()
        .expect("run config check");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.to_string()))
        .map(|k| match k.split_once('.') {
            Some((section, key)) => (section.replace("[0]", ""), key.to_string()),
            None => (String::new(), k),
        })
        .collect()
}

/// Every (section, key) the file sets or shows commented out.
fn documented_keys(text: &str) -> BTreeSet<(String, String)> {
    let mut section = String::new();
    let mut keys = BTreeSet::new();
    for line in text.lines() {
        let bare = line.trim_start_matches('#').trim();
        if let Some(name) = bare
            .strip_prefix("[[")
            .and_then(|r| r.strip_suffix("]]"))
            .or_else(|| bare.strip_prefix('[').and_then(|r| r.strip_suffix(']')))
        {
            // A sub-table documents its parent's key of that name ([confidentiality.codes]).
            match name.split_once('.') {
                Some((parent, key)) => {
                    keys.insert((parent.to_string(), key.to_string()));
                }
                None => section = name.to_string(),
            }
            continue;
        }
        if let Some((key, _)) = bare.split_once(" = ") {
            if key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                keys.insert((section.clone(), key.to_string()));
            }
        }
    }
    keys
}

#[test]
fn the_packaged_config_documents_every_key() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("pkg/ncpeh.toml");
    let text = std::fs::read_to_string(&file).expect("pkg/ncpeh.toml");
    let documented = documented_keys(&text);
    let missing: Vec<String> = known_keys()
        .into_iter()
        .filter(|k| !documented.contains(k))
        .map(|(s, k)| format!("{s}.{k}"))
        .collect();
    assert!(missing.is_empty(), "not in pkg/ncpeh.toml: {missing:?}");
    // Each documented key has a comment line right above it or at its side.
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let bare = l.trim_start_matches('#').trim();
        let is_key = bare
            .split_once(" = ")
            .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        if is_key && i > 0 {
            let above = lines[i - 1].trim_start_matches('#').trim();
            let explained = above.ends_with('.')
                || above.ends_with(':')
                || above.ends_with(')')
                || lines[i - 1].trim_start_matches('#').trim().contains(" = ");
            assert!(explained, "line {}: {l:?} has no comment above it", i + 1);
        }
    }
}

#[test]
fn the_key_reader_sees_sections_and_commented_keys() {
    let keys = documented_keys(
        "data_dir = \"x\"\n[server]\n# listen = \"a\"\n# [[peers]]\n# name = \"SE\"\n# [confidentiality.codes]\n",
    );
    assert!(keys.contains(&("".into(), "data_dir".into())));
    assert!(keys.contains(&("server".into(), "listen".into())));
    assert!(keys.contains(&("peers".into(), "name".into())));
    assert!(keys.contains(&("confidentiality".into(), "codes".into())));
    assert!(!keys.contains(&("server".into(), "name".into())));
}
