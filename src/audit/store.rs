//! The audit tables: appending to the chain, verifying it, listing records, and the
//! forwarder's cursor. Every statement here is the same on SQLite and PostgreSQL.

use super::record::{patient_set, AuditRow, GENESIS};
use super::AuditEvent;
use crate::store::schema::{audit_chain, audit_forwarded, audit_patients, audit_records};
use crate::store::{insert_rows, DbConn, Store, StoreError};
use diesel::prelude::*;
use std::collections::BTreeMap;

/// The one row of `audit_chain` and of `audit_forwarded`.
const HEAD: i16 = 1;

/// Records read per round trip by `verify` and the forwarder.
const BATCH: i64 = 500;

/// Appends `ev` to the chain inside the caller's transaction: the record commits (or rolls
/// back) with the work it records. Call it last in the transaction, since the chain head
/// stays locked until the transaction ends.
pub fn append(conn: &mut DbConn, ev: &AuditEvent) -> Result<(), StoreError> {
    append_all(conn, std::slice::from_ref(ev))
}

/// Appends `events` in order, as `append` does one: the head is claimed once for all of
/// them and the records go in by multi-row statements, so a group of records costs about
/// what one does.
pub fn append_all(conn: &mut DbConn, events: &[AuditEvent]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let n = events.len() as i64;
    // A savepoint inside the caller's transaction, or a transaction of its own when there is
    // none: the head must never be claimed in one commit and written in another.
    conn.transaction(|c| {
        // Claiming the seqs is the first write: on PostgreSQL a concurrent append waits here
        // for the row lock and then reads the head its predecessor committed; on SQLite it
        // takes the database write lock. Either way no two records share a predecessor.
        let (last, mut prev): (i64, String) = diesel::update(audit_chain::table.find(HEAD))
            .set(audit_chain::last_seq.eq(audit_chain::last_seq + n))
            .returning((audit_chain::last_seq, audit_chain::last_hash))
            .get_result(c)?;
        let mut rows = Vec::with_capacity(events.len());
        let mut named = Vec::new();
        for (seq, ev) in (last - n + 1..).zip(events) {
            let patients = patient_set(&ev.patient_ids);
            let row = AuditRow::new(ev, seq, prev, &patients);
            prev = row.hash.clone();
            named.extend(patients.into_iter().map(|patient_id| NewPatientRef {
                record_seq: seq,
                patient_id,
            }));
            rows.push(row);
        }
        insert_rows!(c, audit_records::table, &rows)?;
        insert_rows!(c, audit_patients::table, &named)?;
        diesel::update(audit_chain::table.find(HEAD))
            .set(audit_chain::last_hash.eq(&prev))
            .execute(c)?;
        Ok(())
    })
}

#[derive(Insertable)]
#[diesel(table_name = audit_patients)]
struct NewPatientRef {
    record_seq: i64,
    patient_id: String,
}

/// Appends `ev` in a transaction of its own on a blocking thread, for events outside any
/// submission: queries (right after the answer) and refusals. A failure is logged here, without
/// the record's contents, and returned.
pub async fn append_now(store: &Store, ev: AuditEvent) -> Result<(), StoreError> {
    let event = ev.event.as_str();
    let r = store.write(move |c| append(c, &ev)).await;
    if let Err(e) = &r {
        tracing::error!(event, error = %e, "audit record not written");
    }
    r
}

/// Where the chain breaks first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// Record `seq` is missing: the sequence jumps over it, or the chain head names a later
    /// record than the last one present.
    Missing { seq: i64 },
    /// Record `seq` does not carry its predecessor's hash: one of the two was altered (the
    /// predecessor with its hash recomputed, or this record's link).
    Unlinked { seq: i64 },
    /// Record `seq` no longer hashes to its stored hash: a field was edited.
    Edited { seq: i64 },
    /// The chain head does not name the last record `seq`.
    Head { seq: i64 },
}

impl Break {
    pub fn seq(&self) -> i64 {
        match self {
            Break::Missing { seq }
            | Break::Unlinked { seq }
            | Break::Edited { seq }
            | Break::Head { seq } => *seq,
        }
    }
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Missing { seq } => write!(f, "record {seq} is missing (deleted)"),
            Break::Unlinked { seq } => write!(
                f,
                "record {seq} does not carry the hash of record {} (one of them was altered)",
                seq - 1
            ),
            Break::Edited { seq } => write!(f, "record {seq} was altered (hash mismatch)"),
            Break::Head { seq } => {
                write!(f, "the chain head does not match record {seq} (altered)")
            }
        }
    }
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Records checked before the first break (all of them when intact).
    pub records: u64,
    pub broken: Option<Break>,
}

/// Recomputes every link from the first record up to the chain head as it stands when the walk
/// starts (records appended meanwhile wait for the next run); stops at the first break.
pub fn verify(conn: &mut DbConn) -> Result<Verified, StoreError> {
    let (head_seq, head_hash): (i64, String) = audit_chain::table
        .find(HEAD)
        .select((audit_chain::last_seq, audit_chain::last_hash))
        .first(conn)?;
    let mut expected_seq = 1;
    let mut prev_hash = GENESIS.to_string();
    let mut records = 0;
    let broken = |records, b| {
        Ok(Verified {
            records,
            broken: Some(b),
        })
    };
    while expected_seq <= head_seq {
        let rows = after(conn, expected_seq - 1, head_seq, BATCH)?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            break;
        };
        let mut patients = patients_between(conn, expected_seq, last)?;
        for row in rows {
            if row.seq != expected_seq {
                return broken(records, Break::Missing { seq: expected_seq });
            }
            if row.prev_hash != prev_hash {
                return broken(records, Break::Unlinked { seq: row.seq });
            }
            let pats = patients.remove(&row.seq).unwrap_or_default();
            if row.compute_hash(&pats) != row.hash {
                return broken(records, Break::Edited { seq: row.seq });
            }
            records += 1;
            expected_seq += 1;
            prev_hash = row.hash;
        }
    }
    if expected_seq <= head_seq {
        // The head names records past the last one present: they were deleted.
        return broken(records, Break::Missing { seq: expected_seq });
    }
    if prev_hash != head_hash {
        return broken(records, Break::Head { seq: head_seq });
    }
    Ok(Verified {
        records,
        broken: None,
    })
}

/// Up to `limit` records after `seq` and up to `until`, in order.
fn after(conn: &mut DbConn, seq: i64, until: i64, limit: i64) -> QueryResult<Vec<AuditRow>> {
    audit_records::table
        .filter(audit_records::seq.gt(seq))
        .filter(audit_records::seq.le(until))
        .order(audit_records::seq)
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}

/// The patient ids of records `from..=to`, by record.
fn patients_between(
    conn: &mut DbConn,
    from: i64,
    to: i64,
) -> QueryResult<BTreeMap<i64, Vec<String>>> {
    audit_patients::table
        .filter(audit_patients::record_seq.between(from, to))
        .select((audit_patients::record_seq, audit_patients::patient_id))
        .load(conn)
        .map(by_record)
}

fn by_record(pairs: Vec<(i64, String)>) -> BTreeMap<i64, Vec<String>> {
    let mut m: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (seq, pid) in pairs {
        m.entry(seq).or_default().push(pid);
    }
    m
}

/// What `audit list` asks for; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A patient id in CX form, exactly as stored.
    pub patient: Option<String>,
    /// Unix milliseconds.
    pub since: Option<i64>,
    /// The peer certificate's CN.
    pub peer: Option<String>,
    /// The newest this many records.
    pub limit: i64,
}

/// The records matching `f`, oldest first, each with its patient ids. A patient filter starts
/// from the `audit_patients` index, a peer filter from `audit_records_peer`.
pub fn list(conn: &mut DbConn, f: &Filter) -> QueryResult<Vec<(AuditRow, Vec<String>)>> {
    let mut q = audit_records::table
        .select(AuditRow::as_select())
        .order(audit_records::seq.desc())
        .limit(f.limit)
        .into_boxed();
    if let Some(p) = &f.patient {
        let seqs = audit_patients::table
            .filter(audit_patients::patient_id.eq(p.clone()))
            .select(audit_patients::record_seq);
        q = q.filter(audit_records::seq.eq_any(seqs));
    }
    if let Some(t) = f.since {
        q = q.filter(audit_records::event_time.ge(t));
    }
    if let Some(cn) = &f.peer {
        q = q.filter(audit_records::peer_cn.eq(cn.clone()));
    }
    let mut rows = q.load(conn)?;
    rows.reverse();
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let mut pairs = Vec::new();
    // By key, a slice at a time: matches may lie far apart.
    for chunk in seqs.chunks(BATCH as usize) {
        pairs.extend(
            audit_patients::table
                .filter(audit_patients::record_seq.eq_any(chunk))
                .select((audit_patients::record_seq, audit_patients::patient_id))
                .load::<(i64, String)>(conn)?,
        );
    }
    let mut patients = by_record(pairs);
    Ok(rows
        .into_iter()
        .map(|r| {
            let p = patients.remove(&r.seq).unwrap_or_default();
            (r, p)
        })
        .collect())
}

/// A record waiting for the collector.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub seq: i64,
    pub event_time: i64,
    pub outcome: i16,
    pub xml: String,
}

/// The cursor and up to `limit` records after it, in order.
pub fn queued(conn: &mut DbConn, limit: i64) -> QueryResult<(i64, Vec<Queued>)> {
    let cursor: i64 = audit_forwarded::table
        .find(HEAD)
        .select(audit_forwarded::last_seq)
        .first(conn)?;
    let rows: Vec<(i64, i64, i16, String)> = audit_records::table
        .filter(audit_records::seq.gt(cursor))
        .order(audit_records::seq)
        .limit(limit)
        .select((
            audit_records::seq,
            audit_records::event_time,
            audit_records::outcome,
            audit_records::xml,
        ))
        .load(conn)?;
    let queued = rows
        .into_iter()
        .map(|(seq, event_time, outcome, xml)| Queued {
            seq,
            event_time,
            outcome,
            xml,
        })
        .collect();
    Ok((cursor, queued))
}

/// Moves the cursor from `from` to `to`; false when someone else moved it meanwhile.
pub fn mark_forwarded(conn: &mut DbConn, from: i64, to: i64) -> QueryResult<bool> {
    let n = diesel::update(
        audit_forwarded::table
            .find(HEAD)
            .filter(audit_forwarded::last_seq.eq(from)),
    )
    .set(audit_forwarded::last_seq.eq(to))
    .execute(conn)?;
    Ok(n == 1)
}

/// The seq of the last record handed to the collector.
pub fn forwarded(conn: &mut DbConn) -> QueryResult<i64> {
    audit_forwarded::table
        .find(HEAD)
        .select(audit_forwarded::last_seq)
        .first(conn)
}

/// Batch size of the forwarder.
pub const FORWARD_BATCH: i64 = BATCH;
