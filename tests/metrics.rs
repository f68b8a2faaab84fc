//! `/metrics` read as Prometheus reads it (the `prometheus_client` text parser in the test
//! venv): a latency histogram per endpoint and action whose buckets give p50 and p99.

mod cda;
mod common;

use common::{new_pid, xdsb, TestNode};

const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for fam in text_string_to_metric_families(sys.stdin.read()):
    if fam.name != "ncpeh_request_duration_seconds":
        continue
    out["type"] = fam.type
    for s in fam.samples:
        key = s.labels.get("endpoint", "") + " " + s.labels.get("action", "")
        row = out.setdefault(key, {"buckets": []})
        if s.name.endswith("_bucket"):
            le = float(s.labels["le"])
            row["buckets"].append([le if le != float("inf") else 1e308, s.value])
        elif s.name.endswith("_count"):
            row["count"] = s.value
        elif s.name.endswith("_sum"):
            row["sum"] = s.value
print(json.dumps(out))
"#;

/// The smallest bucket bound holding the q-quantile of a cumulative histogram.
fn quantile(buckets: &[(f64, f64)], q: f64) -> f64 {
    let total = buckets.last().map(|b| b.1).unwrap_or(0.0);
    buckets
        .iter()
        .find(|(_, n)| *n >= q * total)
        .map(|(le, _)| *le)
        .unwrap_or(f64::INFINITY)
}

#[tokio::test]
async fn latency_histograms_parse_and_give_quantiles() {
    let Some(py) = cda::python() else { return };
    let has_client = std::process::Command::new(&py)
        .args(["-c", "import prometheus_client"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_client {
        eprintln!(
            "SKIP: no prometheus_client in {} (tests/run.sh installs it)",
            py.display()
        );
        return;
    }
    let node = TestNode::start();
    let pid = new_pid();
    node.add_patient(&pid);
    for _ in 0..20 {
        xdsb::find_documents(&node, &pid).await;
    }
    let (status, text) = node.admin_get("/metrics").await;
    assert_eq!(status, 200);
    let mut child = std::process::Command::new(&py)
        .args(["-c", PARSE])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("parser finishes");
    assert!(
        out.status.success(),
        "the Prometheus parser refused /metrics:\n{text}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["type"], "histogram");
    let row = &v["/xds/registry urn:ihe:iti:2007:RegistryStoredQuery"];
    assert_eq!(row["count"], 20.0, "{v}");
    let buckets: Vec<(f64, f64)> = row["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .filter_map(|b| Some((b[0].as_f64()?, b[1].as_f64()?)))
        .collect();
    assert!(
        buckets
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
        "cumulative: {buckets:?}"
    );
    assert_eq!(
        buckets.last().map(|b| b.1),
        Some(20.0),
        "+Inf holds every request"
    );
    let (p50, p99) = (quantile(&buckets, 0.5), quantile(&buckets, 0.99));
    assert!(p50 <= p99 && p99 < 1e300, "p50 {p50} s, p99 {p99} s");
    eprintln!("FindDocuments on a small registry: p50 <= {p50} s, p99 <= {p99} s");
}
