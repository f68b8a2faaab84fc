//! eDispensations received for Norwegian ePrescriptions, keyed by prescription id.

use super::schema::dispensations;
use super::DbConn;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Insertable, PartialEq)]
#[diesel(table_name = dispensations)]
pub struct DispensationRow {
    pub prescription_id: String,
    pub ed_unique_id: String,
    pub patient_id: String,
    pub m10_xml: String,
    pub received_at: i64,
    /// The sender's homeCommunityId ("national" for a national caller).
    pub dispensed_by: String,
}

/// Records (or replaces) the dispensation of a prescription.
pub fn record(conn: &mut DbConn, row: &DispensationRow) -> QueryResult<()> {
    diesel::delete(dispensations::table.find(&row.prescription_id)).execute(conn)?;
    diesel::insert_into(dispensations::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// A discarded dispensation reopens the prescription. Only the sender of the dispensation may
/// discard it, for the same patient; returns how many rows went (0: none matched).
pub fn discard(
    conn: &mut DbConn,
    prescription_id: &str,
    patient_id: &str,
    by: &str,
) -> QueryResult<usize> {
    diesel::delete(
        dispensations::table
            .find(prescription_id)
            .filter(dispensations::patient_id.eq(patient_id))
            .filter(dispensations::dispensed_by.eq(by)),
    )
    .execute(conn)
}

/// Which of these prescriptions have been dispensed.
pub fn dispensed(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<String>> {
    dispensations::table
        .filter(dispensations::prescription_id.eq_any(ids))
        .select(dispensations::prescription_id)
        .load(conn)
}

pub fn get(conn: &mut DbConn, prescription_id: &str) -> QueryResult<Option<DispensationRow>> {
    dispensations::table
        .find(prescription_id)
        .first(conn)
        .optional()
}
