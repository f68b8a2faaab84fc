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

pub fn upsert(conn: &mut DbConn, p: &PatientRow) -> QueryResult<()> {
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
