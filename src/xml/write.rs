//! Escaping for XML written with format strings.

use std::borrow::Cow;

pub fn esc_text(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

pub fn esc_attr(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, attr: bool) -> Cow<'_, str> {
    let needs =
        |c: char| matches!(c, '<' | '>' | '&') || (attr && matches!(c, '"' | '\n' | '\r' | '\t'));
    if !s.chars().any(needs) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' if attr => out.push_str("&#10;"),
            '\r' if attr => out.push_str("&#13;"),
            '\t' if attr => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        assert_eq!(super::esc_attr("a\"<&"), "a&quot;&lt;&amp;");
        assert_eq!(super::esc_text("plain"), "plain");
    }
}
