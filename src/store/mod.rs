//! Storage: diesel over SQLite (embedded default) or PostgreSQL, behind one connection type.

pub mod conn;
pub mod dispensations;
pub mod documents;
pub mod patients;
pub mod registry;
pub mod schema;

pub use conn::{DbConn, Store, StoreError};
