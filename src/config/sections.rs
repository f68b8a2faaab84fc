//! The sections of the config file, each declared once with its defaults and checks.

use super::checks::{
    at_least, base_url, country_code, database_url, https_url, listen_addr, log_level,
    metadata_update, non_empty, oid, opt, seconds, syslog_url, urn_oid,
};
use super::confidentiality::CodeTable;
use super::section::section;
use super::setting::LogFormat;
use crate::xds::confidentiality::{ConfidentialityPolicy, Reach};
use std::path::PathBuf;
use std::time::Duration;

section! {
    /// Who this node is in the exchange.
    pub struct NodeConfig {
        /// The homeCommunityId this node answers as (XCA, XCPD); Norway's eHDSI one by default.
        home_community_id: String = crate::ids::ehdsi::NO_HOME_COMMUNITY.into(), check = urn_oid;
        /// ISO 3166 country code of this node. A caller whose certificate names another country
        /// is a foreign contact point and must be one of the `[[peers]]`.
        country: String = "NO".into(), check = country_code;
    }
}

section! {
    /// The mTLS SOAP listener and the plain-HTTP admin listener (/health, /metrics).
    pub struct ServerConfig {
        listen: String = "127.0.0.1:8443".into(), check = listen_addr;
        admin_listen: String = "127.0.0.1:8080".into(), check = listen_addr;
        /// The admin listener (console, /metrics, /health, /view) over mutual TLS, with the
        /// node's certificate and CA. Needed when admin_listen is not a loopback address: the
        /// console answers who looked at a patient's record.
        admin_tls: bool = false;
        /// Base URL written into served WSDLs; defaults to https://<the bound SOAP address>.
        public_url: Option<String> = None, check = opt(base_url);
        max_body_bytes: usize = 64 * 1024 * 1024, check = at_least(1);
        /// hyper cannot read headers into a buffer smaller than 8192 bytes.
        max_header_bytes: usize = 64 * 1024, check = at_least(8192);
        max_connections: usize = 1024, check = at_least(1);
        /// Open connections one client address may hold (counted before the TLS handshake).
        max_connections_per_address: usize = 128, check = at_least(1);
        /// Per caller (client certificate): requests being answered at once, and requests per
        /// second (also the burst). Over either, a 503 with Retry-After comes back at once.
        /// `[[peers]]` may set their own.
        caller_max_in_flight: usize = 64, check = at_least(1);
        caller_max_requests_per_sec: u32 = 1000, check = at_least(1);
        /// A connection must finish its TLS handshake within this.
        handshake_timeout: Duration = Duration::from_secs(10),
            key = "handshake_timeout_secs", check = seconds;
        header_timeout: Duration = Duration::from_secs(30),
            key = "header_timeout_secs", check = seconds;
        body_timeout: Duration = Duration::from_secs(300),
            key = "body_timeout_secs", check = seconds;
        /// After this a connection ends with its next answer (an idle one 10 minutes later).
        connection_lifetime: Duration = Duration::from_secs(1800),
            key = "connection_lifetime_secs", check = seconds;
        /// On SIGTERM or Ctrl-C, how long requests in flight may take to finish before the
        /// node exits anyway (unanswered requests are then rolled back, never half kept).
        shutdown_grace: Duration = Duration::from_secs(30),
            key = "shutdown_grace_secs", check = seconds;
    }
}

section! {
    /// The node's certificate and the CA bundle that client certificates must chain to.
    /// All unset: the dev PKI under <data_dir>/pki, created by `serve` when missing.
    pub struct TlsConfig {
        /// Default: <data_dir>/pki/ca.pem.
        ca: Option<PathBuf> = None;
        /// Server certificate chain, leaf first (default: <data_dir>/pki/server.pem).
        cert: Option<PathBuf> = None;
        /// Its private key (default: <data_dir>/pki/server.key).
        key: Option<PathBuf> = None;
        /// CAs for national callers: health trusts, national consumers (default: `ca`).
        national_ca: Option<PathBuf> = None;
        /// CAs for foreign contact points (default: `ca`).
        foreign_ca: Option<PathBuf> = None;
        /// CRLs (PEM or DER) checked for client certificates. Read again, with cert and key, on
        /// SIGHUP. A CRL past its nextUpdate refuses the clients of its issuer.
        crl_files: Vec<String> = Vec::new();
    }
}

section! {
    /// XUA: the SAML assertions that say who the health professional behind a request is.
    pub struct XuaConfig {
        /// Require a verified assertion from national callers on /xds/* (foreign contact points
        /// always need eHDSI assertions on /xcpd, /xca and /xdr).
        require_on_xds: bool = false;
        /// Certificates (PEM) of the issuers national assertions may be signed under
        /// (default with the dev PKI: <data_dir>/pki/issuer-no.pem).
        national_issuers: Option<PathBuf> = None;
        /// CRLs (PEM or DER files) for assertion signers; a revoked signer is refused.
        crls: Vec<String> = Vec::new();
        /// How far assertion times may be off.
        clock_skew: Duration = Duration::from_secs(60),
            key = "clock_skew_secs", check = seconds;
        /// Audiences accepted besides node.home_community_id and the node's public URL.
        audiences: Vec<String> = Vec::new();
        /// The initiating gateways issue eHDSI assertions for national consumers (from their
        /// verified assertion) instead of forwarding theirs.
        issue: bool = false;
        /// The node's seal for the assertions it issues (default with the dev PKI: its issuer
        /// for node.country, <data_dir>/pki/issuer-no.pem and .key).
        seal_cert: Option<PathBuf> = None;
        seal_key: Option<PathBuf> = None;
    }
}

section! {
    pub struct DatabaseConfig {
        /// `postgres://...`, or a SQLite path (default: <data_dir>/ncpeh.db).
        url: Option<String> = None, check = opt(database_url);
        /// The pool keeps two idle connections, so it needs room for two.
        pool_size: u32 = 16, check = at_least(2);
    }
}

section! {
    pub struct RegistryConfig {
        allow_unknown_patients: bool = false;
        /// Strict code list (NIST codes.xml or TSV); absent means permissive.
        code_list: Option<PathBuf> = None;
        max_results: usize = 10_000, check = at_least(1);
        /// Metadata Update: "full" (ITI-57 and ITI-92), "restricted" (ITI-92 only: a registry
        /// whose sources may correct their entries but not change their status or links) or
        /// "off" (neither).
        metadata_update: String = "full".into(), check = metadata_update;
    }
}

section! {
    pub struct RepositoryConfig {
        /// XDSDocumentEntry.repositoryUniqueId of this node's repository.
        unique_id: String = "2.16.578.1.12.4.5.10.1.1".into(), check = oid;
        /// ITI-42 endpoint of a remote registry. Absent: the node's own registry, in the same
        /// database transaction as the documents.
        registry_url: Option<String> = None, check = opt(https_url);
        /// CA bundle for the remote registry (default: tls.ca).
        registry_ca: Option<PathBuf> = None;
        /// Client certificate and key presented to the remote registry (default: tls.cert/key).
        registry_client_cert: Option<PathBuf> = None;
        registry_client_key: Option<PathBuf> = None;
        registry_timeout: Duration = Duration::from_secs(60),
            key = "registry_timeout_secs", check = seconds;
        /// Total document bytes one ITI-43 answer may carry; further documents get an error.
        max_retrieve_bytes: usize = 256 * 1024 * 1024, check = at_least(1);
    }
}

section! {
    /// The ITI-8 patient identity feed over MLLP.
    pub struct FeedConfig {
        enabled: bool = true;
        mllp_listen: String = "127.0.0.1:2575".into(), check = listen_addr;
    }
}

section! {
    /// RUST_LOG, when set, overrides `level`.
    pub struct LogConfig {
        format: LogFormat = LogFormat::Pretty;
        /// A tracing filter: "info", or "warn,ncpeh::gateway=debug".
        level: String = "info".into(), check = log_level;
        /// Log what a panic says, not only where it happened. Off: a panic message may quote
        /// the input that caused it, and logs carry no patient data. For test systems.
        panic_messages: bool = false;
    }
}

section! {
    pub struct GatewayConfig {
        /// Default time a peer gets to answer before it counts as unavailable.
        peer_timeout: Duration = Duration::from_secs(20),
            key = "peer_timeout_secs", check = seconds;
    }
}

section! {
    /// Which registered Norwegian documents feed the eHDSI pivot documents (by formatCode).
    pub struct EhdsiConfig {
        /// formatCodes of FHIR IPS bundles (the source of the Patient Summary).
        ps_source_formats: Vec<String> = vec![
            "urn:ihe:pcc:ips:2020".into(),
            "http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips".into(),
        ];
        /// formatCodes of e-resept M1 messages (the source of ePrescriptions).
        ep_source_formats: Vec<String> = vec!["urn:no:kith:xmlstds:eresept:m1".into()];
        /// Terminology tables overriding the built-in ones (a table missing there stays built-in).
        terminology_dir: Option<PathBuf> = None;
    }
}

section! {
    /// Who may see a document, by its confidentialityCode: nobody, national callers, or national
    /// and cross-border callers. A document with several codes takes the most restrictive.
    pub struct ConfidentialityConfig {
        /// "CODE^^SCHEME" (a code ending in * is a prefix) -> "nobody" | "national" |
        /// "cross_border"; the most specific row wins. Written in the file, it replaces this
        /// built-in table: NORN_* nobody, other Volven 9603 codes national, 9603 and HL7 N
        /// cross_border.
        codes: CodeTable = CodeTable::default();
        /// A code no row names: seen nationally, where the national rules apply, but never sent
        /// abroad unexamined.
        unknown: Reach = Reach::National;
    }
}

impl ConfidentialityConfig {
    /// The policy the registry and the gateways apply.
    pub fn policy(&self) -> ConfidentialityPolicy {
        ConfidentialityPolicy {
            rules: self.codes.0.clone(),
            unknown: self.unknown,
        }
    }
}

section! {
    /// One peer community (`[[peers]]`). Outbound calls use the node's own certificate ([tls]
    /// cert/key) and trust the [tls] CA; `expected_subject` pins the peer's server certificate.
    pub struct PeerConfig {
        /// What operators call it (`ncpeh peers check --peer NAME`); default: its country when
        /// no other peer has that country, else its homeCommunityId.
        name: Option<String> = None, check = opt(non_empty);
        home_community_id: String = String::new(), check = urn_oid;
        country: Option<String> = None;
        xca_url: Option<String> = None, check = opt(https_url);
        xcpd_url: Option<String> = None, check = opt(https_url);
        xdr_url: Option<String> = None, check = opt(https_url);
        /// The server certificate subject, e.g. "CN=NCPeH SE, O=..., C=SE"; others are refused.
        expected_subject: Option<String> = None;
        /// Default: gateway.peer_timeout_secs.
        timeout: Option<Duration> = None, key = "timeout_secs", check = opt(seconds);
        /// This peer's calls in flight and per second (default: server.caller_max_*).
        max_in_flight: Option<usize> = None, check = opt(at_least(1));
        max_requests_per_sec: Option<u32> = None, check = opt(at_least(1));
        /// Certificates (PEM) of the issuers of this country's assertions (default with the dev
        /// PKI: <data_dir>/pki/issuer-<country>.pem).
        xua_issuers: Option<PathBuf> = None;
    }
}

section! {
    /// The ATNA audit trail. Records are always kept in the database; with `syslog_url` they
    /// are also forwarded over syslog TLS (RFC 5425), the node's [tls] cert/key as the client
    /// certificate.
    pub struct AuditConfig {
        /// AuditSourceID written in every record (eHDSI names sources <country>-<n>).
        source_id: String = "NO-1".into(), check = non_empty;
        /// The audit record repository, tls://host:port (port 6514 when left out). Unset:
        /// nothing is forwarded.
        syslog_url: Option<String> = None, check = opt(syslog_url);
        /// CA bundle the collector's certificate must chain to (default: tls.ca).
        syslog_ca: Option<PathBuf> = None;
    }
}
