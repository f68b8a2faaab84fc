//! Which eHDSI pivot documents in the repository were translated from which Norwegian source
//! (DocumentEntry uniqueId). Lookups by either column's index.

use super::remove::delete_documents;
use super::schema::pivot_sources;
use super::{chunked, each_chunk, DbConn};
use diesel::prelude::*;
use std::collections::HashSet;

/// Notes that `pivot_uid` was made from `source_uid` (again: a pivot is content-addressed, so
/// the same translation is the same row).
pub fn record(conn: &mut DbConn, pivot_uid: &str, source_uid: &str) -> QueryResult<()> {
    let known: i64 = pivot_sources::table
        .filter(pivot_sources::pivot_uid.eq(pivot_uid))
        .count()
        .get_result(conn)?;
    if known == 0 {
        diesel::insert_into(pivot_sources::table)
            .values((
                pivot_sources::pivot_uid.eq(pivot_uid),
                pivot_sources::source_uid.eq(source_uid),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Of `uids`, those that are pivot documents.
pub fn pivots_among(conn: &mut DbConn, uids: &[String]) -> QueryResult<HashSet<String>> {
    Ok(chunked(uids, |chunk| {
        pivot_sources::table
            .filter(pivot_sources::pivot_uid.eq_any(chunk))
            .select(pivot_sources::pivot_uid)
            .load::<String>(conn)
    })?
    .into_iter()
    .collect())
}

/// Deletes the pivots made from these sources, their bytes included; returns how many went.
/// Called whenever a source is deprecated, gets a new version, or is removed.
pub fn forget_sources(conn: &mut DbConn, source_uids: &[String]) -> QueryResult<usize> {
    if source_uids.is_empty() {
        return Ok(0);
    }
    let pivots: Vec<String> = chunked(source_uids, |chunk| {
        pivot_sources::table
            .filter(pivot_sources::source_uid.eq_any(chunk))
            .select(pivot_sources::pivot_uid)
            .load::<String>(conn)
    })?;
    if pivots.is_empty() {
        return Ok(0);
    }
    delete_documents(conn, &pivots)?;
    each_chunk(&pivots, |chunk| {
        diesel::delete(pivot_sources::table.filter(pivot_sources::pivot_uid.eq_any(chunk)))
            .execute(conn)
    })
}
