use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::ring::default_provider;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use rustls_pki_types::{ServerName, UnixTime};

use super::*;

fn roots(ca: &Path) -> Arc<RootCertStore> {
    let mut store = RootCertStore::empty();
    for cert in load_certs(ca).unwrap() {
        store.add(cert).unwrap();
    }
    Arc::new(store)
}

fn client_verifier(ca: &Path) -> Arc<dyn ClientCertVerifier> {
    WebPkiClientVerifier::builder_with_provider(roots(ca), Arc::new(default_provider()))
        .build()
        .unwrap()
}

fn first_cert(path: &Path) -> CertificateDer<'static> {
    load_certs(path).unwrap().remove(0)
}

#[test]
fn client_certs_chain_to_the_dev_ca_only() {
    let dir = tempfile::tempdir().unwrap();
    let paths = init(dir.path(), false).unwrap();
    let verifier = client_verifier(&paths.ca);
    let now = UnixTime::now();
    for trusted in [
        &paths.client_cert,
        &paths.foreign_se_cert,
        &paths.server_cert,
    ] {
        verifier
            .verify_client_cert(&first_cert(trusted), &[], now)
            .unwrap();
    }
    let untrusted = first_cert(&paths.untrusted_cert);
    assert!(verifier.verify_client_cert(&untrusted, &[], now).is_err());
    // ... while its own CA does accept it: the file is a valid cert, just from elsewhere.
    client_verifier(&paths.untrusted_ca)
        .verify_client_cert(&untrusted, &[], now)
        .unwrap();
}

#[test]
fn server_cert_verifies_for_localhost_and_loopback_ip() {
    let dir = tempfile::tempdir().unwrap();
    let paths = init(dir.path(), false).unwrap();
    let verifier =
        WebPkiServerVerifier::builder_with_provider(roots(&paths.ca), Arc::new(default_provider()))
            .build()
            .unwrap();
    let now = UnixTime::now();
    for cert in [&paths.server_cert, &paths.foreign_se_cert] {
        for name in ["localhost", "127.0.0.1"] {
            let name = ServerName::try_from(name).unwrap();
            verifier
                .verify_server_cert(&first_cert(cert), &[], &name, &[], now)
                .unwrap();
        }
    }
    // The client cert has no serverAuth EKU and no SAN: it must not pass as a server.
    let name = ServerName::try_from("localhost").unwrap();
    assert!(verifier
        .verify_server_cert(&first_cert(&paths.client_cert), &[], &name, &[], now)
        .is_err());
}

#[test]
fn identities_carry_country_and_names() {
    let dir = tempfile::tempdir().unwrap();
    let paths = init(dir.path(), false).unwrap();
    let se = PeerIdentity::from_der(&first_cert(&paths.foreign_se_cert)).unwrap();
    assert_eq!(se.country.as_deref(), Some("SE"));
    assert_eq!(se.common_name.as_deref(), Some("NCPeH SE dev"));
    assert!(
        se.subject.contains("O=eHealth Agency SE dev"),
        "{}",
        se.subject
    );
    assert!(se.issuer.contains("CN=ncpeh dev CA"), "{}", se.issuer);

    let hf = PeerIdentity::from_der(&first_cert(&paths.client_cert)).unwrap();
    assert_eq!(hf.country.as_deref(), Some("NO"));
    assert_eq!(hf.common_name.as_deref(), Some("Helse Dev HF"));

    let ca = PeerIdentity::from_der(&first_cert(&paths.ca)).unwrap();
    assert_eq!(ca.subject, "CN=ncpeh dev CA, O=ncpeh development, C=NO");
    assert_eq!(ca.subject, ca.issuer);
    assert!(PeerIdentity::from_der(b"not a certificate").is_err());
}

#[test]
fn second_init_refuses_without_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let paths = init(dir.path(), false).unwrap();
    let before = fs::read(&paths.ca).unwrap();
    assert!(matches!(init(dir.path(), false), Err(PkiError::Exists(_))));
    assert_eq!(fs::read(&paths.ca).unwrap(), before);
    init(dir.path(), true).unwrap();
    assert_ne!(fs::read(&paths.ca).unwrap(), before);
}

#[test]
fn ensure_creates_once_then_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pki");
    let paths = ensure(&out).unwrap();
    let before = fs::read(&paths.ca).unwrap();
    assert_eq!(ensure(&out).unwrap(), paths);
    assert_eq!(fs::read(&paths.ca).unwrap(), before);

    fs::remove_file(&paths.client_key).unwrap();
    assert!(matches!(ensure(&out), Err(PkiError::Incomplete(..))));
}

#[test]
fn keys_load_and_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let paths = init(dir.path(), false).unwrap();
    for (path, secret) in paths.files() {
        if secret {
            load_key(path).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = fs::metadata(path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", path.display());
            }
        } else {
            assert_eq!(load_certs(path).unwrap().len(), 1);
        }
    }
    assert!(matches!(load_key(&paths.ca), Err(PkiError::NoKey(_))));
    assert!(matches!(
        load_certs(&paths.ca_key),
        Err(PkiError::NoCertificate(_))
    ));
}
