//! The node's one XML reader and one writer. Every XML byte that comes from outside goes through
//! [`parse`] (or [`parse_with`]); everything the node writes is escaped by [`write`].

pub mod builder;
pub mod dom;
pub mod parse;
pub mod write;

pub use builder::XmlWriter;
pub use dom::{Attr, Element, Node, XML, XMLNS};
pub use parse::{parse, parse_with, Limits, Options, XmlError};
pub use write::{esc_attr, esc_text, fix_namespaces, serialize};
