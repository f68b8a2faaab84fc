//! One TOML file; every key can also be set as NCPEH_SECTION__KEY (e.g. NCPEH_SERVER__LISTEN,
//! NCPEH_DATABASE__URL, NCPEH_DATA_DIR). The defaults run out of the box in the current folder.

use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("config {0}: {1}")]
    Parse(String, String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub tls: TlsConfig,
    pub database: DatabaseConfig,
    pub registry: RegistryConfig,
    pub repository: RepositoryConfig,
    pub feed: FeedConfig,
    pub log: LogConfig,
    pub gateway: GatewayConfig,
    pub ehdsi: EhdsiConfig,
    /// Other communities (foreign contact points, other Norwegian gateways).
    pub peers: Vec<PeerConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct GatewayConfig {
    /// Default time a peer gets to answer before it counts as unavailable.
    pub peer_timeout_secs: u64,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            peer_timeout_secs: 20,
        }
    }
}

/// Which registered Norwegian documents feed the eHDSI pivot documents (by formatCode).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EhdsiConfig {
    /// formatCodes of FHIR IPS bundles (the source of the Patient Summary).
    pub ps_source_formats: Vec<String>,
    /// formatCodes of e-resept M1 messages (the source of ePrescriptions).
    pub ep_source_formats: Vec<String>,
    /// Terminology tables overriding the built-in ones (a table missing there stays built-in).
    pub terminology_dir: Option<PathBuf>,
}

impl Default for EhdsiConfig {
    fn default() -> Self {
        EhdsiConfig {
            ps_source_formats: vec![
                "urn:ihe:pcc:ips:2020".into(),
                "http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips".into(),
            ],
            ep_source_formats: vec!["urn:no:kith:xmlstds:eresept:m1".into()],
            terminology_dir: None,
        }
    }
}

/// One peer community. Outbound calls use the node's own certificate ([tls] cert/key) and trust
/// the [tls] CA; `expected_subject` pins the peer's server certificate.
#[derive(Debug, Clone, Deserialize)]
pub struct PeerConfig {
    pub home_community_id: String,
    pub country: Option<String>,
    pub xca_url: Option<String>,
    pub xcpd_url: Option<String>,
    pub xdr_url: Option<String>,
    /// The server certificate subject, e.g. "CN=NCPeH SE, O=..., C=SE"; others are refused.
    pub expected_subject: Option<String>,
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ServerConfig {
    pub listen: String,
    pub admin_listen: String,
    pub max_body_bytes: usize,
    pub max_header_bytes: usize,
    pub max_connections: usize,
    pub header_timeout_secs: u64,
    pub body_timeout_secs: u64,
    pub idle_timeout_secs: u64,
    /// Base URL written into served WSDLs; defaults to https://<listen>.
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct TlsConfig {
    /// CA bundle that client certificates must chain to (default: <data_dir>/pki/ca.pem).
    pub ca: Option<PathBuf>,
    /// Server certificate chain and key (default: <data_dir>/pki/server.pem/.key).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// `postgres://...`, or a SQLite path (default: <data_dir>/ncpeh.db).
    pub url: Option<String>,
    pub pool_size: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RegistryConfig {
    pub allow_unknown_patients: bool,
    /// Strict code list (NIST codes.xml or TSV); absent means permissive.
    pub code_list: Option<PathBuf>,
    pub max_results: usize,
    pub home_community_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RepositoryConfig {
    /// XDSDocumentEntry.repositoryUniqueId of this node's repository.
    pub unique_id: String,
    /// ITI-42 endpoint of a remote registry (https). Absent: the node's own registry, in the
    /// same database transaction as the documents.
    pub registry_url: Option<String>,
    /// CA bundle for the remote registry (default: tls.ca).
    pub registry_ca: Option<PathBuf>,
    /// Client certificate and key presented to the remote registry (default: tls.cert/key).
    pub registry_client_cert: Option<PathBuf>,
    pub registry_client_key: Option<PathBuf>,
    pub registry_timeout_secs: u64,
    /// Total document bytes one ITI-43 answer may carry; further documents get an error.
    pub max_retrieve_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct FeedConfig {
    pub enabled: bool,
    pub mllp_listen: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    /// "pretty" or "json".
    pub format: String,
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("ncpeh-data"),
            server: ServerConfig::default(),
            tls: TlsConfig::default(),
            database: DatabaseConfig::default(),
            registry: RegistryConfig::default(),
            repository: RepositoryConfig::default(),
            feed: FeedConfig::default(),
            log: LogConfig::default(),
            gateway: GatewayConfig::default(),
            ehdsi: EhdsiConfig::default(),
            peers: Vec::new(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8443".into(),
            admin_listen: "127.0.0.1:8080".into(),
            max_body_bytes: 64 * 1024 * 1024,
            max_header_bytes: 64 * 1024,
            max_connections: 1024,
            header_timeout_secs: 30,
            body_timeout_secs: 300,
            idle_timeout_secs: 90,
            public_url: None,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: None,
            pool_size: 16,
        }
    }
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            allow_unknown_patients: false,
            code_list: None,
            max_results: 10_000,
            home_community_id: "urn:oid:2.16.578.1.12.4.5.10.1".into(),
        }
    }
}

impl Default for RepositoryConfig {
    fn default() -> Self {
        RepositoryConfig {
            unique_id: "2.16.578.1.12.4.5.10.1.1".into(),
            registry_url: None,
            registry_ca: None,
            registry_client_cert: None,
            registry_client_key: None,
            registry_timeout_secs: 60,
            max_retrieve_bytes: 256 * 1024 * 1024,
        }
    }
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            enabled: true,
            mllp_listen: "127.0.0.1:2575".into(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: "pretty".into(),
            level: "info".into(),
        }
    }
}

/// Variables that belong to tools around the node, not to its configuration.
const NOT_CONFIG: [&str; 3] = ["NCPEH_CONFIG", "NCPEH_SHARED", "NCPEH_PYTHON"];

impl Config {
    /// Reads the file (if given), then applies NCPEH_* variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| ConfigError::Read(p.to_path_buf(), e))?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Parse(p.display().to_string(), e.to_string()))?
            }
            None => toml::Table::new(),
        };
        for (k, v) in env {
            let Some(rest) = k.strip_prefix("NCPEH_") else {
                continue;
            };
            if NOT_CONFIG.contains(&k.as_str()) || rest.is_empty() {
                continue;
            }
            let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
            set_path(&mut table, &path, scalar(&v));
        }
        let cfg: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse("settings".into(), e.to_string()))?;
        Ok(cfg)
    }

    pub fn from_env(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load(file, std::env::vars())
    }

    pub fn pki_dir(&self) -> PathBuf {
        self.data_dir.join("pki")
    }

    pub fn ca_path(&self) -> PathBuf {
        self.tls
            .ca
            .clone()
            .unwrap_or_else(|| self.pki_dir().join("ca.pem"))
    }

    pub fn cert_path(&self) -> PathBuf {
        self.tls
            .cert
            .clone()
            .unwrap_or_else(|| self.pki_dir().join("server.pem"))
    }

    pub fn key_path(&self) -> PathBuf {
        self.tls
            .key
            .clone()
            .unwrap_or_else(|| self.pki_dir().join("server.key"))
    }

    /// True when TLS files are the generated dev PKI (so `serve` may create them).
    pub fn uses_dev_pki(&self) -> bool {
        self.tls.ca.is_none() && self.tls.cert.is_none() && self.tls.key.is_none()
    }

    pub fn database_url(&self) -> String {
        self.database
            .url
            .clone()
            .unwrap_or_else(|| self.data_dir.join("ncpeh.db").display().to_string())
    }

    pub fn public_url(&self) -> String {
        self.server
            .public_url
            .clone()
            .unwrap_or_else(|| format!("https://{}", self.server.listen))
    }
}

fn scalar(v: &str) -> toml::Value {
    if let Ok(i) = v.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    match v {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(v.to_string()),
    }
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    match path {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(t) = entry {
                set_path(t, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_and_defaults_run() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(
            &f,
            "[server]\nlisten = \"127.0.0.1:9443\"\n[registry]\nmax_results = 5\n",
        )
        .unwrap();
        let env = vec![
            (
                "NCPEH_SERVER__MAX_BODY_BYTES".to_string(),
                "1024".to_string(),
            ),
            (
                "NCPEH_REGISTRY__ALLOW_UNKNOWN_PATIENTS".to_string(),
                "true".to_string(),
            ),
            ("NCPEH_SHARED".to_string(), "../shared".to_string()),
            ("HOME".to_string(), "/root".to_string()),
        ];
        let c = Config::load(Some(&f), env).unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:9443");
        assert_eq!(c.server.max_body_bytes, 1024);
        assert_eq!(c.registry.max_results, 5);
        assert!(c.registry.allow_unknown_patients);
        let d = Config::load(None, Vec::new()).unwrap();
        assert_eq!(d.server.listen, "127.0.0.1:8443");
        assert_eq!(d.database_url(), "ncpeh-data/ncpeh.db");
        assert!(Config::load(
            None,
            vec![("NCPEH_SERVER__MAX_BODY_BYTES".into(), "x".into())]
        )
        .is_err());
    }
}
