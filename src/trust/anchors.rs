//! Trust anchor sets: which certificates a caller's or an assertion signer's chain must end in,
//! with the CRLs that revoke signers. Path validation is rustls-webpki's, the same code rustls
//! uses for the TLS handshake.

use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
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
    /// Chains verified lately: a caller's certificate is checked on every request, and path
    /// validation (signature checks) would otherwise cost more than a stored query. Lives as
    /// long as this set, so a reload (new anchors or CRLs) starts it afresh.
    verified: Arc<Mutex<HashMap<[u8; 32], Window>>>,
}

/// When a verified chain may be taken as verified again without checking: from the time it
/// was checked at, until the earliest notAfter of its certificates or `RECHECK` later.
#[derive(Clone, Copy)]
struct Window {
    from: u64,
    until: u64,
}

/// Seconds before a cached chain is checked again.
const RECHECK: u64 = 300;

/// Chains remembered at most; past it the memory starts afresh.
const REMEMBERED: usize = 4096;

/// Revocation lists, shared by every anchor set they apply to.
pub type Crls = Arc<Vec<CertRevocationList<'static>>>;

impl std::fmt::Debug for Anchors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Anchors({}, {} certificates)",
            self.name,
            self.anchors.len()
        )
    }
}

impl Anchors {
    pub fn empty(name: &str) -> Anchors {
        Anchors {
            name: name.to_string(),
            anchors: Arc::new(Vec::new()),
            crls: Arc::new(Vec::new()),
            verified: Arc::default(),
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
            verified: Arc::default(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Checks that `chain` (end entity first) leads to one of the anchors at `at`, and that no
    /// CRL of the set revokes a certificate in it.
    pub fn verify(&self, chain: &[CertificateDer<'_>], at: UnixTime) -> Result<(), String> {
        let key = chain_digest(chain);
        let now = at.as_secs();
        let known = self.remembered().get(&key).copied();
        if known.is_some_and(|w| w.from <= now && now < w.until) {
            return Ok(());
        }
        self.verify_path(chain, at)?;
        if let Some(until) = earliest_not_after(chain) {
            let mut seen = self.remembered();
            if seen.len() >= REMEMBERED {
                seen.clear();
            }
            seen.insert(
                key,
                Window {
                    from: now,
                    until: until.min(now.saturating_add(RECHECK)),
                },
            );
        }
        Ok(())
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Window>> {
        // A panic elsewhere while holding it leaves a map that is still consistent.
        self.verified.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn verify_path(&self, chain: &[CertificateDer<'_>], at: UnixTime) -> Result<(), String> {
        let Some((leaf, rest)) = chain.split_first() else {
            return Err("no certificate".into());
        };
        if self.anchors.is_empty() {
            return Err(format!("no trust anchors are configured for {}", self.name));
        }
        let ee =
            EndEntityCert::try_from(leaf).map_err(|e| format!("unreadable certificate: {e}"))?;
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
            webpki::Error::UnknownIssuer => {
                format!("the certificate does not chain to the {}", self.name)
            }
            other => format!(
                "the certificate is not trusted as one of the {}: {other}",
                self.name
            ),
        })
    }
}

/// One digest of the whole chain, each certificate's length before it.
fn chain_digest(chain: &[CertificateDer<'_>]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for c in chain {
        ctx.update(&(c.len() as u64).to_be_bytes());
        ctx.update(c);
    }
    let mut key = [0; 32];
    key.copy_from_slice(ctx.finish().as_ref());
    key
}

/// The earliest notAfter (Unix seconds) of the chain's certificates; None if one is unreadable
/// (such a chain is never remembered).
fn earliest_not_after(chain: &[CertificateDer<'_>]) -> Option<u64> {
    chain.iter().try_fold(u64::MAX, |min, c| {
        let (_, not_after) = crate::pki::validity(c)?;
        Some(min.min(u64::try_from(not_after.unix_timestamp()).ok()?))
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use time::{Duration, OffsetDateTime};

    /// A CA and a leaf it issued, valid for a day from now; the anchors trust the CA.
    fn ca_and_leaf() -> (
        Anchors,
        Vec<CertificateDer<'static>>,
        OffsetDateTime,
        tempfile::TempDir,
    ) {
        let now = OffsetDateTime::now_utc();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let mut leaf = rcgen::CertificateParams::new(vec!["client".to_string()]).unwrap();
        leaf.not_before = now - Duration::hours(1);
        leaf.not_after = now + Duration::days(1);
        let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("ca.pem");
        std::fs::write(&pem, ca_cert.pem()).unwrap();
        let anchors = Anchors::load("test CAs", &pem, Default::default()).unwrap();
        (anchors, vec![leaf_cert.der().clone()], now, dir)
    }

    #[test]
    fn a_remembered_chain_is_still_refused_once_it_has_expired() {
        let (anchors, chain, now, _dir) = ca_and_leaf();
        assert_eq!(anchors.verify(&chain, unix_time(now)), Ok(()));
        assert_eq!(anchors.remembered().len(), 1);
        // Remembered, but a day and a half later the leaf has expired.
        let later = anchors.verify(&chain, unix_time(now + Duration::hours(36)));
        assert_eq!(later, Err("the certificate has expired".to_string()));
        // Before the time it was checked at, it is checked again (and is valid then).
        assert_eq!(
            anchors.verify(&chain, unix_time(now - Duration::minutes(5))),
            Ok(())
        );
    }

    #[test]
    fn another_anchor_set_does_not_share_what_this_one_verified() {
        let (anchors, chain, now, _dir) = ca_and_leaf();
        assert_eq!(anchors.verify(&chain, unix_time(now)), Ok(()));
        let (others, _, _, _dir2) = ca_and_leaf();
        assert!(others.verify(&chain, unix_time(now)).is_err());
        assert!(others.remembered().is_empty());
    }
}
