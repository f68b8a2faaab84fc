//! The XDS metadata's people and organisations (HL7 v2 XCN and XON) as OrCD header facts.

use super::header::{Ii, Org, Person};

/// XCN `id^family^given^...^^^&root&ISO`.
pub fn xcn(v: &str) -> Person {
    let f: Vec<&str> = v.split('^').collect();
    let part = |i: usize| {
        f.get(i)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let root = f
        .get(8)
        .and_then(|aa| aa.split('&').nth(1))
        .filter(|r| !r.is_empty());
    Person {
        id: match (part(0), root) {
            (Some(id), Some(root)) => Some(Ii {
                root: root.to_string(),
                extension: Some(id),
            }),
            _ => None,
        },
        family: part(1),
        given: part(2),
    }
}

/// XON `name^^^^^&oid&ISO^^^^id`.
pub fn xon(v: &str) -> Org {
    let f: Vec<&str> = v.split('^').collect();
    let name = f
        .first()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let root = f
        .get(5)
        .and_then(|aa| aa.split('&').nth(1))
        .filter(|r| !r.is_empty());
    let id = f.get(9).map(|s| s.trim()).filter(|s| !s.is_empty());
    Org {
        id: root.map(|r| Ii {
            root: r.to_string(),
            extension: id.map(str::to_string),
        }),
        name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_person_and_institution() {
        let p = xcn("9144900^Lin^Rita^^^^^^&2.16.578.1.12.4.1.4.4&ISO");
        assert_eq!(p.family.as_deref(), Some("Lin"));
        assert_eq!(p.given.as_deref(), Some("Rita"));
        assert_eq!(
            p.id,
            Some(Ii {
                root: "2.16.578.1.12.4.1.4.4".into(),
                extension: Some("9144900".into())
            })
        );
        let o = xon("Sørlandet sykehus HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974899");
        assert_eq!(o.name.as_deref(), Some("Sørlandet sykehus HF"));
        assert_eq!(o.id.map(|i| i.extension), Some(Some("983974899".into())));
        // a bare name: no id invented
        assert!(xon("Legekontoret").id.is_none());
        assert!(xcn("^Nordmann^Kari").id.is_none());
    }
}
