//! The node's configuration: one TOML file, every key also settable as an environment variable
//! `NCPEH_<SECTION>__<KEY>` (e.g. NCPEH_SERVER__LISTEN, NCPEH_DATABASE__URL; top-level keys
//! without a section: NCPEH_DATA_DIR). The defaults run out of the box in the current folder.
//!
//! Loading reads the file, applies the variables, and checks the result; it fails with one
//! error listing every problem under its dotted key (`peers[2].xca_url: must be an https URL`):
//! unknown keys, values of the wrong type, values out of range. Each section is declared once
//! (`sections.rs`) with its defaults and checks; the field's Rust type decides how a value is read
//! (`setting.rs`). Durations are `Duration`s in the code and whole seconds (`*_secs`) in the file.

mod checks;
mod confidentiality;
mod cross;
mod env;
mod problems;
pub(crate) mod section;
mod sections;
pub(crate) mod setting;
mod show;
#[cfg(test)]
mod tests;

pub use checks::tls_target;
pub use confidentiality::CodeTable;
pub use problems::{ConfigError, Problem, Problems};
pub use sections::{
    AuditConfig, ConfidentialityConfig, DatabaseConfig, EhdsiConfig, FeedConfig, GatewayConfig,
    LogConfig, NodeConfig, PeerConfig, RegistryConfig, RepositoryConfig, ServerConfig, TlsConfig,
    XuaConfig,
};
pub use setting::LogFormat;

use section::{read_table, Section};
use setting::Raw;
use std::path::{Path, PathBuf};

/// Declares `Config` with its sections once: the struct, its default, and lookup by name.
macro_rules! config {
    ($( $(#[$m:meta])* $name:ident : $ty:ty, )*) => {
        #[derive(Debug, Clone, PartialEq)]
        pub struct Config {
            /// The node's files: the SQLite database and the dev PKI by default.
            pub data_dir: PathBuf,
            $( $(#[$m])* pub $name: $ty, )*
            /// Other communities (foreign contact points, other Norwegian gateways).
            pub peers: Vec<PeerConfig>,
        }

        impl Default for Config {
            fn default() -> Self {
                Config {
                    data_dir: PathBuf::from("ncpeh-data"),
                    $( $name: <$ty>::default(), )*
                    peers: Vec::new(),
                }
            }
        }

        impl Config {
            /// Every top-level key: `data_dir`, the sections, `peers`.
            const TOP_KEYS: &'static [&'static str] =
                &["data_dir", $( stringify!($name), )* "peers"];

            fn section(&self, name: &str) -> Option<&dyn Section> {
                match name {
                    $( stringify!($name) => Some(&self.$name), )*
                    _ => None,
                }
            }

            fn section_mut(&mut self, name: &str) -> Option<&mut dyn Section> {
                match name {
                    $( stringify!($name) => Some(&mut self.$name), )*
                    _ => None,
                }
            }
        }
    };
}

config! {
    node: NodeConfig,
    server: ServerConfig,
    tls: TlsConfig,
    database: DatabaseConfig,
    registry: RegistryConfig,
    repository: RepositoryConfig,
    feed: FeedConfig,
    log: LogConfig,
    gateway: GatewayConfig,
    ehdsi: EhdsiConfig,
    xua: XuaConfig,
    confidentiality: ConfidentialityConfig,
    audit: AuditConfig,
}

impl Config {
    /// Reads the file (if given), applies NCPEH_* variables from `env`, and validates.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let text = match file {
            Some(p) => {
                std::fs::read_to_string(p).map_err(|e| ConfigError::Read(p.to_path_buf(), e))?
            }
            None => String::new(),
        };
        let origin = file.map_or_else(String::new, |p| p.display().to_string());
        Config::from_toml(&text, &origin, env)
    }

    /// The config in the process environment, with `file` if given.
    pub fn from_env(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load(file, std::env::vars())
    }

    /// Like `load`, with the file's text at hand; `origin` names it in a syntax error.
    pub fn from_toml(
        text: &str,
        origin: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let table = text
            .parse::<toml::Table>()
            .map_err(|e| ConfigError::Syntax(origin.to_string(), e.to_string()))?;
        let mut problems = Problems::default();
        let mut cfg = Config::default();
        cfg.read_file(&table, &mut problems);
        env::apply(&mut cfg, env, &mut problems);
        cfg.check(&mut problems);
        problems.into_result()?;
        Ok(cfg)
    }

    /// Checks every setting (for configs built in code; `load` does this itself).
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::default();
        self.check(&mut problems);
        problems.into_result()
    }

    fn check(&self, problems: &mut Problems) {
        for name in Config::TOP_KEYS {
            if let Some(s) = self.section(name) {
                s.check(name, problems);
            }
        }
        for (i, p) in self.peers.iter().enumerate() {
            p.check(&format!("peers[{i}]"), problems);
        }
        cross::check(self, problems);
    }

    /// The one top-level key that is a value, not a section.
    fn set_top(&mut self, key: &str, raw: Raw<'_>) -> Option<Result<(), String>> {
        (key == "data_dir").then(|| raw.parse().map(|v| self.data_dir = v))
    }

    fn read_file(&mut self, table: &toml::Table, problems: &mut Problems) {
        for (k, v) in table {
            if k == "peers" {
                self.peers = read_peers(v, problems);
            } else if let Some(r) = self.set_top(k, Raw::File(v)) {
                problems.check(k, r);
            } else if let Some(s) = self.section_mut(k) {
                match v.as_table() {
                    Some(t) => read_table(s, k, t, problems),
                    None => problems.push(k.as_str(), format!("must be a section [{k}]")),
                }
            } else {
                problems.unknown(k, k, Config::TOP_KEYS, "");
            }
        }
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

    /// The files of the SOAP listener's TLS, as `ServerTls` reads them on start and on SIGHUP.
    pub fn server_tls_files(&self) -> crate::transport::tls::ServerFiles {
        crate::transport::tls::ServerFiles {
            ca: self.ca_path(),
            cert: self.cert_path(),
            key: self.key_path(),
            crls: self.tls.crl_files.iter().map(PathBuf::from).collect(),
        }
    }

    pub fn national_ca_path(&self) -> PathBuf {
        self.tls
            .national_ca
            .clone()
            .unwrap_or_else(|| self.ca_path())
    }

    pub fn foreign_ca_path(&self) -> PathBuf {
        self.tls
            .foreign_ca
            .clone()
            .unwrap_or_else(|| self.ca_path())
    }

    /// The issuers of national assertions; with the dev PKI, its Norwegian test issuer.
    pub fn national_issuers_path(&self) -> Option<PathBuf> {
        self.xua.national_issuers.clone().or_else(|| {
            self.uses_dev_pki().then(|| {
                self.pki_dir()
                    .join(format!("issuer-{}.pem", self.node.country.to_lowercase()))
            })
        })
    }

    /// The node's seal (certificate, key) for the assertions it issues.
    pub fn seal_paths(&self) -> (PathBuf, PathBuf) {
        let dev = |ext: &str| {
            self.pki_dir()
                .join(format!("issuer-{}.{ext}", self.node.country.to_lowercase()))
        };
        (
            self.xua.seal_cert.clone().unwrap_or_else(|| dev("pem")),
            self.xua.seal_key.clone().unwrap_or_else(|| dev("key")),
        )
    }

    /// The issuers of a peer country's assertions; with the dev PKI, its test issuer.
    pub fn peer_issuers_path(&self, peer: &PeerConfig) -> Option<PathBuf> {
        peer.xua_issuers.clone().or_else(|| {
            let country = peer.country.as_deref()?.to_lowercase();
            self.uses_dev_pki()
                .then(|| self.pki_dir().join(format!("issuer-{country}.pem")))
        })
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

/// `[[peers]]` blocks, each read like a section under `peers[i]`.
fn read_peers(v: &toml::Value, problems: &mut Problems) -> Vec<PeerConfig> {
    let tables: Option<Vec<&toml::Table>> = v
        .as_array()
        .and_then(|a| a.iter().map(toml::Value::as_table).collect());
    let Some(tables) = tables else {
        problems.push("peers", "must be [[peers]] blocks, one per peer community");
        return Vec::new();
    };
    tables
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let mut peer = PeerConfig::default();
            read_table(&mut peer, &format!("peers[{i}]"), t, problems);
            peer
        })
        .collect()
}
