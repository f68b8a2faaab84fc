//! Repository documents: one row of metadata per document uniqueId, the bytes in chunks.
//! Every lookup is by primary key.

use super::schema::{document_chunks, documents};
use super::{chunked, DbConn, StoreError};
use bytes::{Bytes, BytesMut};
use diesel::prelude::*;

/// Bytes per chunk row. Small enough that a row never needs a large buffer on either
/// backend, large enough that a 50 MiB document is only 50 rows.
pub const CHUNK_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = documents)]
pub struct DocumentRow {
    pub unique_id: String,
    pub repository_uid: String,
    pub entry_uuid: String,
    pub mime_type: String,
    pub size: i64,
    pub hash: String,
    pub chunk_count: i32,
    pub stored_at: i64,
}

/// Inserts the document row and its bytes in chunks. The chunks borrow from `data`, so the
/// document is not copied as a whole on the way into the database.
pub fn insert(conn: &mut DbConn, row: &DocumentRow, data: &[u8]) -> QueryResult<()> {
    diesel::insert_into(documents::table)
        .values(row)
        .execute(conn)?;
    for (i, chunk) in data.chunks(CHUNK_BYTES).enumerate() {
        diesel::insert_into(document_chunks::table)
            .values((
                document_chunks::unique_id.eq(&row.unique_id),
                document_chunks::seq.eq(i as i32),
                document_chunks::data.eq(chunk),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn chunk_count(len: usize) -> i32 {
    len.div_ceil(CHUNK_BYTES) as i32
}

pub fn by_unique_ids(conn: &mut DbConn, uids: &[String]) -> QueryResult<Vec<DocumentRow>> {
    chunked(uids, |chunk| {
        documents::table
            .filter(documents::unique_id.eq_any(chunk))
            .select(DocumentRow::as_select())
            .load(conn)
    })
}

/// Reads a document's bytes into one buffer of the recorded size, one chunk row at a time,
/// so at most one chunk is held besides the result.
pub fn read_bytes(conn: &mut DbConn, row: &DocumentRow) -> Result<Bytes, StoreError> {
    let size = usize::try_from(row.size).map_err(|_| corrupt(row))?;
    let mut buf = BytesMut::with_capacity(size);
    for seq in 0..row.chunk_count {
        let data: Vec<u8> = document_chunks::table
            .filter(document_chunks::unique_id.eq(&row.unique_id))
            .filter(document_chunks::seq.eq(seq))
            .select(document_chunks::data)
            .first(conn)?;
        if buf.len() + data.len() > size {
            return Err(corrupt(row));
        }
        buf.extend_from_slice(&data);
    }
    if buf.len() != size {
        return Err(corrupt(row));
    }
    Ok(buf.freeze())
}

fn corrupt(row: &DocumentRow) -> StoreError {
    StoreError::Corrupt(format!(
        "document {}: stored bytes do not match the recorded size",
        row.unique_id
    ))
}
