//! Operator tasks on the dev CA that a running node picks up on SIGHUP: revoking a certificate
//! (a new CRL) and a fresh server certificate (rotation without a restart).

use super::{io_err, leaf, load_certs, server_leaf, write_file, PkiError, PkiPaths};
use rcgen::{
    Certificate, CertificateParams, CertificateRevocationListParams, KeyIdMethod, KeyPair,
    RevocationReason, RevokedCertParams, SerialNumber,
};
use std::fs;
use std::path::{Path, PathBuf};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::revocation_list::CertificateRevocationList;

/// The dev CA's CRL, beside its certificate.
pub fn crl_path(dir: &Path) -> PathBuf {
    dir.join("crl.pem")
}

/// What a CRL issue wrote.
#[derive(Debug)]
pub struct CrlIssued {
    pub path: PathBuf,
    pub number: u64,
    pub revoked: usize,
    pub next_update: OffsetDateTime,
}

struct Ca {
    cert: Certificate,
    key: KeyPair,
}

fn open_ca(paths: &PkiPaths) -> Result<Ca, PkiError> {
    let read = |p: &Path| fs::read_to_string(p).map_err(|e| io_err(p, e));
    let key = KeyPair::from_pem(&read(&paths.ca_key)?)?;
    let params = CertificateParams::from_ca_cert_pem(&read(&paths.ca)?)?;
    // Signing needs only the CA's name and key; re-signing its own params gives rcgen both.
    let cert = params.self_signed(&key)?;
    Ok(Ca { cert, key })
}

/// Issues the CA's CRL anew, valid for `days`: what it listed before plus `revoke`.
pub fn issue_crl(dir: &Path, revoke: &[PathBuf], days: i64) -> Result<CrlIssued, PkiError> {
    let paths = PkiPaths::in_dir(dir);
    let ca = open_ca(&paths)?;
    let path = crl_path(dir);
    let (mut revoked, number) = if path.exists() {
        listed(&path)?
    } else {
        (Vec::new(), 0)
    };
    let now = OffsetDateTime::now_utc();
    for cert in revoke {
        let der = load_certs(cert)?.remove(0);
        let (_, x) = X509Certificate::from_der(&der).map_err(|e| PkiError::X509(e.to_string()))?;
        let serial = x.raw_serial().to_vec();
        if !revoked.iter().any(|r| r.serial_number.as_ref() == serial) {
            revoked.push(RevokedCertParams {
                serial_number: SerialNumber::from_slice(&serial),
                revocation_time: now,
                reason_code: Some(RevocationReason::Unspecified),
                invalidity_date: None,
            });
        }
    }
    let next_update = now + Duration::days(days.max(1));
    let count = revoked.len();
    let crl = CertificateRevocationListParams {
        this_update: now - Duration::minutes(5),
        next_update,
        crl_number: SerialNumber::from(number + 1),
        issuing_distribution_point: None,
        revoked_certs: revoked,
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&ca.cert, &ca.key)?;
    replace(&path, crl.pem()?.as_bytes(), false)?;
    Ok(CrlIssued {
        path,
        number: number + 1,
        revoked: count,
        next_update,
    })
}

/// The revoked entries and the number of the CRL at `path`.
fn listed(path: &Path) -> Result<(Vec<RevokedCertParams>, u64), PkiError> {
    let bad = |why: String| PkiError::Crl(path.to_path_buf(), why);
    let der = super::load_crls(path)?.remove(0);
    let (_, crl) = CertificateRevocationList::from_der(&der).map_err(|e| bad(e.to_string()))?;
    let number = crl
        .crl_number()
        .and_then(|n| u64::try_from(n.clone()).ok())
        .unwrap_or(0);
    let revoked = crl
        .iter_revoked_certificates()
        .map(|r| RevokedCertParams {
            serial_number: SerialNumber::from_slice(r.raw_serial()),
            revocation_time: r.revocation_date.to_datetime(),
            reason_code: Some(RevocationReason::Unspecified),
            invalidity_date: None,
        })
        .collect();
    Ok((revoked, number))
}

/// A new key and server certificate for the node in place of the old ones.
pub fn renew_server(dir: &Path) -> Result<PkiPaths, PkiError> {
    let paths = PkiPaths::in_dir(dir);
    let ca = open_ca(&paths)?;
    let (params, key) = server_leaf()?;
    let cert = params.signed_by(&key, &ca.cert, &ca.key)?;
    // Key first: a reload between the two renames fails on the mismatch and keeps the old pair.
    replace(&paths.server_key, key.serialize_pem().as_bytes(), true)?;
    replace(&paths.server_cert, cert.pem().as_bytes(), false)?;
    Ok(paths)
}

/// A client certificate for another Norwegian organisation (`<dir>/<name>.pem` and `.key`),
/// e.g. a second health trust: the registry tells sources apart by certificate subject.
pub fn issue_client(dir: &Path, name: &str, organisation: &str) -> Result<PathBuf, PkiError> {
    let ok_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok_name || organisation.trim().is_empty() {
        return Err(PkiError::X509(format!(
            "a client name is letters, digits, '-' and '_' ('{name}'), and the organisation is not empty"
        )));
    }
    let paths = PkiPaths::in_dir(dir);
    let ca = open_ca(&paths)?;
    let org = organisation.trim();
    let (params, key) = leaf(
        &[
            (rcgen::DnType::CommonName, org),
            (rcgen::DnType::OrganizationName, org),
        ],
        "NO",
        &[rcgen::ExtendedKeyUsagePurpose::ClientAuth],
        false,
    )?;
    let cert = params.signed_by(&key, &ca.cert, &ca.key)?;
    let cert_path = dir.join(format!("{name}.pem"));
    replace(
        &dir.join(format!("{name}.key")),
        key.serialize_pem().as_bytes(),
        true,
    )?;
    replace(&cert_path, cert.pem().as_bytes(), false)?;
    Ok(cert_path)
}

/// Writes beside `path` and renames over it, so a reader never sees half a file.
fn replace(path: &Path, data: &[u8], secret: bool) -> Result<(), PkiError> {
    let tmp = path.with_extension("new");
    write_file(&tmp, data, secret)?;
    fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_certificate_stays_listed_when_the_crl_is_issued_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = super::super::init(dir.path(), false).expect("pki");
        let first = issue_crl(dir.path(), std::slice::from_ref(&paths.client_cert), 7).unwrap();
        assert_eq!((first.number, first.revoked), (1, 1));
        let again = issue_crl(
            dir.path(),
            &[paths.client_cert.clone(), paths.foreign_se_cert.clone()],
            7,
        )
        .unwrap();
        assert_eq!((again.number, again.revoked), (2, 2));
        let (listed, n) = listed(&again.path).unwrap();
        assert_eq!((listed.len(), n), (2, 2));
    }

    #[test]
    fn a_renewed_server_certificate_has_a_new_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = super::super::init(dir.path(), false).expect("pki");
        let before = fs::read(&paths.server_key).unwrap();
        let cert_before = load_certs(&paths.server_cert).unwrap();
        renew_server(dir.path()).unwrap();
        assert_ne!(fs::read(&paths.server_key).unwrap(), before);
        assert_ne!(load_certs(&paths.server_cert).unwrap(), cert_before);
    }
}
