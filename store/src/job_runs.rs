//! Claims of background jobs' due times, so that each runs once across server instances.
//!
//! A claim is an insert that does nothing when the row exists, made in the same transaction as
//! the job's work: on PostgreSQL a second instance's insert waits on the key until the first
//! commits (then finds the row) or rolls back (then inserts it and runs the job); on SQLite the
//! database's single write lock orders them the same way.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::job_runs;
use crate::error::Result;

/// Claims `job` for `due` for `instance`: true if this call made the claim (run the job), false
/// if the due time was claimed already (skip it).
pub fn claim(
    conn: &mut DbConnection,
    job: &str,
    due: &str,
    instance: &str,
    at: NaiveDateTime,
) -> Result<bool> {
    let insert = diesel::insert_into(job_runs::table)
        .values((
            job_runs::job.eq(job),
            job_runs::due.eq(due),
            job_runs::instance.eq(instance),
            job_runs::ran_at.eq(at),
        ))
        .on_conflict((job_runs::job, job_runs::due))
        .do_nothing();
    let inserted = per_backend!(conn, |c| insert.execute(c))?;
    Ok(inserted == 1)
}

/// Who ran `job` for `due`, if anyone did.
pub fn ran_by(conn: &mut DbConnection, job: &str, due: &str) -> Result<Option<String>> {
    Ok(job_runs::table
        .filter(job_runs::job.eq(job).and(job_runs::due.eq(due)))
        .select(job_runs::instance)
        .first(conn)
        .optional()?)
}

/// Forgets claims of `job` made before `before` (the frequent jobs leave a row every period).
pub fn forget_before(conn: &mut DbConnection, job: &str, before: NaiveDateTime) -> Result<usize> {
    Ok(diesel::delete(
        job_runs::table.filter(job_runs::job.eq(job).and(job_runs::ran_at.lt(before))),
    )
    .execute(conn)?)
}
