//! The last hour, minute by minute, per endpoint: requests, errors and a latency histogram,
//! for the operator console. Memory is fixed: 60 slots per endpoint, and endpoints are the
//! node's own paths (a closed set).

use super::{Histogram, BUCKETS};
use std::collections::BTreeMap;

pub const MINUTES: usize = 60;

#[derive(Default, Clone, Copy)]
struct Slot {
    /// Unix minute this slot holds; another minute's data is stale.
    minute: u64,
    errors: u64,
    latency: Histogram,
}

/// One minute of one endpoint, as the console shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MinuteStats {
    pub requests: u64,
    pub errors: u64,
    /// Estimated from the histogram (upper-bound interpolation); None without requests.
    pub p50: Option<f64>,
    pub p99: Option<f64>,
}

/// An endpoint's last hour: `minutes[0]` is 59 minutes ago, `minutes[59]` the current one.
#[derive(Debug, Clone)]
pub struct EndpointHour {
    pub endpoint: String,
    pub minutes: Vec<MinuteStats>,
    pub total: MinuteStats,
}

#[derive(Default)]
pub struct Timeline {
    slots: BTreeMap<String, [Slot; MINUTES]>,
}

/// Whether an outcome label counts as an error on the console.
pub fn is_error(outcome: &str) -> bool {
    !matches!(outcome, "Success" | "PartialSuccess" | "OK")
}

impl Timeline {
    pub fn record(&mut self, now_minute: u64, endpoint: &str, outcome: &str, seconds: f64) {
        if !self.slots.contains_key(endpoint) {
            self.slots
                .insert(endpoint.to_string(), [Slot::default(); MINUTES]);
        }
        let Some(ring) = self.slots.get_mut(endpoint) else {
            return;
        };
        let slot = &mut ring[(now_minute % MINUTES as u64) as usize];
        if slot.minute != now_minute {
            *slot = Slot {
                minute: now_minute,
                ..Slot::default()
            };
        }
        slot.latency.observe(seconds);
        if is_error(outcome) {
            slot.errors += 1;
        }
    }

    /// Every endpoint seen, with its hour ending at `now_minute`.
    pub fn hour(&self, now_minute: u64) -> Vec<EndpointHour> {
        self.slots
            .iter()
            .map(|(endpoint, ring)| {
                let mut all = Slot::default();
                let minutes = (0..MINUTES as u64)
                    .map(|back| {
                        let m = now_minute.saturating_sub(MINUTES as u64 - 1 - back);
                        let s = &ring[(m % MINUTES as u64) as usize];
                        if s.minute != m || s.latency.count == 0 {
                            return MinuteStats::default();
                        }
                        all.errors += s.errors;
                        all.latency.add(&s.latency);
                        stats(s)
                    })
                    .collect();
                EndpointHour {
                    endpoint: endpoint.clone(),
                    minutes,
                    total: stats(&all),
                }
            })
            .collect()
    }
}

fn stats(s: &Slot) -> MinuteStats {
    MinuteStats {
        requests: s.latency.count,
        errors: s.errors,
        p50: quantile(&s.latency, 0.5),
        p99: quantile(&s.latency, 0.99),
    }
}

/// The q-quantile as Prometheus' histogram_quantile estimates it (linear within the bucket that
/// holds it; past the last bound, that bound), kept within the fastest and slowest seen: one
/// request of 1.01 s is not "p50 1.75 s".
pub fn quantile(h: &Histogram, q: f64) -> Option<f64> {
    let est = estimate(h, q)?;
    Some(est.clamp(h.min, h.max.max(h.min)))
}

fn estimate(h: &Histogram, q: f64) -> Option<f64> {
    if h.count == 0 {
        return None;
    }
    let rank = q * h.count as f64;
    let mut below = 0u64;
    let mut lower = 0.0;
    for (bound, n) in BUCKETS.iter().zip(h.buckets) {
        if n > 0 && (below + n) as f64 >= rank {
            let within = (rank - below as f64) / n as f64;
            return Some(lower + (bound - lower) * within.clamp(0.0, 1.0));
        }
        below += n;
        lower = *bound;
    }
    Some(BUCKETS[BUCKETS.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_roll_over_and_old_ones_drop_out() {
        let mut t = Timeline::default();
        t.record(1000, "/a", "Success", 0.004);
        t.record(1000, "/a", "Fault", 0.2);
        t.record(1030, "/a", "Success", 0.004);
        let h = t.hour(1030);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].minutes[59].requests, 1);
        assert_eq!(h[0].minutes[29].requests, 2);
        assert_eq!(h[0].minutes[29].errors, 1);
        assert_eq!(h[0].total.requests, 3);
        assert_eq!(h[0].total.errors, 1);
        // An hour later minute 1000's slot is out of the window, and a new minute reuses it.
        t.record(1060, "/a", "Success", 0.004);
        let h = t.hour(1060);
        assert_eq!(h[0].total.requests, 2, "minute 1000 is gone");
        assert_eq!(h[0].minutes[59].requests, 1);
        assert_eq!(t.hour(1200)[0].total.requests, 0);
    }

    #[test]
    fn quantiles_come_from_the_buckets() {
        let mut h = Histogram::default();
        for _ in 0..99 {
            h.observe(0.004);
        }
        h.observe(0.9);
        let p50 = quantile(&h, 0.5).unwrap();
        assert!(p50 > 0.0 && p50 <= 0.005, "{p50}");
        let p99 = quantile(&h, 0.99).unwrap();
        assert!(p99 <= 0.005, "99 of 100 are under 5 ms: {p99}");
        let p999 = quantile(&h, 0.999).unwrap();
        assert!(p999 > 0.5 && p999 <= 1.0, "{p999}");
        assert_eq!(quantile(&Histogram::default(), 0.5), None);
        let mut slow = Histogram::default();
        slow.observe(500.0);
        assert_eq!(quantile(&slow, 0.5), Some(500.0), "the one seen");
        slow.observe(400.0);
        assert_eq!(
            quantile(&slow, 0.99),
            Some(400.0),
            "past the last bound: clamped to it, then to what was seen"
        );
        let mut one = Histogram::default();
        one.observe(1.013);
        assert_eq!(quantile(&one, 0.5), Some(1.013));
        assert_eq!(quantile(&one, 0.99), Some(1.013));
    }

    #[test]
    fn success_answers_are_not_errors() {
        for ok in ["Success", "PartialSuccess", "OK"] {
            assert!(!is_error(ok));
        }
        for bad in ["Failure", "Fault", "Refused"] {
            assert!(is_error(bad));
        }
    }
}
