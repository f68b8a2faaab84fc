//! The site file: where the system under test listens and who the runner is to it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::transport::Endpoint;

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("{0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0}: {1}")]
    Parse(String, String),
    #[error("the site file has no {0} endpoint")]
    NoEndpoint(Endpoint),
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// A label for reports.
    #[serde(default = "default_name")]
    pub name: String,
    pub home_community_id: Option<String>,
    pub repository_unique_id: Option<String>,
    /// Assigning authority (OID) of the test patient ids the runner creates and feeds.
    #[serde(default = "default_authority")]
    pub patient_id_authority: String,
    /// Replaces XDSSubmissionSet.sourceId in submissions when set.
    pub source_id: Option<String>,
    /// Rewrite codes not in the testkit's codes.xml (the toolkit's behaviour). Default true.
    #[serde(default = "yes")]
    pub rewrite_codes: bool,
    /// Send ITI-41 as MTOM (the toolkit's default). Default true.
    #[serde(default = "yes")]
    pub mtom: bool,
    pub endpoints: Endpoints,
    pub patient_feed: Option<PatientFeed>,
    pub tls: Option<Tls>,
    /// Further communities that test data is loaded into (the toolkit's second responding
    /// gateway for the initiating-gateway tests).
    #[serde(default)]
    pub communities: Vec<Community>,
    /// Where particular test-data sections go, and which patient they use.
    #[serde(default)]
    pub sections: Vec<SectionRoute>,
    /// The test issuer of the SAML assertions that the XUA tests (`*_xua`) send.
    pub xua: Option<XuaSite>,
}

/// `[xua]`: who signs the assertions of the XUA tests, and for whom they are made out.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct XuaSite {
    /// PEM certificate of an assertion issuer the system under test trusts.
    pub issuer_cert: Option<PathBuf>,
    /// Its private key (PEM).
    pub issuer_key: Option<PathBuf>,
    /// The AudienceRestriction of the assertions (none when absent).
    pub audience: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Community {
    pub name: String,
    pub home_community_id: String,
    pub repository_unique_id: Option<String>,
    pub registry: Option<String>,
    pub repository: Option<String>,
    pub patient_feed: Option<PatientFeed>,
}

/// A test-data section's placement: `section` is `test/section`; `community` names an entry of
/// `communities` (default: the site's own endpoints); `patient` is `new` for a fresh patient or
/// another `test/section` whose patient it shares; `feed_own_only` feeds that patient only to
/// its own community (every other patient is fed to all communities).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SectionRoute {
    pub section: String,
    pub community: Option<String>,
    pub patient: Option<String>,
    #[serde(default)]
    pub feed_own_only: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Endpoints {
    pub registry: Option<String>,
    pub repository: Option<String>,
    pub initiating_gateway: Option<String>,
    pub responding_gateway: Option<String>,
    /// FHIR base of the MHD endpoints, e.g. `https://127.0.0.1:8443/fhir`.
    pub fhir: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PatientFeed {
    /// `host:port` of the MLLP listener.
    pub address: String,
    #[serde(default = "default_app")]
    pub receiving_application: String,
    #[serde(default = "default_app")]
    pub receiving_facility: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    pub ca: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

fn default_name() -> String {
    "site".into()
}
fn default_authority() -> String {
    // The assigning authority the NIST test data uses.
    "1.3.6.1.4.1.21367.2005.3.7".into()
}
fn default_app() -> String {
    "NCPEH".into()
}
fn yes() -> bool {
    true
}

impl Site {
    pub fn load(path: &Path) -> Result<Site, SiteError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| SiteError::Read(p.clone(), e))?;
        Site::parse(&text).map_err(|e| match e {
            SiteError::Parse(_, m) => SiteError::Parse(p, m),
            other => other,
        })
    }

    pub fn parse(text: &str) -> Result<Site, SiteError> {
        toml::from_str(text).map_err(|e| SiteError::Parse(String::new(), e.to_string()))
    }

    /// `--pki DIR`: ca.pem, client.pem and client.key in DIR replace the configured paths, and
    /// the dev PKI's Norwegian test issuer (issuer-no.pem, issuer-no.key) signs XUA assertions.
    pub fn with_pki_dir(mut self, dir: &Path) -> Site {
        self.tls = Some(Tls {
            ca: dir.join("ca.pem"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
        });
        let xua = self.xua.get_or_insert_with(XuaSite::default);
        xua.issuer_cert = Some(dir.join("issuer-no.pem"));
        xua.issuer_key = Some(dir.join("issuer-no.key"));
        self
    }

    pub fn route(&self, test: &str, section: &str) -> Option<&SectionRoute> {
        let key = format!("{test}/{section}");
        self.sections.iter().find(|r| r.section == key)
    }

    pub fn community(&self, name: &str) -> Option<&Community> {
        self.communities.iter().find(|c| c.name == name)
    }

    pub fn url(&self, e: Endpoint) -> Result<&str, SiteError> {
        let u = match e {
            Endpoint::Registry => &self.endpoints.registry,
            Endpoint::Repository => &self.endpoints.repository,
            Endpoint::InitiatingGateway => &self.endpoints.initiating_gateway,
            Endpoint::RespondingGateway => &self.endpoints.responding_gateway,
            Endpoint::Fhir => &self.endpoints.fhir,
        };
        u.as_deref().ok_or(SiteError::NoEndpoint(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_local_matches_a_plain_serve() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("site-local.toml");
        let site = Site::load(&path).unwrap();
        assert_eq!(
            site.url(Endpoint::Registry).unwrap(),
            "https://127.0.0.1:8443/xds/registry"
        );
        assert_eq!(
            site.url(Endpoint::Repository).unwrap(),
            "https://127.0.0.1:8443/xds/repository"
        );
        assert_eq!(
            site.url(Endpoint::Fhir).unwrap(),
            "https://127.0.0.1:8443/fhir"
        );
        assert_eq!(
            site.patient_feed.as_ref().unwrap().address,
            "127.0.0.1:2575"
        );
        let tls = site.tls.clone().unwrap();
        assert_eq!(tls.client_key, PathBuf::from("./ncpeh-data/pki/client.key"));
        let xua = site.xua.clone().unwrap();
        assert_eq!(
            xua.issuer_key,
            Some(PathBuf::from("./ncpeh-data/pki/issuer-no.key"))
        );
        assert_eq!(xua.audience.as_deref(), site.home_community_id.as_deref());
        let over = site.with_pki_dir(Path::new("/p"));
        assert_eq!(over.tls.unwrap().ca, PathBuf::from("/p/ca.pem"));
        let issuer = over.xua.unwrap().issuer_cert;
        assert_eq!(issuer, Some(PathBuf::from("/p/issuer-no.pem")));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(Site::parse("[endpoints]\nregistri = \"x\"\n").is_err());
    }
}
