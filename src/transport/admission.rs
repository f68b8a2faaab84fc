//! Who may take how much of the node: requests in flight and requests per second per caller
//! (by certificate), and open connections per client address. Over a limit the answer is
//! immediate; nothing waits in a queue, so a flooding caller cannot push the others back.

use crate::pki::PeerIdentity;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// What one caller may have.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallerLimits {
    pub max_in_flight: usize,
    /// Also the burst: a quiet caller may send this many at once.
    pub max_per_sec: u32,
}

/// Callers that get other limits than the default: a certificate subject, or any caller of a
/// country (a foreign contact point).
#[derive(Debug, Clone)]
pub enum CallerMatch {
    Subject(String),
    Country(String),
}

/// Why a request or connection was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Busy {
    #[error("this caller already has {0} requests in flight; retry when one is answered")]
    InFlight(usize),
    #[error("this caller sent more than {0} requests in one second; retry later")]
    Rate(u32),
}

struct Caller {
    in_flight: usize,
    tokens: f64,
    refilled: Instant,
    limits: CallerLimits,
}

impl Caller {
    fn refill(&mut self, now: Instant) {
        let rate = f64::from(self.limits.max_per_sec);
        let gained = now.duration_since(self.refilled).as_secs_f64() * rate;
        self.tokens = (self.tokens + gained).min(rate);
        self.refilled = now;
    }

    /// Idle and full again: nothing to remember about it.
    fn forgettable(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.in_flight == 0 && self.tokens >= f64::from(self.limits.max_per_sec)
    }
}

/// Above this many remembered callers, idle ones are dropped before another is added.
const SWEEP_AT: usize = 4096;

pub struct Admission {
    default: CallerLimits,
    special: Vec<(CallerMatch, CallerLimits)>,
    max_per_ip: usize,
    callers: Mutex<HashMap<String, Caller>>,
    conns: Mutex<HashMap<IpAddr, usize>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Admission {
    pub fn new(
        default: CallerLimits,
        special: Vec<(CallerMatch, CallerLimits)>,
        max_per_ip: usize,
    ) -> Admission {
        Admission {
            default,
            special,
            max_per_ip,
            callers: Mutex::new(HashMap::new()),
            conns: Mutex::new(HashMap::new()),
        }
    }

    fn limits_for(&self, peer: &PeerIdentity) -> CallerLimits {
        let hit = |m: &CallerMatch| match m {
            CallerMatch::Subject(s) => *s == peer.subject,
            CallerMatch::Country(c) => peer.country.as_deref() == Some(c.as_str()),
        };
        // A subject is more precise than a country, whatever the order of the config.
        let by = |subject: bool| {
            self.special
                .iter()
                .filter(move |(m, _)| matches!(m, CallerMatch::Subject(_)) == subject)
                .find(|(m, _)| hit(m))
                .map(|(_, l)| *l)
        };
        by(true).or_else(|| by(false)).unwrap_or(self.default)
    }

    /// One more request of `peer`, counted until the ticket is dropped.
    pub fn admit(self: &Arc<Self>, peer: &PeerIdentity) -> Result<Ticket, Busy> {
        let key = format!("{}\n{}", peer.subject, peer.issuer);
        let now = Instant::now();
        let mut callers = locked(&self.callers);
        if callers.len() >= SWEEP_AT && !callers.contains_key(&key) {
            callers.retain(|_, c| !c.forgettable(now));
        }
        let limits = self.limits_for(peer);
        let c = callers.entry(key.clone()).or_insert_with(|| Caller {
            in_flight: 0,
            tokens: f64::from(limits.max_per_sec),
            refilled: now,
            limits,
        });
        c.refill(now);
        if c.in_flight >= limits.max_in_flight {
            return Err(Busy::InFlight(limits.max_in_flight));
        }
        if c.tokens < 1.0 {
            return Err(Busy::Rate(limits.max_per_sec));
        }
        c.tokens -= 1.0;
        c.in_flight += 1;
        Ok(Ticket {
            admission: self.clone(),
            key,
        })
    }

    /// One more connection from `ip`, counted until the guard is dropped; None when that
    /// address already has its share.
    pub fn connect(self: &Arc<Self>, ip: IpAddr) -> Option<Connection> {
        let mut conns = locked(&self.conns);
        let n = conns.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            return None;
        }
        *n += 1;
        Some(Connection {
            admission: self.clone(),
            ip,
        })
    }
}

/// A request being served.
pub struct Ticket {
    admission: Arc<Admission>,
    key: String,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut callers = locked(&self.admission.callers);
        if let Some(c) = callers.get_mut(&self.key) {
            c.in_flight = c.in_flight.saturating_sub(1);
        }
    }
}

/// An open connection.
pub struct Connection {
    admission: Arc<Admission>,
    ip: IpAddr,
}

impl Drop for Connection {
    fn drop(&mut self) {
        let mut conns = locked(&self.admission.conns);
        if let Some(n) = conns.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                conns.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(subject: &str, country: &str) -> PeerIdentity {
        PeerIdentity {
            subject: subject.into(),
            country: Some(country.into()),
            ..Default::default()
        }
    }

    fn admission() -> Arc<Admission> {
        let default = CallerLimits {
            max_in_flight: 2,
            max_per_sec: 1000,
        };
        let se = CallerLimits {
            max_in_flight: 5,
            max_per_sec: 3,
        };
        Arc::new(Admission::new(
            default,
            vec![(CallerMatch::Country("SE".into()), se)],
            2,
        ))
    }

    #[test]
    fn in_flight_is_counted_per_caller_and_freed_by_the_ticket() {
        let a = admission();
        let (hf, other) = (peer("CN=HF", "NO"), peer("CN=GP", "NO"));
        let t1 = a.admit(&hf).unwrap();
        let _t2 = a.admit(&hf).unwrap();
        assert_eq!(a.admit(&hf).err(), Some(Busy::InFlight(2)));
        assert!(a.admit(&other).is_ok(), "another caller has its own share");
        drop(t1);
        assert!(a.admit(&hf).is_ok());
    }

    #[test]
    fn the_rate_has_a_burst_of_one_second_and_a_peer_its_own_limits() {
        let a = admission();
        let se = peer("CN=NCPeH SE", "SE");
        for _ in 0..3 {
            drop(a.admit(&se).unwrap());
        }
        assert_eq!(a.admit(&se).err(), Some(Busy::Rate(3)));
        std::thread::sleep(std::time::Duration::from_millis(400));
        assert!(
            a.admit(&se).is_ok(),
            "a token comes back after a third of a second"
        );
    }

    #[test]
    fn connections_per_address_are_capped_and_given_back() {
        let a = admission();
        let ip: IpAddr = "127.0.0.2".parse().unwrap();
        let c1 = a.connect(ip).unwrap();
        let _c2 = a.connect(ip).unwrap();
        assert!(a.connect(ip).is_none());
        assert!(a.connect("127.0.0.1".parse().unwrap()).is_some());
        drop(c1);
        assert!(a.connect(ip).is_some());
    }
}
