//! Writing a document front to back into a String, for output that is built once (pivot CDA,
//! M10 records). Escaping goes through [`super::write`], like every other XML the node writes.

use super::write::{esc_attr, esc_text};

#[derive(Default)]
pub struct XmlWriter {
    pub s: String,
}

impl XmlWriter {
    /// A document with the XML declaration.
    pub fn new() -> Self {
        let mut s = String::with_capacity(32 * 1024);
        s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        XmlWriter { s }
    }

    fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.s.push('<');
        self.s.push_str(name);
        for (k, v) in attrs {
            self.s.push(' ');
            self.s.push_str(k);
            self.s.push_str("=\"");
            self.s.push_str(&esc_attr(v));
            self.s.push('"');
        }
    }

    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.s.push('>');
    }

    pub fn close(&mut self, name: &str) {
        self.s.push_str("</");
        self.s.push_str(name);
        self.s.push('>');
    }

    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.s.push_str("/>");
    }

    pub fn text(&mut self, t: &str) {
        self.s.push_str(&esc_text(t));
    }

    /// `<name attrs>text</name>`
    pub fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.open(name, attrs);
        self.text(text);
        self.close(name);
    }

    /// Markup the caller has already written safely.
    pub fn raw(&mut self, xml: &str) {
        self.s.push_str(xml);
    }

    pub fn template(&mut self, root: &str) {
        self.empty("templateId", &[("root", root)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_escaped_and_well_formed() {
        let mut w = XmlWriter::new();
        w.open("a", &[("k", "\"x\"\u{1}")]);
        w.leaf("b", &[], "1 < 2\u{b}");
        w.close("a");
        assert!(w.s.ends_with("<a k=\"&quot;x&quot;\"><b>1 &lt; 2</b></a>"));
        assert!(crate::xml::parse(w.s.as_bytes(), Default::default()).is_ok());
    }
}
