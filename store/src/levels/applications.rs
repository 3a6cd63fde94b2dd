//! Level applications (`level_applications`): an agent's claim to a level through a path that
//! needs approval, its stages' decisions, and how it closed. Every status change is conditional
//! on the status read (`WHERE status = from`), so two deciders racing cannot both win; a partial
//! unique index keeps one open application per agent.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::domain::levels::application::Status;
use crate::domain::network::policy::ApprovalMode;
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::schema::{agents, level_applications};
use crate::typed::Stored;

/// The open statuses (waiting for a decision).
pub const OPEN: [Stored<Status>; 2] =
    [Stored(Status::AwaitingSupplier), Stored(Status::AwaitingHq)];

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = level_applications)]
pub struct LevelApplicationRow {
    pub id: i64,
    pub agent_id: i64,
    pub level_policy_version: i64,
    /// The level it held when it applied.
    pub from_rank: i32,
    /// The level it applied for.
    pub to_rank: i32,
    pub level_key: String,
    /// The claimed path among the level's paths in the policy document.
    pub path_index: i32,
    /// HQ, or the supplier then HQ.
    pub approval_mode: ApprovalMode,
    pub status: Status,
    /// The agent's words to its approvers (升级资料).
    pub note: Option<String>,
    /// The path's reasons on the day applied (JSON, `domain::levels::Reason`).
    pub evidence: String,
    pub applied_on: NaiveDate,
    pub created_at: NaiveDateTime,
    pub supplier_agent_id: Option<i64>,
    pub supplier_decided_by: Option<i64>,
    pub supplier_decided_at: Option<NaiveDateTime>,
    pub supplier_approved: Option<bool>,
    pub supplier_note: Option<String>,
    pub hq_decided_by: Option<i64>,
    pub hq_decided_at: Option<NaiveDateTime>,
    pub hq_approved: Option<bool>,
    pub hq_note: Option<String>,
    /// The path's reasons on the day HQ approved (JSON), met or not.
    pub approval_evidence: Option<String>,
    /// When it was withdrawn or lapsed.
    pub closed_at: Option<NaiveDateTime>,
    /// `agent_inactive`, `level_changed` or `rules_changed`.
    pub lapse_reason: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = level_applications)]
pub struct NewLevelApplication {
    pub agent_id: i64,
    pub level_policy_version: i64,
    pub from_rank: i32,
    pub to_rank: i32,
    pub level_key: String,
    pub path_index: i32,
    pub approval_mode: Stored<ApprovalMode>,
    pub status: Stored<Status>,
    pub note: Option<String>,
    pub evidence: String,
    pub applied_on: NaiveDate,
    pub created_at: NaiveDateTime,
}

/// Inserts an application; a second open one of the same agent violates the unique index
/// (the use case checks first and names the open one).
pub fn insert(conn: &mut DbConnection, new: &NewLevelApplication) -> Result<LevelApplicationRow> {
    let insert = diesel::insert_into(level_applications::table).values(new);
    Ok(per_backend!(conn, |c| insert
        .returning(LevelApplicationRow::as_returning())
        .get_result(c))?)
}

pub fn get(conn: &mut DbConnection, id: i64) -> Result<LevelApplicationRow> {
    level_applications::table
        .find(id)
        .select(LevelApplicationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::not_found("level application"))
}

/// The agent's open application, if any.
pub fn open_of(conn: &mut DbConnection, agent: i64) -> Result<Option<LevelApplicationRow>> {
    Ok(level_applications::table
        .filter(level_applications::agent_id.eq(agent))
        .filter(level_applications::status.eq_any(OPEN))
        .select(LevelApplicationRow::as_select())
        .first(conn)
        .optional()?)
}

/// The agent's applications, newest first.
pub fn of_agent(
    conn: &mut DbConnection,
    agent: i64,
    limit: i64,
) -> Result<Vec<LevelApplicationRow>> {
    Ok(level_applications::table
        .filter(level_applications::agent_id.eq(agent))
        .order(level_applications::id.desc())
        .limit(limit)
        .select(LevelApplicationRow::as_select())
        .load(conn)?)
}

/// Applications awaiting the supplier stage whose applicant is supplied now by `supplier`
/// (`None`: HQ, which then decides that stage itself), oldest first.
pub fn awaiting_supplier(
    conn: &mut DbConnection,
    supplier: Option<i64>,
    limit: i64,
) -> Result<Vec<LevelApplicationRow>> {
    let q = level_applications::table
        .inner_join(agents::table)
        .filter(level_applications::status.eq(Stored(Status::AwaitingSupplier)))
        .order(level_applications::id.asc())
        .limit(limit)
        .select(LevelApplicationRow::as_select())
        .into_boxed();
    Ok(match supplier {
        Some(s) => q.filter(agents::supplier_id.eq(s)).load(conn)?,
        None => q.filter(agents::supplier_id.is_null()).load(conn)?,
    })
}

/// Applications in `status` (every status when `None`), newest first; before id `before`.
pub fn list(
    conn: &mut DbConnection,
    status: Option<Status>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<LevelApplicationRow>> {
    let mut q = level_applications::table
        .order(level_applications::id.desc())
        .limit(limit)
        .select(LevelApplicationRow::as_select())
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(level_applications::status.eq(Stored(s)));
    }
    if let Some(b) = before {
        q = q.filter(level_applications::id.lt(b));
    }
    Ok(q.load(conn)?)
}

/// Every open application, by id (a handful at any time: one per agent at most).
pub fn open_all(conn: &mut DbConnection) -> Result<Vec<LevelApplicationRow>> {
    Ok(level_applications::table
        .filter(level_applications::status.eq_any(OPEN))
        .order(level_applications::id.asc())
        .select(LevelApplicationRow::as_select())
        .load(conn)?)
}

/// A stage's decision, saved with the application's new status.
#[derive(Debug, Clone)]
pub struct Decided<'a> {
    pub from: Status,
    pub to: Status,
    /// The supplier stage (by this agent), else HQ's.
    pub supplier: Option<i64>,
    pub by: Option<i64>,
    pub approved: bool,
    pub note: Option<&'a str>,
    pub at: NaiveDateTime,
    /// HQ's approval: the path's reasons that day (JSON).
    pub evidence: Option<String>,
}

/// Saves a decision if the application is still in `d.from`; false when it moved meanwhile.
pub fn decide(conn: &mut DbConnection, id: i64, d: &Decided) -> Result<bool> {
    let target = level_applications::table
        .filter(level_applications::id.eq(id))
        .filter(level_applications::status.eq(Stored(d.from)));
    let n = match d.supplier {
        Some(agent) => diesel::update(target)
            .set((
                level_applications::status.eq(Stored(d.to)),
                level_applications::supplier_agent_id.eq(Some(agent)),
                level_applications::supplier_decided_by.eq(d.by),
                level_applications::supplier_decided_at.eq(Some(d.at)),
                level_applications::supplier_approved.eq(Some(d.approved)),
                level_applications::supplier_note.eq(d.note),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                level_applications::status.eq(Stored(d.to)),
                level_applications::hq_decided_by.eq(d.by),
                level_applications::hq_decided_at.eq(Some(d.at)),
                level_applications::hq_approved.eq(Some(d.approved)),
                level_applications::hq_note.eq(d.note),
                level_applications::approval_evidence.eq(d.evidence.as_deref()),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// Closes an application in `from` without a decision (`withdrawn`, or `lapsed` with its
/// reason); false when it moved meanwhile.
pub fn close(
    conn: &mut DbConnection,
    id: i64,
    from: Status,
    to: Status,
    lapse: Option<&str>,
    at: NaiveDateTime,
) -> Result<bool> {
    let n = diesel::update(
        level_applications::table
            .filter(level_applications::id.eq(id))
            .filter(level_applications::status.eq(Stored(from))),
    )
    .set((
        level_applications::status.eq(Stored(to)),
        level_applications::closed_at.eq(Some(at)),
        level_applications::lapse_reason.eq(lapse),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
