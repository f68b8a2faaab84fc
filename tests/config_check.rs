//! `ncpeh config check` and `ncpeh serve` on a broken config: every problem listed under its
//! key, a non-zero exit, and no listener started.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ncpeh");

fn run(args: &[&str], dir: &std::path::Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir).env_remove("NCPEH_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run ncpeh")
}

#[test]
fn config_check_lists_every_problem_and_serve_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[server]\nlistn = \"127.0.0.1:1\"\nmax_connections = 0\n\
         [registry]\nhome_community_id = \"urn:oid:1.2\"\n\
         [[peers]]\nhome_community_id = \"urn:oid:1.1\"\nxca_url = \"http://se.example/xca\"\n",
    )
    .unwrap();
    let env = [("NCPEH_SERVER__MAX_BODY_BYTES", "x")];
    let path = file.to_str().unwrap();
    for args in [
        vec!["config", "check", "--config", path],
        vec!["serve", "--config", path],
    ] {
        let out = run(&args, dir.path(), &env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed {:?}", out.stdout);
        for line in [
            "5 problems in the configuration:",
            "  registry.home_community_id: moved to node.home_community_id",
            "  server.listn: unknown setting (did you mean listen?)",
            "  server.max_body_bytes: expected a whole number, found \"x\" (from NCPEH_SERVER__MAX_BODY_BYTES)",
            "  server.max_connections: must be at least 1",
            "  peers[0].xca_url: must be an https URL, not \"http://se.example/xca\"",
        ] {
            assert!(err.contains(line), "{args:?}: missing {line:?} in\n{err}");
        }
    }
    // Nothing was created: serve stopped before the PKI, the database and the listeners.
    assert!(!dir.path().join("ncpeh-data").exists());
}

#[test]
fn config_check_prints_the_effective_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &["config", "check"],
        dir.path(),
        &[
            ("NCPEH_REPOSITORY__UNIQUE_ID", "123"),
            ("NCPEH_DATABASE__URL", "postgres://ncpeh:s3cret@db/ncpeh"),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.starts_with("config OK"), "{text}");
    assert!(
        text.contains("\nrepository.unique_id = \"123\"\n"),
        "{text}"
    );
    assert!(
        text.contains("\nserver.connection_lifetime_secs = 1800\n"),
        "{text}"
    );
    assert!(
        text.contains("\ntls.key = \"ncpeh-data/pki/server.key\" (default)\n"),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
}
