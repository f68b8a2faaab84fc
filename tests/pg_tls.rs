//! The node reaches a PostgreSQL that accepts TLS only, verifying its certificate. Runs in the
//! PostgreSQL pass of tests/run.sh, which starts such a server and sets NCPEH_TEST_PG_TLS_CA to
//! the CA of its certificate; elsewhere it says why it does not run.

mod common;
use common::TestNode;
use diesel::{Connection, RunQueryDsl};
use std::process::Command;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn setup() -> Option<(String, String)> {
    let (Ok(url), Ok(ca)) = (
        std::env::var("NCPEH_TEST_PG_URL"),
        std::env::var("NCPEH_TEST_PG_TLS_CA"),
    ) else {
        eprintln!(
            "SKIP pg_tls: needs NCPEH_TEST_PG_URL and NCPEH_TEST_PG_TLS_CA (tests/run.sh sets both \
             for its TLS-only PostgreSQL)"
        );
        return None;
    };
    Some((url, ca))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_of_the_node_to_postgresql_is_encrypted() {
    let Some((admin, _)) = setup() else { return };
    let node = TestNode::start();
    let pid = common::new_pid();
    node.add_patient(&pid);
    assert!(common::xdsb::find_documents(&node, &pid).await.is_empty());

    let db = node
        .db_url
        .rsplit('/')
        .next()
        .expect("database name")
        .to_string();
    let mut c = diesel::PgConnection::establish(&admin).expect("connect as the test admin");
    let count = |sql: String, c: &mut diesel::PgConnection| {
        diesel::sql_query(sql)
            .get_result::<Count>(c)
            .expect("query")
            .n
    };
    let by_node = format!(
        "SELECT count(*) AS n FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
         WHERE a.datname = '{db}' AND a.pid <> pg_backend_pid()"
    );
    let plain = count(format!("{by_node} AND NOT s.ssl"), &mut c);
    let tls = count(format!("{by_node} AND s.ssl"), &mut c);
    assert_eq!(plain, 0, "the node has connections without TLS");
    assert!(tls >= 1, "the node holds no connection to its database");
}

#[test]
fn a_database_certificate_from_another_ca_stops_the_node() {
    let Some((admin, _)) = setup() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    common::init_pki(dir.path());
    // The URL names TLS and the CA itself, as an operator's config does; this CA is not the
    // database's.
    let url = format!(
        "{admin}?sslmode=verify-full&sslrootcert={}",
        dir.path().join("ca.pem").display()
    );
    let out = Command::new(common::BIN)
        .arg("migrate")
        .env("NCPEH_DATA_DIR", dir.path())
        .env("NCPEH_DATABASE__URL", &url)
        .output()
        .expect("ncpeh migrate");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "connected despite a certificate it cannot verify"
    );
    assert!(err.contains("certificate verify failed"), "{err}");
}
