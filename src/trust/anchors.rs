//! Trust anchor sets: which certificates a caller's or an assertion signer's chain must end in,
//! with the CRLs that revoke signers. Path validation is rustls-webpki's, the same code rustls
//! uses for the TLS handshake.

use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use std::path::Path;
use std::sync::Arc;
use webpki::{
    CertRevocationList, EndEntityCert, ExtendedKeyUsageValidator, KeyPurposeIdIter,
    OwnedCertRevocationList, RevocationCheckDepth, RevocationOptionsBuilder, UnknownStatusPolicy,
};

#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("{path}: {why}")]
    Load { path: String, why: String },
}

/// Signing certificates for assertions carry whatever extended key usage their issuer gives
/// them (often none); what they may sign is decided by which anchor set they chain to.
struct AnyUsage;

impl ExtendedKeyUsageValidator for AnyUsage {
    fn validate(&self, _: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        Ok(())
    }
}

#[derive(Clone)]
pub struct Anchors {
    /// What the set is for, for messages ("issuers of SE assertions").
    pub name: String,
    anchors: Arc<Vec<TrustAnchor<'static>>>,
    crls: Crls,
}

/// Revocation lists, shared by every anchor set they apply to.
pub type Crls = Arc<Vec<CertRevocationList<'static>>>;

impl std::fmt::Debug for Anchors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Anchors({}, {} certificates)", self.name, self.anchors.len())
    }
}

impl Anchors {
    pub fn empty(name: &str) -> Anchors {
        Anchors {
            name: name.to_string(),
            anchors: Arc::new(Vec::new()),
            crls: Arc::new(Vec::new()),
        }
    }

    /// The certificates of a PEM file as anchors.
    pub fn load(name: &str, pem: &Path, crls: Crls) -> Result<Anchors, AnchorError> {
        let err = |why: String| AnchorError::Load {
            path: pem.display().to_string(),
            why,
        };
        let certs = crate::pki::load_certs(pem).map_err(|e| err(e.to_string()))?;
        let anchors = certs
            .iter()
            .map(|c| {
                webpki::anchor_from_trusted_cert(c)
                    .map(|a| a.to_owned())
                    .map_err(|e| err(format!("not a usable trust anchor: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Anchors {
            name: name.to_string(),
            anchors: Arc::new(anchors),
            crls,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Checks that `chain` (end entity first) leads to one of the anchors at `at`, and that no
    /// CRL of the set revokes a certificate in it.
    pub fn verify(&self, chain: &[CertificateDer<'_>], at: UnixTime) -> Result<(), String> {
        let Some((leaf, rest)) = chain.split_first() else {
            return Err("no certificate".into());
        };
        if self.anchors.is_empty() {
            return Err(format!("no trust anchors are configured for {}", self.name));
        }
        let ee = EndEntityCert::try_from(leaf).map_err(|e| format!("unreadable certificate: {e}"))?;
        let crl_refs: Vec<&CertRevocationList<'_>> = self.crls.iter().collect();
        let revocation = match RevocationOptionsBuilder::new(&crl_refs) {
            Ok(b) => Some(
                b.with_depth(RevocationCheckDepth::Chain)
                    .with_status_policy(UnknownStatusPolicy::Allow)
                    .build(),
            ),
            // No CRLs configured.
            Err(_) => None,
        };
        ee.verify_for_usage(
            algorithms(),
            &self.anchors,
            rest,
            at,
            AnyUsage,
            revocation,
            None,
        )
        .map(|_| ())
        .map_err(|e| match e {
            webpki::Error::CertExpired { .. } => "the certificate has expired".to_string(),
            webpki::Error::CertNotValidYet { .. } => "the certificate is not valid yet".to_string(),
            webpki::Error::CertRevoked => "the certificate is revoked".to_string(),
            webpki::Error::UnknownIssuer => format!("the certificate does not chain to the {}", self.name),
            other => format!("the certificate is not trusted as one of the {}: {other}", self.name),
        })
    }
}

/// The signature algorithms rustls accepts (ring provider).
fn algorithms() -> &'static [&'static dyn rustls_pki_types::SignatureVerificationAlgorithm] {
    rustls::crypto::ring::default_provider()
        .signature_verification_algorithms
        .all
}

/// CRLs from PEM or DER files.
pub fn load_crls(paths: &[String]) -> Result<Crls, AnchorError> {
    let mut out = Vec::new();
    for p in paths {
        let err = |why: String| AnchorError::Load {
            path: p.clone(),
            why,
        };
        for der in crate::pki::load_crls(std::path::Path::new(p)).map_err(|e| err(e.to_string()))? {
            let crl = OwnedCertRevocationList::from_der(&der).map_err(|e| err(e.to_string()))?;
            out.push(CertRevocationList::Owned(crl));
        }
    }
    Ok(Arc::new(out))
}

/// `now` as webpki wants it.
pub fn unix_time(t: time::OffsetDateTime) -> UnixTime {
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        u64::try_from(t.unix_timestamp()).unwrap_or(0),
    ))
}
