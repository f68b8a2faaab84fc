//! The most recent transactions, for the operator console: what was asked, by whom (the
//! caller's certificate, never a patient), how it ended and how long it took.

use std::collections::VecDeque;

/// How many the console keeps and shows.
pub const KEEP: usize = 50;

/// Labels coming from a certificate are cut to this many characters.
const MAX_LABEL: usize = 120;

#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// Unix milliseconds when the answer went out.
    pub at_ms: i64,
    pub endpoint: String,
    pub action: String,
    /// The caller's certificate CN (or subject), and its country when the certificate has one.
    pub caller: String,
    pub country: Option<String>,
    pub outcome: String,
    pub millis: u64,
}

#[derive(Default)]
pub struct Recent {
    ring: VecDeque<Transaction>,
}

impl Recent {
    pub fn push(&mut self, mut t: Transaction) {
        t.caller = cut(&t.caller);
        t.country = t.country.as_deref().map(cut);
        if self.ring.len() == KEEP {
            self.ring.pop_front();
        }
        self.ring.push_back(t);
    }

    /// Newest first.
    pub fn newest_first(&self) -> Vec<Transaction> {
        self.ring.iter().rev().cloned().collect()
    }
}

fn cut(s: &str) -> String {
    s.chars().take(MAX_LABEL).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(i: i64, caller: &str) -> Transaction {
        Transaction {
            at_ms: i,
            endpoint: "/xds/registry".into(),
            action: "a".into(),
            caller: caller.into(),
            country: None,
            outcome: "Success".into(),
            millis: 1,
        }
    }

    #[test]
    fn keeps_the_newest_and_bounds_labels() {
        let mut r = Recent::default();
        for i in 0..(KEEP as i64 + 10) {
            r.push(t(i, "x"));
        }
        let all = r.newest_first();
        assert_eq!(all.len(), KEEP);
        assert_eq!(all[0].at_ms, KEEP as i64 + 9);
        assert_eq!(all[KEEP - 1].at_ms, 10);
        r.push(t(0, &"y".repeat(5000)));
        assert_eq!(r.newest_first()[0].caller.len(), MAX_LABEL);
    }
}
