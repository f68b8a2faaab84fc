//! Requests built to starve the node: a retrieve naming 300,000 documents, made-up actions that
//! would grow the metrics. Each gets a fast, clear answer, and the node stays responsive.

mod common;
use common::answer::RS;
use common::TestNode;
use ncpeh::ids::action;
use ncpeh::xml::Element;
use std::time::{Duration, Instant};

/// (errorCode, codeContext) of each RegistryError in an answer.
fn registry_errors(body: &Element) -> Vec<(String, String)> {
    body.find(RS, "RegistryErrorList")
        .map(|l| {
            l.children_named(RS, "RegistryError")
                .map(|e| {
                    let a = |n| e.attr(n).unwrap_or_default().to_string();
                    (a("errorCode"), a("codeContext"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The node's resident set now, in KiB.
fn rss_kib(node: &TestNode) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", node.pid())).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn retrieve_of(n: usize) -> String {
    let mut body = String::with_capacity(n * 180 + 200);
    body.push_str(r#"<RetrieveDocumentSetRequest xmlns="urn:ihe:iti:xds-b:2007">"#);
    for i in 0..n {
        body.push_str(&format!(
            "<DocumentRequest><RepositoryUniqueId>2.16.578.1.12.4.5.10.1.1</RepositoryUniqueId><DocumentUniqueId>1.2.3.4.5.6.7.8.{i}</DocumentUniqueId></DocumentRequest>"
        ));
    }
    body.push_str("</RetrieveDocumentSetRequest>");
    body
}

#[tokio::test]
async fn a_retrieve_of_300000_documents_is_refused_and_health_keeps_answering() {
    let node = TestNode::start();
    let body = retrieve_of(300_000);
    assert!(body.len() > 40 * 1024 * 1024, "{} bytes", body.len());
    let started = Instant::now();
    let flood = {
        let client = node.client();
        let url = node.url("/xds/repository");
        tokio::spawn(async move {
            let env = ncpeh::soap::envelope::encode_secured_request(
                action::RETRIEVE,
                &url,
                "urn:uuid:flood",
                None,
                &body,
            );
            client.soap(&url, action::RETRIEVE, env).await
        })
    };
    // /health is asked throughout; its slowest answer is what a monitor would have seen.
    let mut slowest = Duration::ZERO;
    let mut asked = 0;
    while !flood.is_finished() {
        let t = Instant::now();
        let (status, _) = tokio::time::timeout(Duration::from_secs(10), node.admin_get("/health"))
            .await
            .expect("/health answered within 10 s");
        assert_eq!(status, 200);
        slowest = slowest.max(t.elapsed());
        asked += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = flood.await.expect("task").expect("an answer");
    let took = started.elapsed();
    let errors = registry_errors(&r.body);
    assert!(
        errors
            .iter()
            .any(|(code, text)| code == "XDSRepositoryError" && text.contains("at most 1000")),
        "{errors:?}"
    );
    eprintln!(
        "300,000 DocumentRequests: refused after {took:?}; /health asked {asked} times, slowest {slowest:?}; node peak RSS {:?} KiB, now {:?} KiB",
        node.peak_rss_kib(),
        rss_kib(&node)
    );
    assert!(
        slowest < Duration::from_secs(2),
        "slowest /health {slowest:?}"
    );

    // 1,000 are answered as usual (none of them is here).
    let r = node
        .call("/xds/repository", action::RETRIEVE, &retrieve_of(1000))
        .await;
    let errors = registry_errors(&r.body);
    assert_eq!(errors.len(), 1000, "one XDSDocumentUniqueIdError each");
    assert!(errors.iter().all(|(c, _)| c == "XDSDocumentUniqueIdError"));
}

#[tokio::test]
async fn made_up_actions_do_not_grow_the_metrics() {
    let node = TestNode::start();
    let made_up = |i: usize| format!("urn:x:{i}:{}\"}}", "a".repeat(2000));
    let call = |i: usize| {
        let node = &node;
        async move {
            let r = node
                .call("/xds/registry", &made_up(i), "<x xmlns=\"urn:x\"/>")
                .await;
            assert!(r
                .fault
                .as_deref()
                .unwrap_or_default()
                .contains("ActionNotSupported"));
        }
    };
    // The first made-up action brings the "other" series; the next ones add none.
    call(0).await;
    let (_, first) = node.admin_get("/metrics").await;
    for i in 1..4 {
        call(i).await;
    }
    let (status, after) = node.admin_get("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        !after.contains("aaaaaaaaaa"),
        "a client's action reached /metrics"
    );
    let series = |m: &str| m.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(
        series(&after),
        series(&first),
        "three more made-up actions added series:\n{after}"
    );
    assert!(after.contains("action=\"other\""), "{after}");
}
