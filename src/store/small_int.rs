//! Rust enums in SMALLINT columns, on both backends and on the `DbConn` that joins them.
//! Each enum writes its discriminant; reading a number that no variant has is a
//! deserialization error (the database was written by something else), never a panic.

use super::conn::MultiBackend;
use super::registry::ValueKind;
use crate::xds::model::{AvailabilityStatus, CodeKind, EntryKind};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::SmallInt;
use diesel::sqlite::Sqlite;

macro_rules! small_int_enum {
    ($ty:ident: $($variant:ident),+ $(,)?) => {
        impl ToSql<SmallInt, Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(i32::from(*self as i16));
                Ok(IsNull::No)
            }
        }

        impl ToSql<SmallInt, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                ToSql::<SmallInt, Pg>::to_sql(&(*self as i16), &mut out.reborrow())
            }
        }

        impl ToSql<SmallInt, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((SmallInt, self));
                Ok(IsNull::No)
            }
        }

        impl<DB: Backend> FromSql<SmallInt, DB> for $ty
        where
            i16: FromSql<SmallInt, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let n = i16::from_sql(bytes)?;
                $(
                    if n == $ty::$variant as i16 {
                        return Ok($ty::$variant);
                    }
                )+
                Err(format!("{n} is not a known {}", stringify!($ty)).into())
            }
        }
    };
}

small_int_enum!(EntryKind: DocumentEntry, SubmissionSet, Folder);
small_int_enum!(AvailabilityStatus: Approved, Deprecated);
small_int_enum!(ValueKind: Author, ReferenceId, SourceId);
small_int_enum!(
    CodeKind: Class,
    Type,
    Format,
    PracticeSetting,
    FacilityType,
    Event,
    Confidentiality,
    ContentType,
    FolderCode,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DbConn;
    use diesel::dsl::sql;
    use diesel::prelude::*;
    use diesel::IntoSql;

    fn conn() -> DbConn {
        DbConn::Sqlite(SqliteConnection::establish(":memory:").expect("in-memory SQLite"))
    }

    #[test]
    fn every_variant_reads_back_as_itself() {
        let mut c = conn();
        for k in CodeKind::ALL {
            let back: CodeKind = diesel::select(k.into_sql::<SmallInt>())
                .get_result(&mut c)
                .expect("round trip");
            assert_eq!(back, k);
        }
        for k in [
            EntryKind::DocumentEntry,
            EntryKind::SubmissionSet,
            EntryKind::Folder,
        ] {
            let back: EntryKind = diesel::select(k.into_sql::<SmallInt>())
                .get_result(&mut c)
                .expect("round trip");
            assert_eq!(back, k);
        }
    }

    #[test]
    fn stored_numbers_are_unchanged() {
        let mut c = conn();
        let n: i16 = diesel::select(AvailabilityStatus::Deprecated.into_sql::<SmallInt>())
            .get_result(&mut c)
            .expect("select");
        assert_eq!(n, 2);
        assert_eq!(EntryKind::Folder as i16, 3);
        assert_eq!(CodeKind::FolderCode as i16, 9);
        assert_eq!(ValueKind::SourceId as i16, 3);
    }

    #[test]
    fn an_unknown_number_is_an_error() {
        let mut c = conn();
        let r = diesel::select(sql::<SmallInt>("7")).get_result::<EntryKind>(&mut c);
        assert!(r.is_err());
        let r = diesel::select(sql::<SmallInt>("0")).get_result::<AvailabilityStatus>(&mut c);
        assert!(r.is_err());
    }
}
