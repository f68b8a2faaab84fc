//! Development PKI: one dev CA, the node's server certificate, a Norwegian health trust client,
//! a foreign contact point (SE), and a client from an unrelated CA for negative tests.
//! Also PEM loaders and the peer identity that transport/trust read from a client certificate.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, PrintableString, SanType,
};
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{0} already exists (use overwrite to replace the dev PKI)")]
    Exists(PathBuf),
    #[error("PKI in {0} is incomplete: {1} is missing")]
    Incomplete(PathBuf, PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{0}: no certificate found in PEM file")]
    NoCertificate(PathBuf),
    #[error("{0}: no private key found in PEM file")]
    NoKey(PathBuf),
    #[error("{0}: no CRL found in PEM file")]
    NoCrl(PathBuf),
    #[error("{0}: {1}")]
    Crl(PathBuf, String),
    #[error("cannot parse X.509 certificate: {0}")]
    X509(String),
}

/// Where each file of a PKI directory lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiPaths {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub ca_key: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    pub foreign_se_cert: PathBuf,
    pub foreign_se_key: PathBuf,
    pub untrusted_ca: PathBuf,
    pub untrusted_cert: PathBuf,
    pub untrusted_key: PathBuf,
    /// Assertion issuers for the dev countries (self-signed: each is its own trust anchor).
    /// The Norwegian one is also the node's seal for the assertions it issues itself.
    pub issuer_no_cert: PathBuf,
    pub issuer_no_key: PathBuf,
    pub issuer_se_cert: PathBuf,
    pub issuer_se_key: PathBuf,
}

impl PkiPaths {
    pub fn in_dir(dir: &Path) -> Self {
        let f = |name: &str| dir.join(name);
        PkiPaths {
            dir: dir.to_path_buf(),
            ca: f("ca.pem"),
            ca_key: f("ca.key"),
            server_cert: f("server.pem"),
            server_key: f("server.key"),
            client_cert: f("client.pem"),
            client_key: f("client.key"),
            foreign_se_cert: f("foreign-se.pem"),
            foreign_se_key: f("foreign-se.key"),
            untrusted_ca: f("untrusted-ca.pem"),
            untrusted_cert: f("untrusted.pem"),
            untrusted_key: f("untrusted.key"),
            issuer_no_cert: f("issuer-no.pem"),
            issuer_no_key: f("issuer-no.key"),
            issuer_se_cert: f("issuer-se.pem"),
            issuer_se_key: f("issuer-se.key"),
        }
    }

    /// The assertion issuers: (country, certificate, key).
    fn issuers(&self) -> [(&'static str, &Path, &Path); 2] {
        [
            ("NO", &self.issuer_no_cert, &self.issuer_no_key),
            ("SE", &self.issuer_se_cert, &self.issuer_se_key),
        ]
    }

    /// Every file of the set but the issuers, keys marked `true`.
    fn files(&self) -> [(&Path, bool); 11] {
        [
            (&self.ca, false),
            (&self.ca_key, true),
            (&self.server_cert, false),
            (&self.server_key, true),
            (&self.client_cert, false),
            (&self.client_key, true),
            (&self.foreign_se_cert, false),
            (&self.foreign_se_key, true),
            (&self.untrusted_ca, false),
            (&self.untrusted_cert, false),
            (&self.untrusted_key, true),
        ]
    }
}

const CA_DAYS: i64 = 3652;
const LEAF_DAYS: i64 = 5 * 365;

/// Generates the whole dev PKI into `out`. Refuses to replace existing files unless `overwrite`.
pub fn init(out: &Path, overwrite: bool) -> Result<PkiPaths, PkiError> {
    let paths = PkiPaths::in_dir(out);
    if !overwrite {
        let issuers = paths.issuers().into_iter().flat_map(|(_, c, k)| [c, k]);
        let all = paths.files().into_iter().map(|(p, _)| p).chain(issuers);
        if let Some(p) = all.into_iter().find(|p| p.exists()) {
            return Err(PkiError::Exists(p.to_path_buf()));
        }
    }
    fs::create_dir_all(out).map_err(|e| io_err(out, e))?;

    let (ca, ca_key) = make_ca("ncpeh dev CA", "ncpeh development", "NO")?;
    let server = server_leaf()?;
    let client = leaf(
        &[
            (DnType::CommonName, "Helse Dev HF"),
            (DnType::OrganizationName, "Helse Dev HF"),
        ],
        "NO",
        &[ExtendedKeyUsagePurpose::ClientAuth],
        false,
    )?;
    let foreign = leaf(
        &[
            (DnType::CommonName, "NCPeH SE dev"),
            (DnType::OrganizationName, "eHealth Agency SE dev"),
        ],
        "SE",
        &[
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ],
        true,
    )?;
    let (other_ca, other_ca_key) = make_ca("untrusted dev CA", "somewhere else", "NO")?;
    let untrusted = leaf(
        &[(DnType::CommonName, "untrusted client")],
        "NO",
        &[
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ],
        true,
    )?;

    write_file(&paths.ca, ca.pem().as_bytes(), false)?;
    write_file(&paths.ca_key, ca_key.serialize_pem().as_bytes(), true)?;
    let issued = [
        (server, &paths.server_cert, &paths.server_key),
        (client, &paths.client_cert, &paths.client_key),
        (foreign, &paths.foreign_se_cert, &paths.foreign_se_key),
    ];
    for ((params, key), cert_path, key_path) in issued {
        let cert = params.signed_by(&key, &ca, &ca_key)?;
        write_file(cert_path, cert.pem().as_bytes(), false)?;
        write_file(key_path, key.serialize_pem().as_bytes(), true)?;
    }
    // The second CA's key is thrown away: nothing more is ever issued from it.
    write_file(&paths.untrusted_ca, other_ca.pem().as_bytes(), false)?;
    let (params, key) = untrusted;
    let cert = params.signed_by(&key, &other_ca, &other_ca_key)?;
    write_file(&paths.untrusted_cert, cert.pem().as_bytes(), false)?;
    write_file(&paths.untrusted_key, key.serialize_pem().as_bytes(), true)?;
    for (country, cert, key) in paths.issuers() {
        make_issuer(country, cert, key)?;
    }
    Ok(paths)
}

/// The node's own certificate: server and client (outbound calls), for localhost.
fn server_leaf() -> Result<(CertificateParams, KeyPair), PkiError> {
    leaf(
        &[
            (DnType::CommonName, "localhost"),
            (DnType::OrganizationName, "ncpeh development"),
        ],
        "NO",
        &[
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ],
        true,
    )
}

/// A self-signed assertion issuer for `country`: it signs SAML assertions, nothing else.
fn make_issuer(country: &str, cert_path: &Path, key_path: &Path) -> Result<(), PkiError> {
    let cn = format!("ncpeh dev assertion issuer {country}");
    let (mut params, key) = leaf(
        &[
            (DnType::CommonName, &cn),
            (DnType::OrganizationName, "ncpeh development"),
        ],
        country,
        &[],
        false,
    )?;
    params.use_authority_key_identifier_extension = false;
    let cert = params.self_signed(&key)?;
    write_file(cert_path, cert.pem().as_bytes(), false)?;
    write_file(key_path, key.serialize_pem().as_bytes(), true)
}

/// First-start helper: generates the PKI only when `ca.pem` is missing.
pub fn ensure(dir: &Path) -> Result<PkiPaths, PkiError> {
    let paths = PkiPaths::in_dir(dir);
    if !paths.ca.exists() {
        // Without the CA, whatever else is there chains to nothing: replace it all.
        return init(dir, true);
    }
    if let Some((p, _)) = paths.files().into_iter().find(|(p, _)| !p.exists()) {
        return Err(PkiError::Incomplete(dir.to_path_buf(), p.to_path_buf()));
    }
    // PKIs made before assertion issuers existed get them added.
    for (country, cert, key) in paths.issuers() {
        if !cert.exists() || !key.exists() {
            make_issuer(country, cert, key)?;
        }
    }
    Ok(paths)
}

/// All certificates of a PEM file, in file order (leaf first for a chain).
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    let certs = rustls_pemfile::certs(&mut BufReader::new(file))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| io_err(path, e))?;
    if certs.is_empty() {
        return Err(PkiError::NoCertificate(path.to_path_buf()));
    }
    Ok(certs)
}

/// Every CRL of a file, PEM (any number) or DER (one).
pub fn load_crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>, PkiError> {
    let bytes = fs::read(path).map_err(|e| io_err(path, e))?;
    if !bytes.starts_with(b"-----") {
        return Ok(vec![CertificateRevocationListDer::from(bytes)]);
    }
    let crls = rustls_pemfile::crls(&mut &bytes[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| io_err(path, e))?;
    if crls.is_empty() {
        return Err(PkiError::NoCrl(path.to_path_buf()));
    }
    Ok(crls)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) of a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, PkiError> {
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    rustls_pemfile::private_key(&mut BufReader::new(file))
        .map_err(|e| io_err(path, e))?
        .ok_or_else(|| PkiError::NoKey(path.to_path_buf()))
}

/// Who is on the other end of a mutual TLS connection, as read from its certificate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerIdentity {
    pub subject: String,
    pub issuer: String,
    pub country: Option<String>,
    pub common_name: Option<String>,
    /// The chain the peer presented, its own certificate first (for the trust policy).
    pub certs: Vec<CertificateDer<'static>>,
}

impl PeerIdentity {
    /// The identity of a presented chain (its first certificate).
    pub fn from_chain(chain: &[CertificateDer<'_>]) -> Result<PeerIdentity, PkiError> {
        let first = chain
            .first()
            .ok_or_else(|| PkiError::X509("no certificate".into()))?;
        let mut id = PeerIdentity::from_der(first)?;
        id.certs = chain.iter().map(|c| c.clone().into_owned()).collect();
        Ok(id)
    }

    pub fn from_der(cert: &[u8]) -> Result<PeerIdentity, PkiError> {
        let (_, x509) =
            X509Certificate::from_der(cert).map_err(|e| PkiError::X509(e.to_string()))?;
        let subject = x509.subject();
        Ok(PeerIdentity {
            subject: subject.to_string(),
            issuer: x509.issuer().to_string(),
            country: first_attr(subject.iter_country()),
            common_name: first_attr(subject.iter_common_name()),
            certs: vec![CertificateDer::from(cert.to_vec())],
        })
    }
}

/// A certificate's notBefore and notAfter.
pub fn validity(cert: &[u8]) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let (_, c) = X509Certificate::from_der(cert).ok()?;
    let v = c.validity();
    Some((v.not_before.to_datetime(), v.not_after.to_datetime()))
}

/// Whether a certificate's key is an elliptic-curve key (else RSA, for the signature method).
pub fn is_ec_key(cert: &[u8]) -> bool {
    X509Certificate::from_der(cert).is_ok_and(|(_, c)| {
        c.public_key().algorithm.algorithm.to_id_string() == "1.2.840.10045.2.1"
    })
}

fn first_attr<'a>(
    mut it: impl Iterator<Item = &'a x509_parser::x509::AttributeTypeAndValue<'a>>,
) -> Option<String> {
    it.next().and_then(|a| a.as_str().ok()).map(str::to_owned)
}

fn make_ca(cn: &str, org: &str, country: &str) -> Result<(Certificate, KeyPair), PkiError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(
        &[(DnType::CommonName, cn), (DnType::OrganizationName, org)],
        country,
    )?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut params, CA_DAYS);
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert, key))
}

/// Parameters and key for an end-entity certificate; signed later by the chosen CA.
pub(crate) fn leaf(
    names: &[(DnType, &str)],
    country: &str,
    ekus: &[ExtendedKeyUsagePurpose],
    localhost_san: bool,
) -> Result<(CertificateParams, KeyPair), PkiError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(names, country)?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = ekus.to_vec();
    params.use_authority_key_identifier_extension = true;
    if localhost_san {
        params.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into()?),
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        ];
    }
    set_validity(&mut params, LEAF_DAYS);
    Ok((params, KeyPair::generate()?))
}

fn dn(names: &[(DnType, &str)], country: &str) -> Result<DistinguishedName, PkiError> {
    let mut dn = DistinguishedName::new();
    for (ty, value) in names {
        dn.push(ty.clone(), *value);
    }
    // RFC 5280: countryName is a PrintableString, not UTF-8.
    dn.push(
        DnType::CountryName,
        DnValue::PrintableString(PrintableString::try_from(country)?),
    );
    Ok(dn)
}

fn set_validity(params: &mut CertificateParams, days: i64) {
    let now = OffsetDateTime::now_utc();
    // A day back tolerates peers whose clocks run a little behind.
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(days);
}

pub(crate) fn write_file(path: &Path, data: &[u8], secret: bool) -> Result<(), PkiError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|e| io_err(path, e))?;
    // mode() only applies when the file is created; tighten an overwritten key too.
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|e| io_err(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = secret;
    file.write_all(data).map_err(|e| io_err(path, e))
}

pub(crate) fn io_err(path: &Path, source: std::io::Error) -> PkiError {
    PkiError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub mod ca;
#[cfg(test)]
mod tests;
