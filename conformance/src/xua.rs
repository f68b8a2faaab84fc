//! The XUA tests (collections `reg_xua`, `rep_xua`, `rg(xca)_xua`, `ig(xca)_xua`): a test named
//! `BASE_VARIANT` (11897_expired, 15808_secondrole, 11990eval_valid) replays its base test's
//! steps with a SAML assertion of that variant in the SOAP header. The toolkit asks a Gazelle
//! STS for the user VARIANT; the runner issues the assertion itself with the node's issuing
//! code (`ncpeh::saml::issue`), signed by the test issuer the site file names.

use std::path::PathBuf;

use ncpeh::saml::issue::{ehdsi_security, Defect, IssueError, Professional, Signer};
use time::OffsetDateTime;

use super::site::XuaSite;
use super::transport::Endpoint;

#[derive(Debug, thiserror::Error)]
pub enum XuaError {
    #[error("the site file names no XUA test issuer: give [xua] issuer_cert and issuer_key, or --pki DIR")]
    NoIssuer,
    #[error("XUA test issuer: {0}")]
    Issue(#[from] IssueError),
}

/// The assertion a test's name asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// A good assertion (the STS user `valid`).
    Valid,
    /// One of XUA-VARIANTS.txt (`expired`, `secondrole`, `withauthzconsent`, ...).
    Defect(Defect),
}

impl Variant {
    /// The variant a test's name ends in, if it ends in one.
    pub fn of_test(test: &str) -> Option<Variant> {
        let (_, name) = test.rsplit_once('_')?;
        if name.eq_ignore_ascii_case("valid") {
            return Some(Variant::Valid);
        }
        Defect::parse(name).ok().map(Variant::Defect)
    }

    fn defect(self) -> Option<Defect> {
        match self {
            Variant::Valid => None,
            Variant::Defect(d) => Some(d),
        }
    }
}

/// The actor a XUA collection tests (`reg_xua`: the registry), when it is one the site names.
fn actor_of(collection: &str) -> Option<Endpoint> {
    match collection.strip_suffix("_xua")? {
        "reg" => Some(Endpoint::Registry),
        "rep" => Some(Endpoint::Repository),
        "rg(xca)" => Some(Endpoint::RespondingGateway),
        "ig(xca)" => Some(Endpoint::InitiatingGateway),
        _ => None,
    }
}

/// What the requests of one XUA test carry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestXua {
    pub variant: Variant,
    /// The actor under test; None: every request carries the variant.
    pub actor: Option<Endpoint>,
}

impl TestXua {
    /// For a test in the given collections: None when it is no XUA test, an error when it is
    /// in a XUA collection but its name names no variant the runner knows.
    pub fn for_test(test: &str, collections: &[String]) -> Result<Option<TestXua>, String> {
        let xua_collection = collections.iter().find(|c| c.ends_with("_xua"));
        match (Variant::of_test(test), xua_collection) {
            (Some(variant), c) => Ok(Some(TestXua {
                variant,
                actor: c.and_then(|c| actor_of(c)),
            })),
            (None, Some(c)) => Err(format!(
                "test {test} is in {c} but its name ends in no known XUA variant"
            )),
            (None, None) => Ok(None),
        }
    }

    /// The variant a request to `endpoint` carries. The test's own goes to the actor under
    /// test. A check on a supporting actor (rep_xua's query to the registry, which in the
    /// toolkit is its own simulator and serves it whatever the header says) gets a valid one.
    pub fn variant_for(&self, endpoint: Endpoint) -> Variant {
        match self.actor {
            Some(a) if a != endpoint => Variant::Valid,
            _ => self.variant,
        }
    }
}

/// The site's test issuer, loaded when a XUA test first needs it.
pub struct Issuer {
    signer: Signer,
    audience: Option<String>,
}

impl Issuer {
    pub fn from_site(x: Option<&XuaSite>) -> Result<Issuer, XuaError> {
        let paths = x.and_then(|x| Some((x.issuer_cert.as_ref()?, x.issuer_key.as_ref()?)));
        let (cert, key): (&PathBuf, &PathBuf) = paths.ok_or(XuaError::NoIssuer)?;
        Ok(Issuer {
            signer: Signer::from_files(cert, key)?,
            audience: x.and_then(|x| x.audience.clone()),
        })
    }

    /// A wsse:Security header with a fresh HCP assertion of the variant, issued at `now`.
    pub fn security(&self, variant: Variant, now: OffsetDateTime) -> Result<String, XuaError> {
        let who = Professional {
            audiences: self.audience.iter().cloned().collect(),
            ..Professional::default()
        };
        Ok(ehdsi_security(
            &self.signer,
            &who,
            None,
            variant.defect(),
            now,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(test: &str, collection: &str) -> Result<Option<TestXua>, String> {
        TestXua::for_test(test, &[collection.to_string()])
    }

    #[test]
    fn test_names_map_to_variants() {
        let x = of("11897_expired", "reg_xua").unwrap().unwrap();
        assert_eq!(x.variant, Variant::Defect(Defect::Expired));
        assert_eq!(x.actor, Some(Endpoint::Registry));
        let x = of("11990eval_valid", "reg_xua").unwrap().unwrap();
        assert_eq!(x.variant, Variant::Valid);
        let x = of("15808_withauthzconsent", "ig(xca)_xua")
            .unwrap()
            .unwrap();
        assert_eq!(x.variant, Variant::Defect(Defect::WithAuthzConsent));
        assert_eq!(x.actor, Some(Endpoint::InitiatingGateway));
        assert_eq!(of("11966", "PR.b"), Ok(None));
        assert_eq!(of("12309", "rg(xca)"), Ok(None));
        assert!(of("12371_surprise", "rec_xua").is_err());
    }

    #[test]
    fn supporting_actors_get_a_valid_assertion() {
        let x = of("11966_expired", "rep_xua").unwrap().unwrap();
        let expired = Variant::Defect(Defect::Expired);
        assert_eq!(x.variant_for(Endpoint::Repository), expired);
        assert_eq!(x.variant_for(Endpoint::Registry), Variant::Valid);
        // Outside a known collection every request carries the variant.
        let x = TestXua::for_test("11966_expired", &[]).unwrap().unwrap();
        assert_eq!(x.variant_for(Endpoint::Registry), expired);
    }

    #[test]
    fn the_site_issuer_signs_each_variant() {
        use ncpeh::saml::{dsig, Assertion, SAML2};
        let dir = tempfile::tempdir().unwrap();
        ncpeh::pki::init(dir.path(), false).unwrap();
        let site = XuaSite {
            issuer_cert: Some(dir.path().join("issuer-no.pem")),
            issuer_key: Some(dir.path().join("issuer-no.key")),
            audience: Some("urn:oid:1.2.3".into()),
        };
        let issuer = Issuer::from_site(Some(&site)).unwrap();
        let now = OffsetDateTime::now_utc();
        let read = |header: &str| {
            let root = ncpeh::xml::parse(header.as_bytes(), Default::default()).unwrap();
            Assertion::read(root.child(SAML2, "Assertion").unwrap()).unwrap()
        };
        let good = issuer.security(Variant::Valid, now).unwrap();
        let a = read(&good);
        let audiences = &a.conditions.as_ref().unwrap().audience_restrictions;
        assert_eq!(audiences, &[["urn:oid:1.2.3"]]);
        let cert = &a.signatures[0].certificates[0];
        dsig::verify(&good, a.id.as_deref().unwrap(), cert).unwrap();
        let unsigned = issuer.security(Variant::Defect(Defect::Unsigned), now);
        assert!(read(&unsigned.unwrap()).signatures.is_empty());
        let no_site = Issuer::from_site(None).err().unwrap();
        assert!(no_site.to_string().contains("--pki"), "{no_site}");
    }

    #[test]
    fn every_variant_in_the_testkit_is_known() {
        let Some(tk) = super::super::testkit::default_testkit() else {
            return;
        };
        let Ok(dir) = std::fs::read_dir(tk.tests_dir()) else {
            return;
        };
        for e in dir.flatten() {
            let test = e.file_name().to_string_lossy().into_owned();
            let r = TestXua::for_test(&test, &tk.collections_of(&test));
            assert!(r.is_ok(), "{r:?}");
        }
    }
}
