//! Stored metadata XML (registry objects and associations), compressed. A DocumentEntry's
//! canonical ebRIM is about 5 KB, most of it ebRIM's own vocabulary (slot names,
//! classification schemes, Volven code systems); zstd against a dictionary of that vocabulary
//! (`dict/ebrim-1.xml`) stores it in about 620 bytes and an association in about 110, and each
//! answer reads that many fewer pages.
//!
//! Stored form: the byte 1 and a zstd frame made with dictionary 1. Rows written before this
//! hold the XML itself (it starts with `<`) and are read as they are. A new dictionary would get
//! the next number; a stored number must always keep its dictionary, so its bytes are pinned by
//! a test.

use super::conn::MultiBackend;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Binary;
use diesel::sqlite::Sqlite;
use std::cell::RefCell;
use std::io::Write;

/// The vocabulary the frames of format 1 are compressed against.
const DICTIONARY_1: &[u8] = include_bytes!("dict/ebrim-1.xml");
const FORMAT_1: u8 = 1;
/// Fast, and within a few percent of the best level on XML this size.
const LEVEL: i32 = 3;
/// No stored object is larger (the registry refuses far smaller submissions).
const MAX_XML: usize = 64 * 1024 * 1024;

/// XML as it is kept in a BINARY/BYTEA column; reads as the XML.
#[derive(Debug, Clone, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Binary)]
pub struct PackedXml(pub String);

impl std::ops::Deref for PackedXml {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for PackedXml {
    fn from(s: String) -> PackedXml {
        PackedXml(s)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("zstd: {0}")]
    Zstd(#[from] std::io::Error),
    #[error("stored metadata of unknown format {0}")]
    Format(u8),
    #[error("stored metadata declares no size, or more than {MAX_XML} bytes")]
    Size,
    #[error("stored metadata is not UTF-8")]
    Utf8,
}

thread_local! {
    // Loading the dictionary costs more than compressing one entry: once per thread.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// The stored bytes of `xml`.
pub fn pack(xml: &str) -> Result<Vec<u8>, PackError> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let c = match slot.as_mut() {
            Some(c) => c,
            None => {
                let mut c = zstd::bulk::Compressor::with_dictionary(LEVEL, DICTIONARY_1)?;
                // Four bytes an entry: a damaged row is an error, not different metadata.
                c.include_checksum(true)?;
                slot.insert(c)
            }
        };
        let frame = c.compress(xml.as_bytes())?;
        let mut out = Vec::with_capacity(frame.len() + 1);
        out.push(FORMAT_1);
        out.extend_from_slice(&frame);
        Ok(out)
    })
}

/// The XML of stored bytes (either form).
pub fn unpack(stored: &[u8]) -> Result<String, PackError> {
    let bytes = match stored.first() {
        None | Some(b'<') => stored.to_vec(),
        Some(&FORMAT_1) => {
            let frame = &stored[1..];
            let size = zstd::zstd_safe::get_frame_content_size(frame)
                .ok()
                .flatten()
                .filter(|n| *n <= MAX_XML as u64)
                .ok_or(PackError::Size)?;
            DECOMPRESSOR.with(|cell| {
                let mut slot = cell.borrow_mut();
                let d = match slot.as_mut() {
                    Some(d) => d,
                    None => slot.insert(zstd::bulk::Decompressor::with_dictionary(DICTIONARY_1)?),
                };
                d.decompress(frame, size as usize)
            })?
        }
        Some(&other) => return Err(PackError::Format(other)),
    };
    String::from_utf8(bytes).map_err(|_| PackError::Utf8)
}

impl ToSql<Binary, Sqlite> for PackedXml {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(pack(&self.0)?);
        Ok(IsNull::No)
    }
}

impl ToSql<Binary, Pg> for PackedXml {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(&pack(&self.0)?)?;
        Ok(IsNull::No)
    }
}

impl ToSql<Binary, MultiBackend> for PackedXml {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Binary, self));
        Ok(IsNull::No)
    }
}

impl<DB: Backend> FromSql<Binary, DB> for PackedXml
where
    Vec<u8>: FromSql<Binary, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let stored = Vec::<u8>::from_sql(bytes)?;
        Ok(PackedXml(unpack(&stored)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_1_is_unchanged() {
        // Frames already stored need these exact bytes to be read.
        let digest = ring::digest::digest(&ring::digest::SHA256, DICTIONARY_1);
        assert_eq!(
            hex::encode(digest.as_ref()),
            "2ed7bbe398f389c752efa59596a00ef8bcbdba1cab1cecffdc984089a04cb7ac",
            "dict/ebrim-1.xml changed: add a new format instead"
        );
    }

    #[test]
    fn packed_xml_reads_back_and_is_smaller() {
        let xml = format!(
            "<rim:ExtrinsicObject id=\"urn:uuid:1\">{}</rim:ExtrinsicObject>",
            "<rim:Slot name=\"creationTime\"><rim:ValueList><rim:Value>20261201</rim:Value></rim:ValueList></rim:Slot>".repeat(20)
        );
        let stored = pack(&xml).unwrap();
        assert_eq!(stored[0], FORMAT_1);
        assert!(stored.len() * 10 < xml.len(), "{} bytes", stored.len());
        assert_eq!(unpack(&stored).unwrap(), xml);
        assert_eq!(unpack("æ".as_bytes()).ok(), None);
    }

    #[test]
    fn rows_stored_before_read_as_they_are() {
        assert_eq!(unpack(b"<rim:Folder/>").unwrap(), "<rim:Folder/>");
        assert_eq!(unpack(b"").unwrap(), "");
    }

    #[test]
    fn a_text_column_gives_back_old_text_rows_and_keeps_new_ones_as_blobs() {
        use crate::store::DbConn;
        use diesel::prelude::*;
        use diesel::sql_types::{BigInt, Text};
        let mut c = DbConn::Sqlite(SqliteConnection::establish(":memory:").unwrap());
        diesel::sql_query("CREATE TABLE t (n BIGINT, xml TEXT NOT NULL)")
            .execute(&mut c)
            .unwrap();
        diesel::sql_query("INSERT INTO t VALUES (1, '<rim:Folder id=\"æ\"/>')")
            .execute(&mut c)
            .unwrap();
        let entry = format!(
            "<rim:ExtrinsicObject>{}</rim:ExtrinsicObject>",
            "x".repeat(500)
        );
        diesel::sql_query("INSERT INTO t VALUES (2, ?)")
            .bind::<Binary, _>(PackedXml(entry.clone()))
            .execute(&mut c)
            .unwrap();
        diesel::table! { t (n) { n -> BigInt, xml -> Binary, } }
        let rows: Vec<(i64, PackedXml)> = t::table.order(t::n).load(&mut c).unwrap();
        assert_eq!(rows[0].1 .0, "<rim:Folder id=\"æ\"/>");
        assert_eq!(rows[1].1 .0, entry);
        #[derive(QueryableByName)]
        struct Kind {
            #[diesel(sql_type = Text)]
            k: String,
            #[diesel(sql_type = BigInt)]
            len: i64,
        }
        let kinds: Vec<Kind> =
            diesel::sql_query("SELECT typeof(xml) AS k, length(xml) AS len FROM t ORDER BY n")
                .load(&mut c)
                .unwrap();
        assert_eq!(kinds[1].k, "blob");
        assert!(kinds[1].len < 100, "{} bytes stored", kinds[1].len);
    }

    #[test]
    fn damaged_or_unknown_bytes_are_an_error() {
        let stored = pack("<a>æøå</a>").unwrap();
        assert!(matches!(unpack(&[9, 1, 2]), Err(PackError::Format(9))));
        assert!(unpack(&stored[..stored.len() - 2]).is_err());
        let mut bad = stored.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        assert!(unpack(&bad).is_err());
    }
}
