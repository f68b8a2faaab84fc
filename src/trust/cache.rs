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
/// How often expired entries are swept out. An expired entry can never hit again, yet without
/// the sweep it stayed until CAPACITY newer ones pushed it out: a node seeing a few fresh
/// assertions a minute grew by their reports for hours (seen in the soak as a slow RSS climb).
const SWEEP_EVERY: Duration = Duration::MINUTE;

type Key = [u8; 32];

struct Entry {
    report: HeaderReport,
    from: OffsetDateTime,
    until: OffsetDateTime,
}

#[derive(Default)]
struct Entries {
    map: HashMap<Key, Entry>,
    /// Keys in insertion order, for the capacity bound.
    order: VecDeque<Key>,
    last_sweep: Option<OffsetDateTime>,
}

impl Entries {
    fn sweep(&mut self, now: OffsetDateTime) {
        self.map.retain(|_, e| now < e.until);
        let map = &self.map;
        self.order.retain(|k| map.contains_key(k));
        self.last_sweep = Some(now);
    }
}

#[derive(Default)]
pub struct VerifiedCache {
    inner: Mutex<Entries>,
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
        let e = guard.map.get(key)?;
        (e.from <= now && now < e.until).then(|| e.report.clone())
    }

    /// Keeps a report that passed every check, for as long as all its time bounds allow.
    pub fn put(&self, key: Key, report: &HeaderReport, skew: Duration, now: OffsetDateTime) {
        let Some((from, until)) = bounds(report, skew) else {
            return;
        };
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if guard.last_sweep.is_none_or(|t| now - t >= SWEEP_EVERY) {
            guard.sweep(now);
        }
        let Entries { map, order, .. } = &mut *guard;
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
        if order.len() > CAPACITY {
            guard.sweep(now);
        }
        let Entries { map, order, .. } = &mut *guard;
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

    /// A signed eHDSI header issued at `now`, its verified report, and its cache key.
    fn verified(now: OffsetDateTime) -> (String, HeaderReport, Key) {
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
        let xml = ehdsi_security(&signer, &Professional::default(), None, None, now).unwrap();
        let anchors = Anchors::load("issuers", &pem, Default::default()).unwrap();
        let settings = Settings {
            clock_skew: Duration::MINUTE,
            audiences: Vec::new(),
        };
        let report = verify_header(&xml, &anchors, &settings, now);
        assert!(report.failure().is_none(), "{:?}", report.failure());
        let k = key(&xml, "issuers");
        (xml, report, k)
    }

    fn held(cache: &VerifiedCache) -> (usize, usize) {
        let g = cache.inner.lock().unwrap();
        (g.map.len(), g.order.len())
    }

    #[test]
    fn a_hit_only_inside_the_time_bounds() {
        let now = OffsetDateTime::now_utc();
        let (xml, report, k) = verified(now);
        let cache = VerifiedCache::default();
        cache.put(k, &report, Duration::MINUTE, now);
        assert!(cache.get(&k, now).is_some());
        // The assertion is valid for five minutes (and a minute of skew).
        assert!(cache.get(&k, now + Duration::minutes(10)).is_none());
        assert!(cache.get(&key(&xml, "other issuers"), now).is_none());
        assert!(cache
            .get(&key(&format!("{xml} "), "issuers"), now)
            .is_none());
    }

    #[test]
    fn expired_entries_are_swept_out_not_kept_until_capacity() {
        let now = OffsetDateTime::now_utc();
        let cache = VerifiedCache::default();
        let (_, first, k1) = verified(now);
        cache.put(k1, &first, Duration::MINUTE, now);
        let (_, second, k2) = verified(now);
        cache.put(k2, &second, Duration::MINUTE, now + Duration::seconds(30));
        assert_eq!(held(&cache), (2, 2), "both still valid, no sweep due yet");
        // Ten minutes on, both have expired; the next put sweeps them.
        let later = now + Duration::minutes(10);
        let (_, third, k3) = verified(later);
        cache.put(k3, &third, Duration::MINUTE, later);
        assert_eq!(held(&cache), (1, 1));
        assert!(cache.get(&k3, later).is_some());
        assert!(cache.get(&k1, now).is_none(), "swept");
    }
}
