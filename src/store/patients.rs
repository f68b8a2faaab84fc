//! The patient index fed by ITI-8 and the CLI.

use super::schema::patients;
use super::DbConn;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Insertable, AsChangeset, PartialEq)]
#[diesel(table_name = patients)]
pub struct PatientRow {
    pub pid: String,
    pub family: Option<String>,
    pub given: Option<String>,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub updated_at: i64,
}

/// A name as it may be stored: tab and line breaks made spaces, every other control character
/// (C0, DEL, C1) dropped, and runs of whitespace made one space; `None` when nothing is left. Every way into the index (ITI-8, the
/// CLI) passes here, so no answer can carry a character that XML or HL7 cannot.
pub fn clean_name(name: Option<&str>) -> Option<String> {
    let kept: String = name?
        .chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect();
    let joined = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    (!joined.is_empty()).then_some(joined)
}

pub fn upsert(conn: &mut DbConn, p: &PatientRow) -> QueryResult<()> {
    let p = &PatientRow {
        family: clean_name(p.family.as_deref()),
        given: clean_name(p.given.as_deref()),
        ..p.clone()
    };
    let updated = diesel::update(patients::table.find(&p.pid))
        .set(p)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(patients::table)
            .values(p)
            .execute(conn)?;
    }
    Ok(())
}

pub fn exists(conn: &mut DbConn, pid: &str) -> QueryResult<bool> {
    patients::table
        .find(pid)
        .select(patients::pid)
        .first::<String>(conn)
        .optional()
        .map(|o| o.is_some())
}

pub fn get(conn: &mut DbConn, pid: &str) -> QueryResult<Option<PatientRow>> {
    patients::table.find(pid).first(conn).optional()
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    patients::table.count().get_result(conn)
}

#[cfg(test)]
mod tests {
    use super::clean_name;

    #[test]
    fn names_lose_control_characters_and_extra_space() {
        assert_eq!(
            clean_name(Some("Nord\u{0B}mann")).as_deref(),
            Some("Nordmann")
        );
        assert_eq!(
            clean_name(Some(" Kari\u{01}  Anne\t")).as_deref(),
            Some("Kari Anne")
        );
        assert_eq!(clean_name(Some("\u{85}\u{7F}")), None);
        assert_eq!(clean_name(Some("Ærø-Åsen")).as_deref(), Some("Ærø-Åsen"));
        assert_eq!(clean_name(None), None);
    }
}
