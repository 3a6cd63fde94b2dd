//! Level changes with their reasons, assessment runs, and the activity HQ records (bound
//! customers, recharges, level prices paid).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::domain::levels::{ActivityKind, Cause, ChangeKind};
use crate::error::Result;
use crate::store::DbConnection;
use crate::store::schema::{level_activity, level_changes, level_runs};
use crate::typed::Stored;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = level_changes)]
pub struct LevelChangeRow {
    pub id: i64,
    pub agent_id: i64,
    pub assessed_on: NaiveDate,
    pub cause: Cause,
    pub kind: ChangeKind,
    pub from_rank: i32,
    pub to_rank: i32,
    pub level_policy_version: i64,
    pub summary_zh: String,
    pub summary_en: String,
    /// The reasons as JSON (`domain::levels::Reason`).
    pub reasons: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = level_changes)]
pub struct NewLevelChange {
    pub agent_id: i64,
    pub assessed_on: NaiveDate,
    pub cause: Stored<Cause>,
    pub kind: Stored<ChangeKind>,
    pub from_rank: i32,
    pub to_rank: i32,
    pub level_policy_version: i64,
    pub summary_zh: String,
    pub summary_en: String,
    pub reasons: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, change: &NewLevelChange) -> Result<()> {
    diesel::insert_into(level_changes::table)
        .values(change)
        .execute(conn)?;
    Ok(())
}

/// Changes, newest first; of one agent when given; a page before id `before`.
pub fn list(
    conn: &mut DbConnection,
    agent: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<LevelChangeRow>> {
    let mut q = level_changes::table
        .order(level_changes::id.desc())
        .limit(limit)
        .select(LevelChangeRow::as_select())
        .into_boxed();
    if let Some(a) = agent {
        q = q.filter(level_changes::agent_id.eq(a));
    }
    if let Some(b) = before {
        q = q.filter(level_changes::id.lt(b));
    }
    Ok(q.load(conn)?)
}

/// How many changes (of each kind) a day's assessment recorded.
pub fn count_on(conn: &mut DbConnection, day: NaiveDate, cause: Cause) -> Result<i64> {
    Ok(level_changes::table
        .filter(level_changes::assessed_on.eq(day))
        .filter(level_changes::cause.eq(Stored(cause)))
        .count()
        .get_result(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = level_runs)]
pub struct LevelRunRow {
    #[diesel(skip_insertion)]
    pub id: i64,
    pub assessed_on: NaiveDate,
    pub level_policy_version: i64,
    pub agents: i64,
    pub upgrades: i64,
    pub downgrades: i64,
    pub protected: i64,
    pub started_at: NaiveDateTime,
    pub finished_at: NaiveDateTime,
    pub started_by: Option<i64>,
}

pub fn insert_run(conn: &mut DbConnection, run: &LevelRunRow) -> Result<()> {
    diesel::insert_into(level_runs::table)
        .values(run)
        .execute(conn)?;
    Ok(())
}

/// The latest day an assessment ran for.
pub fn last_run_day(conn: &mut DbConnection) -> Result<Option<NaiveDate>> {
    Ok(level_runs::table
        .select(diesel::dsl::max(level_runs::assessed_on))
        .get_result(conn)?)
}

/// Runs, newest first.
pub fn runs(conn: &mut DbConnection, limit: i64) -> Result<Vec<LevelRunRow>> {
    Ok(level_runs::table
        .order(level_runs::id.desc())
        .limit(limit)
        .select(LevelRunRow::as_select())
        .load(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = level_activity)]
pub struct ActivityRow {
    #[diesel(skip_insertion)]
    pub id: i64,
    pub agent_id: i64,
    #[diesel(serialize_as = Stored<ActivityKind>)]
    pub kind: ActivityKind,
    pub amount_cents: i64,
    /// For a level payment: the tier key it paid for.
    pub level_key: Option<String>,
    pub note: Option<String>,
    pub at: NaiveDateTime,
    pub recorded_by: Option<i64>,
}

pub fn insert_activity(conn: &mut DbConnection, row: &ActivityRow) -> Result<ActivityRow> {
    // Owned: the kind is written through `Stored` (`serialize_as`), which takes the value.
    let insert = diesel::insert_into(level_activity::table).values(row.clone());
    Ok(per_backend!(conn, |c| insert
        .returning(ActivityRow::as_returning())
        .get_result(c))?)
}
