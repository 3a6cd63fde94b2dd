//! HQ's batch desk (`/hq/batches`): the batch list searched and paged in one query, the jobs that
//! generate a batch in the background (`batch_jobs`: their progress is here so every instance
//! shows it) and the encrypted code packs made of a batch's print file (`code_packs`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::batches::BatchRow;
use super::desk::{Page, contains};
use super::schema::{batch_jobs, batches, code_packs, items, products};
use super::users::now;
use crate::domain::custody::ItemStatus;
use crate::error::Result;
use crate::typed::Stored;

/// Batches whose id, product SKU or product name contains `search` (any case), of `status` when
/// given: one query (a row more than the page tells whether another page follows).
pub fn page(
    conn: &mut DbConnection,
    search: Option<&str>,
    status: Option<ItemStatus>,
    offset: i64,
    limit: i64,
) -> Result<Page<BatchRow>> {
    let mut q = batches::table
        .inner_join(products::table)
        .select((
            batches::id,
            batches::key_id,
            products::sku,
            products::name,
            batches::item_count,
            batches::case_count,
            batches::case_size,
            batches::production_date,
            batches::created_at,
            batches::imported_at,
            batches::import_sha256,
            batches::status,
        ))
        .order((batches::imported_at.desc(), batches::id))
        .offset(offset)
        .limit(limit + 1)
        .into_boxed();
    if let Some(s) = search {
        let pattern = contains(s);
        q = q.filter(
            batches::id
                .like(pattern.to_uppercase())
                .escape('\\')
                .or(products::sku.like(pattern.clone()).escape('\\'))
                .or(products::name.like(pattern).escape('\\')),
        );
    }
    if let Some(s) = status {
        q = q.filter(batches::status.eq(Stored(s)));
    }
    Ok(Page::of_rows(q.load(conn)?, limit))
}

/// Serials `from..=to` (0-based indices) of a batch with their case codes, in index order.
pub fn item_slice(
    conn: &mut DbConnection,
    batch_id: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(String, i64, Option<String>)>> {
    Ok(items::table
        .filter(items::batch_id.eq(batch_id))
        .filter(items::item_index.between(from, to))
        .order(items::item_index)
        .select((items::serial, items::item_index, items::case_code))
        .load(conn)?)
}

/// Where a batch job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobPhase {
    /// Asked for, not started yet.
    Queued,
    /// codegen writes the batch folder.
    Writing,
    /// The registry imports it.
    Importing,
    Done,
    Failed,
}

impl JobPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            JobPhase::Queued => "queued",
            JobPhase::Writing => "writing",
            JobPhase::Importing => "importing",
            JobPhase::Done => "done",
            JobPhase::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<JobPhase> {
        Some(match s {
            "queued" => JobPhase::Queued,
            "writing" => JobPhase::Writing,
            "importing" => JobPhase::Importing,
            "done" => JobPhase::Done,
            "failed" => JobPhase::Failed,
            _ => return None,
        })
    }

    /// Whether the job has ended, well or not.
    pub fn ended(self) -> bool {
        matches!(self, JobPhase::Done | JobPhase::Failed)
    }
}

/// A batch job as asked for.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub product_id: i64,
    pub items: i64,
    pub case_size: i32,
    pub production_date: Option<String>,
    pub note: Option<String>,
    pub created_by: Option<i64>,
}

/// A batch job with its product.
#[derive(Debug, Clone, Queryable)]
pub struct JobRow {
    pub id: i64,
    pub product_id: i64,
    pub sku: String,
    pub product_name: String,
    pub gtin: Option<String>,
    pub items: i64,
    pub case_size: i32,
    pub production_date: Option<String>,
    pub note: Option<String>,
    pub phase: String,
    pub written: i64,
    pub imported: i64,
    pub batch_id: Option<String>,
    pub problem: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl JobRow {
    pub fn phase(&self) -> JobPhase {
        JobPhase::parse(&self.phase).unwrap_or(JobPhase::Failed)
    }

    /// Percent done: writing is the first half, importing the second.
    pub fn percent(&self) -> i64 {
        if self.phase() == JobPhase::Done {
            return 100;
        }
        let total = 2 * self.items.max(1);
        ((self.written + self.imported) * 100 / total).clamp(0, 99)
    }
}

macro_rules! job_columns {
    () => {
        (
            batch_jobs::id,
            batch_jobs::product_id,
            products::sku,
            products::name,
            products::gtin,
            batch_jobs::items,
            batch_jobs::case_size,
            batch_jobs::production_date,
            batch_jobs::note,
            batch_jobs::phase,
            batch_jobs::written,
            batch_jobs::imported,
            batch_jobs::batch_id,
            batch_jobs::problem,
            batch_jobs::created_by,
            batch_jobs::created_at,
            batch_jobs::updated_at,
        )
    };
}

/// Records a queued job; returns its id.
pub fn create_job(conn: &mut DbConnection, job: &NewJob) -> Result<i64> {
    let at = now();
    Ok(diesel::insert_into(batch_jobs::table)
        .values((
            batch_jobs::product_id.eq(job.product_id),
            batch_jobs::items.eq(job.items),
            batch_jobs::case_size.eq(job.case_size),
            batch_jobs::production_date.eq(&job.production_date),
            batch_jobs::note.eq(&job.note),
            batch_jobs::phase.eq(JobPhase::Queued.as_str()),
            batch_jobs::written.eq(0i64),
            batch_jobs::imported.eq(0i64),
            batch_jobs::created_by.eq(job.created_by),
            batch_jobs::created_at.eq(at),
            batch_jobs::updated_at.eq(at),
        ))
        .returning(batch_jobs::id)
        .get_result(conn)?)
}

pub fn find_job(conn: &mut DbConnection, id: i64) -> Result<Option<JobRow>> {
    Ok(batch_jobs::table
        .inner_join(products::table)
        .filter(batch_jobs::id.eq(id))
        .select(job_columns!())
        .first(conn)
        .optional()?)
}

/// The newest jobs that have not ended, or ended within the last day, newest first.
pub fn recent_jobs(conn: &mut DbConnection, limit: i64) -> Result<Vec<JobRow>> {
    let since = now() - chrono::Duration::days(1);
    Ok(batch_jobs::table
        .inner_join(products::table)
        .filter(
            batch_jobs::updated_at
                .ge(since)
                .or(batch_jobs::phase.eq_any([
                    JobPhase::Queued.as_str(),
                    JobPhase::Writing.as_str(),
                    JobPhase::Importing.as_str(),
                ])),
        )
        .order(batch_jobs::id.desc())
        .limit(limit)
        .select(job_columns!())
        .load(conn)?)
}

/// Moves a job on: its phase and counts (never backwards: a late progress report of a slower
/// writer cannot undo a later one).
pub fn set_progress(
    conn: &mut DbConnection,
    id: i64,
    phase: JobPhase,
    written: i64,
    imported: i64,
) -> Result<()> {
    diesel::update(batch_jobs::table.filter(batch_jobs::id.eq(id)))
        .filter(batch_jobs::written.le(written))
        .filter(batch_jobs::imported.le(imported))
        .set((
            batch_jobs::phase.eq(phase.as_str()),
            batch_jobs::written.eq(written),
            batch_jobs::imported.eq(imported),
            batch_jobs::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Ends a job: done with its batch, or failed with the problem in words.
pub fn end_job(
    conn: &mut DbConnection,
    id: i64,
    batch_id: Option<&str>,
    problem: Option<&str>,
) -> Result<()> {
    let phase = if problem.is_some() {
        JobPhase::Failed
    } else {
        JobPhase::Done
    };
    diesel::update(batch_jobs::table.filter(batch_jobs::id.eq(id)))
        .set((
            batch_jobs::phase.eq(phase.as_str()),
            batch_jobs::batch_id.eq(batch_id),
            batch_jobs::problem.eq(problem),
            batch_jobs::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if phase == JobPhase::Done {
        diesel::update(batch_jobs::table.filter(batch_jobs::id.eq(id)))
            .set((
                batch_jobs::written.eq(batch_jobs::items),
                batch_jobs::imported.eq(batch_jobs::items),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The job that made `batch_id`, if it was made on the desk (its note, who asked).
pub fn job_of_batch(conn: &mut DbConnection, batch_id: &str) -> Result<Option<JobRow>> {
    Ok(batch_jobs::table
        .inner_join(products::table)
        .filter(batch_jobs::batch_id.eq(batch_id))
        .select(job_columns!())
        .first(conn)
        .optional()?)
}

/// A code pack as recorded (never its password).
#[derive(Debug, Clone, Queryable)]
pub struct PackRow {
    pub id: i64,
    pub batch_id: String,
    pub file_name: String,
    pub bytes: i64,
    pub sha256: String,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

/// Records a pack made for `batch_id`; returns its id. The file is named after the call
/// ([`pack_file_name`]), so the row comes first.
pub fn create_pack(
    conn: &mut DbConnection,
    batch_id: &str,
    created_by: Option<i64>,
) -> Result<PackRow> {
    let id: i64 = diesel::insert_into(code_packs::table)
        .values((
            code_packs::batch_id.eq(batch_id),
            code_packs::file_name.eq(""),
            code_packs::bytes.eq(0i64),
            code_packs::sha256.eq(""),
            code_packs::created_by.eq(created_by),
            code_packs::created_at.eq(now()),
        ))
        .returning(code_packs::id)
        .get_result(conn)?;
    let name = pack_file_name(batch_id, id);
    diesel::update(code_packs::table.filter(code_packs::id.eq(id)))
        .set(code_packs::file_name.eq(&name))
        .execute(conn)?;
    find_pack(conn, batch_id, id)?.ok_or_else(|| crate::error::Error::not_found("code pack"))
}

/// The file name of pack `id` of `batch_id`.
pub fn pack_file_name(batch_id: &str, id: i64) -> String {
    format!("{batch_id}-print-{id}.csv.age")
}

/// Records the written file's size and SHA-256.
pub fn finish_pack(conn: &mut DbConnection, id: i64, bytes: i64, sha256: &str) -> Result<()> {
    diesel::update(code_packs::table.filter(code_packs::id.eq(id)))
        .set((code_packs::bytes.eq(bytes), code_packs::sha256.eq(sha256)))
        .execute(conn)?;
    Ok(())
}

pub fn find_pack(conn: &mut DbConnection, batch_id: &str, id: i64) -> Result<Option<PackRow>> {
    Ok(code_packs::table
        .filter(code_packs::id.eq(id))
        .filter(code_packs::batch_id.eq(batch_id))
        .select((
            code_packs::id,
            code_packs::batch_id,
            code_packs::file_name,
            code_packs::bytes,
            code_packs::sha256,
            code_packs::created_by,
            code_packs::created_at,
        ))
        .first(conn)
        .optional()?)
}

/// The finished packs of a batch, newest first.
pub fn packs(conn: &mut DbConnection, batch_id: &str) -> Result<Vec<PackRow>> {
    Ok(code_packs::table
        .filter(code_packs::batch_id.eq(batch_id))
        .filter(code_packs::bytes.gt(0))
        .order(code_packs::id.desc())
        .limit(50)
        .select((
            code_packs::id,
            code_packs::batch_id,
            code_packs::file_name,
            code_packs::bytes,
            code_packs::sha256,
            code_packs::created_by,
            code_packs::created_at,
        ))
        .load(conn)?)
}
