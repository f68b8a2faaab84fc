//! Storage: diesel over SQLite (embedded default) or PostgreSQL, behind one connection type.

pub mod conn;
pub mod consent;
pub mod dispensations;
pub mod documents;
mod group;
mod one_of;
pub mod packed;
pub mod patients;
pub mod pivots;
pub mod registry;
pub mod remove;
pub mod schema;
mod small_int;

pub use conn::{DbConn, Store, StoreError};

use diesel::QueryResult;

/// Keys (or rows) bound per statement: with at most 25 columns a row (an audit record), below
/// SQLite's 32766 and PostgreSQL's 65535 bind parameters.
const CHUNK: usize = 500;

/// Runs `query` once per slice of at most `CHUNK` items and joins the rows it returns.
fn chunked<T, R>(
    items: &[T],
    mut query: impl FnMut(&[T]) -> QueryResult<Vec<R>>,
) -> QueryResult<Vec<R>> {
    let mut out = Vec::new();
    for chunk in items.chunks(CHUNK) {
        out.extend(query(chunk)?);
    }
    Ok(out)
}

/// Runs `statement` once per slice of at most `CHUNK` items; returns the rows it touched.
pub(crate) fn each_chunk<T>(
    items: &[T],
    mut statement: impl FnMut(&[T]) -> QueryResult<usize>,
) -> QueryResult<usize> {
    chunked(items, |chunk| statement(chunk).map(|n| vec![n])).map(|n| n.iter().sum())
}

/// A multi-row INSERT, `CHUNK` rows a statement, run on the backend's own connection:
/// diesel's `MultiConnection` (our `DbConn`) cannot batch inserts on SQLite.
macro_rules! insert_rows {
    ($conn:ident, $table:expr, $rows:expr) => {
        $crate::store::each_chunk($rows, |chunk| match &mut *$conn {
            $crate::store::DbConn::Pg(c) => diesel::insert_into($table).values(chunk).execute(c),
            $crate::store::DbConn::Sqlite(c) => {
                diesel::insert_into($table).values(chunk).execute(c)
            }
        })
    };
}
pub(crate) use insert_rows;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slice_is_run_once_and_joined_in_order() {
        let items: Vec<usize> = (0..2 * CHUNK + 1).collect();
        let mut calls = 0;
        let out = chunked(&items, |c| {
            calls += 1;
            assert!(c.len() <= CHUNK);
            Ok(c.to_vec())
        })
        .expect("no statement fails");
        assert_eq!((out, calls), (items.clone(), 3));
        assert_eq!(each_chunk(&items, |c| Ok(c.len())), Ok(items.len()));
        let none: QueryResult<Vec<usize>> = chunked(&[] as &[usize], |_| panic!("no keys"));
        assert_eq!(none, Ok(Vec::new()));
    }
}
