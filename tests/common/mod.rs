//! Test harness: starts the real `ncpeh` binary on 127.0.0.1 with its own dev PKI, config and
//! database (SQLite file, or a fresh PostgreSQL database when NCPEH_TEST_PG_URL is set).
#![allow(dead_code)]

pub mod ehdsi;
pub mod meta;
pub mod schema;
pub mod xdsb;

use ncpeh::transport::client::{HttpsClient, SoapResponse};
use ncpeh::transport::tls::client_config;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_ncpeh");

/// Sweden as a contact point calling in, for `TestNode::start_with_foreign_peer`.
const SE_PEER: &str = "[xua]\nnational_issuers = \"{PKI}/issuer-no.pem\"\n[[peers]]\n\
    home_community_id = \"urn:oid:2.16.752.1.2.4.5.10.1\"\ncountry = \"SE\"\n\
    expected_subject = \"{SE_SUBJECT}\"\nxua_issuers = \"{PKI}/issuer-se.pem\"\n";

/// The subject of the first certificate of a PEM file, as the node prints it.
pub fn subject_of(pem: &Path) -> String {
    let der = ncpeh::pki::load_certs(pem).expect("certificate").remove(0);
    ncpeh::pki::PeerIdentity::from_der(&der)
        .expect("X.509")
        .subject
}

/// A wsse:Security header as Sweden's contact point sends it: a doctor's HCP assertion and, for
/// `patient`, a TRC assertion, signed by SE's test issuer in `pki`.
pub fn ehdsi_security(pki: &Path, patient: Option<&str>) -> String {
    let signer = ncpeh::saml::issue::Signer::from_files(
        &pki.join("issuer-se.pem"),
        &pki.join("issuer-se.key"),
    )
    .expect("SE issuer");
    ncpeh::saml::issue::ehdsi_security(
        &signer,
        &Default::default(),
        patient,
        None,
        time::OffsetDateTime::now_utc(),
    )
    .expect("assertions")
}

pub struct TestNode {
    child: Child,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub pki: PathBuf,
    pub soap: String,
    pub admin: String,
    pub feed: Option<String>,
    pub db_url: String,
    log_to_file: bool,
}

impl Drop for TestNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh database URL: a new PostgreSQL database when NCPEH_TEST_PG_URL is set, else a
/// SQLite file in `dir`.
pub fn fresh_db(dir: &Path) -> String {
    match std::env::var("NCPEH_TEST_PG_URL") {
        Ok(admin) if !admin.is_empty() => {
            use diesel::{Connection, RunQueryDsl};
            let name = format!("ncpeh_t_{}", uuid::Uuid::new_v4().simple());
            let mut c =
                diesel::PgConnection::establish(&admin).expect("connect to test PostgreSQL");
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut c)
                .expect("create test database");
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            format!("{base}/{name}")
        }
        _ => dir.join("ncpeh.db").display().to_string(),
    }
}

impl TestNode {
    pub fn start() -> TestNode {
        TestNode::start_with("")
    }

    /// `extra` is appended to the generated TOML config (its sections must not repeat ours).
    pub fn start_with(extra: &str) -> TestNode {
        TestNode::launch(extra, false, None)
    }

    /// A second node on `other`'s database and PKI (its own config, data dir and ports), as
    /// two nodes behind a load balancer share one PostgreSQL.
    pub fn start_beside(other: &TestNode) -> TestNode {
        TestNode::launch_on("", false, Some((&other.pki, "server")), Some(&other.db_url))
    }

    /// A node that shares an existing dev PKI (one CA for several nodes) and serves with
    /// `<cert>.pem`/`<cert>.key` from it, e.g. "server" or "foreign-se".
    pub fn start_in_pki(pki: &Path, cert: &str, extra: &str) -> TestNode {
        TestNode::launch(extra, false, Some((pki, cert)))
    }

    /// A node for which the dev PKI's `foreign-se` certificate is Sweden's contact point, with
    /// SE's test issuer trusted for its assertions and NO's for national ones.
    pub fn start_with_foreign_peer(extra: &str) -> TestNode {
        TestNode::start_with(&format!("{SE_PEER}{extra}"))
    }

    /// Like `start`, with info-level logs written to `<dir>/node.log` (see `log()`).
    pub fn start_logged() -> TestNode {
        TestNode::launch("", true, None)
    }

    /// Like `start_with`, with info-level logs written to `<dir>/node.log` (kept across
    /// `restart`).
    pub fn start_logged_with(extra: &str) -> TestNode {
        TestNode::launch(extra, true, None)
    }

    /// The node's log so far (empty unless started with `start_logged`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("node.log")).unwrap_or_default()
    }

    fn launch(extra: &str, log_to_file: bool, shared: Option<(&Path, &str)>) -> TestNode {
        TestNode::launch_on(extra, log_to_file, shared, None)
    }

    fn launch_on(
        extra: &str,
        log_to_file: bool,
        shared: Option<(&Path, &str)>,
        db: Option<&str>,
    ) -> TestNode {
        let dir = tempfile::tempdir().expect("tempdir");
        let (pki, cert) = match shared {
            Some((p, c)) => (p.to_path_buf(), c.to_string()),
            None => {
                let pki = dir.path().join("pki");
                init_pki(&pki);
                (pki, "server".to_string())
            }
        };
        let db_url = db.map_or_else(|| fresh_db(dir.path()), str::to_string);
        // Configs may name files of the PKI made here.
        let extra = extra
            .replace("{PKI}", &pki.display().to_string())
            .replace("{SE_SUBJECT}", &subject_of(&pki.join("foreign-se.pem")));
        let registry_section = if extra.contains("[registry]") {
            String::new()
        } else {
            "[registry]\nallow_unknown_patients = false\n".to_string()
        };
        let config = dir.path().join("ncpeh.toml");
        let toml = format!(
            "data_dir = \"{data}\"\n[server]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n\
             [tls]\nca = \"{pki}/ca.pem\"\ncert = \"{pki}/{cert}.pem\"\nkey = \"{pki}/{cert}.key\"\n\
             [database]\nurl = \"{db}\"\npool_size = 4\n[feed]\nmllp_listen = \"127.0.0.1:0\"\n\
             [log]\nlevel = \"warn\"\n{registry_section}{extra}\n",
            data = dir.path().display(),
            pki = pki.display(),
            db = db_url,
        );
        std::fs::write(&config, toml).expect("write config");
        let log = log_to_file.then(|| dir.path().join("node.log"));
        let (child, addrs) = spawn_serve(&config, log.as_deref());
        TestNode {
            child,
            config,
            pki,
            soap: addrs.soap,
            admin: addrs.admin,
            feed: addrs.feed,
            db_url,
            dir,
            log_to_file,
        }
    }

    /// `SIGKILL`s the node and reaps it: no shutdown code runs.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends `SIGTERM` (a graceful shutdown) without waiting; see `wait_exit`.
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// Waits up to `limit` for the node to exit; None if it is still running then.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let until = std::time::Instant::now() + limit;
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                return Some(st);
            }
            if std::time::Instant::now() >= until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts `ncpeh serve` again on the same config, database and PKI (after `kill9` or an
    /// exit); the listeners get new ports, so `soap`, `admin` and `feed` change. A node still
    /// running is killed first.
    pub fn restart(&mut self) {
        if self.child.try_wait().expect("try_wait").is_none() {
            self.kill9();
        }
        let log = self.log_to_file.then(|| self.dir.path().join("node.log"));
        let (child, addrs) = spawn_serve(&self.config, log.as_deref());
        self.child = child;
        self.soap = addrs.soap;
        self.admin = addrs.admin;
        self.feed = addrs.feed;
    }

    /// The process id of the node (for reading its /proc status).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident set size of the node process in KiB (Linux VmHWM).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.soap)
    }

    /// A client presenting `<name>.pem`/`<name>.key` from the node's dev PKI (None: no certificate).
    pub fn client_as(&self, name: Option<&str>) -> HttpsClient {
        let ca = self.pki.join("ca.pem");
        let tls = match name {
            Some(n) => client_config(
                &ca,
                Some((
                    &self.pki.join(format!("{n}.pem")),
                    &self.pki.join(format!("{n}.key")),
                )),
            ),
            None => client_config(&ca, None),
        }
        .expect("client tls");
        HttpsClient::new(tls, Duration::from_secs(60))
    }

    /// Issues `<name>.pem`/`.key` from the node's dev CA for another Norwegian organisation
    /// (`ncpeh pki client`), for `call_as(name, ...)`.
    pub fn issue_client(&self, name: &str, org: &str) {
        let out = Command::new(BIN)
            .args(["pki", "client", name, "--org", org, "--dir"])
            .arg(&self.pki)
            .output()
            .expect("run pki client");
        assert!(
            out.status.success(),
            "pki client failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn client(&self) -> HttpsClient {
        self.client_as(Some("client"))
    }

    pub fn add_patient(&self, pid: &str) {
        self.add_patient_with(pid, "Testesen", "Kari", None, None);
    }

    /// Adds a patient through the CLI with full demographics (birth date YYYYMMDD, gender M/F/O/U).
    pub fn add_patient_with(
        &self,
        pid: &str,
        family: &str,
        given: &str,
        birth_date: Option<&str>,
        gender: Option<&str>,
    ) {
        let mut cmd = Command::new(BIN);
        cmd.args(["patient", "add", "--config"])
            .arg(&self.config)
            .arg(pid)
            .args(["--family", family, "--given", given]);
        if let Some(b) = birth_date {
            cmd.args(["--birth-date", b]);
        }
        if let Some(g) = gender {
            cmd.args(["--gender", g]);
        }
        let out = cmd.output().expect("run patient add");
        assert!(
            out.status.success(),
            "patient add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// GET on the plain-HTTP admin listener: status and body.
    pub async fn admin_get(&self, path: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.admin.trim_start_matches("http://");
        let mut s = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connect admin");
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.expect("send");
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.expect("read");
        let text = String::from_utf8_lossy(&out);
        let (status, _, body) = http_answer(&text);
        (status, body.to_string())
    }

    /// The value of one series of /metrics, e.g. `ncpeh_connections_total` (0 when absent).
    pub async fn metric(&self, series: &str) -> f64 {
        let (_, body) = self.admin_get("/metrics").await;
        body.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    }

    /// Sends the node a signal by name, e.g. "HUP".
    pub fn signal(&self, name: &str) {
        let st = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(st.success(), "kill -{name} {} failed", self.pid());
    }

    pub async fn call(&self, path: &str, action: &str, body: &str) -> SoapResponse {
        self.call_as("client", path, action, body, None).await
    }

    /// A call with the certificate `cert` of the PKI (e.g. "foreign-se") and, when given, a
    /// wsse:Security header.
    pub async fn call_as(
        &self,
        cert: &str,
        path: &str,
        action: &str,
        body: &str,
        security: Option<&str>,
    ) -> SoapResponse {
        let env = ncpeh::soap::envelope::encode_secured_request(
            action,
            &self.url(path),
            &format!("urn:uuid:{}", uuid::Uuid::new_v4()),
            security,
            body,
        );
        self.client_as(Some(cert))
            .soap(&self.url(path), action, env)
            .await
            .expect("SOAP call")
    }
}

/// The addresses a started node printed.
struct Addrs {
    soap: String,
    admin: String,
    feed: Option<String>,
}

/// Spawns `ncpeh serve --config <config>` and reads its listening line; with `log`, info-level
/// logs are appended to that file.
fn spawn_serve(config: &Path, log: Option<&Path>) -> (Child, Addrs) {
    let mut cmd = Command::new(BIN);
    cmd.arg("serve")
        .arg("--config")
        .arg(config)
        .stdout(Stdio::piped());
    match log {
        Some(path) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("open node.log");
            cmd.env("RUST_LOG", "info").stderr(Stdio::from(f));
        }
        None => {
            cmd.stderr(Stdio::inherit());
        }
    }
    let mut child = cmd.spawn().expect("spawn ncpeh serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read listening line");
    assert!(
        line.starts_with("ncpeh listening"),
        "node did not start: {line:?}"
    );
    let field = |k: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(k))
            .map(str::to_string)
            .unwrap_or_default()
    };
    let feed = field("feed=");
    let addrs = Addrs {
        soap: field("soap="),
        admin: field("admin="),
        feed: (feed != "off").then_some(feed),
    };
    (child, addrs)
}

/// A raw HTTP/1.1 answer as (status, head, body); status 0 when there is no status line.
pub fn http_answer(text: &str) -> (u16, &str, &str) {
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
    (status, head, body)
}

/// `ncpeh pki init --out dir`.
pub fn init_pki(dir: &Path) {
    let st = Command::new(BIN)
        .args(["pki", "init", "--out"])
        .arg(dir)
        .stdout(Stdio::null())
        .status()
        .expect("run pki init");
    assert!(st.success(), "pki init failed");
}

/// A PRPA_IN201305UV02 for one fødselsnummer, as a foreign contact point would send it.
pub fn xcpd_request(fnr: &str) -> String {
    format!(
        concat!(
            r#"<PRPA_IN201305UV02 xmlns="urn:hl7-org:v3" ITSVersion="XML_1.0"><id root="1.2.752.129.2.1.4.1" extension="two-nodes-1"/>"#,
            r#"<creationTime value="20261122100000"/><interactionId root="2.16.840.1.113883.1.6" extension="PRPA_IN201305UV02"/>"#,
            r#"<processingCode code="P"/><processingModeCode code="T"/><acceptAckCode code="AL"/>"#,
            r#"<receiver typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE"><id root="2.16.578.1.12.4.5.10.1"/></device></receiver>"#,
            r#"<sender typeCode="SND"><device classCode="DEV" determinerCode="INSTANCE"><id root="2.16.752.1.2.4.5.10.1"/></device></sender>"#,
            r#"<controlActProcess classCode="CACT" moodCode="EVN"><code code="PRPA_TE201305UV02" codeSystem="2.16.840.1.113883.1.6"/>"#,
            r#"<queryByParameter><queryId root="1.2.752.129.2.1.4.1.9" extension="q-1"/><statusCode code="new"/><responseModalityCode code="R"/><responsePriorityCode code="I"/>"#,
            r#"<parameterList><livingSubjectId><value root="2.16.578.1.12.4.1.4.1" extension="{fnr}"/><semanticsText>LivingSubject.id</semanticsText></livingSubjectId></parameterList>"#,
            r#"</queryByParameter></controlActProcess></PRPA_IN201305UV02>"#
        ),
        fnr = fnr
    )
}

/// A peer that accepts connections and never says a word.
pub async fn silent_peer() -> std::net::SocketAddr {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    addr
}

/// Sends SIGHUP and waits until /metrics counts one more TLS reload with `outcome`.
pub async fn sighup_reload(node: &TestNode, outcome: &str) {
    let series = format!("ncpeh_tls_reloads_total{{outcome=\"{outcome}\"}}");
    let before = node.metric(&series).await;
    node.signal("HUP");
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while node.metric(&series).await <= before {
        assert!(
            std::time::Instant::now() < until,
            "no {outcome} reload counted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn new_pid() -> String {
    format!(
        "{}^^^&2.16.578.1.12.4.1.4.1&ISO",
        &uuid::Uuid::new_v4().simple().to_string()[..11]
    )
}

pub mod answer {
    //! Reading registry answers.
    use ncpeh::xml::Element;

    pub const RS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0";
    pub const RIM: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";
    pub const SUCCESS: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success";
    pub const FAILURE: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure";

    pub fn status(body: &Element) -> String {
        body.attr("status").unwrap_or_default().to_string()
    }

    pub fn error_codes(body: &Element) -> Vec<String> {
        body.child(RS, "RegistryErrorList")
            .map(|l| {
                l.children_named(RS, "RegistryError")
                    .map(|e| e.attr("errorCode").unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// (element name, id, status) of every object in the RegistryObjectList.
    pub fn objects(body: &Element) -> Vec<(String, String, String)> {
        body.child(RIM, "RegistryObjectList")
            .map(|l| {
                l.elements()
                    .map(|e| {
                        (
                            e.name.clone(),
                            e.attr("id").unwrap_or_default().to_string(),
                            e.attr("status").unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn count(body: &Element, element: &str) -> usize {
        objects(body)
            .iter()
            .filter(|(n, _, _)| n == element)
            .count()
    }

    /// The uniqueId values of returned DocumentEntries/packages.
    pub fn unique_ids(body: &Element) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(l) = body.child(RIM, "RegistryObjectList") {
            for o in l.elements() {
                for x in o.children_named(RIM, "ExternalIdentifier") {
                    let scheme = x.attr("identificationScheme").unwrap_or_default();
                    if [
                        ncpeh::xds::ids::DE_UNIQUE_ID,
                        ncpeh::xds::ids::SS_UNIQUE_ID,
                        ncpeh::xds::ids::FOLDER_UNIQUE_ID,
                    ]
                    .contains(&scheme)
                    {
                        out.push(x.attr("value").unwrap_or_default().to_string());
                    }
                }
            }
        }
        out
    }
}
