//! Syslog messages as ATNA sends them: RFC 5424 with the AuditMessage as MSG, framed by octet
//! counting for TLS (RFC 5425 §4.3: `MSG-LEN SP SYSLOG-MSG`).

use super::store::Queued;
use super::{from_millis, rfc3339};

/// Facility 10 (security/authorization) as DICOM PS3.15 A.6/A.7 asks; severity 5 (notice) for
/// successes, 4 (warning) for failures.
fn pri(outcome: i16) -> u8 {
    10 * 8 + if outcome == 0 { 5 } else { 4 }
}

/// MSGID for audit messages (IHE ITI TF-2, Record Audit Event).
const MSGID: &str = "IHE+RFC-3881";

/// UTF-8 MSG starts with a BOM (RFC 5424 §6.4).
const BOM: &str = "\u{FEFF}";

/// The sender's fields of the header.
#[derive(Debug, Clone)]
pub struct Sender {
    pub hostname: String,
    pub app_name: String,
    pub procid: String,
}

impl Sender {
    pub fn new(hostname: &str) -> Sender {
        Sender {
            hostname: field(hostname, 255),
            app_name: "ncpeh".into(),
            procid: std::process::id().to_string(),
        }
    }
}

/// A header field: printable US-ASCII without spaces, at most `max` long; `-` when empty.
fn field(v: &str, max: usize) -> String {
    let s: String = v
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if s.is_empty() {
        "-".into()
    } else {
        s
    }
}

/// One framed message for the record `q`.
pub fn frame(sender: &Sender, q: &Queued) -> Vec<u8> {
    let msg = format!(
        "<{}>1 {} {} {} {} {MSGID} - {BOM}{}",
        pri(q.outcome),
        rfc3339(from_millis(q.event_time)),
        sender.hostname,
        sender.app_name,
        sender.procid,
        q.xml
    );
    let mut out = format!("{} ", msg.len()).into_bytes();
    out.extend_from_slice(msg.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_count_octets_and_carry_the_xml() {
        let q = Queued {
            seq: 7,
            event_time: 1_700_000_000_123,
            outcome: 8,
            xml: "<AuditMessage>ø</AuditMessage>".into(),
        };
        let s = Sender::new("ncp.example.no");
        let f = frame(&s, &q);
        let text = String::from_utf8(f).expect("utf-8");
        let (len, msg) = text.split_once(' ').expect("length prefix");
        assert_eq!(len.parse::<usize>().ok(), Some(msg.len()));
        assert!(msg.starts_with("<84>1 2023-11-14T22:13:20.123Z ncp.example.no ncpeh "));
        assert!(msg.contains(" IHE+RFC-3881 - \u{FEFF}<AuditMessage>"));
        assert_eq!(field("a b\u{7f}c", 255), "abc");
        assert_eq!(field("", 255), "-");
    }
}
