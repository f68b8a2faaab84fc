//! Testkit files are read with the node's one XML reader, keeping their layout (prefixes,
//! namespace declarations, whitespace), because the runner rewrites them and sends them on as
//! written.

pub use ncpeh::xml::{fix_namespaces, Element, Node, XmlError};
use ncpeh::xml::{parse_with, Limits, Options};

/// Testkit files are a dozen levels deep at most; 256 leaves room for step logs.
const LIMITS: Limits = Limits {
    max_depth: 256,
    max_elements: 2_000_000,
    max_bytes: 256 * 1024 * 1024,
};

pub fn parse(input: &str) -> Result<Element, XmlError> {
    parse_with(
        input.as_bytes(),
        Options {
            limits: LIMITS,
            keep_layout: true,
        },
    )
}

/// Escaped for an attribute value or text.
pub fn escape(s: &str) -> String {
    ncpeh::xml::esc_attr(s).into_owned()
}

/// What testplan values mean: all text below the element, trimmed.
pub trait TrimmedText {
    fn trimmed_text(&self) -> String;
}

impl TrimmedText for Element {
    fn trimmed_text(&self) -> String {
        self.deep_text().trim().to_string()
    }
}
