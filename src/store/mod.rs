//! Storage: diesel over SQLite (embedded default) or PostgreSQL, behind one connection type.

pub mod conn;
pub mod dispensations;
pub mod documents;
pub mod patients;
pub mod registry;
pub mod schema;
mod small_int;

pub use conn::{DbConn, Store, StoreError};

use diesel::QueryResult;

/// Keys (or rows) bound per statement: with at most six columns a row, far below SQLite's
/// 32766 and PostgreSQL's 65535 bind parameters.
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
fn each_chunk<T>(
    items: &[T],
    mut statement: impl FnMut(&[T]) -> QueryResult<usize>,
) -> QueryResult<usize> {
    chunked(items, |chunk| statement(chunk).map(|n| vec![n])).map(|n| n.iter().sum())
}
