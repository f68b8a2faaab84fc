use super::*;
use std::time::Duration;

fn vars(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The problems of a file and variables that must not load, as "key: message" lines.
fn problems(toml: &str, env: &[(&str, &str)]) -> Vec<String> {
    match Config::from_toml(toml, "test.toml", vars(env)) {
        Err(ConfigError::Invalid(p)) => {
            p.0.iter()
                .map(|p| format!("{}: {}", p.key, p.message))
                .collect()
        }
        Err(e) => panic!("expected problems, got {e}"),
        Ok(_) => panic!("expected problems, the config loaded"),
    }
}

fn keys(lines: &[String]) -> Vec<&str> {
    lines
        .iter()
        .map(|l| l.split_once(": ").map_or(l.as_str(), |(k, _)| k))
        .collect()
}

#[test]
fn defaults_run_and_validate() {
    let d = Config::load(None, Vec::new()).unwrap();
    assert_eq!(d, Config::default());
    assert_eq!(d.server.listen, "127.0.0.1:8443");
    assert_eq!(d.server.connection_lifetime, Duration::from_secs(1800));
    assert_eq!(d.server.shutdown_grace, Duration::from_secs(30));
    assert_eq!(
        d.node.home_community_id,
        crate::ids::ehdsi::NO_HOME_COMMUNITY
    );
    assert_eq!(d.database_url(), "ncpeh-data/ncpeh.db");
    assert!(Config::default().validate().is_ok());
}

#[test]
fn env_overrides_file() {
    let file = "[server]\nlisten = \"127.0.0.1:9443\"\n[registry]\nmax_results = 5\n";
    let env = vars(&[
        ("NCPEH_SERVER__MAX_BODY_BYTES", "1024"),
        ("NCPEH_SERVER__LISTEN", "127.0.0.1:9444"),
        ("NCPEH_REGISTRY__ALLOW_UNKNOWN_PATIENTS", "true"),
        ("NCPEH_GATEWAY__PEER_TIMEOUT_SECS", "7"),
        ("NCPEH_DATA_DIR", "/var/lib/ncpeh"),
        ("NCPEH_SHARED", "../shared"),
        ("NCPEH_TEST_PG_URL", "postgres://x@y/z"),
        ("HOME", "/root"),
    ]);
    let c = Config::from_toml(file, "c.toml", env).unwrap();
    assert_eq!(c.server.listen, "127.0.0.1:9444");
    assert_eq!(c.server.max_body_bytes, 1024);
    assert_eq!(c.registry.max_results, 5);
    assert!(c.registry.allow_unknown_patients);
    assert_eq!(c.gateway.peer_timeout, Duration::from_secs(7));
    assert_eq!(c.data_dir, PathBuf::from("/var/lib/ncpeh"));
}

#[test]
fn every_problem_is_listed_at_once() {
    let file = "[server]\nlisten = \"127.0.0.1:9443\"\nlistn = \"x\"\nmax_connections = 0\n\
                [[peers]]\nhome_community_id = \"urn:oid:1.2\"\nxca_url = \"http://se.example/xca\"\n";
    let p = problems(file, &[]);
    assert_eq!(
        keys(&p),
        ["server.listn", "server.max_connections", "peers[0].xca_url"],
        "{p:?}"
    );
    assert_eq!(p[0], "server.listn: unknown setting (did you mean listen?)");
    assert_eq!(p[1], "server.max_connections: must be at least 1");
    let e = Config::from_toml(file, "t.toml", Vec::new()).unwrap_err();
    assert!(e
        .to_string()
        .starts_with("3 problems in the configuration:\n  server.listn"));
}

#[test]
fn unknown_keys_in_the_file_are_refused() {
    let p = problems(
        "colour = 1\n[server]\nlisten = \"127.0.0.1:1\"\nfoo = 1\n[nope]\nx = 1\n",
        &[],
    );
    assert_eq!(keys(&p), ["colour", "nope", "server.foo"], "{p:?}");
    let p = problems(
        "[[peers]]\nhome_community_id = \"urn:oid:1.1\"\nxca_url = \"https://a/xca\"\nxca = 1\n",
        &[],
    );
    assert_eq!(p, ["peers[0].xca: unknown setting (did you mean xca_url?)"]);
    let p = problems("server = 1\npeers = 2\n", &[]);
    assert_eq!(keys(&p), ["peers", "server"], "{p:?}");
}

#[test]
fn unknown_env_keys_are_refused() {
    let p = problems(
        "",
        &[
            ("NCPEH_SERVER__LISTN", "127.0.0.1:1"),
            ("NCPEH_NOSUCH__KEY", "1"),
            ("NCPEH_DATADIR", "x"),
        ],
    );
    assert_eq!(
        p,
        [
            "server.listn: unknown setting (did you mean listen?) (from NCPEH_SERVER__LISTN)",
            "nosuch.key: unknown setting (from NCPEH_NOSUCH__KEY)",
            "datadir: unknown setting (did you mean data_dir?) (from NCPEH_DATADIR)",
        ]
    );
    let p = problems(
        "",
        &[
            ("NCPEH_PEERS__XCA_URL", "https://a/xca"),
            ("NCPEH_SERVER", "x"),
        ],
    );
    assert_eq!(keys(&p), ["peers", "server"], "{p:?}");
    assert!(p[0].contains("only be set in the config file"), "{p:?}");
}

#[test]
fn env_values_are_read_by_the_field_type() {
    let env = vars(&[
        ("NCPEH_REPOSITORY__UNIQUE_ID", "123"),
        ("NCPEH_LOG__LEVEL", "warn"),
        ("NCPEH_LOG__FORMAT", "json"),
        ("NCPEH_FEED__ENABLED", "false"),
        ("NCPEH_EHDSI__PS_SOURCE_FORMATS", "urn:a, urn:b,"),
        ("NCPEH_EHDSI__TERMINOLOGY_DIR", "/etc/ncpeh/terms"),
        (
            "NCPEH_NODE__HOME_COMMUNITY_ID",
            "urn:oid:2.16.752.1.2.4.5.10.1",
        ),
    ]);
    let c = Config::load(None, env).unwrap();
    assert_eq!(c.repository.unique_id, "123");
    assert_eq!(c.log.format, LogFormat::Json);
    assert!(!c.feed.enabled);
    assert_eq!(c.ehdsi.ps_source_formats, ["urn:a", "urn:b"]);
    assert_eq!(
        c.ehdsi.terminology_dir,
        Some(PathBuf::from("/etc/ncpeh/terms"))
    );
    assert_eq!(c.node.home_community_id, "urn:oid:2.16.752.1.2.4.5.10.1");
    // An empty variable unsets an optional value.
    let file = "[database]\nurl = \"postgres://ncpeh@db/ncpeh\"\n";
    let c = Config::from_toml(file, "c.toml", vars(&[("NCPEH_DATABASE__URL", "")])).unwrap();
    assert_eq!(c.database.url, None);
}

#[test]
fn bad_env_values_name_their_key() {
    let p = problems(
        "",
        &[
            ("NCPEH_SERVER__MAX_BODY_BYTES", "x"),
            ("NCPEH_FEED__ENABLED", "yes"),
            ("NCPEH_LOG__FORMAT", "xml"),
        ],
    );
    assert_eq!(
        keys(&p),
        ["server.max_body_bytes", "feed.enabled", "log.format"],
        "{p:?}"
    );
    assert!(
        p[0].ends_with("found \"x\" (from NCPEH_SERVER__MAX_BODY_BYTES)"),
        "{p:?}"
    );
}

#[test]
fn wrong_types_in_the_file_name_their_key() {
    let p = problems(
        "[server]\nmax_body_bytes = \"big\"\nheader_timeout_secs = -1\n[ehdsi]\nps_source_formats = [\"a\", 2]\n",
        &[],
    );
    assert_eq!(
        p,
        [
            "ehdsi.ps_source_formats: [1]: expected a string, found integer",
            "server.header_timeout_secs: must not be negative",
            "server.max_body_bytes: expected a whole number, found string",
        ]
    );
}

#[test]
fn home_community_id_moved_to_node() {
    let p = problems("[registry]\nhome_community_id = \"urn:oid:1.2\"\n", &[]);
    assert_eq!(
        p,
        ["registry.home_community_id: moved to node.home_community_id"]
    );
    let p = problems("", &[("NCPEH_REGISTRY__HOME_COMMUNITY_ID", "urn:oid:1.2")]);
    assert_eq!(
        p,
        ["registry.home_community_id: moved to node.home_community_id (from NCPEH_REGISTRY__HOME_COMMUNITY_ID)"]
    );
    let c = Config::from_toml(
        "[node]\nhome_community_id = \"urn:oid:1.2\"\n",
        "c",
        Vec::new(),
    )
    .unwrap();
    assert_eq!(c.node.home_community_id, "urn:oid:1.2");
    let p = problems("[node]\nhome_community_id = \"2.16.578\"\n", &[]);
    assert_eq!(keys(&p), ["node.home_community_id"]);
    let p = problems("[server]\nidle_timeout_secs = 90\n", &[]);
    assert!(p[0].contains("server.connection_lifetime_secs"), "{p:?}");
}

#[test]
fn zero_values_are_refused() {
    let file = "[server]\nmax_body_bytes = 0\nmax_header_bytes = 0\nmax_connections = 0\n\
                header_timeout_secs = 0\nbody_timeout_secs = 0\nconnection_lifetime_secs = 0\n\
                [database]\npool_size = 0\n[registry]\nmax_results = 0\n\
                [repository]\nregistry_timeout_secs = 0\nmax_retrieve_bytes = 0\n\
                [gateway]\npeer_timeout_secs = 0\n\
                [[peers]]\nhome_community_id = \"urn:oid:1.1\"\nxca_url = \"https://a/xca\"\ntimeout_secs = 0\n";
    let p = problems(file, &[]);
    assert_eq!(
        keys(&p),
        [
            "server.max_body_bytes",
            "server.max_header_bytes",
            "server.max_connections",
            "server.header_timeout_secs",
            "server.body_timeout_secs",
            "server.connection_lifetime_secs",
            "database.pool_size",
            "registry.max_results",
            "repository.registry_timeout_secs",
            "repository.max_retrieve_bytes",
            "gateway.peer_timeout_secs",
            "peers[0].timeout_secs",
        ],
        "{p:?}"
    );
    assert!(p.contains(&"server.max_header_bytes: must be at least 8192".to_string()));
    assert!(p.contains(&"server.body_timeout_secs: must be at least 1 second".to_string()));
}

#[test]
fn peers_are_checked() {
    let file = "[[peers]]\nhome_community_id = \"urn:oid:1.1\"\nxca_url = \"http://a/xca\"\n\
                [[peers]]\nhome_community_id = \"urn:oid:1.1\"\nxcpd_url = \"https://b/xcpd\"\n\
                [[peers]]\nexpected_subject = \"CN=x\"\n\
                [[peers]]\nhome_community_id = \"1.3\"\nxdr_url = \"https://d/xdr\"\n";
    let p = problems(file, &[]);
    assert_eq!(
        p,
        [
            "peers[0].xca_url: must be an https URL, not \"http://a/xca\"",
            "peers[2].home_community_id: must be set, as urn:oid:<OID>",
            "peers[3].home_community_id: must be urn:oid:<OID>, e.g. urn:oid:2.16.578.1.12.4.5.10.1, not \"1.3\"",
            "peers[1].home_community_id: urn:oid:1.1 is already peers[0]",
            "peers[2]: needs a country (to call in) or at least one of xca_url, xcpd_url, xdr_url",
        ]
    );
    // A name is what `peers check --peer` finds a peer by: one peer each, and never blank.
    let named = "[[peers]]\nname = \"se\"\nhome_community_id = \"urn:oid:1.1\"\ncountry = \"SE\"\n\
                 [[peers]]\nname = \"se\"\nhome_community_id = \"urn:oid:1.2\"\ncountry = \"SE\"\n\
                 [[peers]]\nname = \" \"\nhome_community_id = \"urn:oid:1.3\"\ncountry = \"DK\"\n";
    assert_eq!(
        problems(named, &[]),
        [
            "peers[2].name: must not be empty",
            "peers[1].name: se is already peers[0]",
        ]
    );
    let p = problems(
        "[repository]\nregistry_url = \"http://reg/xds/registry\"\n",
        &[],
    );
    assert_eq!(keys(&p), ["repository.registry_url"]);
}

#[test]
fn other_values_are_checked() {
    let file = "[server]\nlisten = \"8443\"\nadmin_listen = \"127.0.0.1:8443\"\npublic_url = \"https://ncp.example.no/\"\n\
                [log]\nlevel = \"inf\"\n[database]\nurl = \"mysql://db/x\"\n[tls]\ncert = \"server.pem\"\n";
    let p = problems(file, &[]);
    assert_eq!(
        keys(&p),
        [
            "server.listen",
            "server.public_url",
            "database.url",
            "log.level",
            "tls.key",
        ],
        "{p:?}"
    );
    let p = problems("[server]\nadmin_listen = \"127.0.0.1:8443\"\n", &[]);
    assert_eq!(
        p,
        ["server.admin_listen: 127.0.0.1:8443 is already server.listen"]
    );
}

#[test]
fn an_exposed_admin_listener_needs_mutual_tls() {
    let p = problems("[server]\nadmin_listen = \"0.0.0.0:8080\"\n", &[]);
    assert_eq!(
        p,
        [
            "server.admin_listen: 0.0.0.0:8080 is not a loopback address: set server.admin_tls = \
          true (mutual TLS) or listen on 127.0.0.1"
        ]
    );
    let ok = "[server]\nadmin_listen = \"0.0.0.0:8080\"\nadmin_tls = true\n";
    assert!(Config::from_toml(ok, "t.toml", vars(&[])).is_ok());
    for local in ["[::1]:8080", "localhost:8080", "127.0.0.2:8080"] {
        let f = format!("[server]\nadmin_listen = \"{local}\"\n");
        let loaded = Config::from_toml(&f, "t.toml", vars(&[]));
        assert!(loaded.is_ok(), "{local}: {:?}", loaded.err());
    }
}

#[test]
fn a_toml_syntax_error_is_one_error() {
    let e = Config::from_toml("[server\n", "bad.toml", Vec::new()).unwrap_err();
    assert!(matches!(e, ConfigError::Syntax(..)), "{e}");
}

#[test]
fn settings_show_effective_values() {
    let c = Config::from_toml(
        "[database]\nurl = \"postgres://ncpeh:s3cret@db/ncpeh\"\n[[peers]]\nhome_community_id = \"urn:oid:1.1\"\nxca_url = \"https://a/xca\"\n",
        "c",
        Vec::new(),
    )
    .unwrap();
    let s = c.settings();
    let get = |k: &str| s.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    assert_eq!(
        get("database.url"),
        Some("\"postgres://ncpeh:***@db/ncpeh\"")
    );
    assert_eq!(
        get("tls.key"),
        Some("\"ncpeh-data/pki/server.key\" (default)")
    );
    assert_eq!(get("server.connection_lifetime_secs"), Some("1800"));
    assert_eq!(get("server.shutdown_grace_secs"), Some("30"));
    assert_eq!(get("peers[0].xca_url"), Some("\"https://a/xca\""));
    assert_eq!(get("log.format"), Some("\"pretty\""));
}

/// The example under "### Configuration" in README.md must load as it stands.
#[test]
fn readme_example_is_valid() {
    let readme = include_str!("../../README.md");
    let section = readme
        .split_once("### Configuration")
        .map(|(_, rest)| rest)
        .expect("README has a Configuration section");
    let block = section
        .split_once("```toml\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .expect("the Configuration section has a toml block");
    let c = match Config::from_toml(block, "README.md", Vec::new()) {
        Ok(c) => c,
        Err(e) => panic!("README example: {e}"),
    };
    assert_eq!(c.peers.len(), 1);
}
