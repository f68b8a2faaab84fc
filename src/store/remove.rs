//! Deletes for ITI-62 Remove Metadata and ITI-86 Remove Documents. Every statement selects its
//! rows by a primary key (object seq, association seq, document uniqueId) or by the leading
//! column of one (the code, value and chunk tables); none scans a table. Run them inside the
//! caller's transaction: the counts they return let the caller see a concurrent removal.

use super::schema::{
    associations, document_chunks, documents, object_codes, object_values, registry_objects,
};
use super::{each_chunk, DbConn};
use diesel::prelude::*;

/// Deletes registry objects (DocumentEntries, SubmissionSets, Folders) by seq, with their
/// codes and values; returns how many objects were deleted.
pub fn delete_objects(conn: &mut DbConn, seqs: &[i64]) -> QueryResult<usize> {
    each_chunk(seqs, |chunk| {
        diesel::delete(object_codes::table.filter(object_codes::object_seq.eq_any(chunk)))
            .execute(conn)?;
        diesel::delete(object_values::table.filter(object_values::object_seq.eq_any(chunk)))
            .execute(conn)?;
        diesel::delete(registry_objects::table.filter(registry_objects::seq.eq_any(chunk)))
            .execute(conn)
    })
}

/// Deletes associations by seq; returns how many were deleted.
pub fn delete_assocs(conn: &mut DbConn, seqs: &[i64]) -> QueryResult<usize> {
    each_chunk(seqs, |chunk| {
        diesel::delete(associations::table.filter(associations::seq.eq_any(chunk))).execute(conn)
    })
}

/// Deletes repository documents (their rows and their byte chunks) by uniqueId; returns how
/// many document rows were deleted.
pub fn delete_documents(conn: &mut DbConn, unique_ids: &[String]) -> QueryResult<usize> {
    each_chunk(unique_ids, |chunk| {
        diesel::delete(document_chunks::table.filter(document_chunks::unique_id.eq_any(chunk)))
            .execute(conn)?;
        diesel::delete(documents::table.filter(documents::unique_id.eq_any(chunk))).execute(conn)
    })
}
