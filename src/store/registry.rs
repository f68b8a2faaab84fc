//! Registry objects and associations: inserts, status changes and index-driven lookups.
//! Every lookup here starts from an indexed column (patient id, uuid, unique id, lid,
//! association source/target); none scans the table.

use super::one_of::{int_in, text_in, Condition};
use super::packed::PackedXml;
use super::schema::{associations, object_codes, object_values, registry_objects};
use super::{chunked, each_chunk, insert_rows, DbConn};
use crate::xds::model::{AvailabilityStatus, CodeKind, EntryKind};
use diesel::prelude::*;
use diesel::sql_types::SmallInt;
use diesel::{AsExpression, FromSqlRow};
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// What a row of `object_values` holds (`kind` column); the numbers are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = SmallInt)]
#[repr(i16)]
pub enum ValueKind {
    Author = 1,
    ReferenceId = 2,
    SourceId = 3,
}

/// A stored object: its row number and the columns it was inserted with (read through `Deref`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = registry_objects)]
pub struct ObjectRow {
    pub seq: i64,
    #[diesel(embed)]
    pub object: NewObject,
}

impl std::ops::Deref for ObjectRow {
    type Target = NewObject;

    fn deref(&self) -> &NewObject {
        &self.object
    }
}

#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = registry_objects)]
// NULL, not DEFAULT, for a None: SQLite's multi-row VALUES has no DEFAULT (and no Option
// column has a default).
#[diesel(treat_none_as_default_value = false)]
pub struct NewObject {
    pub uuid: String,
    pub lid: String,
    pub kind: EntryKind,
    pub unique_id: String,
    pub patient_id: String,
    pub status: AvailabilityStatus,
    pub on_demand: bool,
    pub creation_time: Option<i64>,
    pub service_start: Option<i64>,
    pub service_stop: Option<i64>,
    pub submission_time: Option<i64>,
    pub last_update: Option<i64>,
    pub hash: Option<String>,
    pub size: Option<i64>,
    pub repository_uid: Option<String>,
    /// Compressed in the database (see `packed`).
    pub xml: PackedXml,
    /// VersionInfo/@versionName: 1 for a first version, one more for each update.
    pub version: i32,
    /// Who registered this version (`Principal::source_id`); empty before that was kept.
    pub submitted_by: String,
}

/// A stored association: its row number and the columns it was inserted with.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = associations)]
pub struct AssocRow {
    pub seq: i64,
    #[diesel(embed)]
    pub assoc: NewAssoc,
}

impl std::ops::Deref for AssocRow {
    type Target = NewAssoc;

    fn deref(&self) -> &NewAssoc {
        &self.assoc
    }
}

#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = associations)]
pub struct NewAssoc {
    pub uuid: String,
    pub assoc_type: String,
    pub source: String,
    pub target: String,
    pub status: AvailabilityStatus,
    pub xml: PackedXml,
}

#[derive(Insertable)]
#[diesel(table_name = object_codes)]
struct NewCode<'a> {
    object_seq: i64,
    kind: CodeKind,
    code: &'a str,
    scheme: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = object_values)]
struct NewValue<'a> {
    object_seq: i64,
    kind: ValueKind,
    value: &'a str,
}

/// An object's rows in the code and value tables, inserted with it.
pub struct ObjectKeys<'a> {
    pub codes: Vec<(CodeKind, &'a str, &'a str)>,
    pub values: Vec<(ValueKind, &'a str)>,
}

/// Inserts objects (`keys[i]` belongs to `objects[i]`) with one multi-row statement per
/// table, not three per object: a submission of ten entries was 33 statements, each built by
/// diesel anew (12 % of ITI-42's CPU), and on PostgreSQL each one a round trip.
/// Repeated codes and values are dropped (they are the tables' keys).
pub fn insert_objects(
    conn: &mut DbConn,
    objects: &[NewObject],
    keys: &[ObjectKeys],
) -> QueryResult<()> {
    debug_assert_eq!(objects.len(), keys.len());
    let returned = (registry_objects::seq, registry_objects::uuid);
    let seqs: Vec<(i64, String)> = chunked(objects, |chunk| match &mut *conn {
        DbConn::Pg(c) => diesel::insert_into(registry_objects::table)
            .values(chunk)
            .returning(returned)
            .get_results(c),
        DbConn::Sqlite(c) => diesel::insert_into(registry_objects::table)
            .values(chunk)
            .returning(returned)
            .get_results(c),
    })?;
    // RETURNING promises no row order, so rows are matched by uuid (unique in the table).
    let seq_of: HashMap<&str, i64> = seqs.iter().map(|(s, u)| (u.as_str(), *s)).collect();
    let mut codes = Vec::new();
    let mut values = Vec::new();
    for (o, k) in objects.iter().zip(keys) {
        let seq = *seq_of
            .get(o.uuid.as_str())
            .ok_or(diesel::result::Error::NotFound)?;
        codes.extend(distinct(&k.codes).map(|(kind, code, scheme)| NewCode {
            object_seq: seq,
            kind,
            code,
            scheme,
        }));
        values.extend(distinct(&k.values).map(|(kind, value)| NewValue {
            object_seq: seq,
            kind,
            value,
        }));
    }
    insert_rows!(conn, object_codes::table, &codes)?;
    insert_rows!(conn, object_values::table, &values)?;
    Ok(())
}

/// The items without repeats: the code and value tables are keyed on the whole row.
fn distinct<T: Copy + Eq + Hash>(items: &[T]) -> impl Iterator<Item = T> + '_ {
    let mut seen = HashSet::new();
    items.iter().copied().filter(move |i| seen.insert(*i))
}

pub fn insert_assocs(conn: &mut DbConn, assocs: &[NewAssoc]) -> QueryResult<usize> {
    insert_rows!(conn, associations::table, assocs)
}

pub fn set_status(
    conn: &mut DbConn,
    uuids: &[String],
    status: AvailabilityStatus,
) -> QueryResult<usize> {
    each_chunk(uuids, |chunk| {
        diesel::update(registry_objects::table.filter(registry_objects::uuid.eq_any(chunk)))
            .set(registry_objects::status.eq(status))
            .execute(conn)
    })
}

pub fn set_last_update(conn: &mut DbConn, uuids: &[String], at: i64) -> QueryResult<usize> {
    each_chunk(uuids, |chunk| {
        diesel::update(registry_objects::table.filter(registry_objects::uuid.eq_any(chunk)))
            .set(registry_objects::last_update.eq(at))
            .execute(conn)
    })
}

/// Each key once: a key named twice (perhaps in two chunks) must not read its rows twice.
fn distinct_keys(keys: &[String]) -> Vec<String> {
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    keys
}

pub fn objects_by_uuids(conn: &mut DbConn, uuids: &[String]) -> QueryResult<Vec<ObjectRow>> {
    chunked(&distinct_keys(uuids), |chunk| {
        registry_objects::table
            .filter(text_in(conn, registry_objects::uuid, chunk))
            .select(ObjectRow::as_select())
            .load(conn)
    })
}

pub fn objects_by_unique_ids(
    conn: &mut DbConn,
    unique_ids: &[String],
) -> QueryResult<Vec<ObjectRow>> {
    chunked(&distinct_keys(unique_ids), |chunk| {
        registry_objects::table
            .filter(text_in(conn, registry_objects::unique_id, chunk))
            .select(ObjectRow::as_select())
            .load(conn)
    })
}

pub fn objects_by_lids(conn: &mut DbConn, lids: &[String]) -> QueryResult<Vec<ObjectRow>> {
    chunked(&distinct_keys(lids), |chunk| {
        registry_objects::table
            .filter(text_in(conn, registry_objects::lid, chunk))
            .select(ObjectRow::as_select())
            .load(conn)
    })
}

/// Time-range conditions for a patient query (`from` inclusive, `to` exclusive).
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeFilter {
    pub creation: (Option<i64>, Option<i64>),
    pub service_start: (Option<i64>, Option<i64>),
    pub service_stop: (Option<i64>, Option<i64>),
    pub submission: (Option<i64>, Option<i64>),
    pub last_update: (Option<i64>, Option<i64>),
}

/// The patient's objects of one kind in the given statuses, driven by the patient index.
/// Returns at most `limit` rows (callers pass max_results + 1 to detect overflow).
pub fn objects_for_patient(
    conn: &mut DbConn,
    patient_id: &str,
    kind: EntryKind,
    statuses: &[AvailabilityStatus],
    on_demand: Option<&[bool]>,
    t: &TimeFilter,
    limit: i64,
) -> QueryResult<Vec<ObjectRow>> {
    use registry_objects as ro;
    // `a = ? OR b = ?` over the distinct values rather than an IN list: the statement text
    // then depends only on which filters are present, so it is prepared once (see one_of).
    let Some(status) = any_of(statuses, |s| Box::new(ro::status.eq(s))) else {
        return Ok(Vec::new());
    };
    let mut q = ro::table
        .filter(ro::patient_id.eq(patient_id))
        .filter(ro::kind.eq(kind))
        .filter(status)
        .select(ObjectRow::as_select())
        .into_boxed();
    if let Some(kinds) = on_demand {
        let Some(types) = any_of(kinds, |k| Box::new(ro::on_demand.eq(k))) else {
            return Ok(Vec::new());
        };
        q = q.filter(types);
    }
    macro_rules! range {
        ($col:expr, $r:expr) => {
            if let Some(v) = $r.0 {
                q = q.filter($col.ge(v));
            }
            if let Some(v) = $r.1 {
                q = q.filter($col.lt(v));
            }
        };
    }
    range!(ro::creation_time, t.creation);
    range!(ro::service_start, t.service_start);
    range!(ro::service_stop, t.service_stop);
    range!(ro::submission_time, t.submission);
    range!(ro::last_update, t.last_update);
    q.order(ro::seq).limit(limit).load(conn)
}

/// `cond(a) OR cond(b) ...` over the distinct `values`; None when there are none.
fn any_of<'a, T: Copy + PartialEq>(
    values: &[T],
    cond: impl Fn(T) -> Condition<'a, registry_objects::table>,
) -> Option<Condition<'a, registry_objects::table>> {
    let mut distinct: Vec<T> = Vec::new();
    for v in values {
        if !distinct.contains(v) {
            distinct.push(*v);
        }
    }
    let (first, rest) = distinct.split_first()?;
    Some(
        rest.iter()
            .fold(cond(*first), |acc, v| Box::new(acc.or(cond(*v)))),
    )
}

/// What decides who may see an object: one row per confidentialityCode of each object with
/// these uuids, and one row without a code for an object that has none (a SubmissionSet, a
/// Folder). Uuids that name no object (associations) give no row. Driven by the uuid index and
/// the object_codes key.
pub fn confidentiality_of(
    conn: &mut DbConn,
    uuids: &[String],
) -> QueryResult<Vec<ConfidentialityRow>> {
    use registry_objects as ro;
    chunked(uuids, |chunk| {
        ro::table
            .left_join(
                object_codes::table.on(object_codes::object_seq
                    .eq(ro::seq)
                    .and(object_codes::kind.eq(CodeKind::Confidentiality))),
            )
            .filter(text_in(conn, ro::uuid, chunk))
            .select((
                ro::uuid,
                ro::kind,
                ro::patient_id,
                object_codes::code.nullable(),
                object_codes::scheme.nullable(),
            ))
            .load::<ConfidentialityRow>(conn)
    })
}

/// (uuid, kind, patient id, confidentiality code, its scheme).
pub type ConfidentialityRow = (String, EntryKind, String, Option<String>, Option<String>);

pub fn codes_for(
    conn: &mut DbConn,
    seqs: &[i64],
) -> QueryResult<Vec<(i64, CodeKind, String, String)>> {
    chunked(seqs, |chunk| {
        object_codes::table
            .filter(int_in(conn, object_codes::object_seq, chunk))
            .select((
                object_codes::object_seq,
                object_codes::kind,
                object_codes::code,
                object_codes::scheme,
            ))
            .load::<(i64, CodeKind, String, String)>(conn)
    })
}

/// The codes of one kind of the objects `seqs`: (seq, code, scheme), by the object_codes key.
pub fn codes_of_kind(
    conn: &mut DbConn,
    seqs: &[i64],
    kind: CodeKind,
) -> QueryResult<Vec<(i64, String, String)>> {
    chunked(seqs, |chunk| {
        object_codes::table
            .filter(int_in(conn, object_codes::object_seq, chunk))
            .filter(object_codes::kind.eq(kind))
            .select((
                object_codes::object_seq,
                object_codes::code,
                object_codes::scheme,
            ))
            .load(conn)
    })
}

pub fn values_for(
    conn: &mut DbConn,
    seqs: &[i64],
    kind: ValueKind,
) -> QueryResult<Vec<(i64, String)>> {
    chunked(seqs, |chunk| {
        object_values::table
            .filter(int_in(conn, object_values::object_seq, chunk))
            .filter(object_values::kind.eq(kind))
            .select((object_values::object_seq, object_values::value))
            .load::<(i64, String)>(conn)
    })
}

/// Associations whose source (or target, when `by_target`) is one of `ids`,
/// optionally only of the given types.
pub fn assocs_touching(
    conn: &mut DbConn,
    ids: &[String],
    by_target: bool,
    types: Option<&[&str]>,
) -> QueryResult<Vec<AssocRow>> {
    let types: Option<Vec<String>> = types.map(|t| t.iter().map(|s| s.to_string()).collect());
    chunked(ids, |chunk| {
        let mut q = associations::table
            .select(AssocRow::as_select())
            .into_boxed();
        q = if by_target {
            q.filter(text_in(conn, associations::target, chunk))
        } else {
            q.filter(text_in(conn, associations::source, chunk))
        };
        if let Some(t) = &types {
            q = q.filter(text_in(conn, associations::assoc_type, t));
        }
        q.load(conn)
    })
}

pub fn assocs_by_uuids(conn: &mut DbConn, uuids: &[String]) -> QueryResult<Vec<AssocRow>> {
    chunked(uuids, |chunk| {
        associations::table
            .filter(text_in(conn, associations::uuid, chunk))
            .select(AssocRow::as_select())
            .load(conn)
    })
}

pub fn uuid_taken(conn: &mut DbConn, uuid: &str) -> QueryResult<bool> {
    let a: i64 = registry_objects::table
        .filter(registry_objects::uuid.eq(uuid))
        .count()
        .get_result(conn)?;
    if a > 0 {
        return Ok(true);
    }
    let b: i64 = associations::table
        .filter(associations::uuid.eq(uuid))
        .count()
        .get_result(conn)?;
    Ok(b > 0)
}

pub fn set_assoc_status(
    conn: &mut DbConn,
    uuids: &[String],
    status: AvailabilityStatus,
) -> QueryResult<usize> {
    each_chunk(uuids, |chunk| {
        diesel::update(associations::table.filter(associations::uuid.eq_any(chunk)))
            .set(associations::status.eq(status))
            .execute(conn)
    })
}

/// The newest version of each logical object in `lids` (by the `(lid, version)` index).
pub fn latest_versions(
    conn: &mut DbConn,
    lids: &[String],
) -> QueryResult<std::collections::HashMap<String, ObjectRow>> {
    let mut latest: std::collections::HashMap<String, ObjectRow> = Default::default();
    for row in objects_by_lids(conn, lids)? {
        match latest.get(&row.lid) {
            Some(have) if have.version >= row.version => {}
            _ => {
                latest.insert(row.lid.clone(), row);
            }
        }
    }
    Ok(latest)
}
