//! The identity a client certificate gives a connection.

use x509_parser::prelude::{FromDer, X509Certificate};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerIdentity {
    pub subject: String,
    pub issuer: String,
    pub country: Option<String>,
    pub common_name: Option<String>,
}

impl PeerIdentity {
    pub fn from_der(der: &[u8]) -> Result<PeerIdentity, String> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        let subject = cert.subject();
        let country = subject
            .iter_country()
            .next()
            .and_then(|a| a.as_str().ok())
            .map(str::to_string);
        let common_name = subject
            .iter_common_name()
            .next()
            .and_then(|a| a.as_str().ok())
            .map(str::to_string);
        Ok(PeerIdentity {
            subject: subject.to_string(),
            issuer: cert.issuer().to_string(),
            country,
            common_name,
        })
    }
}
