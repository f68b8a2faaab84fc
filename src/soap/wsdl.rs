//! The documents that describe an endpoint: its WSDL, answered at `<path>?wsdl`, and the XML
//! schemas the WSDL imports, answered at `<path>?xsd=<name>`. The files refer to each other
//! by file name (`schemaLocation="xsd/rs.xsd"` in a WSDL, `"rim.xsd"` in a schema); when
//! served, each such location becomes the absolute URL of that schema on the same endpoint,
//! so that a SOAP tool chain pointed at `?wsdl` can load every import.

use super::Endpoint;

/// One XML schema an endpoint serves, by the file name its documents import it under.
#[derive(Debug)]
pub struct Schema {
    pub name: &'static str,
    pub text: &'static str,
}

/// What a GET on an endpoint asks for, from its query string.
#[derive(Debug, PartialEq, Eq)]
pub enum Described<'a> {
    Wsdl,
    Xsd(&'a str),
}

impl<'a> Described<'a> {
    /// `wsdl` or `xsd=<name>` (the keys in any case); None for any other query.
    pub fn from_query(query: &'a str) -> Option<Described<'a>> {
        if query.eq_ignore_ascii_case("wsdl") {
            return Some(Described::Wsdl);
        }
        let (key, name) = query.split_once('=')?;
        key.eq_ignore_ascii_case("xsd")
            .then_some(Described::Xsd(name))
    }
}

/// The endpoint's WSDL with `{{BASE_URL}}` and its schema locations made absolute.
pub fn wsdl(endpoint: &Endpoint, base_url: &str) -> String {
    let text = endpoint.wsdl.replace("{{BASE_URL}}", base_url);
    resolve_locations(&text, endpoint, base_url)
}

/// The schema `name` of the endpoint with its own imports made absolute; None when the
/// endpoint serves no schema of that name.
pub fn schema(endpoint: &Endpoint, name: &str, base_url: &str) -> Option<String> {
    let s = endpoint.schemas.iter().find(|s| s.name == name)?;
    Some(resolve_locations(s.text, endpoint, base_url))
}

/// Replaces every `schemaLocation="…/<name>"` whose last segment is a schema of the endpoint
/// by `<base_url><path>?xsd=<name>`. Other locations are left as written.
fn resolve_locations(text: &str, endpoint: &Endpoint, base_url: &str) -> String {
    const ATTR: &str = "schemaLocation=\"";
    let mut out = String::with_capacity(text.len() + 512);
    let mut rest = text;
    while let Some(at) = rest.find(ATTR) {
        let (head, tail) = rest.split_at(at + ATTR.len());
        out.push_str(head);
        let Some(end) = tail.find('"') else {
            rest = tail;
            break;
        };
        let location = &tail[..end];
        let name = location.rsplit('/').next().unwrap_or(location);
        match endpoint.schemas.iter().find(|s| s.name == name) {
            Some(s) => {
                out.push_str(base_url);
                out.push_str(endpoint.path);
                out.push_str("?xsd=");
                out.push_str(s.name);
            }
            None => out.push_str(location),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soap::Access;

    const SCHEMAS: &[Schema] = &[
        Schema {
            name: "a.xsd",
            text: r#"<s><import schemaLocation="b.xsd"/><import schemaLocation="http://x/c.xsd"/></s>"#,
        },
        Schema {
            name: "b.xsd",
            text: "<s/>",
        },
    ];

    const EP: Endpoint = Endpoint {
        path: "/e",
        wsdl: r#"<d><import schemaLocation="xsd/a.xsd"/><address location="{{BASE_URL}}/e"/></d>"#,
        schemas: SCHEMAS,
        actions: &[],
        access: Access::National { xds: false },
    };

    #[test]
    fn locations_become_urls_of_the_same_endpoint() {
        assert_eq!(
            wsdl(&EP, "https://h:1"),
            r#"<d><import schemaLocation="https://h:1/e?xsd=a.xsd"/><address location="https://h:1/e"/></d>"#
        );
        assert_eq!(
            schema(&EP, "a.xsd", "https://h:1").as_deref(),
            Some(
                r#"<s><import schemaLocation="https://h:1/e?xsd=b.xsd"/><import schemaLocation="http://x/c.xsd"/></s>"#
            )
        );
        assert_eq!(schema(&EP, "nosuch.xsd", "https://h:1"), None);
        assert_eq!(schema(&EP, "../a.xsd", "https://h:1"), None);
    }

    #[test]
    fn queries() {
        assert_eq!(Described::from_query("WSDL"), Some(Described::Wsdl));
        assert_eq!(
            Described::from_query("xsd=rs.xsd"),
            Some(Described::Xsd("rs.xsd"))
        );
        assert_eq!(Described::from_query("xsd"), None);
        assert_eq!(Described::from_query("a=b"), None);
    }

    #[test]
    fn an_unclosed_attribute_is_kept() {
        assert_eq!(
            resolve_locations(r#"<x schemaLocation="a.xsd"#, &EP, "https://h"),
            r#"<x schemaLocation="a.xsd"#
        );
    }
}
