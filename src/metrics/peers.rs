//! What the node last saw of each configured peer: its last good answer, its last failure and
//! the expiry of the certificate it presented, for the operator console.

use std::sync::{Arc, Mutex};

/// A failure's text is cut to this many characters.
const MAX_WHY: usize = 200;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerStatus {
    pub name: String,
    pub home_community_id: String,
    pub country: Option<String>,
    /// The transactions configured for it ("XCA", "XCPD", "XDR").
    pub services: Vec<&'static str>,
    /// Unix milliseconds and the round trip in milliseconds.
    pub last_success: Option<(i64, u64)>,
    /// Unix milliseconds and why (no message content: a kind and the transport's words).
    pub last_failure: Option<(i64, String)>,
    /// The server certificate's notAfter (Unix seconds), from the last connection made.
    pub certificate_not_after: Option<i64>,
    pub calls: u64,
    pub failures: u64,
}

/// One peer's status, shared by its client (certificates) and the gateways (outcomes).
#[derive(Debug, Default)]
pub struct PeerSlot(Mutex<PeerStatus>);

impl PeerSlot {
    pub fn new(status: PeerStatus) -> Arc<PeerSlot> {
        Arc::new(PeerSlot(Mutex::new(status)))
    }

    fn with(&self, f: impl FnOnce(&mut PeerStatus)) {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
    }

    pub fn success(&self, at_ms: i64, millis: u64) {
        self.with(|s| {
            s.calls += 1;
            s.last_success = Some((at_ms, millis));
        });
    }

    pub fn failure(&self, at_ms: i64, why: &str) {
        let why: String = why.chars().take(MAX_WHY).collect();
        self.with(|s| {
            s.calls += 1;
            s.failures += 1;
            s.last_failure = Some((at_ms, why));
        });
    }

    pub fn certificate(&self, not_after_unix: i64) {
        self.with(|s| s.certificate_not_after = Some(not_after_unix));
    }

    pub fn snapshot(&self) -> PeerStatus {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Every configured peer, in the config's order.
#[derive(Debug, Default)]
pub struct PeerWatch {
    pub slots: Vec<Arc<PeerSlot>>,
}

impl PeerWatch {
    pub fn snapshot(&self) -> Vec<PeerStatus> {
        self.slots.iter().map(|s| s.snapshot()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_and_certificates_are_kept() {
        let slot = PeerSlot::new(PeerStatus {
            name: "SE".into(),
            ..PeerStatus::default()
        });
        slot.success(1_000, 12);
        slot.failure(2_000, &"x".repeat(1000));
        slot.certificate(1_900_000_000);
        let s = slot.snapshot();
        assert_eq!(s.last_success, Some((1_000, 12)));
        assert_eq!(s.last_failure.as_ref().map(|f| f.1.len()), Some(MAX_WHY));
        assert_eq!((s.calls, s.failures), (2, 1));
        assert_eq!(s.certificate_not_after, Some(1_900_000_000));
    }
}
