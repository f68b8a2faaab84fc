//! Patient identifiers in HL7 CX form as XDS uses them: `ID^^^&OID&ISO`.

/// Checks the XDS form: an id, then exactly `^^^&<oid>&ISO`.
pub fn validate(pid: &str) -> Result<(), String> {
    let (id, rest) = pid
        .split_once("^^^")
        .ok_or_else(|| format!("patient id '{pid}' is not of the form ID^^^&OID&ISO"))?;
    if id.is_empty() || id.contains('^') || id.contains('&') {
        return Err(format!(
            "patient id '{pid}' has an empty or invalid ID component"
        ));
    }
    let parts: Vec<&str> = rest.split('&').collect();
    match parts.as_slice() {
        ["", oid, "ISO"] if is_oid(oid) => Ok(()),
        _ => Err(format!(
            "patient id '{pid}' must name its assigning authority as &OID&ISO"
        )),
    }
}

pub fn is_oid(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The assigning authority OID of a valid CX id.
pub fn authority(pid: &str) -> Option<&str> {
    pid.split_once("^^^&")
        .and_then(|(_, r)| r.split('&').next())
}

#[cfg(test)]
mod tests {
    #[test]
    fn validates() {
        assert!(super::validate("12345678901^^^&2.16.578.1.12.4.1.4.1&ISO").is_ok());
        assert!(super::validate("123^^^&1.2&ISO&x").is_err());
        assert!(super::validate("123").is_err());
        assert!(super::validate("^^^&1.2&ISO").is_err());
        assert_eq!(super::authority("1^^^&1.2.3&ISO"), Some("1.2.3"));
    }
}
