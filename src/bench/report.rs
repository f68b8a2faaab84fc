//! What one bench run measured, and how it is printed: a table for people, JSON for scripts.

use serde::Serialize;
use std::time::Duration;

/// One measured load: the node's, the raw store's or the empty request's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measured {
    pub label: String,
    pub connections: usize,
    pub seconds: f64,
    pub requests: u64,
    pub errors: u64,
    /// Successful requests per second.
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
}

impl Measured {
    /// From the latencies (microseconds) of the successful requests.
    pub fn new(
        label: &str,
        connections: usize,
        elapsed: Duration,
        mut micros: Vec<u32>,
        errors: u64,
    ) -> Measured {
        micros.sort_unstable();
        let q = |p: f64| -> f64 {
            if micros.is_empty() {
                return 0.0;
            }
            let i = ((micros.len() as f64 * p).ceil() as usize).clamp(1, micros.len()) - 1;
            f64::from(micros[i]) / 1000.0
        };
        let seconds = elapsed.as_secs_f64();
        Measured {
            label: label.to_string(),
            connections,
            seconds,
            requests: micros.len() as u64,
            errors,
            rate: if seconds > 0.0 {
                micros.len() as f64 / seconds
            } else {
                0.0
            },
            p50_ms: q(0.50),
            p99_ms: q(0.99),
            p999_ms: q(0.999),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub workload: String,
    pub node: Measured,
    /// The same store statements in-process (W1, W2).
    pub raw: Option<Measured>,
    /// An empty request on the same listener: TLS and HTTP alone.
    pub empty: Option<Measured>,
    /// W5: the same query sent straight to all the peers at once.
    pub peers: Option<Measured>,
}

impl Report {
    /// node / raw rate: how close the node comes to its own database.
    pub fn node_per_raw(&self) -> Option<f64> {
        ratio(&self.node, self.raw.as_ref())
    }

    /// node / empty rate: what is left after TLS and HTTP.
    pub fn node_per_empty(&self) -> Option<f64> {
        ratio(&self.node, self.empty.as_ref())
    }

    /// W5: what the node adds to its peers' latency, (p50, p99) in ms.
    pub fn added_ms(&self) -> Option<(f64, f64)> {
        self.peers
            .as_ref()
            .filter(|p| p.requests > 0)
            .map(|p| (self.node.p50_ms - p.p50_ms, self.node.p99_ms - p.p99_ms))
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "{:<16} {:>5} {:>7} {:>9} {:>7} {:>9} {:>8} {:>8} {:>9}\n",
            "load", "conns", "secs", "requests", "errors", "req/s", "p50 ms", "p99 ms", "p99.9 ms"
        );
        let all = [
            Some(&self.node),
            self.raw.as_ref(),
            self.peers.as_ref(),
            self.empty.as_ref(),
        ];
        for m in all.into_iter().flatten() {
            out.push_str(&format!(
                "{:<16} {:>5} {:>7.1} {:>9} {:>7} {:>9.0} {:>8.2} {:>8.2} {:>9.2}\n",
                m.label,
                m.connections,
                m.seconds,
                m.requests,
                m.errors,
                m.rate,
                m.p50_ms,
                m.p99_ms,
                m.p999_ms
            ));
        }
        if let Some(r) = self.node_per_raw() {
            out.push_str(&format!("node/raw   {r:.2}\n"));
        }
        if let Some(r) = self.node_per_empty() {
            out.push_str(&format!("node/empty {r:.2}\n"));
        }
        if let Some((p50, p99)) = self.added_ms() {
            out.push_str(&format!("node-peers p50 {p50:+.2} ms, p99 {p99:+.2} ms\n"));
        }
        out
    }

    pub fn json(&self) -> String {
        #[derive(Serialize)]
        struct WithRatios<'a> {
            #[serde(flatten)]
            report: &'a Report,
            node_per_raw: Option<f64>,
            node_per_empty: Option<f64>,
            added_p50_ms: Option<f64>,
            added_p99_ms: Option<f64>,
        }
        serde_json::to_string_pretty(&WithRatios {
            report: self,
            node_per_raw: self.node_per_raw(),
            node_per_empty: self.node_per_empty(),
            added_p50_ms: self.added_ms().map(|a| a.0),
            added_p99_ms: self.added_ms().map(|a| a.1),
        })
        .unwrap_or_default()
    }
}

fn ratio(node: &Measured, base: Option<&Measured>) -> Option<f64> {
    base.filter(|b| b.rate > 0.0).map(|b| node.rate / b.rate)
}

/// `10s`, `2m`, `500ms` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (10s, 2m, 500ms)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("'{s}': the unit is ms, s, m or h")),
    };
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(format!("'{s}' must be more than zero"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("3d").is_err());
    }

    #[test]
    fn percentiles_and_rate() {
        let micros: Vec<u32> = (1..=1000).rev().map(|i| i * 1000).collect();
        let m = Measured::new("W1", 8, Duration::from_secs(2), micros, 3);
        assert_eq!(m.requests, 1000);
        assert_eq!(m.errors, 3);
        assert_eq!(m.rate, 500.0);
        assert_eq!((m.p50_ms, m.p99_ms, m.p999_ms), (500.0, 990.0, 999.0));
        let none = Measured::new("W1", 1, Duration::from_secs(1), vec![], 1);
        assert_eq!((none.rate, none.p99_ms), (0.0, 0.0));
    }

    #[test]
    fn report_formats() {
        let node = Measured::new("W1 node", 8, Duration::from_secs(1), vec![2000; 300], 0);
        let raw = Measured::new(
            "W1 raw store",
            8,
            Duration::from_secs(1),
            vec![1000; 600],
            0,
        );
        let r = Report {
            workload: "W1".into(),
            node,
            raw: Some(raw),
            empty: None,
            peers: None,
        };
        let text = r.text();
        assert!(text.lines().next().unwrap().starts_with("load"));
        assert!(text.contains("W1 node"), "{text}");
        assert!(text.contains("node/raw   0.50"), "{text}");
        assert!(!text.contains("node/empty"));
        let v: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(v["workload"], "W1");
        assert_eq!(v["node"]["requests"], 300);
        assert_eq!(v["node_per_raw"], 0.5);
        assert!(v["empty"].is_null() && v["node_per_empty"].is_null());
        assert!(v["added_p50_ms"].is_null());
    }

    #[test]
    fn w5_reports_what_the_node_adds_to_its_peers() {
        let node = Measured::new("W5 node", 8, Duration::from_secs(1), vec![5000; 100], 0);
        let peers = Measured::new(
            "W5 peers direct",
            8,
            Duration::from_secs(1),
            vec![3500; 100],
            0,
        );
        let r = Report {
            workload: "W5".into(),
            node,
            raw: None,
            empty: None,
            peers: Some(peers),
        };
        assert_eq!(r.added_ms(), Some((1.5, 1.5)));
        let text = r.text();
        assert!(text.contains("W5 peers direct"), "{text}");
        assert!(
            text.contains("node-peers p50 +1.50 ms, p99 +1.50 ms"),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(v["added_p50_ms"], 1.5);
        assert_eq!(v["peers"]["requests"], 100);
    }
}
