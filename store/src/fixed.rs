//! Statements that stay prepared: fixed SQL text with typed binds.
//!
//! Why: diesel parses every `UPDATE` anew (its `UpdateStatement` marks itself unsafe to cache;
//! `tests/prepared.rs` finds them). On the paths that run once
//! per scanned item or per verification that parsing was about a third of the writer thread's
//! time (perf, BENCHMARKS.md). A [`Fixed`] statement is identified by a marker type carrying its
//! SQL, so diesel's statement cache keys it by that type and prepares it once per connection.
//!
//! The SQL is written once for both backends: diesel writes each bind's placeholder (`?` on
//! SQLite, `$n` on PostgreSQL). Only SQL both understand belongs here (`IS NOT DISTINCT FROM`,
//! `RETURNING`, `coalesce`).

use std::marker::PhantomData;

use chrono::NaiveDateTime;
use diesel::RunQueryDsl;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, Double, HasSqlType, Nullable, Text, Timestamp};

/// A statement's text, with `?` where each bind goes (and no other `?`).
pub trait FixedSql: 'static {
    const SQL: &'static str;
}

/// A statement that returns rows (`RETURNING …`): the SQL types of a row.
pub trait FixedQuery: FixedSql {
    type Row;
}

/// One bound value, with the SQL type it is bound as.
#[derive(Debug, Clone, Copy)]
pub enum Bind<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    OptBigInt(Option<i64>),
    OptDouble(Option<f64>),
    Bool(bool),
    Timestamp(NaiveDateTime),
    OptTimestamp(Option<NaiveDateTime>),
}

/// The statement `S` with its binds, ready to `execute` or `get_result` on a concrete connection.
pub struct Fixed<'a, S> {
    binds: Vec<Bind<'a>>,
    statement: PhantomData<S>,
}

impl<'a, S: FixedSql> Fixed<'a, S> {
    pub fn new(binds: Vec<Bind<'a>>) -> Fixed<'a, S> {
        Fixed {
            binds,
            statement: PhantomData,
        }
    }
}

impl<S: FixedSql> QueryId for Fixed<'_, S> {
    type QueryId = S;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<S: FixedQuery> Query for Fixed<'_, S> {
    type SqlType = S::Row;
}

impl<S, Conn> RunQueryDsl<Conn> for Fixed<'_, S> {}

impl<S, DB> QueryFragment<DB> for Fixed<'_, S>
where
    S: FixedSql,
    DB: Backend
        + HasSqlType<Text>
        + HasSqlType<BigInt>
        + HasSqlType<Bool>
        + HasSqlType<Double>
        + HasSqlType<Timestamp>,
    str: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
    f64: ToSql<Double, DB>,
    bool: ToSql<Bool, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut pieces = S::SQL.split('?');
        let mut binds = self.binds.iter();
        if let Some(first) = pieces.next() {
            out.push_sql(first);
        }
        for piece in pieces {
            let Some(bind) = binds.next() else {
                return Err(miscount::<S>(self.binds.len()));
            };
            match bind {
                Bind::Text(v) => out.push_bind_param::<Text, str>(*v)?,
                Bind::OptText(v) => out.push_bind_param::<Nullable<Text>, _>(v)?,
                Bind::OptBigInt(v) => out.push_bind_param::<Nullable<BigInt>, _>(v)?,
                Bind::OptDouble(v) => out.push_bind_param::<Nullable<Double>, _>(v)?,
                Bind::Bool(v) => out.push_bind_param::<Bool, _>(v)?,
                Bind::Timestamp(v) => out.push_bind_param::<Timestamp, _>(v)?,
                Bind::OptTimestamp(v) => out.push_bind_param::<Nullable<Timestamp>, _>(v)?,
            }
            out.push_sql(piece);
        }
        if binds.next().is_some() {
            return Err(miscount::<S>(self.binds.len()));
        }
        Ok(())
    }
}

/// A statement given more or fewer binds than its text has places for: a programming error,
/// reported rather than run.
fn miscount<S: FixedSql>(binds: usize) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(
        format!(
            "statement given {binds} binds, its text has {}: {}",
            S::SQL.matches('?').count(),
            S::SQL
        )
        .into(),
    )
}
