//! W4's requests: ITI-41 with one document by MTOM (NHN-shaped metadata, the hash and size of
//! the bytes sent), and ITI-43 for the same document.

use super::entries::submission;
use crate::ids::action;
use crate::soap::envelope::encode_request;
use crate::soap::mtom::{self, Attachment};
use bytes::Bytes;
use sha1::{Digest, Sha1};

/// The document W4 sends: `size` bytes of text, the same for every request.
pub fn document(size: usize) -> Bytes {
    let line = b"Epikrise: pasienten ble utskrevet i god form, kontroll om tre uker.\n";
    Bytes::from(line.iter().copied().cycle().take(size).collect::<Vec<u8>>())
}

/// What a document is: its mimeType and formatCode.
pub struct Kind {
    pub mime: &'static str,
    pub format: &'static str,
}

/// W4's documents: the bench metadata's own mimeType and formatCode.
pub const PDF: Kind = Kind {
    mime: "application/pdf",
    format: "urn:ihe:iti:xds:2017:mimeTypeSufficient",
};

/// An ITI-41 request registering `doc` as `uid` for `pid`: (Content-Type, body chunks).
pub fn provide(
    url: &str,
    pid: &str,
    seed: u64,
    repo: &str,
    uid: &str,
    doc: &Bytes,
    kind: &Kind,
) -> (String, Vec<Bytes>) {
    let meta = submission(pid, 1, seed, repo, |_| uid.to_string())
        .replacen(
            &format!("mimeType=\"{}\"", PDF.mime),
            &format!("mimeType=\"{}\"", kind.mime),
            1,
        )
        .replacen(
            &format!("nodeRepresentation=\"{}\"", PDF.format),
            &format!("nodeRepresentation=\"{}\"", kind.format),
            1,
        );
    let meta = set_slot(&meta, "hash", &hex::encode(Sha1::digest(doc)));
    let meta = set_slot(&meta, "size", &doc.len().to_string());
    let cid = mtom::content_id(0);
    let body = format!(
        "<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb=\"urn:ihe:iti:xds-b:2007\">{meta}<xdsb:Document id=\"Document000\"><xop:Include xmlns:xop=\"http://www.w3.org/2004/08/xop/include\" href=\"cid:{cid}\"/></xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>"
    );
    let env = encode_request(action::PROVIDE_AND_REGISTER, url, &message_id(), &body);
    let part = Attachment {
        content_id: cid,
        mime_type: kind.mime.into(),
        data: doc.clone(),
    };
    mtom::encode(action::PROVIDE_AND_REGISTER, env, vec![part])
}

/// An ITI-43 request for document `uid` of repository `repo`: the SOAP envelope.
pub fn retrieve(url: &str, repo: &str, uid: &str) -> String {
    let body = format!(
        "<xdsb:RetrieveDocumentSetRequest xmlns:xdsb=\"urn:ihe:iti:xds-b:2007\"><xdsb:DocumentRequest><xdsb:RepositoryUniqueId>{repo}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>{uid}</xdsb:DocumentUniqueId></xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>"
    );
    encode_request(action::RETRIEVE, url, &message_id(), &body)
}

fn message_id() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

/// `xml` with the first value of slot `name` replaced.
fn set_slot(xml: &str, name: &str, value: &str) -> String {
    let open = format!("<rim:Slot name=\"{name}\"><rim:ValueList><rim:Value>");
    let Some(start) = xml.find(&open).map(|i| i + open.len()) else {
        return xml.to_string();
    };
    let Some(len) = xml[start..].find("</rim:Value>") else {
        return xml.to_string();
    };
    format!("{}{value}{}", &xml[..start], &xml[start + len..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_carries_the_hash_and_size_of_the_bytes_sent() {
        let doc = document(1000);
        assert_eq!(doc.len(), 1000);
        let (ct, chunks) = provide(
            "https://n/xds/repository",
            "01010112345^^^&2.16.578.1.12.4.1.4.1&ISO",
            7,
            "1.2.3",
            "2.25.9",
            &doc,
            &PDF,
        );
        assert!(ct.starts_with("multipart/related;"), "{ct}");
        let all: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        let text = String::from_utf8_lossy(&all);
        let sha = hex::encode(Sha1::digest(&doc));
        assert!(text.contains(&format!(
            "<rim:Slot name=\"hash\"><rim:ValueList><rim:Value>{sha}</rim:Value>"
        )));
        assert!(text.contains("<rim:Slot name=\"size\"><rim:ValueList><rim:Value>1000</rim:Value>"));
        assert!(text.contains("2.25.9"));
        assert_eq!(set_slot("<x/>", "hash", "1"), "<x/>");
        let ips = Kind {
            mime: "application/fhir+json",
            format: "urn:ihe:pcc:ips:2020",
        };
        let (_, chunks) = provide(
            "https://n/xds/repository",
            "01010112345^^^&2.16.578.1.12.4.1.4.1&ISO",
            7,
            "1.2.3",
            "2.25.9",
            &doc,
            &ips,
        );
        let all: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        let text = String::from_utf8_lossy(&all);
        assert!(
            text.contains("mimeType=\"application/fhir+json\"")
                && !text.contains("application/pdf")
        );
        assert!(text.contains("nodeRepresentation=\"urn:ihe:pcc:ips:2020\""));
    }
}
