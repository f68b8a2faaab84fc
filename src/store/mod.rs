//! Storage: diesel over SQLite (embedded default) or PostgreSQL, behind one connection type.

pub mod conn;
pub mod dispensations;
pub mod documents;
pub mod patients;
pub mod registry;
pub mod schema;
mod small_int;

pub use conn::{DbConn, Store, StoreError};
