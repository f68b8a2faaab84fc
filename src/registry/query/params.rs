//! Stored-query parameters: the `'v'` / `('a','b')` value syntax, CE codes, times,
//! and the number checks.

use crate::ebxml::Slot;
use crate::xds::model::Code;
use crate::xds::{time, ErrorCode, XdsError};
use std::collections::HashMap;

/// Parameter name to its slots; each slot's values were OR'ed, repeated slots are AND'ed.
#[derive(Debug, Default)]
pub struct Params {
    map: HashMap<String, Vec<Vec<String>>>,
}

impl Params {
    pub fn parse(slots: &[Slot]) -> Result<Params, XdsError> {
        let mut map: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        for s in slots {
            let mut values = Vec::new();
            for v in &s.values {
                values.extend(
                    split_values(v).map_err(|why| {
                        XdsError::registry(format!("parameter {}: {why}", s.name))
                    })?,
                );
            }
            map.entry(s.name.clone()).or_default().push(values);
        }
        Ok(Params { map })
    }

    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// One slot only; its values as an OR list.
    pub fn list(&self, name: &str) -> Result<Option<Vec<String>>, XdsError> {
        match self.map.get(name).map(Vec::as_slice) {
            None => Ok(None),
            Some([one]) => Ok(Some(one.clone())),
            Some(_) => Err(param_number(format!(
                "parameter {name} may be given only once"
            ))),
        }
    }

    pub fn required_list(&self, name: &str) -> Result<Vec<String>, XdsError> {
        self.list(name)?.ok_or_else(|| missing(name))
    }

    /// Exactly one value.
    pub fn single(&self, name: &str) -> Result<Option<String>, XdsError> {
        match self.list(name)? {
            None => Ok(None),
            Some(v) if v.len() == 1 => Ok(v.into_iter().next()),
            Some(v) if v.is_empty() => {
                Err(XdsError::registry(format!("parameter {name} has no value")))
            }
            Some(_) => Err(param_number(format!(
                "parameter {name} takes a single value"
            ))),
        }
    }

    pub fn required_single(&self, name: &str) -> Result<String, XdsError> {
        self.single(name)?.ok_or_else(|| missing(name))
    }

    pub fn time(&self, name: &str) -> Result<Option<i64>, XdsError> {
        match self.single(name)? {
            None => Ok(None),
            Some(v) => time::dtm_to_i64(&v).map(Some).ok_or_else(|| {
                XdsError::registry(format!("parameter {name}: '{v}' is not a valid DTM"))
            }),
        }
    }

    pub fn time_range(&self, from: &str, to: &str) -> Result<(Option<i64>, Option<i64>), XdsError> {
        Ok((self.time(from)?, self.time(to)?))
    }

    /// Codes in CE form `code^^scheme` as one OR list.
    pub fn codes(&self, name: &str) -> Result<Option<Vec<Code>>, XdsError> {
        self.list(name)?
            .map(|v| v.iter().map(|c| parse_ce(name, c)).collect())
            .transpose()
    }

    /// Codes where repeated slots are AND'ed: each inner list is one OR group.
    pub fn code_groups(&self, name: &str) -> Result<Vec<Vec<Code>>, XdsError> {
        self.map
            .get(name)
            .map(|groups| {
                groups
                    .iter()
                    .map(|g| g.iter().map(|c| parse_ce(name, c)).collect())
                    .collect()
            })
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    /// `$MetadataLevel`: 1 (the default) hides what only a Metadata Update aware consumer
    /// understands; 2 shows every version.
    pub fn metadata_level(&self) -> Result<u8, XdsError> {
        match self.single("$MetadataLevel")?.as_deref().map(str::trim) {
            None | Some("1") => Ok(1),
            Some("2") => Ok(2),
            Some(other) => Err(XdsError::registry(format!(
                "$MetadataLevel must be 1 or 2, not '{other}'"
            ))),
        }
    }

    /// Exactly one of two alternative parameters (e.g. EntryUUID or UniqueId).
    pub fn one_of(&self, a: &str, b: &str) -> Result<(bool, Vec<String>), XdsError> {
        match (self.list(a)?, self.list(b)?) {
            (Some(v), None) => Ok((true, nonempty(a, v)?)),
            (None, Some(v)) => Ok((false, nonempty(b, v)?)),
            (Some(_), Some(_)) => Err(param_number(format!(
                "parameters {a} and {b} may not both be given"
            ))),
            (None, None) => Err(XdsError::new(
                ErrorCode::StoredQueryMissingParam,
                format!("one of {a} or {b} is required"),
            )),
        }
    }
}

fn nonempty(name: &str, v: Vec<String>) -> Result<Vec<String>, XdsError> {
    if v.is_empty() {
        Err(missing(name))
    } else {
        Ok(v)
    }
}

pub fn missing(name: &str) -> XdsError {
    XdsError::new(
        ErrorCode::StoredQueryMissingParam,
        format!("required parameter {name} is missing"),
    )
}

pub fn param_number(why: String) -> XdsError {
    XdsError::new(ErrorCode::StoredQueryParamNumber, why)
}

fn parse_ce(name: &str, v: &str) -> Result<Code, XdsError> {
    let parts: Vec<&str> = v.split('^').collect();
    match parts.as_slice() {
        [code, _, scheme] if !code.is_empty() && !scheme.is_empty() => Ok(Code {
            code: code.to_string(),
            scheme: scheme.to_string(),
        }),
        _ => Err(XdsError::registry(format!(
            "parameter {name}: '{v}' is not a coded value in CE form code^^codingScheme"
        ))),
    }
}

/// `'a'`, `('a', 'b')`, `20041224` or `(1, 2)` into plain values; `''` inside quotes is a quote.
pub fn split_values(raw: &str) -> Result<Vec<String>, String> {
    let s = raw.trim();
    let inner = match s.strip_prefix('(') {
        Some(rest) => rest
            .strip_suffix(')')
            .ok_or_else(|| format!("unbalanced parentheses in {s}"))?,
        None => s,
    };
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        let mut item = String::new();
        if c == '\'' {
            chars.next();
            loop {
                match chars.next() {
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        item.push('\'');
                    }
                    Some('\'') => break,
                    Some(ch) => item.push(ch),
                    None => return Err(format!("unterminated quote in {s}")),
                }
            }
        } else {
            while let Some(&ch) = chars.peek() {
                if ch == ',' {
                    break;
                }
                item.push(ch);
                chars.next();
            }
            item = item.trim().to_string();
        }
        out.push(item);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => break,
            Some(',') => continue,
            Some(other) => return Err(format!("unexpected '{other}' in {s}")),
        }
    }
    Ok(out)
}

/// SQL LIKE semantics (% and _) for authorPerson matching, case-sensitive.
pub fn like(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    // Iterative matcher with backtracking on the last %.
    let (mut i, mut j) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while j < v.len() {
        if i < p.len() && (p[i] == '_' || p[i] == v[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '%' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    while i < p.len() && p[i] == '%' {
        i += 1;
    }
    i == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_values() {
        assert_eq!(split_values("'a'").unwrap(), vec!["a"]);
        assert_eq!(split_values("('a', 'b''c')").unwrap(), vec!["a", "b'c"]);
        assert_eq!(split_values("20041224").unwrap(), vec!["20041224"]);
        assert!(split_values("('a'").is_err());
        assert!(split_values("'a").is_err());
    }

    #[test]
    fn ce_and_like() {
        assert!(parse_ce("x", "DEMO^^1.2").is_ok());
        assert!(parse_ce("x", "a^^").is_err());
        assert!(parse_ce("x", "Dialysis").is_err());
        assert!(like("%Ford%", "^Ford^Henry"));
        assert!(like("a_c", "abc"));
        assert!(!like("a_c", "abbc"));
    }
}
