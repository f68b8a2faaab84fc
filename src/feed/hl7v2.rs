//! Just enough HL7 v2 (ER7 encoding) for ITI-8: the MSH header, the PID segment, and the ACK.
//! No I/O here; every function takes text and returns values.

use std::borrow::Cow;

use super::FeedPatient;
use crate::hl7v3::AckCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Hl7Error {
    #[error("message does not start with an MSH segment")]
    NoMsh,
    #[error("MSH-1/MSH-2 do not declare usable encoding characters")]
    BadEncoding,
    #[error("MSH-10 message control id is empty")]
    NoControlId,
    #[error("unsupported message type {0}")]
    Unsupported(String),
    #[error("ADT^A40 merge is not supported")]
    MergeUnsupported,
    #[error("no PID segment")]
    NoPid,
    #[error("PID-3 has no identifier with an assigning authority universal id")]
    NoPatientId,
}

/// The ADT trigger events ITI-8 feeds carry and this node applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdtEvent {
    Admit,
    Register,
    Update,
}

/// Delimiters declared in MSH-1 and MSH-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    pub field: char,
    pub component: char,
    pub repetition: char,
    pub escape: char,
    pub subcomponent: char,
}

impl Default for Encoding {
    fn default() -> Self {
        Encoding {
            field: '|',
            component: '^',
            repetition: '~',
            escape: '\\',
            subcomponent: '&',
        }
    }
}

impl Encoding {
    fn msh2(&self) -> String {
        [
            self.component,
            self.repetition,
            self.escape,
            self.subcomponent,
        ]
        .iter()
        .collect()
    }
}

/// The MSH fields the node reads. Application/facility fields are kept as raw (still escaped)
/// text: the ACK copies them back verbatim with the same delimiters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub encoding: Encoding,
    pub sending_application: String,
    pub sending_facility: String,
    pub receiving_application: String,
    pub receiving_facility: String,
    pub message_code: String,
    pub trigger_event: String,
    pub control_id: String,
    pub processing_id: String,
    pub version: String,
}

impl Header {
    /// "ADT^A01" style, for logs and error texts.
    pub fn message_type(&self) -> String {
        let t: String = format!("{}^{}", self.message_code, self.trigger_event);
        t.chars().take(40).collect()
    }
}

/// HL7 v2 text is often ISO-8859-1 (Norwegian names); anything that is not UTF-8 is read as
/// Latin-1, which maps every byte to a character and so never fails.
pub fn decode_text(raw: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(raw) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(raw.iter().map(|&b| char::from(b)).collect()),
    }
}

/// Segments split on CR, LF or CRLF; blank lines dropped.
fn segments(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\r', '\n']).filter(|s| !s.trim().is_empty())
}

pub fn parse_header(text: &str) -> Result<Header, Hl7Error> {
    let msh = segments(text).next().ok_or(Hl7Error::NoMsh)?;
    let rest = msh.strip_prefix("MSH").ok_or(Hl7Error::NoMsh)?;
    let field = rest.chars().next().ok_or(Hl7Error::BadEncoding)?;
    let mut fields = rest[field.len_utf8()..].split(field);
    // MSH-2 may carry a fifth (truncation) character since v2.7; it is not used here.
    let enc: Vec<char> = fields.next().unwrap_or_default().chars().collect();
    if enc.len() < 4 || enc.len() > 5 {
        return Err(Hl7Error::BadEncoding);
    }
    let encoding = Encoding {
        field,
        component: enc[0],
        repetition: enc[1],
        escape: enc[2],
        subcomponent: enc[3],
    };
    let mut seen = vec![field];
    for &c in &enc[..4] {
        if seen.contains(&c) {
            return Err(Hl7Error::BadEncoding);
        }
        seen.push(c);
    }
    if seen
        .iter()
        .any(|c| c.is_alphanumeric() || c.is_whitespace() || c.is_control())
    {
        return Err(Hl7Error::BadEncoding);
    }
    // fields now yields MSH-3, MSH-4, ...
    let f: Vec<&str> = fields.collect();
    let get = |n: usize| f.get(n - 3).copied().unwrap_or_default().to_owned();
    let msh9 = get(9);
    let mut msg_type = msh9.split(encoding.component);
    let code = msg_type.next().unwrap_or_default();
    let trigger = msg_type.next().unwrap_or_default();
    Ok(Header {
        sending_application: get(3),
        sending_facility: get(4),
        receiving_application: get(5),
        receiving_facility: get(6),
        message_code: unescape(code, &encoding).trim().to_owned(),
        trigger_event: unescape(trigger, &encoding).trim().to_owned(),
        control_id: get(10),
        processing_id: get(11),
        version: get(12),
        encoding,
    })
}

/// Which of the supported feed events this message is, or why it is refused.
pub fn classify(header: &Header) -> Result<AdtEvent, Hl7Error> {
    if header.control_id.trim().is_empty() {
        return Err(Hl7Error::NoControlId);
    }
    if !header.message_code.eq_ignore_ascii_case("ADT") {
        return Err(Hl7Error::Unsupported(header.message_type()));
    }
    match header.trigger_event.to_ascii_uppercase().as_str() {
        "A01" => Ok(AdtEvent::Admit),
        "A04" => Ok(AdtEvent::Register),
        "A08" => Ok(AdtEvent::Update),
        "A40" => Err(Hl7Error::MergeUnsupported),
        _ => Err(Hl7Error::Unsupported(header.message_type())),
    }
}

/// Reads the first PID segment into a [`FeedPatient`].
pub fn parse_patient(text: &str, enc: &Encoding) -> Result<FeedPatient, Hl7Error> {
    let pid = segments(text)
        .find(|s| {
            s.strip_prefix("PID")
                .is_some_and(|r| r.starts_with(enc.field))
        })
        .ok_or(Hl7Error::NoPid)?;
    let fields: Vec<&str> = pid.split(enc.field).collect();
    let field = |n: usize| fields.get(n).copied().unwrap_or_default();

    let mut ids = Vec::new();
    for rep in field(3).split(enc.repetition) {
        if let Some(id) = normalise_cx(rep, enc) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    if ids.is_empty() {
        return Err(Hl7Error::NoPatientId);
    }

    let name = field(5).split(enc.repetition).next().unwrap_or_default();
    let mut name_parts = name.split(enc.component);
    // XPN.1 is itself composite (surname & prefixes) from v2.3 on: the surname comes first.
    let family = name_parts
        .next()
        .and_then(|c| c.split(enc.subcomponent).next());
    let given = name_parts.next();

    let birth: String = first_component(field(7), enc).chars().take(8).collect();
    let birth_date =
        (!birth.is_empty() && birth.chars().all(|c| c.is_ascii_digit())).then_some(birth);

    Ok(FeedPatient {
        ids,
        family: value(family.unwrap_or_default(), enc),
        given: value(given.unwrap_or_default(), enc),
        birth_date,
        gender: value(first_component(field(8), enc), enc),
    })
}

/// One PID-3 repetition to `ID^^^&OID&TYPE`; None without an id or an assigning authority OID.
fn normalise_cx(rep: &str, enc: &Encoding) -> Option<String> {
    let comps: Vec<&str> = rep.split(enc.component).collect();
    let id = unescape(comps.first()?, enc).trim().to_owned();
    let authority: Vec<&str> = comps.get(3)?.split(enc.subcomponent).collect();
    let uid = unescape(authority.get(1)?, enc).trim().to_owned();
    let uid_type = authority
        .get(2)
        .map(|t| unescape(t, enc).trim().to_owned())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "ISO".to_owned());
    // The normalised form uses the standard delimiters; ids holding them cannot be expressed.
    let clean = |s: &str| !s.is_empty() && !s.contains(['^', '&', '~', '|', '\\']);
    (clean(&id) && clean(&uid) && clean(&uid_type)).then(|| format!("{id}^^^&{uid}&{uid_type}"))
}

fn first_component<'a>(field: &'a str, enc: &Encoding) -> &'a str {
    field
        .split(enc.repetition)
        .next()
        .and_then(|r| r.split(enc.component).next())
        .unwrap_or_default()
}

/// Unescaped, trimmed text; empty and the HL7 explicit null `""` become None.
fn value(raw: &str, enc: &Encoding) -> Option<String> {
    let v = unescape(raw, enc).trim().to_owned();
    (!v.is_empty() && v != "\"\"").then_some(v)
}

/// Resolves the delimiter escapes (\F\ \S\ \T\ \R\ \E\); formatting and hex escapes are dropped.
pub fn unescape(raw: &str, enc: &Encoding) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find(enc.escape) {
        out.push_str(&rest[..start]);
        let after = &rest[start + enc.escape.len_utf8()..];
        let Some(end) = after.find(enc.escape) else {
            // An unterminated escape is taken literally.
            out.push_str(&rest[start..]);
            return out;
        };
        match &after[..end] {
            "F" => out.push(enc.field),
            "S" => out.push(enc.component),
            "T" => out.push(enc.subcomponent),
            "R" => out.push(enc.repetition),
            "E" => out.push(enc.escape),
            _ => {}
        }
        rest = &after[end + enc.escape.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// Escapes free text for one field; line breaks and control characters become spaces.
pub fn escape(text: &str, enc: &Encoding) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let code = match c {
            c if c == enc.escape => Some('E'),
            c if c == enc.field => Some('F'),
            c if c == enc.component => Some('S'),
            c if c == enc.subcomponent => Some('T'),
            c if c == enc.repetition => Some('R'),
            _ => None,
        };
        match code {
            Some(code) => {
                out.push(enc.escape);
                out.push(code);
                out.push(enc.escape);
            }
            None if c.is_control() => out.push(' '),
            None => out.push(c),
        }
    }
    out
}

/// An ACK for `header` (or a bare one when the MSH itself was unreadable). MSA-3 carries `text`.
pub fn build_ack(header: Option<&Header>, code: AckCode, text: &str) -> String {
    let enc = header.map(|h| h.encoding).unwrap_or_default();
    let (f, c) = (enc.field, enc.component);
    let pick =
        |v: Option<&str>, default: &str| v.filter(|s| !s.is_empty()).unwrap_or(default).to_owned();
    let send_app = pick(header.map(|h| h.sending_application.as_str()), "");
    let send_fac = pick(header.map(|h| h.sending_facility.as_str()), "");
    let recv_app = pick(header.map(|h| h.receiving_application.as_str()), "NCPEH");
    let recv_fac = pick(header.map(|h| h.receiving_facility.as_str()), "");
    let processing = pick(header.map(|h| h.processing_id.as_str()), "P");
    let version = pick(header.map(|h| h.version.as_str()), "2.5");
    let control = pick(header.map(|h| h.control_id.as_str()), "");
    let trigger = header
        .map(|h| escape(&h.trigger_event, &enc))
        .unwrap_or_default();
    let msg_type = if trigger.is_empty() {
        "ACK".to_owned()
    } else {
        format!("ACK{c}{trigger}{c}ACK")
    };
    // MSA-3 is an 80 character ST in v2.3.
    let text: String = text.chars().take(80).collect();
    format!(
        "MSH{f}{enc2}{f}{recv_app}{f}{recv_fac}{f}{send_app}{f}{send_fac}{f}{ts}{f}{f}{msg_type}{f}{id}{f}{processing}{f}{version}\r\
         MSA{f}{code}{f}{control}{f}{text}\r",
        enc2 = enc.msh2(),
        ts = timestamp(),
        id = new_control_id(),
        code = code.code(),
        text = escape(&text, &enc),
    )
}

fn timestamp() -> String {
    let fmt = time::macros::format_description!("[year][month][day][hour][minute][second]");
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_default()
}

/// 20 hex characters: unique enough and within the v2.3 ST(20) of MSH-10.
fn new_control_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..20].to_owned()
}
