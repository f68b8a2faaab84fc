//! Patients' refusals of an exchange, recorded by `ncpeh patient consent`. Every lookup is by
//! primary key (patient id, scope).

use super::schema::consent_denials;
use super::{chunked, DbConn};
use diesel::prelude::*;
use std::collections::HashSet;

/// What a patient may refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The eHDSI (MyHealth@EU) exchange: nothing about the patient is given to a foreign
    /// contact point.
    Ehdsi,
}

impl Scope {
    pub const ALL: [Scope; 1] = [Scope::Ehdsi];

    /// The stored and command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Ehdsi => "ehdsi",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// Records a refusal at `at` (unix seconds); an existing one keeps its first time. Returns
/// whether it is new.
pub fn deny(conn: &mut DbConn, pid: &str, scope: Scope, at: i64) -> QueryResult<bool> {
    if denied_at(conn, pid, scope)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(consent_denials::table)
        .values((
            consent_denials::patient_id.eq(pid),
            consent_denials::scope.eq(scope.name()),
            consent_denials::denied_at.eq(at),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Takes a refusal back; returns whether there was one.
pub fn allow(conn: &mut DbConn, pid: &str, scope: Scope) -> QueryResult<bool> {
    let n = diesel::delete(consent_denials::table.find((pid, scope.name()))).execute(conn)?;
    Ok(n > 0)
}

/// When the patient refused, if they did.
pub fn denied_at(conn: &mut DbConn, pid: &str, scope: Scope) -> QueryResult<Option<i64>> {
    consent_denials::table
        .find((pid, scope.name()))
        .select(consent_denials::denied_at)
        .first(conn)
        .optional()
}

/// The patients among `pids` who refused `scope`.
pub fn denied(conn: &mut DbConn, pids: &[String], scope: Scope) -> QueryResult<HashSet<String>> {
    let rows = chunked(pids, |chunk| {
        consent_denials::table
            .filter(consent_denials::patient_id.eq_any(chunk))
            .filter(consent_denials::scope.eq(scope.name()))
            .select(consent_denials::patient_id)
            .load::<String>(conn)
    })?;
    Ok(rows.into_iter().collect())
}
