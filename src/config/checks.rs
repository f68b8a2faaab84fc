//! Checks of single values, named in the `section!` declarations. Each returns the message for
//! the operator; the key is added by the caller.
// A check takes the field's own type (`&String` too), so that `opt(check)` fits `Option<String>`.
#![allow(clippy::ptr_arg)]

use std::time::Duration;

type Check = Result<(), String>;

/// Applies a check to the value of an optional setting, if it is set.
pub fn opt<T>(check: impl Fn(&T) -> Check) -> impl Fn(&Option<T>) -> Check {
    move |v| v.as_ref().map_or(Ok(()), &check)
}

/// A count or size that must reach `min` (zero connections or a zero-byte limit make no sense).
pub fn at_least<T: Copy + PartialOrd + std::fmt::Display>(min: T) -> impl Fn(&T) -> Check {
    move |v| {
        if *v >= min {
            Ok(())
        } else {
            Err(format!("must be at least {min}"))
        }
    }
}

pub fn seconds(v: &Duration) -> Check {
    if v.is_zero() {
        Err("must be at least 1 second".into())
    } else {
        Ok(())
    }
}

/// `host:port` as `TcpListener::bind` takes it: an IP address or a host name, and a port.
pub fn listen_addr(v: &String) -> Check {
    let bad = || Err(format!("must be host:port, e.g. 127.0.0.1:8443, not {v:?}"));
    if v.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(());
    }
    let Some((host, port)) = v.rsplit_once(':') else {
        return bad();
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if host_ok && port.parse::<u16>().is_ok() {
        Ok(())
    } else {
        bad()
    }
}

/// The endpoints of peers and of a remote registry: outbound calls are mutual TLS only.
pub fn https_url(v: &String) -> Check {
    match v.parse::<http::Uri>() {
        Ok(u) if u.scheme_str() == Some("https") && u.host().is_some_and(|h| !h.is_empty()) => {
            Ok(())
        }
        _ => Err(format!("must be an https URL, not {v:?}")),
    }
}

/// `tls://host[:port]` of a syslog collector as (host, port); 6514 is syslog over TLS.
pub fn tls_target(v: &str) -> Option<(String, u16)> {
    let u = v.parse::<http::Uri>().ok()?;
    let host = u.host().filter(|h| !h.is_empty())?;
    let plain = u.path().is_empty() || u.path() == "/";
    (u.scheme_str() == Some("tls") && plain && u.query().is_none()).then(|| {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        (host.to_string(), u.port_u16().unwrap_or(6514))
    })
}

pub fn syslog_url(v: &String) -> Check {
    match tls_target(v) {
        Some(_) => Ok(()),
        None => Err(format!(
            "must be tls://host:port, e.g. tls://audit.example.no:6514, not {v:?}"
        )),
    }
}

pub fn non_empty(v: &String) -> Check {
    if v.trim().is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(())
    }
}

/// The base URL written into served WSDLs: endpoint paths are appended to it.
pub fn base_url(v: &String) -> Check {
    https_url(v)?;
    if v.ends_with('/') || v.contains('?') {
        return Err(format!(
            "must be a base URL without a trailing '/' or query, e.g. https://ncp.example.no, not {v:?}"
        ));
    }
    Ok(())
}

/// An OID: arcs of digits separated by dots.
#[allow(clippy::ptr_arg)]
pub fn country_code(v: &String) -> Check {
    if v.len() == 2 && v.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!(
            "must be a two-letter ISO 3166 code such as NO, not \"{v}\""
        ))
    }
}

pub fn oid(v: &String) -> Check {
    if is_oid(v) {
        Ok(())
    } else {
        Err(format!(
            "must be an OID (digits and dots), e.g. 2.16.578.1.12.4.5.10.1.1, not {v:?}"
        ))
    }
}

/// A homeCommunityId: `urn:oid:` and an OID.
pub fn urn_oid(v: &String) -> Check {
    if v.strip_prefix("urn:oid:").is_some_and(is_oid) {
        Ok(())
    } else if v.is_empty() {
        Err("must be set, as urn:oid:<OID>".into())
    } else {
        Err(format!(
            "must be urn:oid:<OID>, e.g. urn:oid:2.16.578.1.12.4.5.10.1, not {v:?}"
        ))
    }
}

fn is_oid(v: &str) -> bool {
    !v.is_empty()
        && v.split('.')
            .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()))
}

/// `postgres://...`, `sqlite://path` or a plain SQLite path (anything else would be taken for
/// a file name).
pub fn database_url(v: &String) -> Check {
    if v.is_empty() {
        return Err("must not be empty (leave it out for the SQLite default)".into());
    }
    match v.split_once("://") {
        Some(("postgres" | "postgresql" | "sqlite", _)) | None => Ok(()),
        Some(_) => Err(format!(
            "must be postgres://..., sqlite://<path> or a file path, not {v:?}"
        )),
    }
}

/// How much Metadata Update the registry takes: "full" (ITI-57 and ITI-92), "restricted"
/// (ITI-92 only) or "off".
pub fn metadata_update(v: &String) -> Check {
    match v.as_str() {
        "full" | "restricted" | "off" => Ok(()),
        other => Err(format!(
            "{other:?} is none of \"full\", \"restricted\", \"off\""
        )),
    }
}

const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// A tracing filter whose every directive names a level: `info` or `info,ncpeh::gateway=debug`.
/// A bare word that is no level would silently become a target filter that logs nothing else.
pub fn log_level(v: &String) -> Check {
    let bad = |why: String| Err(format!("{why}; e.g. \"info\" or \"warn,ncpeh=debug\""));
    for d in v.split(',').map(str::trim) {
        let level = d.rsplit_once('=').map_or(d, |(_, l)| l);
        if !LEVELS.iter().any(|l| l.eq_ignore_ascii_case(level)) {
            return bad(format!("{d:?} names no level ({})", LEVELS.join(", ")));
        }
    }
    match tracing_subscriber::EnvFilter::try_new(v) {
        Ok(_) => Ok(()),
        Err(e) => bad(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_value_checks() {
        let s = |v: &str| v.to_string();
        assert!(listen_addr(&s("127.0.0.1:8443")).is_ok());
        assert!(listen_addr(&s("[::1]:0")).is_ok());
        assert!(listen_addr(&s("localhost:2575")).is_ok());
        assert!(listen_addr(&s("127.0.0.1")).is_err());
        assert!(listen_addr(&s("127.0.0.1:99999")).is_err());
        assert!(https_url(&s("https://127.0.0.1:9/xds/registry")).is_ok());
        assert!(https_url(&s("http://ncp.example.se/xca")).is_err());
        assert!(https_url(&s("ncp.example.se/xca")).is_err());
        assert!(base_url(&s("https://ncp.example.no/")).is_err());
        assert!(urn_oid(&s("urn:oid:2.16.578.1.12.4.5.10.1")).is_ok());
        assert!(urn_oid(&s("2.16.578.1.12.4.5.10.1")).is_err());
        assert!(urn_oid(&s("urn:oid:1..2")).is_err());
        assert!(oid(&s("123")).is_ok());
        assert!(oid(&s("1.2.x")).is_err());
        assert!(database_url(&s("postgres://ncpeh@db/ncpeh")).is_ok());
        assert!(database_url(&s("data/ncpeh.db")).is_ok());
        assert!(database_url(&s("mysql://db/ncpeh")).is_err());
        assert!(log_level(&s("info")).is_ok());
        assert!(log_level(&s("warn,ncpeh::gateway=debug")).is_ok());
        assert!(log_level(&s("inf")).is_err());
        assert!(log_level(&s("")).is_err());
        assert!(at_least(1usize)(&0).is_err());
        assert!(seconds(&Duration::ZERO).is_err());
        assert!(opt(https_url)(&None).is_ok());
        assert_eq!(
            tls_target("tls://audit.example.no:6515"),
            Some(("audit.example.no".into(), 6515))
        );
        assert_eq!(tls_target("tls://[::1]"), Some(("::1".into(), 6514)));
        assert!(syslog_url(&s("https://audit.example.no:6514")).is_err());
        assert!(syslog_url(&s("tls://audit.example.no:6514/x")).is_err());
        assert!(syslog_url(&s("audit.example.no:6514")).is_err());
        assert!(non_empty(&s(" ")).is_err());
    }
}
