//! Safe XML reading into a small namespace-aware tree, and escaping helpers for writing.
//! Every XML byte that comes from outside goes through `dom::parse`.

pub mod dom;
pub mod write;

pub use dom::{parse, Attr, Element, Limits, Node, XmlError};
pub use write::{esc_attr, esc_text};

/// The namespace bound to the `xml:` prefix.
pub const fn dom_xml_ns() -> &'static str {
    "http://www.w3.org/XML/1998/namespace"
}
