//! `ncpeh bench` as its users run it, against a real node over mTLS: a small `load`, then a
//! 10-second W1 (with the raw-store and empty-request baselines), W3 and W4; short W5 runs
//! (three responding peers behind the initiating gateway) and W6 (eHDSI PS as a foreign
//! contact point). Asserts the report's
//! shape and that nothing failed, never a timing. Runs on SQLite, and on PostgreSQL when
//! NCPEH_TEST_PG_URL is set.

mod common;
use common::{TestNode, BIN};
use std::process::Command;

const PATIENTS: &str = "40";

fn bench(node: &TestNode, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("bench")
        .args(args)
        .arg("--config")
        .arg(&node.config)
        .output()
        .expect("run ncpeh bench");
    assert!(
        out.status.success(),
        "ncpeh bench {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn run(node: &TestNode, workload: &str, extra: &[&str]) -> serde_json::Value {
    run_for(node, workload, "10s", extra)
}

fn run_for(node: &TestNode, workload: &str, duration: &str, extra: &[&str]) -> serde_json::Value {
    let pki = node.pki.display().to_string();
    let mut args = vec![
        "run",
        "--workload",
        workload,
        "--duration",
        duration,
        "--warmup",
        "1s",
        "--connections",
        "2",
        "--patients",
        PATIENTS,
        "--json",
        "--url",
        &node.soap,
        "--pki",
        &pki,
    ];
    args.extend_from_slice(extra);
    serde_json::from_str(&bench(node, &args)).expect("bench JSON")
}

#[test]
fn load_then_w1_and_w3_smoke() {
    let node = TestNode::start();
    let loaded = bench(
        &node,
        &["load", "--patients", PATIENTS, "--docs-per-patient", "10"],
    );
    assert!(
        loaded.contains("loaded 400 entries for 40 patients"),
        "{loaded}"
    );
    // A second load of the same patients is refused: their documents are registered already.
    let out = Command::new(BIN)
        .args(["bench", "load", "--patients", "1", "--config"])
        .arg(&node.config)
        .output()
        .expect("run ncpeh bench load");
    assert!(!out.status.success());

    let w1 = run(&node, "w1", &[]);
    assert_eq!(w1["workload"], "W1");
    for part in ["node", "raw", "empty"] {
        let m = &w1[part];
        assert!(m["requests"].as_u64().unwrap_or(0) > 0, "{part}: {w1}");
        assert_eq!(m["errors"], 0, "{part}: {w1}");
        assert!(m["p50_ms"].as_f64().unwrap_or(0.0) <= m["p99_ms"].as_f64().unwrap_or(0.0));
    }
    assert!(w1["node_per_raw"].as_f64().is_some_and(|r| r > 0.0), "{w1}");

    let w3 = run(&node, "w3", &["--no-baselines"]);
    assert_eq!(w3["workload"], "W3");
    assert!(w3["node"]["requests"].as_u64().unwrap_or(0) > 0, "{w3}");
    assert_eq!(w3["node"]["errors"], 0, "{w3}");
    assert!(w3["raw"].is_null() && w3["empty"].is_null());
    if !node.db_url.starts_with("postgres") {
        // Group commit: every write was carried by a committed transaction, some shared one.
        let rt = tokio::runtime::Runtime::new().unwrap();
        let transactions = rt.block_on(node.metric("ncpeh_store_write_transactions_total"));
        let writes = rt.block_on(node.metric("ncpeh_store_writes_total"));
        assert!(
            transactions > 0.0 && writes >= transactions,
            "{transactions} {writes}"
        );
        eprintln!("W3 smoke: {writes} writes in {transactions} transactions");
    }

    // W4: ITI-41 by MTOM with the hash and size of the bytes, then ITI-43 for the document;
    // a turn counts only when both answers say Success.
    let w4 = run(&node, "w4", &["--no-baselines"]);
    assert_eq!(w4["workload"], "W4");
    assert!(w4["node"]["requests"].as_u64().unwrap_or(0) > 0, "{w4}");
    assert_eq!(w4["node"]["errors"], 0, "{w4}");
}

/// W5: three responding ncpeh peers (one dev CA), each loaded with the same patients, behind an
/// initiating gateway. The baseline sends the same query straight to all three at once.
#[test]
fn w5_through_the_initiating_gateway_to_three_peers() {
    let pki_dir = tempfile::tempdir().unwrap();
    let pki = pki_dir.path().join("pki");
    common::init_pki(&pki);
    let peers: Vec<TestNode> = (1..=3)
        .map(|n| {
            TestNode::start_in_pki(
                &pki,
                "server",
                &format!(
                    "[node]\nhome_community_id = \"urn:oid:1.2.3.{n}\"\n[repository]\nunique_id = \"1.2.3.{n}.1\"\n"
                ),
            )
        })
        .collect();
    for p in &peers {
        bench(
            p,
            &["load", "--patients", PATIENTS, "--docs-per-patient", "10"],
        );
    }
    let blocks: String = peers
        .iter()
        .enumerate()
        .map(|(n, p)| {
            format!(
                "[[peers]]\nhome_community_id = \"urn:oid:1.2.3.{}\"\nxca_url = \"{}/xca\"\n",
                n + 1,
                p.soap
            )
        })
        .collect();
    let ig = TestNode::start_in_pki(&pki, "server", &blocks);
    let w5 = run_for(&ig, "w5", "3s", &[]);
    assert_eq!(w5["workload"], "W5");
    for part in ["node", "peers", "empty"] {
        let m = &w5[part];
        assert!(m["requests"].as_u64().unwrap_or(0) > 0, "{part}: {w5}");
        assert_eq!(m["errors"], 0, "{part}: {w5}");
    }
    assert!(w5["added_p50_ms"].as_f64().is_some(), "{w5}");
    assert!(w5["raw"].is_null(), "{w5}");

    // Without peers, W5 says what it needs instead of measuring nothing.
    let alone = TestNode::start_in_pki(&pki, "server", "");
    let out = Command::new(BIN)
        .args([
            "bench",
            "run",
            "--workload",
            "w5",
            "--duration",
            "1s",
            "--url",
        ])
        .arg(&alone.soap)
        .arg("--pki")
        .arg(&pki)
        .arg("--config")
        .arg(&alone.config)
        .output()
        .expect("run ncpeh bench");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[[peers]] with an xca_url"), "{err}");
}

/// W6: the eHDSI PS query as Sweden's contact point sends it. The run registers an IPS for each
/// patient first; a second run finds them registered and measures again.
#[test]
fn w6_patient_summaries_for_a_foreign_contact_point() {
    let node = TestNode::start_with_foreign_peer("");
    bench(
        &node,
        &["load", "--patients", PATIENTS, "--docs-per-patient", "10"],
    );
    let w6 = run_for(&node, "w6", "3s", &[]);
    assert_eq!(w6["workload"], "W6");
    for part in ["node", "raw", "empty"] {
        let m = &w6[part];
        assert!(m["requests"].as_u64().unwrap_or(0) > 0, "{part}: {w6}");
        assert_eq!(m["errors"], 0, "{part}: {w6}");
    }
    assert_eq!(w6["raw"]["label"], "W6 translation");
    let again = run_for(&node, "w6", "2s", &["--no-baselines"]);
    assert!(
        again["node"]["requests"].as_u64().unwrap_or(0) > 0,
        "{again}"
    );
    assert_eq!(again["node"]["errors"], 0, "{again}");
}
