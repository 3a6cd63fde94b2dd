//! The warehouse's label printers and their print queue (issue 20). The rules of a job's states
//! are `chainmark_domain::printing`; here, the rows and the conditional updates that keep two
//! instances from sending one job.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::printing::{JobKind, JobState, Outcome};
use crate::error::Result;
use crate::store::DbConnection;
use crate::store::schema::{print_jobs, printers};
use crate::typed::Stored;

#[derive(Debug, Clone, Queryable)]
pub struct PrinterRow {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub disabled: bool,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub last_ok_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub last_error_at: Option<NaiveDateTime>,
    /// The warehouse it stands in (its queue is that warehouse's); empty for printers added
    /// before warehouses were named.
    pub warehouse: String,
}

/// A job as listed (without its document).
#[derive(Debug, Clone, Queryable)]
pub struct JobRow {
    pub id: i64,
    pub printer_id: i64,
    pub kind: JobKind,
    pub order_id: Option<i64>,
    pub title: String,
    pub state: JobState,
    pub attempts: i32,
    pub next_try_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub printed_at: Option<NaiveDateTime>,
}

type JobColumns = (
    print_jobs::id,
    print_jobs::printer_id,
    print_jobs::kind,
    print_jobs::order_id,
    print_jobs::title,
    print_jobs::state,
    print_jobs::attempts,
    print_jobs::next_try_at,
    print_jobs::last_error,
    print_jobs::created_by,
    print_jobs::created_at,
    print_jobs::printed_at,
);

const JOB_COLUMNS: JobColumns = (
    print_jobs::id,
    print_jobs::printer_id,
    print_jobs::kind,
    print_jobs::order_id,
    print_jobs::title,
    print_jobs::state,
    print_jobs::attempts,
    print_jobs::next_try_at,
    print_jobs::last_error,
    print_jobs::created_by,
    print_jobs::created_at,
    print_jobs::printed_at,
);

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub printer_id: i64,
    pub kind: JobKind,
    pub order_id: Option<i64>,
    pub title: &'a str,
    pub document: &'a str,
    pub created_by: Option<i64>,
}

pub fn add_printer(
    conn: &mut DbConnection,
    name: &str,
    address: &str,
    warehouse: &str,
    by: Option<i64>,
    at: NaiveDateTime,
) -> Result<PrinterRow> {
    Ok(diesel::insert_into(printers::table)
        .values((
            printers::name.eq(name),
            printers::address.eq(address),
            printers::warehouse.eq(warehouse),
            printers::created_by.eq(by),
            printers::created_at.eq(at),
        ))
        .get_result(conn)?)
}

pub fn printer_named(conn: &mut DbConnection, name: &str) -> Result<Option<PrinterRow>> {
    Ok(printers::table
        .filter(printers::name.eq(name))
        .first(conn)
        .optional()?)
}

pub fn printer(conn: &mut DbConnection, id: i64) -> Result<Option<PrinterRow>> {
    Ok(printers::table.find(id).first(conn).optional()?)
}

/// Every printer, by warehouse and name (a warehouse has a handful).
pub fn printers(conn: &mut DbConnection) -> Result<Vec<PrinterRow>> {
    Ok(printers::table
        .order((printers::warehouse.asc(), printers::name.asc()))
        .load(conn)?)
}

pub fn set_disabled(conn: &mut DbConnection, id: i64, disabled: bool) -> Result<bool> {
    Ok(diesel::update(printers::table.find(id))
        .set(printers::disabled.eq(disabled))
        .execute(conn)?
        == 1)
}

/// How many jobs of each printer are in each state.
pub fn counts(conn: &mut DbConnection) -> Result<Vec<(i64, JobState, i64)>> {
    Ok(print_jobs::table
        .group_by((print_jobs::printer_id, print_jobs::state))
        .select((
            print_jobs::printer_id,
            print_jobs::state,
            diesel::dsl::count_star(),
        ))
        .load(conn)?)
}

/// Queues a job. Behind jobs of its printer that wait for the printer to come back, it waits as
/// long, so labels print in the order they were asked for.
pub fn enqueue(conn: &mut DbConnection, job: &NewJob<'_>, at: NaiveDateTime) -> Result<i64> {
    let behind: Option<NaiveDateTime> = print_jobs::table
        .filter(print_jobs::printer_id.eq(job.printer_id))
        .filter(print_jobs::state.eq(Stored(JobState::Queued)))
        .select(diesel::dsl::max(print_jobs::next_try_at))
        .first(conn)?;
    let at_first = behind.map_or(at, |b| b.max(at));
    Ok(diesel::insert_into(print_jobs::table)
        .values((
            print_jobs::printer_id.eq(job.printer_id),
            print_jobs::kind.eq(Stored(job.kind)),
            print_jobs::order_id.eq(job.order_id),
            print_jobs::title.eq(job.title),
            print_jobs::document.eq(job.document),
            print_jobs::state.eq(Stored(JobState::Queued)),
            print_jobs::next_try_at.eq(at_first),
            print_jobs::created_by.eq(job.created_by),
            print_jobs::created_at.eq(at),
        ))
        .returning(print_jobs::id)
        .get_result(conn)?)
}

pub fn job(conn: &mut DbConnection, id: i64) -> Result<Option<JobRow>> {
    Ok(print_jobs::table
        .find(id)
        .select(JOB_COLUMNS)
        .first(conn)
        .optional()?)
}

/// The document a job sends, and its printer's address.
pub fn document(conn: &mut DbConnection, id: i64) -> Result<Option<(String, String)>> {
    Ok(print_jobs::table
        .inner_join(printers::table)
        .filter(print_jobs::id.eq(id))
        .select((printers::address, print_jobs::document))
        .first(conn)
        .optional()?)
}

/// A page of jobs, newest first: of one warehouse, one printer and one state when given, below
/// `before`.
pub fn jobs(
    conn: &mut DbConnection,
    warehouse: Option<&str>,
    printer: Option<i64>,
    state: Option<JobState>,
    order: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<JobRow>> {
    let mut q = print_jobs::table
        .inner_join(printers::table)
        .select(JOB_COLUMNS)
        .into_boxed();
    if let Some(p) = printer {
        q = q.filter(print_jobs::printer_id.eq(p));
    }
    if let Some(w) = warehouse {
        q = q.filter(printers::warehouse.eq(w));
    }
    if let Some(s) = state {
        q = q.filter(print_jobs::state.eq(Stored(s)));
    }
    if let Some(o) = order {
        q = q.filter(print_jobs::order_id.eq(o));
    }
    if let Some(b) = before {
        q = q.filter(print_jobs::id.lt(b));
    }
    Ok(q.order(print_jobs::id.desc()).limit(limit).load(conn)?)
}

/// Jobs due at `now` on printers switched on, oldest first: (job, printer).
pub fn due(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> Result<Vec<(i64, i64)>> {
    Ok(print_jobs::table
        .inner_join(printers::table)
        .filter(print_jobs::state.eq(Stored(JobState::Queued)))
        .filter(print_jobs::next_try_at.le(now))
        .filter(printers::disabled.eq(false))
        .order(print_jobs::id.asc())
        .select((print_jobs::id, print_jobs::printer_id))
        .limit(limit)
        .load(conn)?)
}

/// Claims a due job for `instance`: true if this call moved it from queued to sending (send
/// it), false if another instance claimed it, or it was cancelled, meanwhile.
pub fn claim(conn: &mut DbConnection, id: i64, instance: &str, at: NaiveDateTime) -> Result<bool> {
    Ok(diesel::update(
        print_jobs::table
            .find(id)
            .filter(print_jobs::state.eq(Stored(JobState::Queued))),
    )
    .set((
        print_jobs::state.eq(Stored(JobState::Sending)),
        print_jobs::claimed_by.eq(Some(instance)),
        print_jobs::claimed_at.eq(Some(at)),
        print_jobs::attempts.eq(print_jobs::attempts + 1),
    ))
    .execute(conn)?
        == 1)
}

/// Records how a claimed job's try went (only while it is still this sender's), and the
/// printer's health.
pub fn finish(
    conn: &mut DbConnection,
    id: i64,
    printer: i64,
    outcome: &Outcome,
    at: NaiveDateTime,
) -> Result<()> {
    let printed = (outcome.state == JobState::Printed).then_some(at);
    diesel::update(
        print_jobs::table
            .find(id)
            .filter(print_jobs::state.eq(Stored(JobState::Sending))),
    )
    .set((
        print_jobs::state.eq(Stored(outcome.state)),
        print_jobs::last_error.eq(outcome.error.as_deref()),
        print_jobs::printed_at.eq(printed),
    ))
    .execute(conn)?;
    if let Some(next) = outcome.next_try_at {
        // The printer is away: its whole queue waits, so labels still print in order.
        diesel::update(
            print_jobs::table
                .filter(print_jobs::printer_id.eq(printer))
                .filter(print_jobs::state.eq(Stored(JobState::Queued)))
                .filter(print_jobs::next_try_at.lt(next)),
        )
        .set(print_jobs::next_try_at.eq(next))
        .execute(conn)?;
    }
    // The printer answered (printed), or did not (waiting), or broke off (uncertain).
    let health = diesel::update(printers::table.find(printer));
    match &outcome.error {
        None => health
            .set(printers::last_ok_at.eq(Some(at)))
            .execute(conn)?,
        Some(e) => health
            .set((
                printers::last_error.eq(Some(e)),
                printers::last_error_at.eq(Some(at)),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Jobs still sending that were claimed before `claimed_before`: their sender died. They become
/// uncertain (never sent again by themselves). Answers how many.
/// Whether any job has been "sending" since before `claimed_before` (a read, on the state
/// index: the sender asks every round, and an idle queue should cost no write).
pub fn any_stale(conn: &mut DbConnection, claimed_before: NaiveDateTime) -> Result<bool> {
    let n: i64 = print_jobs::table
        .filter(print_jobs::state.eq(Stored(JobState::Sending)))
        .filter(print_jobs::claimed_at.lt(claimed_before))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn abandon_stale(
    conn: &mut DbConnection,
    claimed_before: NaiveDateTime,
    note: &str,
) -> Result<usize> {
    Ok(diesel::update(
        print_jobs::table
            .filter(print_jobs::state.eq(Stored(JobState::Sending)))
            .filter(print_jobs::claimed_at.lt(claimed_before)),
    )
    .set((
        print_jobs::state.eq(Stored(JobState::Uncertain)),
        print_jobs::last_error.eq(Some(note)),
    ))
    .execute(conn)?)
}

/// Takes a queued job off the queue: true if it was still queued.
pub fn cancel(conn: &mut DbConnection, id: i64) -> Result<bool> {
    Ok(diesel::update(
        print_jobs::table
            .find(id)
            .filter(print_jobs::state.eq(Stored(JobState::Queued))),
    )
    .set(print_jobs::state.eq(Stored(JobState::Cancelled)))
    .execute(conn)?
        == 1)
}

/// The whole document of job `id` (a reprint copies it).
pub fn full_job(conn: &mut DbConnection, id: i64) -> Result<Option<(JobRow, String)>> {
    let Some(row) = job(conn, id)? else {
        return Ok(None);
    };
    let document = print_jobs::table
        .find(id)
        .select(print_jobs::document)
        .first(conn)?;
    Ok(Some((row, document)))
}
