//! `ncpeh document submit`: a Document Source for a health trust. It builds the XDS metadata
//! of one document from flags or a TOML template, sends ITI-41 over mTLS (MTOM), and says in
//! plain words what the registry answered.

pub mod metadata;

use crate::config::Config;
use crate::ids::action;
use crate::soap::envelope::encode_request;
use crate::soap::mtom::{self, Attachment};
use crate::transport::client::{decode_soap_reply, HttpsClient};
use crate::transport::tls::client_config;
use bytes::Bytes;
use metadata::{Code, Spec};
use sha1::{Digest, Sha1};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

const RS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0";
const SUCCESS: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success";

#[derive(clap::Args, Debug, Default)]
pub struct SubmitArgs {
    /// The document to send (PDF, CDA/XML, PNG, JPEG, ...).
    pub file: PathBuf,
    /// The patient: a fødselsnummer, or a CX (NNN^^^&OID&ISO).
    #[arg(long)]
    pub patient: String,
    /// classCode: CODE[^DISPLAY[^SYSTEM]] (system default Volven 9602), e.g. A00-1^Epikriser og sammenfatninger
    #[arg(long)]
    pub class: Option<String>,
    /// typeCode, as --class (Volven 9602), e.g. A03-2^Epikrise
    #[arg(long = "type")]
    pub type_code: Option<String>,
    /// confidentialityCode (Volven 9603; default N)
    #[arg(long)]
    pub confidentiality: Option<String>,
    /// healthcareFacilityTypeCode (Volven 1303)
    #[arg(long)]
    pub facility: Option<String>,
    /// practiceSettingCode (Volven 8653)
    #[arg(long)]
    pub practice: Option<String>,
    /// formatCode CODE^DISPLAY^SYSTEM (default urn:ihe:iti:xds:2017:mimeTypeSufficient)
    #[arg(long)]
    pub format: Option<String>,
    /// The document's title
    #[arg(long)]
    pub title: Option<String>,
    /// languageCode (default nb-NO)
    #[arg(long)]
    pub language: Option<String>,
    /// mimeType (default: from the file's first bytes)
    #[arg(long)]
    pub mime: Option<String>,
    /// The author as an XCN, e.g. 9144900^Lin^Rita^^^^^^&2.16.578.1.12.4.1.4.4&ISO
    #[arg(long)]
    pub author: Option<String>,
    /// The author's institution as an XON
    #[arg(long)]
    pub institution: Option<String>,
    /// The SubmissionSet's sourceId (the trust's OID)
    #[arg(long)]
    pub source_id: Option<String>,
    /// A TOML file with any of the keys above (class, type, confidentiality, facility, practice,
    /// format, title, language, author, institution, source_id, to); flags win over it.
    #[arg(long)]
    pub template: Option<PathBuf>,
    /// The repository's ITI-41 URL (default: this node's, https://LISTEN/xds/repository)
    #[arg(long)]
    pub to: Option<String>,
    /// Client certificate and key (PEM; default: the node's own from [tls])
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// The CA that signed the repository's certificate (default: the node's trust anchors)
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Seconds to wait for the answer
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

/// The template's keys: the same as the flags.
#[derive(serde::Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct Template {
    class: Option<String>,
    #[serde(rename = "type")]
    type_code: Option<String>,
    confidentiality: Option<String>,
    facility: Option<String>,
    practice: Option<String>,
    format: Option<String>,
    title: Option<String>,
    language: Option<String>,
    author: Option<String>,
    institution: Option<String>,
    source_id: Option<String>,
    to: Option<String>,
}

/// The media type of a document by its first bytes.
fn sniff(data: &[u8]) -> &'static str {
    if data.starts_with(b"%PDF-") {
        "application/pdf"
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if data.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if data.trim_ascii_start().starts_with(b"<") || data.starts_with(&[0xff, 0xfe]) {
        "text/xml"
    } else {
        "application/octet-stream"
    }
}

fn new_oid() -> String {
    format!("2.25.{}", uuid::Uuid::new_v4().as_u128())
}

/// The metadata from the flags over the template; every missing key is named at once.
fn spec(a: &SubmitArgs, t: Template, data: &[u8]) -> Result<Spec, String> {
    let mut missing = Vec::new();
    let mut problems = Vec::new();
    let mut code = |flag: &Option<String>,
                    tpl: Option<String>,
                    key: &str,
                    system: &str,
                    default: Option<&str>| {
        match flag.clone().or(tpl).or(default.map(str::to_string)) {
            Some(text) => match Code::parse(&text, system) {
                Ok(c) => Some(c),
                Err(e) => {
                    problems.push(format!("{key}: {e}"));
                    None
                }
            },
            None => {
                missing.push(key.to_string());
                None
            }
        }
    };
    let class = code(&a.class, t.class, "class", metadata::VOLVEN_9602, None);
    let type_code = code(
        &a.type_code,
        t.type_code,
        "type",
        metadata::VOLVEN_9602,
        None,
    );
    let confidentiality = code(
        &a.confidentiality,
        t.confidentiality,
        "confidentiality",
        metadata::VOLVEN_9603,
        Some("N^Normal"),
    );
    let facility = code(
        &a.facility,
        t.facility,
        "facility",
        metadata::VOLVEN_1303,
        None,
    );
    let practice = code(
        &a.practice,
        t.practice,
        "practice",
        metadata::VOLVEN_8653,
        None,
    );
    let format = match a.format.clone().or(t.format) {
        Some(f) => {
            Code::parse(&f, "1.3.6.1.4.1.19376.1.2.3").map_err(|e| format!("format: {e}"))?
        }
        None => metadata::mime_sufficient(),
    };
    let source_id = a.source_id.clone().or(t.source_id);
    if source_id.is_none() {
        missing.push("source_id".into());
    }
    if !missing.is_empty() || !problems.is_empty() {
        let mut why = Vec::new();
        if !missing.is_empty() {
            why.push(format!(
                "missing {} (give them as flags or in --template)",
                missing.join(", ")
            ));
        }
        why.extend(problems);
        return Err(why.join("; "));
    }
    let patient = metadata::patient_cx(&a.patient);
    crate::xds::cx::validate(&patient).map_err(|e| format!("--patient: {e}"))?;
    let title = a
        .title
        .clone()
        .or(t.title)
        .or_else(|| a.file.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let (
        Some(class),
        Some(type_code),
        Some(confidentiality),
        Some(facility),
        Some(practice),
        Some(source_id),
    ) = (
        class,
        type_code,
        confidentiality,
        facility,
        practice,
        source_id,
    )
    else {
        return Err("incomplete metadata".into());
    };
    Ok(Spec {
        patient,
        class,
        type_code,
        format,
        confidentiality,
        facility,
        practice,
        title,
        language: a
            .language
            .clone()
            .or(t.language)
            .unwrap_or_else(|| "nb-NO".into()),
        mime: a.mime.clone().unwrap_or_else(|| sniff(data).into()),
        author: a.author.clone().or(t.author),
        institution: a.institution.clone().or(t.institution),
        source_id,
        unique_id: new_oid(),
        set_unique_id: new_oid(),
        creation: crate::xds::time::now_dtm(),
        hash: hex::encode(Sha1::digest(data)),
        size: data.len(),
    })
}

/// What the registry answered, in words: (accepted, lines to print).
fn report(body: &crate::xml::Element, s: &Spec) -> (bool, Vec<String>) {
    let ok = body.attr("status") == Some(SUCCESS);
    let mut lines = Vec::new();
    if ok {
        lines.push(format!(
            "registered: document {} for patient {} ({} / {})",
            s.unique_id, s.patient, s.class.code, s.type_code.code
        ));
    } else {
        lines.push(format!("refused: document {} was not stored", s.unique_id));
    }
    for e in body.descendants_named(RS, "RegistryError") {
        let severity = e
            .attr("severity")
            .and_then(|v| v.rsplit(':').next())
            .unwrap_or("Error");
        lines.push(format!(
            "  {severity}: {}: {}{}",
            e.attr("errorCode").unwrap_or("?"),
            e.attr("codeContext").unwrap_or_default(),
            e.attr("location")
                .map(|l| format!(" (at {l})"))
                .unwrap_or_default()
        ));
    }
    (ok, lines)
}

fn read_template(path: Option<&Path>) -> Result<Template, String> {
    let Some(p) = path else {
        return Ok(Template::default());
    };
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}

async fn send(
    cfg: &Config,
    a: &SubmitArgs,
    s: &Spec,
    url: &str,
    data: Bytes,
) -> Result<(bool, Vec<String>), String> {
    let ca = a.ca.clone().unwrap_or_else(|| cfg.ca_path());
    let (cert, key) = match (&a.cert, &a.key) {
        (Some(c), Some(k)) => (c.clone(), k.clone()),
        _ => (cfg.cert_path(), cfg.key_path()),
    };
    let tls = client_config(&ca, Some((&cert, &key))).map_err(|e| e.to_string())?;
    let client = HttpsClient::new(tls, Duration::from_secs(a.timeout));
    let meta = metadata::submit_objects(s, &crate::xds::time::now_dtm());
    let cid = mtom::content_id(0);
    let body = format!(
        "<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb=\"urn:ihe:iti:xds-b:2007\">{meta}<xdsb:Document id=\"Document01\"><xop:Include xmlns:xop=\"http://www.w3.org/2004/08/xop/include\" href=\"cid:{cid}\"/></xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>"
    );
    let message_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let env = encode_request(action::PROVIDE_AND_REGISTER, url, &message_id, &body);
    let part = Attachment {
        content_id: cid,
        mime_type: s.mime.clone(),
        data,
    };
    let (ct, chunks) = mtom::encode(action::PROVIDE_AND_REGISTER, env, vec![part]);
    let reply = client
        .request(hyper::Method::POST, url, Some(&ct), chunks)
        .await
        .map_err(|e| e.to_string())?;
    let r = decode_soap_reply(reply).map_err(|e| e.to_string())?;
    if let Some(f) = r.fault {
        return Ok((false, vec![format!("refused with a SOAP fault: {f}")]));
    }
    Ok(report(&r.body, s))
}

/// Exit 0 when the registry accepted the document, 1 when it refused it, 2 when nothing was
/// sent or no answer came.
pub fn run(cfg: &Config, a: SubmitArgs) -> ExitCode {
    let fail = |why: String| {
        eprintln!("ncpeh document submit: {why}");
        ExitCode::from(2)
    };
    let data = match std::fs::read(&a.file) {
        Ok(d) => d,
        Err(e) => return fail(format!("{}: {e}", a.file.display())),
    };
    let t = match read_template(a.template.as_deref()) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let to = a.to.clone().or(t.to.clone());
    let s = match spec(&a, t, &data) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let url = to.unwrap_or_else(|| format!("{}/xds/repository", cfg.public_url()));
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(e.to_string()),
    };
    match rt.block_on(send(cfg, &a, &s, &url, Bytes::from(data))) {
        Ok((ok, lines)) => {
            for l in lines {
                println!("{l}");
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail(format!("{url}: {e}")),
    }
}
