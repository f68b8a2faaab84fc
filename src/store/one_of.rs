//! `column IN (list)` that is prepared once per connection. diesel writes an IN list on SQLite
//! as one bind parameter per value and then never caches the statement, so each query was
//! parsed and planned again: that cost more than running it. Here SQLite gets the list as one
//! JSON array bound to `json_each`; PostgreSQL keeps diesel's `= ANY($1)`, one array parameter,
//! which is cached already.

use super::DbConn;
use diesel::backend::Backend;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, HasSqlType, SqlType, Text};
use diesel::{BoxableExpression, Connection, ExpressionMethods, QueryResult, SelectableExpression};

type Multi = <DbConn as Connection>::Backend;

/// A condition usable in any query over `QS`.
pub type Condition<'a, QS> = Box<dyn BoxableExpression<QS, Multi, SqlType = Bool> + 'a>;

/// `col IN (SELECT value FROM json_each(?))`, the list bound as one JSON text.
#[derive(Debug, Clone)]
pub struct InJson<C> {
    col: C,
    json: String,
}

impl<C: Expression> Expression for InJson<C> {
    type SqlType = Bool;
}

impl<C: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for InJson<C> where InJson<C>: Expression {}

impl<C: SelectableExpression<QS>, QS> SelectableExpression<QS> for InJson<C> where
    InJson<C>: AppearsOnTable<QS>
{
}

impl<C: ValidGrouping<()>> ValidGrouping<()> for InJson<C> {
    type IsAggregate = C::IsAggregate;
}

impl<C> QueryId for InJson<C> {
    type QueryId = ();
    // Keyed by its SQL text in the statement cache, which is the same for every list.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C, DB> QueryFragment<DB> for InJson<C>
where
    DB: Backend + HasSqlType<Text>,
    C: QueryFragment<DB>,
    String: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.col.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, String>(&self.json)?;
        out.push_sql("))");
        Ok(())
    }
}

/// Bounds shared by the columns these conditions apply to.
pub trait ListColumn<QS, ST: SqlType>:
    Expression<SqlType = ST>
    + SelectableExpression<QS>
    + ValidGrouping<(), IsAggregate = is_aggregate::No>
    + QueryFragment<Multi>
    + QueryFragment<diesel::pg::Pg>
    + QueryFragment<diesel::sqlite::Sqlite>
    + QueryId
    + Send
    + ExpressionMethods
{
}

impl<QS, ST: SqlType, C> ListColumn<QS, ST> for C where
    C: Expression<SqlType = ST>
        + SelectableExpression<QS>
        + ValidGrouping<(), IsAggregate = is_aggregate::No>
        + QueryFragment<Multi>
        + QueryFragment<diesel::pg::Pg>
        + QueryFragment<diesel::sqlite::Sqlite>
        + QueryId
        + Send
        + ExpressionMethods
{
}

/// `col` is one of the texts `values`.
pub fn text_in<'a, QS: 'a, C>(conn: &DbConn, col: C, values: &'a [String]) -> Condition<'a, QS>
where
    C: ListColumn<QS, Text> + 'a,
{
    by_backend(
        conn,
        col,
        || json_texts(values),
        |c| Box::new(c.eq_any(values)),
    )
}

/// `col` is one of the integers `values`.
pub fn int_in<'a, QS: 'a, C>(conn: &DbConn, col: C, values: &'a [i64]) -> Condition<'a, QS>
where
    C: ListColumn<QS, BigInt> + 'a,
{
    by_backend(
        conn,
        col,
        || json_ints(values),
        |c| Box::new(c.eq_any(values)),
    )
}

/// SQLite: `InJson` with the list as `json`; PostgreSQL: diesel's own `= ANY`, from `pg`.
fn by_backend<'a, QS: 'a, C, ST: SqlType>(
    conn: &DbConn,
    col: C,
    json: impl FnOnce() -> String,
    pg: impl FnOnce(C) -> Condition<'a, QS>,
) -> Condition<'a, QS>
where
    C: ListColumn<QS, ST> + 'a,
{
    match conn {
        DbConn::Sqlite(_) => Box::new(InJson { col, json: json() }),
        DbConn::Pg(_) => pg(col),
    }
}

fn json_texts(values: &[String]) -> String {
    // Serialising a list of strings cannot fail.
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

fn json_ints(values: &[i64]) -> String {
    let mut out = String::with_capacity(values.len() * 8 + 2);
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&v.to_string());
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_json_arrays_with_every_character_escaped() {
        let v = vec!["a\"b".to_string(), "æøå\\".to_string(), String::new()];
        assert_eq!(json_texts(&v), r#"["a\"b","æøå\\",""]"#);
        assert_eq!(json_ints(&[1, -2, 30]), "[1,-2,30]");
        assert_eq!(json_ints(&[]), "[]");
    }
}
