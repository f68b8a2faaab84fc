//! rustls configuration (ring provider): the server, which requires client certificates and
//! checks them against CRLs, and the outbound client. Both speak TLS 1.2 and 1.3 with the
//! suites below only; the files are read again on `ServerTls::reload` and `ClientTls::reload`.

use crate::pki::{load_certs, load_crls, load_key};
use rustls::crypto::{ring, CryptoProvider};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(transparent)]
    Pem(#[from] crate::pki::PkiError),
    #[error("TLS configuration: {0}")]
    Config(String),
}

/// Forward-secret AEAD suites only (eHDSI: ECDHE with AES-GCM on TLS 1.2), so TLS 1.1, NULL
/// ciphers, CBC and RSA key exchange never come up, whatever a peer offers.
pub fn provider() -> Arc<CryptoProvider> {
    use ring::cipher_suite as cs;
    Arc::new(CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ],
        ..ring::default_provider()
    })
}

const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

fn roots(ca: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for c in load_certs(ca)? {
        roots
            .add(c)
            .map_err(|e| TlsError::Config(format!("CA {}: {e}", ca.display())))?;
    }
    Ok(roots)
}

/// What the server side is built from.
#[derive(Debug, Clone)]
pub struct ServerFiles {
    /// Client certificates must chain to one of these.
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// A client listed as revoked is refused; an issuer without a CRL here is not checked.
    pub crls: Vec<PathBuf>,
}

/// Server side: a client certificate chaining to `ca`, not revoked, is required.
pub fn server_config(files: &ServerFiles) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = provider();
    let mut crls = Vec::new();
    for p in &files.crls {
        crls.extend(load_crls(p)?);
    }
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots(&files.ca)?), provider.clone())
            .with_crls(crls)
            .allow_unknown_revocation_status()
            // A CRL past its nextUpdate no longer says who is revoked: refuse rather than guess.
            .enforce_revocation_expiration()
            .build()
            .map_err(|e| TlsError::Config(e.to_string()))?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(VERSIONS)
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(load_certs(&files.cert)?, load_key(&files.key)?)
        .map_err(|e| TlsError::Config(format!("{}: {e}", files.cert.display())))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// The server configuration in use. A reload builds a new one from the files and swaps it in
/// for the connections accepted from then on; connections already open keep theirs.
pub struct ServerTls {
    files: ServerFiles,
    current: RwLock<Arc<rustls::ServerConfig>>,
}

impl ServerTls {
    pub fn load(files: ServerFiles) -> Result<ServerTls, TlsError> {
        let current = RwLock::new(server_config(&files)?);
        Ok(ServerTls { files, current })
    }

    pub fn current(&self) -> Arc<rustls::ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads the files again. On any error the configuration in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = server_config(&self.files)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    pub fn files(&self) -> &ServerFiles {
        &self.files
    }
}

/// Client side: trusts `ca`; presents `cert`/`key` when given.
pub fn client_config(
    ca: &Path,
    identity: Option<(&Path, &Path)>,
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots(ca)?);
    let mut cfg = match identity {
        Some((cert, key)) => builder
            .with_client_auth_cert(load_certs(cert)?, load_key(key)?)
            .map_err(|e| TlsError::Config(e.to_string()))?,
        None => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// An outbound identity (CA, client certificate and key) that a reload renews. Each reload
/// starts a new generation, so that clients drop kept-alive connections made with the old one.
pub struct ClientTls {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<(u64, Arc<rustls::ClientConfig>)>,
}

impl ClientTls {
    pub fn load(ca: &Path, cert: &Path, key: &Path) -> Result<Arc<ClientTls>, TlsError> {
        let cfg = client_config(ca, Some((cert, key)))?;
        Ok(Arc::new(ClientTls {
            ca: ca.to_path_buf(),
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            current: RwLock::new((0, cfg)),
        }))
    }

    /// The generation and configuration in use.
    pub fn current(&self) -> (u64, Arc<rustls::ClientConfig>) {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads the files again. On any error the configuration in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = client_config(&self.ca, Some((&self.cert, &self.key)))?;
        let mut cur = self.current.write().unwrap_or_else(|p| p.into_inner());
        *cur = (cur.0 + 1, fresh);
        Ok(())
    }

    pub fn cert(&self) -> &Path {
        &self.cert
    }
}
