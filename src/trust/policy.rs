//! The access policy the router asks before any service runs: who is calling (a national caller
//! or a configured foreign contact point, by its certificate), whether that caller may use the
//! endpoint, and what its verified assertions say. A refusal is a SOAP fault; nothing of the
//! request is processed.

use super::anchors::{load_crls, unix_time, AnchorError, Anchors, Crls};
use super::cache::{self, VerifiedCache};
use super::claims;
use super::xua::{self, Failure, Settings};
use crate::audit::{fill_peer, Auditor, EventType, Outcome};
use crate::config::Config;
use crate::pki::PeerIdentity;
use crate::soap::{
    Access, AuthFuture, Authorizer, Caller, Endpoint, Fault, FaultCode, Principal, SoapRequest,
};
use std::sync::Arc;
use time::OffsetDateTime;

/// A foreign contact point as the policy knows it.
#[derive(Debug, Clone)]
struct PeerTrust {
    home_community_id: String,
    country: String,
    expected_subject: Option<String>,
    /// The issuers its assertions must be signed under.
    issuers: Anchors,
}

#[derive(Debug)]
struct Inner {
    country: String,
    national_ca: Anchors,
    foreign_ca: Anchors,
    peers: Vec<PeerTrust>,
    national_issuers: Anchors,
    require_on_xds: bool,
    settings: Settings,
    verified: VerifiedCache,
}

/// Cheap to clone: verification runs on a blocking thread with its own handle.
#[derive(Clone)]
pub struct Policy(Arc<Inner>, Option<Auditor>);

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    Anchors(#[from] AnchorError),
}

/// Anchors from `path` when it is set and exists (dev PKI defaults may be absent).
fn optional(
    name: &str,
    path: Option<std::path::PathBuf>,
    crls: &Crls,
) -> Result<Anchors, AnchorError> {
    match path {
        Some(p) if p.exists() => Anchors::load(name, &p, crls.clone()),
        _ => Ok(Anchors::empty(name)),
    }
}

impl Policy {
    pub fn from_config(cfg: &Config) -> Result<Policy, PolicyError> {
        let crls = load_crls(&cfg.xua.crls)?;
        let peers = cfg
            .peers
            .iter()
            .filter_map(|p| {
                let country = p.country.clone()?;
                let name = format!("issuers of {country} assertions");
                Some(
                    optional(&name, cfg.peer_issuers_path(p), &crls).map(|issuers| PeerTrust {
                        home_community_id: p.home_community_id.clone(),
                        country,
                        expected_subject: p.expected_subject.clone(),
                        issuers,
                    }),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut audiences = cfg.xua.audiences.clone();
        audiences.push(cfg.node.home_community_id.clone());
        audiences.push(cfg.public_url());
        Ok(Policy(
            Arc::new(Inner {
                country: cfg.node.country.clone(),
                national_ca: Anchors::load(
                    "national CAs",
                    &cfg.national_ca_path(),
                    Crls::default(),
                )?,
                foreign_ca: Anchors::load(
                    "foreign contact point CAs",
                    &cfg.foreign_ca_path(),
                    Crls::default(),
                )?,
                peers,
                national_issuers: optional(
                    "national assertion issuers",
                    cfg.national_issuers_path(),
                    &crls,
                )?,
                require_on_xds: cfg.xua.require_on_xds,
                settings: Settings {
                    clock_skew: time::Duration::try_from(cfg.xua.clock_skew)
                        .unwrap_or(time::Duration::MINUTE),
                    audiences,
                },
                verified: VerifiedCache::default(),
            }),
            None,
        ))
    }

    /// The checks of a header, from the cache when the same bytes verified against the same
    /// anchors and every time bound still holds.
    fn verified_header(
        &self,
        xml: &str,
        issuers: &Anchors,
        now: OffsetDateTime,
        crypto: bool,
    ) -> Option<xua::HeaderReport> {
        let p = &self.0;
        let key = cache::key(xml, &issuers.name);
        if let Some(report) = p.verified.get(&key, now) {
            return Some(report);
        }
        if !crypto {
            return None;
        }
        let report = xua::verify_header(xml, issuers, &p.settings, now);
        if report.failure().is_none() {
            p.verified.put(key, &report, p.settings.clock_skew, now);
        }
        Some(report)
    }

    /// Refusals are audited with this (the node's policy always has one).
    pub fn with_auditor(self, auditor: Auditor) -> Policy {
        Policy(self.0, Some(auditor))
    }

    /// The refusal's audit record: who asked, at which endpoint, and why not.
    async fn audit_refusal(
        &self,
        peer: &PeerIdentity,
        endpoint: &Endpoint,
        action: &str,
        message_id: Option<&str>,
        r: &Refusal,
    ) {
        let Some(auditor) = &self.1 else { return };
        let event = if r.access {
            EventType::AccessDenied
        } else {
            EventType::AuthenticationFailure
        };
        let mut ev = auditor.plain_event(event, endpoint.path, action);
        ev.message_id = message_id.map(str::to_string);
        fill_peer(&mut ev, peer);
        ev.outcome = Outcome::SeriousFailure;
        ev.reason = Some(r.fault.reason.chars().take(300).collect());
        auditor.record(ev).await;
    }

    /// The decision, at `now`. With `crypto` it verifies signatures it has not seen (xmlsec:
    /// call it on a blocking thread); without, it answers `Ok(None)` when it would have to.
    pub fn decide(
        &self,
        peer: &PeerIdentity,
        endpoint: &Endpoint,
        security: Option<&str>,
        now: OffsetDateTime,
        crypto: bool,
    ) -> Result<Option<Principal>, Refusal> {
        let p = &self.0;
        let (caller, peer_trust) = self.classify(peer, now)?;
        let mut principal = Principal {
            peer: peer.clone(),
            caller: caller.clone(),
            ..Default::default()
        };
        let (needs_hcp, needs_trc, permissions, issuers) = match (endpoint.access, peer_trust) {
            (Access::National { .. }, Some(_)) => {
                return Err(denied(format!(
                    "{} is not open to foreign contact points",
                    endpoint.path
                )))
            }
            (Access::CrossBorder { trc, permissions }, Some(pt)) => {
                (true, trc, permissions, &pt.issuers)
            }
            (Access::National { xds }, None) => {
                (xds && p.require_on_xds, false, &[][..], &p.national_issuers)
            }
            (Access::CrossBorder { .. }, None) => (false, false, &[][..], &p.national_issuers),
        };
        let Some(xml) = security else {
            if needs_hcp {
                return Err(unauthenticated(
                    Failure::Invalid,
                    format!(
                        "{} needs a SAML identity assertion in wsse:Security",
                        endpoint.path
                    ),
                ));
            }
            return Ok(Some(principal));
        };
        let Some(report) = self.verified_header(xml, issuers, now, crypto) else {
            return Ok(None);
        };
        if let Some((check, failure, why)) = report.failure() {
            return Err(unauthenticated(failure, format!("{check}: {why}")));
        }
        if report.not_understood {
            let mut fault = Fault::sender(
                "wsse:Security holds tokens other than SAML 2.0 assertions, which this node does not process",
            );
            fault.code = FaultCode::MustUnderstand;
            return Err(Refusal {
                fault,
                access: false,
            });
        }
        if report.assertions.is_empty() {
            if needs_hcp {
                return Err(unauthenticated(
                    Failure::Invalid,
                    "wsse:Security holds no SAML assertion",
                ));
            }
            return Ok(Some(principal));
        }
        let pair =
            claims::pair(&report.assertions).map_err(|why| unauthenticated(Failure::Token, why))?;
        let user = claims::user(pair.hcp);
        if let Some(pt) = peer_trust {
            // Anchors are per country already; the signer must also say so itself.
            for c in [Some(pair.hcp), pair.trc].into_iter().flatten() {
                let signer_country = c.signer.as_ref().and_then(|s| s.country.as_deref());
                if signer_country.is_some_and(|sc| sc != pt.country) {
                    return Err(unauthenticated(
                        Failure::Authentication,
                        format!(
                            "an assertion signed in {} arrived over the connection of {}",
                            signer_country.unwrap_or("?"),
                            pt.country
                        ),
                    ));
                }
            }
            claims::ehdsi_hcp(&user).map_err(|why| unauthenticated(Failure::Token, why))?;
        }
        if needs_trc && pair.trc.is_none() {
            return Err(unauthenticated(
                Failure::Invalid,
                format!(
                    "{} needs a treatment relationship (TRC) assertion",
                    endpoint.path
                ),
            ));
        }
        principal.patient = match pair.trc {
            Some(t) => claims::patient(&t.assertion),
            None if peer_trust.is_none() => claims::resource_id(&pair.hcp.assertion),
            None => None,
        };
        if needs_trc && principal.patient.is_none() {
            return Err(unauthenticated(
                Failure::Token,
                "the TRC assertion names no patient",
            ));
        }
        principal.user = Some(user);
        let missing = principal.missing_permissions(permissions);
        if !missing.is_empty() {
            return Err(denied(format!(
                "the health professional lacks the permissions {} for {}",
                missing.join(", "),
                endpoint.path
            )));
        }
        principal.security = Some(xml.to_string());
        Ok(Some(principal))
    }

    /// A caller whose certificate names another country is a foreign contact point and must be
    /// a configured peer; anyone else is a national caller and must chain to the national CAs.
    fn classify(
        &self,
        peer: &PeerIdentity,
        now: OffsetDateTime,
    ) -> Result<(Caller, Option<&PeerTrust>), Refusal> {
        let p = &self.0;
        let at = unix_time(now);
        let foreign_country = peer.country.as_deref().filter(|c| *c != p.country);
        let Some(country) = foreign_country else {
            p.national_ca.verify(&peer.certs, at).map_err(|why| {
                denied(format!(
                    "the client certificate is not a national caller's: {why}"
                ))
            })?;
            return Ok((Caller::National, None));
        };
        let pt = p
            .peers
            .iter()
            .find(|t| {
                t.country == country
                    && t.expected_subject
                        .as_ref()
                        .is_none_or(|s| *s == peer.subject)
            })
            .ok_or_else(|| {
                denied(format!(
                    "no contact point of {country} with certificate subject '{}' is configured",
                    peer.subject
                ))
            })?;
        p.foreign_ca.verify(&peer.certs, at).map_err(|why| {
            denied(format!(
                "the client certificate is not a contact point's: {why}"
            ))
        })?;
        let caller = Caller::Foreign {
            home_community_id: pt.home_community_id.clone(),
            country: pt.country.clone(),
        };
        Ok((caller, Some(pt)))
    }
}

/// Why a request was refused: its fault, and whether the sender could not be authenticated or
/// was authenticated and lacks access (they are audited as different events).
#[derive(Debug, Clone)]
pub struct Refusal {
    pub fault: Fault,
    pub access: bool,
}

/// Access refused to an authenticated caller.
fn denied(reason: String) -> Refusal {
    Refusal {
        fault: Fault::security(Failure::Authentication.subcode(), reason),
        access: true,
    }
}

/// The sender, or what it presented, could not be authenticated.
fn unauthenticated(failure: Failure, reason: impl Into<String>) -> Refusal {
    Refusal {
        fault: Fault::security(failure.subcode(), reason),
        access: false,
    }
}

impl Authorizer for Policy {
    fn authorize<'a>(
        &'a self,
        peer: &'a PeerIdentity,
        endpoint: &'static Endpoint,
        request: &'a SoapRequest,
    ) -> AuthFuture<'a> {
        Box::pin(async move {
            let now = OffsetDateTime::now_utc();
            let security = request.security.as_deref();
            // Without assertions, or with ones verified recently, no signature is checked.
            let decided = match self.decide(peer, endpoint, security, now, false) {
                Ok(None) => {
                    // Signature checks are CPU work in a library whose types are not Send.
                    let policy = self.clone();
                    let who = peer.clone();
                    let xml = security.unwrap_or_default().to_string();
                    tokio::task::spawn_blocking(move || {
                        policy.decide(&who, endpoint, Some(&xml), now, true)
                    })
                    .await
                    .unwrap_or_else(|_| {
                        Err(Refusal {
                            fault: Fault::receiver(
                                "the security check failed; the request was not processed",
                            ),
                            access: false,
                        })
                    })
                }
                other => other,
            };
            match decided {
                Ok(Some(p)) => Ok(p),
                Ok(None) => Err(Fault::receiver(
                    "the security check failed; the request was not processed",
                )),
                Err(r) => {
                    let id = request.message_id.as_deref();
                    self.audit_refusal(peer, endpoint, &request.action, id, &r)
                        .await;
                    Err(r.fault)
                }
            }
        })
    }

    fn authorize_plain<'a>(
        &'a self,
        peer: &'a PeerIdentity,
        endpoint: &'static Endpoint,
        action: &'a str,
    ) -> AuthFuture<'a> {
        Box::pin(async move {
            // Without a security header nothing is verified by signature: no blocking work.
            match self.decide(peer, endpoint, None, OffsetDateTime::now_utc(), false) {
                Ok(Some(p)) => Ok(p),
                Ok(None) => Err(Fault::receiver(
                    "the security check failed; the request was not processed",
                )),
                Err(r) => {
                    self.audit_refusal(peer, endpoint, action, None, &r).await;
                    Err(r.fault)
                }
            }
        })
    }
}
