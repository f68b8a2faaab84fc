//! Where document bytes live. `DbBlobs` keeps them in the database, inside the caller's
//! transaction. An object store could implement the same trait later: write the object
//! before the transaction commits and keep only the row here (orphans from rolled-back
//! submissions are then collected by key).

use crate::store::documents::{self, DocumentRow};
use crate::store::{DbConn, StoreError};
use bytes::Bytes;

pub trait BlobStore: Send + Sync {
    /// Stores the row and its bytes; runs inside the submission's transaction.
    fn put(&self, conn: &mut DbConn, row: &DocumentRow, data: &Bytes) -> Result<(), StoreError>;
    /// The rows of these document uniqueIds (unknown ones are left out).
    fn find(
        &self,
        conn: &mut DbConn,
        unique_ids: &[String],
    ) -> Result<Vec<DocumentRow>, StoreError>;
    /// The bytes of a found row, exactly `row.size` long.
    fn get(&self, conn: &mut DbConn, row: &DocumentRow) -> Result<Bytes, StoreError>;
    /// Removes these documents (row and bytes) inside the caller's transaction; returns how
    /// many rows it removed.
    fn remove(&self, conn: &mut DbConn, unique_ids: &[String]) -> Result<usize, StoreError>;
}

/// Documents in the `documents`/`document_chunks` tables.
#[derive(Debug, Default, Clone, Copy)]
pub struct DbBlobs;

impl BlobStore for DbBlobs {
    fn put(&self, conn: &mut DbConn, row: &DocumentRow, data: &Bytes) -> Result<(), StoreError> {
        Ok(documents::insert(conn, row, data)?)
    }

    fn find(
        &self,
        conn: &mut DbConn,
        unique_ids: &[String],
    ) -> Result<Vec<DocumentRow>, StoreError> {
        Ok(documents::by_unique_ids(conn, unique_ids)?)
    }

    fn get(&self, conn: &mut DbConn, row: &DocumentRow) -> Result<Bytes, StoreError> {
        documents::read_bytes(conn, row)
    }

    fn remove(&self, conn: &mut DbConn, unique_ids: &[String]) -> Result<usize, StoreError> {
        Ok(crate::store::remove::delete_documents(conn, unique_ids)?)
    }
}
