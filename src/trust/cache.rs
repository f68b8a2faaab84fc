//! Security headers verified recently. A consumer sends the same assertions with many requests;
//! the same bytes, checked against the same anchors, verify the same way until a time bound is
//! crossed (an assertion's NotBefore/NotOnOrAfter, a signer certificate's validity). So a hit
//! within those bounds skips the signatures and the chain, and anything else is verified anew.

use super::xua::{instant, HeaderReport};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// How many headers are kept; the oldest go first.
const CAPACITY: usize = 4096;

type Key = [u8; 32];

struct Entry {
    report: HeaderReport,
    from: OffsetDateTime,
    until: OffsetDateTime,
}

#[derive(Default)]
pub struct VerifiedCache {
    inner: Mutex<(HashMap<Key, Entry>, VecDeque<Key>)>,
}

impl std::fmt::Debug for VerifiedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifiedCache")
    }
}

/// The header's bytes and the anchor set that verified them.
pub fn key(xml: &str, anchors: &str) -> Key {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(anchors.as_bytes());
    ctx.update(&[0]);
    ctx.update(xml.as_bytes());
    let mut k = [0u8; 32];
    k.copy_from_slice(ctx.finish().as_ref());
    k
}

impl VerifiedCache {
    /// The report verified for `key`, if `now` is still inside its bounds.
    pub fn get(&self, key: &Key, now: OffsetDateTime) -> Option<HeaderReport> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let e = guard.0.get(key)?;
        (e.from <= now && now < e.until).then(|| e.report.clone())
    }

    /// Keeps a report that passed every check, for as long as all its time bounds allow.
    pub fn put(&self, key: Key, report: &HeaderReport, skew: Duration) {
        let Some((from, until)) = bounds(report, skew) else {
            return;
        };
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *guard;
        if map
            .insert(
                key,
                Entry {
                    report: report.clone(),
                    from,
                    until,
                },
            )
            .is_none()
        {
            order.push_back(key);
        }
        while order.len() > CAPACITY {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
    }
}

/// The window in which every assertion's own validity and every signer certificate's hold.
fn bounds(report: &HeaderReport, skew: Duration) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let mut from = OffsetDateTime::UNIX_EPOCH;
    let mut until = OffsetDateTime::now_utc() + Duration::days(1);
    for a in &report.assertions {
        let c = a.assertion.conditions.as_ref()?;
        from = from.max(instant(c.not_before.as_deref()?)? - skew);
        until = until.min(instant(c.not_on_or_after.as_deref()?)? + skew);
        if let Some(issued) = a.assertion.issue_instant.as_deref().and_then(instant) {
            from = from.max(issued - skew);
        }
        for cert in a.assertion.signatures.first()?.certificates.iter() {
            let (nb, na) = crate::pki::validity(cert)?;
            from = from.max(nb);
            until = until.min(na);
        }
    }
    (from < until).then_some((from, until))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::issue::{ehdsi_security, Professional, Signer};
    use crate::trust::anchors::Anchors;
    use crate::trust::xua::{verify_header, Settings};

    #[test]
    fn a_hit_only_inside_the_time_bounds() {
        let key_pair = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CountryName, "NO");
        let cert = params.self_signed(&key_pair).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("issuer.pem");
        std::fs::write(&pem, cert.pem()).unwrap();
        let signer = Signer::new(cert.der().to_vec(), key_pair.serialize_pem()).unwrap();
        let now = OffsetDateTime::now_utc();
        let xml = ehdsi_security(&signer, &Professional::default(), None, None, now).unwrap();
        let anchors = Anchors::load("issuers", &pem, Default::default()).unwrap();
        let settings = Settings {
            clock_skew: Duration::MINUTE,
            audiences: Vec::new(),
        };
        let report = verify_header(&xml, &anchors, &settings, now);
        assert!(report.failure().is_none(), "{:?}", report.failure());
        let cache = VerifiedCache::default();
        let k = key(&xml, "issuers");
        cache.put(k, &report, Duration::MINUTE);
        assert!(cache.get(&k, now).is_some());
        // The assertion is valid for five minutes (and a minute of skew).
        assert!(cache.get(&k, now + Duration::minutes(10)).is_none());
        assert!(cache.get(&key(&xml, "other issuers"), now).is_none());
        assert!(cache
            .get(&key(&format!("{xml} "), "issuers"), now)
            .is_none());
    }
}
