//! `ncpeh peers check` run as an operator runs it, from Sweden's contact point's config (SE's
//! certificate, SE's seal issuing the assertions) against a running Norwegian node and against
//! peers that must fail: a closed port, and a server whose certificate is not the pinned subject.

mod common;
use common::{init_pki, subject_of, TestNode, BIN};
use std::path::Path;
use std::process::{Command, Output};

const NO_HOME: &str = "urn:oid:2.16.578.1.12.4.5.10.1";
const SE_HOME: &str = "urn:oid:2.16.752.1.2.4.5.10.1";

/// Norway, with Sweden's contact point as a foreign peer whose assertions it trusts.
fn start_no(pki: &Path) -> TestNode {
    TestNode::start_in_pki(
        pki,
        "server",
        &format!(
            "[node]\nhome_community_id = \"{NO_HOME}\"\n[xua]\nnational_issuers = \"{p}/issuer-no.pem\"\n\
             [[peers]]\nhome_community_id = \"{SE_HOME}\"\ncountry = \"SE\"\nexpected_subject = \"{se}\"\n\
             xua_issuers = \"{p}/issuer-se.pem\"\n",
            p = pki.display(),
            se = subject_of(&pki.join("foreign-se.pem")),
        ),
    )
}

/// A port nothing listens on (bound, then let go).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// SE's config file in `dir`: its certificate, its seal (when `issue`) and `peers`.
fn se_config(dir: &Path, pki: &Path, issue: bool, peers: &str) -> std::path::PathBuf {
    let p = pki.display();
    let toml = format!(
        "data_dir = \"{d}\"\n[node]\nhome_community_id = \"{SE_HOME}\"\ncountry = \"SE\"\n\
         [tls]\nca = \"{p}/ca.pem\"\ncert = \"{p}/foreign-se.pem\"\nkey = \"{p}/foreign-se.key\"\n\
         [xua]\nissue = {issue}\nseal_cert = \"{p}/issuer-se.pem\"\nseal_key = \"{p}/issuer-se.key\"\n\
         [gateway]\npeer_timeout_secs = 5\n[log]\nlevel = \"warn\"\n{peers}",
        d = dir.display(),
    );
    let path = dir.join(format!("se-{issue}.toml"));
    std::fs::write(&path, toml).unwrap();
    path
}

/// Three peers: Norway (running), one on a closed port, and Norway pinned to another subject.
fn three_peers(no: &TestNode, pki: &Path) -> String {
    format!(
        "[[peers]]\nname = \"norway\"\nhome_community_id = \"{NO_HOME}\"\ncountry = \"NO\"\n\
         xca_url = \"{s}/xca\"\nxcpd_url = \"{s}/xcpd\"\nexpected_subject = \"{subject}\"\n\
         [[peers]]\nname = \"closed\"\nhome_community_id = \"urn:oid:3.3\"\n\
         xca_url = \"https://127.0.0.1:{port}/xca\"\n\
         [[peers]]\nname = \"impostor\"\nhome_community_id = \"urn:oid:4.4\"\n\
         xca_url = \"{s}/xca\"\nexpected_subject = \"CN=NCPeH DK, O=Sundhedsdatastyrelsen, C=DK\"\n",
        s = no.soap,
        subject = subject_of(&pki.join("server.pem")),
        port = closed_port(),
    )
}

fn peers_check(config: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["peers", "check", "--config"])
        .arg(config)
        .args(args)
        .output()
        .expect("run ncpeh peers check")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The table row of `peer` for the endpoint ending in `path`, split into its columns (the
/// last, PROBLEM, may hold spaces: it is everything after the eighth column).
fn row(table: &str, peer: &str, path: &str) -> Vec<String> {
    let line = table
        .lines()
        .find(|l| {
            let mut w = l.split_whitespace();
            w.next() == Some(peer) && w.next().is_some_and(|u| u.ends_with(path))
        })
        .unwrap_or_else(|| panic!("no row for {peer} {path} in:\n{table}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut cols: Vec<String> = words[..8].iter().map(|w| w.to_string()).collect();
    cols.push(words[8..].join(" "));
    cols
}

#[test]
fn a_running_peer_passes_and_each_broken_one_fails_for_its_own_reason() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    init_pki(&pki);
    let no = start_no(&pki);
    let config = se_config(dir.path(), &pki, true, &three_peers(&no, &pki));

    // The running Norwegian node alone: everything passes.
    let out = peers_check(&config, &["--peer", "norway"]);
    let table = text(&out.stdout);
    println!("{table}");
    assert_eq!(out.status.code(), Some(0), "{table}{}", text(&out.stderr));
    for path in ["/xca", "/xcpd"] {
        let r = row(&table, "norway", path);
        assert_eq!(&r[2..4], ["ok", "ok"], "TLS and subject: {r:?}");
        let days: i64 = r[4].parse().expect("days left");
        assert!(days > 0, "{r:?}");
        assert_eq!(&r[5..7], ["ok", "ok"], "wsdl and query: {r:?}");
        r[7].parse::<u64>().expect("rtt in ms");
        assert_eq!(r[8], "-", "{r:?}");
    }
    assert!(table.contains("1 of 1 peers passed"), "{table}");
    assert!(
        !table.contains("closed"),
        "only --peer is checked:\n{table}"
    );

    // All three: the broken ones fail, the running one still passes, and the exit code says so.
    let out = peers_check(&config, &[]);
    let table = text(&out.stdout);
    println!("{table}");
    assert_eq!(out.status.code(), Some(1), "{table}{}", text(&out.stderr));
    assert_eq!(row(&table, "norway", "/xca")[6], "ok", "{table}");
    let closed = row(&table, "closed", "/xca");
    assert_eq!(closed[2], "FAIL", "{closed:?}");
    assert!(
        closed[8].contains("cannot connect to 127.0.0.1:"),
        "{closed:?}"
    );
    let impostor = row(&table, "impostor", "/xca");
    assert_eq!(&impostor[2..4], ["ok", "FAIL"], "{impostor:?}");
    assert!(impostor[8].contains("subject mismatch"), "{impostor:?}");
    assert!(table.contains("1 of 3 peers passed"), "{table}");
}

#[test]
fn json_has_one_object_per_peer() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    init_pki(&pki);
    let no = start_no(&pki);
    let config = se_config(dir.path(), &pki, true, &three_peers(&no, &pki));
    let out = peers_check(&config, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let peers = all.as_array().expect("an array");
    let names: Vec<&str> = peers.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["norway", "closed", "impostor"]);
    let oks: Vec<bool> = peers.iter().filter_map(|p| p["ok"].as_bool()).collect();
    assert_eq!(oks, [true, false, false]);
    let norway = &peers[0]["endpoints"];
    assert_eq!(norway.as_array().map(Vec::len), Some(2), "{norway}");
    for e in norway.as_array().unwrap() {
        assert_eq!(e["tls_ok"], true, "{e}");
        assert_eq!(e["subject_ok"], true, "{e}");
        assert_eq!(e["wsdl_ok"], true, "{e}");
        assert_eq!(e["query_ok"], true, "{e}");
        assert!(e["certificate"]["days_left"].as_i64() > Some(0), "{e}");
        assert!(e["rtt_ms"].is_u64(), "{e}");
    }
    assert_eq!(
        peers[0]["endpoints"][0]["certificate"]["subject"],
        subject_of(&pki.join("server.pem")).as_str()
    );
    let closed = &peers[1]["endpoints"][0];
    assert_eq!(closed["tls_ok"], false, "{closed}");
    assert!(closed["query_ok"].is_null(), "not tried: {closed}");
    let impostor = &peers[2]["endpoints"][0];
    assert_eq!(impostor["subject_ok"], false, "{impostor}");
}

/// Without a seal the node sends no assertions, and Norway refuses a foreign query without
/// them: the check says that it failed and why.
#[test]
fn a_refusal_for_missing_assertions_is_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    init_pki(&pki);
    let no = start_no(&pki);
    let config = se_config(dir.path(), &pki, false, &three_peers(&no, &pki));
    let out = peers_check(&config, &["--peer", "norway"]);
    let table = text(&out.stdout);
    println!("{table}");
    assert_eq!(out.status.code(), Some(1), "{table}{}", text(&out.stderr));
    let r = row(&table, "norway", "/xca");
    assert_eq!(
        [&r[2], &r[3], &r[5], &r[6]],
        ["ok", "ok", "ok", "FAIL"],
        "TLS, subject and wsdl pass, the query does not: {r:?}"
    );
    assert!(r[8].contains("no assertions were sent"), "{r:?}");
}

#[test]
fn an_unknown_peer_is_refused_with_the_known_names() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    init_pki(&pki);
    let peers = format!(
        "[[peers]]\nname = \"norway\"\nhome_community_id = \"{NO_HOME}\"\nxca_url = \"https://127.0.0.1:{}/xca\"\n\
         [[peers]]\nhome_community_id = \"urn:oid:3.3\"\ncountry = \"DK\"\nxca_url = \"https://127.0.0.1:{}/xca\"\n",
        closed_port(),
        closed_port()
    );
    let config = se_config(dir.path(), &pki, true, &peers);
    let out = peers_check(&config, &["--peer", "atlantis"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("no peer is named atlantis"), "{err}");
    assert!(err.contains("norway, DK"), "{err}");
    assert!(
        out.stdout.is_empty(),
        "nothing was checked: {}",
        text(&out.stdout)
    );
}

#[test]
fn without_peers_it_says_so_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    init_pki(&pki);
    let config = se_config(dir.path(), &pki, true, "");
    let out = peers_check(&config, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("no peers configured"));
    let out = peers_check(&config, &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(all, serde_json::json!([]));
}

/// A peer that accepts the connection and never says a word costs its own timeout, not more,
/// and the other peers are checked meanwhile.
#[test]
fn a_silent_peer_fails_after_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    init_pki(&pki);
    let no = start_no(&pki);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().collect();
        drop(held);
    });
    let peers = format!(
        "{}[[peers]]\nname = \"silent\"\nhome_community_id = \"urn:oid:5.5\"\n\
         xca_url = \"https://127.0.0.1:{port}/xca\"\ntimeout_secs = 1\n",
        three_peers(&no, &pki)
    );
    let config = se_config(dir.path(), &pki, true, &peers);
    let started = std::time::Instant::now();
    let out = peers_check(&config, &[]);
    let took = started.elapsed();
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{table}{}", text(&out.stderr));
    let r = row(&table, "silent", "/xca");
    assert_eq!(r[2], "FAIL", "{r:?}");
    assert!(r[8].contains("no answer within 1 s"), "{r:?}");
    assert_eq!(row(&table, "norway", "/xca")[6], "ok", "{table}");
    assert!(took < std::time::Duration::from_secs(4), "took {took:?}");
}
