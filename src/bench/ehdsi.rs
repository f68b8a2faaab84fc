//! W6: the eHDSI Patient Summary query on /xca, sent as a foreign contact point sends it: over
//! the foreign certificate of the dev PKI (`foreign-se`), with an HCP assertion and a TRC
//! assertion for the patient signed by that country's issuer. The node finds the patient's IPS
//! and translates it to the PS pivot CDA on every query. Before measuring, each patient used
//! gets an IPS through ITI-41 (national certificate), under a uniqueId of its own, so a second
//! run finds it already there. The baseline is the translation alone, in this process.

use super::drive::{run, soap_type, succeeded, Population, Rng, Target};
use super::entries::patient_id;
use super::report::Measured;
use crate::ids::action;
use crate::ids::ehdsi::{PS_CLASS, PS_FORMAT};
use crate::ids::oid::LOINC;
use crate::registry::query::FIND_DOCUMENTS;
use crate::saml::issue::{ehdsi_security, Professional, Signer};
use crate::soap::envelope::encode_secured_request;
use crate::transport::client::HttpsClient;
use bytes::Bytes;
use hyper::Method;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// At most this many patients get an IPS and assertions (signing is the client's own work).
pub const MAX_PATIENTS: u64 = 200;

/// The uniqueId of bench patient `i`'s IPS.
pub fn ips_unique_id(i: u64) -> String {
    format!("2.25.{}", 800_000_000_000_000u64 + i)
}

/// The fødselsnummer part of bench patient `i`'s id.
fn fnr(i: u64) -> String {
    patient_id(i)
        .split('^')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// What the measured requests need: per patient, its id and security header.
pub struct Prepared {
    patients: Vec<(String, Arc<String>)>,
    foreign: Arc<rustls::ClientConfig>,
}

/// Registers an IPS for each patient W6 uses and signs their assertions. `valid` is how long
/// the assertions must last (warm-up and measurement).
pub async fn prepare(
    t: &Target,
    pki: &Path,
    pop: Population,
    valid: Duration,
) -> Result<Prepared, String> {
    let n = pop.patients.min(MAX_PATIENTS);
    let national = HttpsClient::new(t.tls.clone(), Duration::from_secs(60));
    let signer = Signer::from_files(&pki.join("issuer-se.pem"), &pki.join("issuer-se.key"))
        .map_err(|e| format!("the SE assertion issuer in {}: {e}", pki.display()))?;
    let foreign = crate::transport::tls::client_config(
        &pki.join("ca.pem"),
        Some((&pki.join("foreign-se.pem"), &pki.join("foreign-se.key"))),
    )
    .map_err(|e| format!("the foreign-se certificate in {}: {e}", pki.display()))?;
    let who = Professional {
        valid_secs: i64::try_from(valid.as_secs())
            .unwrap_or(3600)
            .saturating_add(300),
        ..Professional::default()
    };
    let now = time::OffsetDateTime::now_utc();
    let mut patients = Vec::new();
    for i in pop.first..pop.first + n {
        let pid = patient_id(i);
        provide_ips(&national, t, i, &pid).await?;
        let sec =
            ehdsi_security(&signer, &who, Some(&pid), None, now).map_err(|e| e.to_string())?;
        patients.push((pid, Arc::new(sec)));
    }
    Ok(Prepared { patients, foreign })
}

/// ITI-41 with the patient's IPS; a uniqueId registered by an earlier run is fine.
async fn provide_ips(client: &HttpsClient, t: &Target, i: u64, pid: &str) -> Result<(), String> {
    let doc = Bytes::from(super::ips::bundle(i, &fnr(i)));
    let kind = super::documents::Kind {
        mime: "application/fhir+json",
        format: "urn:ihe:pcc:ips:2020",
    };
    let (ct, chunks) = super::documents::provide(
        &t.repository_url,
        pid,
        i,
        &t.repository_uid,
        &ips_unique_id(i),
        &doc,
        &kind,
    );
    let r = client
        .request(Method::POST, &t.repository_url, Some(&ct), chunks)
        .await
        .map_err(|e| format!("ITI-41 of an IPS: {e}"))?;
    let dup = memchr::memmem::find(&r.body, b"XDSDuplicateUniqueIdInRegistry").is_some();
    if r.status == 200 && (succeeded(&r.body) || dup) {
        return Ok(());
    }
    let head = String::from_utf8_lossy(&r.body[..r.body.len().min(2000)]).to_string();
    Err(format!(
        "ITI-41 of patient {i}'s IPS was refused ({}): {head}",
        r.status
    ))
}

/// The PS FindDocuments of eHDSI: the patient, Approved, class 60591-5.
fn ps_query(pid: &str) -> String {
    format!(
        "<query:AdhocQueryRequest xmlns:query=\"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0\" xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\"><query:ResponseOption returnComposedObjects=\"true\" returnType=\"LeafClass\"/><rim:AdhocQuery id=\"{FIND_DOCUMENTS}\"><rim:Slot name=\"$XDSDocumentEntryPatientId\"><rim:ValueList><rim:Value>'{}'</rim:Value></rim:ValueList></rim:Slot><rim:Slot name=\"$XDSDocumentEntryStatus\"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot><rim:Slot name=\"$XDSDocumentEntryClassCode\"><rim:ValueList><rim:Value>('{PS_CLASS}^^{LOINC}')</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>",
        crate::xml::esc_text(pid)
    )
}

/// The node: each turn is one PS query; it counts when the answer is Success and offers a PS.
pub async fn node(
    t: &Target,
    prep: &Prepared,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Measured {
    let url = format!("{}/xca", t.base.trim_end_matches('/'));
    run(connections, warmup, duration, |i| {
        let client = HttpsClient::new(prep.foreign.clone(), Duration::from_secs(60));
        let url = url.clone();
        let patients = prep.patients.clone();
        let mut rng = Rng(0xbb67_ae85_84ca_a73b ^ (i as u64 + 1));
        move || {
            let (pid, sec) = &patients[rng.below(patients.len() as u64) as usize];
            let msg = format!("urn:uuid:{}", uuid::Uuid::new_v4());
            let env =
                encode_secured_request(action::XC_QUERY, &url, &msg, Some(sec), &ps_query(pid));
            let (client, url) = (client.clone(), url.clone());
            async move {
                let r = client
                    .request(
                        Method::POST,
                        &url,
                        Some(&soap_type(action::XC_QUERY)),
                        vec![Bytes::from(env)],
                    )
                    .await;
                r.is_ok_and(|r| {
                    r.status == 200
                        && succeeded(&r.body)
                        && memchr::memmem::find(&r.body, PS_FORMAT.as_bytes()).is_some()
                })
            }
        }
    })
    .await
    .labelled("W6 node")
}

/// The baseline: IPS -> PS translation of the same bundles, in this process, off the async
/// workers as the node does it.
pub async fn translation(
    pop: Population,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Measured {
    let n = pop.patients.min(MAX_PATIENTS);
    let bundles: Arc<Vec<Vec<u8>>> = Arc::new(
        (pop.first..pop.first + n)
            .map(|i| super::ips::bundle(i, &fnr(i)))
            .collect(),
    );
    run(connections, warmup, duration, |i| {
        let bundles = bundles.clone();
        let mut rng = Rng(0x3c6e_f372_fe94_f82b ^ (i as u64 + 1));
        move || {
            let k = rng.below(bundles.len() as u64) as usize;
            let bundles = bundles.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    let term = crate::translate::Terminology::builtin();
                    crate::translate::ips_to_ps(&bundles[k], term, &Default::default()).is_ok()
                })
                .await
                .unwrap_or(false)
            }
        }
    })
    .await
    .labelled("W6 translation")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ps_query_names_the_patient_and_the_ps_class() {
        let q = ps_query(&patient_id(3));
        let root = crate::xml::parse(q.as_bytes(), Default::default()).expect("well-formed");
        let req = crate::ebxml::query::parse_adhoc_query(&root).expect("an AdhocQueryRequest");
        assert_eq!(
            crate::gateway::ehdsi::ehdsi_request(&req).map(|r| r.pid),
            Some(patient_id(3)),
            "the node's eHDSI path takes it as a PS query"
        );
        assert_eq!(fnr(3), "10000000003");
        assert_ne!(ips_unique_id(1), ips_unique_id(2));
    }
}
