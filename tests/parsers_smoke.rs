//! Deterministic mutation smoke test for the wire parsers: mutated envelopes, MTOM bodies and
//! stored-query values must give an error or a value, never a panic. (fuzz/ has the
//! coverage-guided targets for cargo fuzz.)

use bytes::Bytes;
use ncpeh::soap::mtom::{self, ContentType};

/// Enough to hit edge cases in well under a second per test.
const ITERATIONS: usize = 30_000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(v.len() + 1);
        match rng.below(4) {
            0 if at < v.len() => v[at] = rng.next() as u8,
            1 if at < v.len() => {
                v.remove(at);
            }
            2 => {
                const SPECIAL: &[u8] = b"<>&;\"'=/:^(),%\r\n-";
                v.insert(at, SPECIAL[rng.below(SPECIAL.len())])
            }
            _ => {
                let end = (at + rng.below(16)).min(v.len());
                let chunk: Vec<u8> = v[at..end].to_vec();
                v.splice(at..at, chunk);
            }
        }
    }
    v
}

const ENVELOPE: &str = r#"<?xml version="1.0"?><e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><e:Header><a:Action>urn:ihe:iti:2007:RegistryStoredQuery</a:Action><a:MessageID>urn:uuid:1</a:MessageID></e:Header><e:Body><q:AdhocQueryRequest xmlns:q="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:r="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><q:ResponseOption returnType="LeafClass"/><r:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"><r:Slot name="$XDSDocumentEntryPatientId"><r:ValueList><r:Value>'1^^^&amp;1.2&amp;ISO'</r:Value></r:ValueList></r:Slot></r:AdhocQuery></q:AdhocQueryRequest></e:Body></e:Envelope>"#;

#[test]
fn mutated_envelopes_never_panic() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut parsed = 0;
    for _ in 0..ITERATIONS {
        let m = mutate(&mut rng, ENVELOPE.as_bytes());
        if let Ok(req) = ncpeh::soap::decode_request(&m, None, Default::default()) {
            parsed += 1;
            let _ = ncpeh::ebxml::query::parse_adhoc_query(&req.body);
            let _ = ncpeh::ebxml::parse_submit_objects(&req.body);
        }
    }
    assert!(
        parsed > 0,
        "some mutations must still parse, or the test mutates nothing useful"
    );
}

#[test]
fn mutated_mtom_bodies_never_panic() {
    let body = "--b\r\nContent-Type: application/xop+xml\r\nContent-ID: <r@x>\r\n\r\n<env/>\r\n--b\r\nContent-ID: <d1@x>\r\n\r\nHELLO\r\n--b--\r\n";
    let ct = ContentType::parse("multipart/related; boundary=b; start=\"<r@x>\"");
    let mut rng = Rng(42);
    let mut ok = 0;
    for _ in 0..ITERATIONS {
        let m = mutate(&mut rng, body.as_bytes());
        if mtom::decode(&ct, Bytes::from(m)).is_ok() {
            ok += 1;
        }
        let cts = mutate(
            &mut rng,
            b"multipart/related; boundary=\"b\"; start=\"<r@x>\"",
        );
        let _ = ContentType::parse(&String::from_utf8_lossy(&cts));
    }
    assert!(ok > 0);
}

#[test]
fn mutated_query_values_never_panic() {
    let mut rng = Rng(7);
    for _ in 0..ITERATIONS {
        let m = mutate(&mut rng, b"('a^^1.2', 'b''c', 20041224)");
        let s = String::from_utf8_lossy(&m);
        let _ = ncpeh::registry::query::params::split_values(&s);
        let _ = ncpeh::registry::query::params::like(&s, "^Hansen^Ola");
    }
}

#[test]
fn mutated_hl7v2_feed_messages_never_panic() {
    use ncpeh::feed::hl7v2::{build_ack, classify, decode_text, parse_header, parse_patient};
    use ncpeh::hl7v3::AckCode;
    let msg = "MSH|^~\\&|EHR|HF|NCPEH|NO|20240101120000||ADT^A01^ADT_A01|MSG1|P|2.3.1\rEVN||20240101120000\rPID|||12345678901^^^&2.16.578.1.12.4.1.4.1&ISO~X^^^LOCAL||Nordmann^Kari||19800101|F\r";
    let mut rng = Rng(99);
    let mut ok = 0;
    for _ in 0..ITERATIONS {
        let m = mutate(&mut rng, msg.as_bytes());
        let text = decode_text(&m);
        match parse_header(&text) {
            Ok(h) => {
                let _ = classify(&h);
                if parse_patient(&text, &h.encoding).is_ok() {
                    ok += 1;
                }
                let _ = build_ack(Some(&h), AckCode::Accept, "ok");
            }
            Err(_) => {
                let _ = build_ack(None, AckCode::Reject, "bad");
            }
        }
    }
    assert!(ok > 0);
}

#[test]
fn mutated_xcpd_queries_never_panic() {
    let q = r#"<PRPA_IN201305UV02 xmlns="urn:hl7-org:v3"><id root="1.2" extension="m"/><receiver><device><id root="2.16.578.1.12.4.5.10.1"/></device></receiver><controlActProcess><queryByParameter><queryId root="1" extension="q"/><parameterList><livingSubjectId><value root="2.16.578.1.12.4.1.4.1" extension="21014605158"/></livingSubjectId><livingSubjectName><value><given>Kari</given><family>Nordmann</family></value></livingSubjectName><livingSubjectBirthTime><value value="19460121"/></livingSubjectBirthTime></parameterList></queryByParameter></controlActProcess></PRPA_IN201305UV02>"#;
    let mut rng = Rng(1234);
    for _ in 0..ITERATIONS {
        let m = mutate(&mut rng, q.as_bytes());
        if let Ok(root) = ncpeh::xml::parse(&m, Default::default()) {
            let _ = ncpeh::hl7v3::parse::header(&root);
            let _ = ncpeh::hl7v3::parse::parse_query(&root);
        }
    }
}
