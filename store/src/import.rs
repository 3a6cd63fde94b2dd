//! Writing a verified batch into the registry: the batch row (with who imported it), its cases and
//! its items (in HQ custody, active), all in one transaction.
//!
//! The import is recorded once, on the batch (`imported_at`, `imported_by`), not as an `import`
//! custody event per item: those rows were all alike, and at 10,000,000 codes they were a second
//! table as large as `items` and a third of the import's time on both backends (BENCHMARKS.md).
//! The readers of an item's custody history start it from its batch's import
//! ([`super::items::custody_events`]).
//!
//! Speed: on SQLite rows go in multi-row INSERTs of [`CHUNK`] rows (SQLite allows 32766 bound
//! parameters per statement; an item row binds 7); on PostgreSQL they are streamed by `COPY`.

use chrono::DateTime;
use codegen::batch::Record;
use codegen::import::VerifiedImport;
use diesel::prelude::*;

use super::DbConnection;
use super::audit;
use super::schema::{batches, cases, items};
use super::users::now;
use crate::domain::custody::{CustodianKind, ItemStatus};
use crate::error::{Error, Result};
use crate::typed::Stored;

/// Rows per multi-row INSERT.
pub const CHUNK: usize = 1000;

/// What was imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub batch_id: String,
    pub items: u64,
    pub cases: u64,
}

/// Inserts the verified `import` for product `product_id`. `progress(done, total)` is called
/// after every chunk of items. Nothing is written unless everything is.
pub fn insert_batch(
    conn: &mut DbConnection,
    import: &VerifiedImport,
    product_id: i64,
    actor: Option<i64>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Imported> {
    let header = import.header();
    let manifest = import.manifest();
    let batch_id = header.id.to_string();
    conn.transaction(|conn| {
        refuse_duplicates(conn, &batch_id, &manifest.import_sha256)?;
        let at = now();
        let created_at = DateTime::parse_from_rfc3339(&header.created_at)
            .map(|d| d.naive_utc())
            .unwrap_or(at);
        diesel::insert_into(batches::table)
            .values((
                batches::id.eq(&batch_id),
                batches::key_id.eq(&header.key_id),
                batches::product_id.eq(product_id),
                batches::item_count.eq(to_i64(header.items)?),
                batches::case_count.eq(to_i64(header.cases)?),
                batches::case_size.eq(i32::try_from(header.case_size).map_err(|_| {
                    Error::Import(format!("case size {} is too large", header.case_size))
                })?),
                batches::production_date.eq(header
                    .production_date
                    .map(|d| d.to_string())
                    .unwrap_or_default()),
                batches::created_at.eq(created_at),
                batches::imported_at.eq(at),
                batches::import_sha256.eq(&manifest.import_sha256),
                batches::status.eq(Stored(ItemStatus::Active)),
                batches::imported_by.eq(actor),
            ))
            .execute(conn)?;

        let done = match conn {
            DbConnection::Postgres(pg) => copy_rows(pg, import, &batch_id, progress)?,
            DbConnection::Sqlite(_) => insert_rows(conn, import, &batch_id, progress)?,
        };
        progress(done, header.items);

        if done != header.items {
            return Err(Error::Import(format!(
                "batch {batch_id}: expected {} items, wrote {done}",
                header.items
            )));
        }
        audit::record(
            conn,
            actor,
            "batch.import",
            &batch_id,
            &serde_json::json!({
                "product": header.product,
                "items": header.items,
                "cases": header.cases,
                "key_id": header.key_id,
                "import_sha256": manifest.import_sha256,
            }),
        )?;
        Ok(Imported {
            batch_id: batch_id.clone(),
            items: header.items,
            cases: header.cases,
        })
    })
}

/// SQLite: cases and items in multi-row INSERTs of [`CHUNK`] rows, in one pass over the file.
/// Returns the items written.
fn insert_rows(
    conn: &mut DbConnection,
    import: &VerifiedImport,
    batch_id: &str,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<u64> {
    let total = import.header().items;
    let mut writer = Writer::new(batch_id);
    for record in import.records().map_err(import_error)? {
        match record.map_err(import_error)? {
            Record::Case(case) => {
                // A case row must exist before the items that reference it.
                writer.flush_items(conn)?;
                writer.cases.push(case_row(&case)?);
                if writer.cases.len() >= CHUNK {
                    writer.flush_cases(conn)?;
                }
            }
            Record::Item(item) => {
                writer.flush_cases(conn)?;
                writer.items.push(ItemRow {
                    serial: item.serial.to_string(),
                    index: to_i64(item.index)?,
                    case_code: item.case.as_str().to_string(),
                    code_hash: item.code_hash.as_str().to_string(),
                });
                if writer.items.len() >= CHUNK {
                    writer.flush_items(conn)?;
                    progress(writer.written, total);
                }
            }
        }
    }
    writer.flush_cases(conn)?;
    writer.flush_items(conn)?;
    Ok(writer.written)
}

fn case_row(case: &codegen::batch::CaseRecord) -> Result<CaseRow> {
    Ok(CaseRow {
        code: case.id.as_str().to_string(),
        index: to_i64(case.index)?,
        sscc: match &case.id {
            codegen::payload::CaseId::Sscc(s) => Some(s.as_str().to_string()),
            codegen::payload::CaseId::Code(_) => None,
        },
    })
}

/// PostgreSQL: cases and items streamed with `COPY … FROM STDIN`, which skips the parsing,
/// planning and per-statement round trips of INSERTs (a multi-row INSERT ran at 12–14 k items/s,
/// BENCHMARKS.md). Two passes over the file: the items' foreign key wants their cases first, and
/// a connection runs one `COPY` at a time. Memory stays flat: rows go out through a 256 KiB
/// buffer as they are read. Returns the items written.
fn copy_rows(
    conn: &mut diesel::PgConnection,
    import: &VerifiedImport,
    batch_id: &str,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<u64> {
    use diesel::pg::CopyFormat;
    use diesel::prelude::ExecuteCopyFromDsl;
    use std::cell::RefCell;
    use std::io::Write;

    let total = import.header().items;
    let batch = copy_text(batch_id);
    // Why a stream failed (the file changed since it was verified, say): diesel passes on only
    // its text, as the `COPY`'s failure; the import reports the original.
    let failure = RefCell::new(None);
    let cases_copied = diesel::copy_from(cases::table)
        .from_raw_data(
            (cases::code, cases::batch_id, cases::case_index, cases::sscc),
            |sink: &mut dyn Write| -> Result<()> {
                keep_failure(&failure, || {
                    let mut out = std::io::BufWriter::with_capacity(COPY_BUFFER, sink);
                    for record in import.records().map_err(import_error)? {
                        if let Record::Case(case) = record.map_err(import_error)? {
                            let row = case_row(&case)?;
                            let sscc = row.sscc.as_deref().map_or("\\N".into(), copy_text);
                            writeln!(
                                out,
                                "{}\t{batch}\t{}\t{sscc}",
                                copy_text(&row.code),
                                row.index
                            )
                            .map_err(copy_io)?;
                        }
                    }
                    out.flush().map_err(copy_io)
                })
            },
        )
        .with_format(CopyFormat::Text)
        .execute(conn)
        .map_err(|e| failure.take().unwrap_or_else(|| duplicate_copy("case", e)))?;
    if cases_copied as u64 != import.header().cases {
        return Err(Error::Import(format!(
            "batch {batch_id}: expected {} cases, wrote {cases_copied}",
            import.header().cases
        )));
    }
    // `from_raw_data` takes an `Fn`: the count and the progress callback are borrowed mutably
    // inside it through cells.
    let written = RefCell::new(0u64);
    let progress = RefCell::new(progress);
    diesel::copy_from(items::table)
        .from_raw_data(
            (
                items::serial,
                items::batch_id,
                items::item_index,
                items::case_code,
                items::code_hash,
                items::status,
                items::custodian_kind,
            ),
            |sink: &mut dyn Write| -> Result<()> {
                keep_failure(&failure, || {
                    let mut out = std::io::BufWriter::with_capacity(COPY_BUFFER, sink);
                    let mut written = written.borrow_mut();
                    for record in import.records().map_err(import_error)? {
                        if let Record::Item(item) = record.map_err(import_error)? {
                            writeln!(
                                out,
                                "{}\t{batch}\t{}\t{}\t{}\t{}\t{}",
                                copy_text(&item.serial.to_string()),
                                item.index,
                                copy_text(item.case.as_str()),
                                copy_text(item.code_hash.as_str()),
                                ItemStatus::Active.as_str(),
                                CustodianKind::Hq.as_str(),
                            )
                            .map_err(copy_io)?;
                            *written += 1;
                            if *written % CHUNK as u64 == 0 {
                                (progress.borrow_mut())(*written, total);
                            }
                        }
                    }
                    out.flush().map_err(copy_io)
                })
            },
        )
        .with_format(CopyFormat::Text)
        .execute(conn)
        .map_err(|e| {
            failure
                .take()
                .unwrap_or_else(|| duplicate_copy("serial", e))
        })?;
    Ok(written.into_inner())
}

/// Runs a `COPY`'s row stream; a failure is kept in `cell` (see [`copy_rows`]) and handed to
/// diesel as text, which aborts the `COPY`.
fn keep_failure(
    cell: &std::cell::RefCell<Option<Error>>,
    stream: impl FnOnce() -> Result<()>,
) -> Result<()> {
    stream().map_err(|e| {
        let text = e.to_string();
        *cell.borrow_mut() = Some(e);
        Error::Internal(text)
    })
}

/// Bytes buffered before each hand-over to libpq during a `COPY`.
const COPY_BUFFER: usize = 256 * 1024;

/// A value in `COPY`'s text format: backslash, tab, newline and carriage return escaped. Codes
/// are plain ASCII, so this normally returns the value as it is.
fn copy_text(v: &str) -> std::borrow::Cow<'_, str> {
    if !v.contains(['\\', '\t', '\n', '\r']) {
        return v.into();
    }
    let mut s = String::with_capacity(v.len() + 8);
    for ch in v.chars() {
        match ch {
            '\\' => s.push_str("\\\\"),
            '\t' => s.push_str("\\t"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            c => s.push(c),
        }
    }
    s.into()
}

fn copy_io(e: std::io::Error) -> Error {
    Error::Database(format!("streaming rows to the database failed: {e}"))
}

/// A unique violation during a `COPY`: as [`duplicate`] says for INSERTs. (Matched on
/// PostgreSQL's message too, in case the failed `COPY` comes back without its error kind.)
fn duplicate_copy(what: &str, e: Error) -> Error {
    match e {
        Error::Duplicate(detail)
        | Error::Conflict {
            message: detail, ..
        } => overlap(what, &detail),
        Error::Database(detail) if detail.contains("duplicate key value") => overlap(what, &detail),
        other => other,
    }
}

fn refuse_duplicates(conn: &mut DbConnection, batch_id: &str, sha256: &str) -> Result<()> {
    let known: i64 = batches::table
        .filter(batches::id.eq(batch_id))
        .count()
        .get_result(conn)?;
    if known > 0 {
        return Err(Error::conflict(
            "batch_already_imported",
            format!("batch {batch_id} is already imported"),
        ));
    }
    let same_file: Option<String> = batches::table
        .filter(batches::import_sha256.eq(sha256))
        .select(batches::id)
        .first(conn)
        .optional()?;
    if let Some(other) = same_file {
        return Err(Error::conflict(
            "file_already_imported",
            format!("this import file (sha256 {sha256}) was already imported as batch {other}"),
        ));
    }
    Ok(())
}

fn to_i64(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| Error::Import(format!("count {n} is out of range")))
}

/// codegen's reasons (tampered, truncated, changed while reading…) pass through as they are.
fn import_error(e: codegen::Error) -> Error {
    Error::Import(e.to_string())
}

struct CaseRow {
    code: String,
    index: i64,
    sscc: Option<String>,
}

struct ItemRow {
    serial: String,
    index: i64,
    case_code: String,
    code_hash: String,
}

/// Buffers rows and writes them a chunk at a time.
struct Writer<'a> {
    batch_id: &'a str,
    cases: Vec<CaseRow>,
    items: Vec<ItemRow>,
    /// Items inserted so far.
    written: u64,
}

impl<'a> Writer<'a> {
    fn new(batch_id: &'a str) -> Self {
        Writer {
            batch_id,
            cases: Vec::with_capacity(CHUNK),
            items: Vec::with_capacity(CHUNK),
            written: 0,
        }
    }

    fn flush_cases(&mut self, conn: &mut DbConnection) -> Result<()> {
        if self.cases.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = self
            .cases
            .iter()
            .map(|c| {
                (
                    cases::code.eq(&c.code),
                    cases::batch_id.eq(self.batch_id),
                    cases::case_index.eq(c.index),
                    cases::sscc.eq(c.sscc.as_deref()),
                    cases::opened.eq(false),
                )
            })
            .collect();
        let insert = diesel::insert_into(cases::table).values(rows);
        per_backend!(conn, |c| insert.execute(c)).map_err(|e| duplicate("case", e))?;
        self.cases.clear();
        Ok(())
    }

    fn flush_items(&mut self, conn: &mut DbConnection) -> Result<()> {
        if self.items.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = self
            .items
            .iter()
            .map(|i| {
                (
                    items::serial.eq(&i.serial),
                    items::batch_id.eq(self.batch_id),
                    items::item_index.eq(i.index),
                    items::case_code.eq(Some(&i.case_code)),
                    items::code_hash.eq(&i.code_hash),
                    items::status.eq(Stored(ItemStatus::Active)),
                    items::custodian_kind.eq(Stored(CustodianKind::Hq)),
                )
            })
            .collect();
        let insert = diesel::insert_into(items::table).values(rows);
        per_backend!(conn, |c| insert.execute(c)).map_err(|e| duplicate("serial", e))?;
        self.written += self.items.len() as u64;
        self.items.clear();
        Ok(())
    }
}

/// A unique violation while inserting cases or items means codes overlap with ones already in
/// the registry (SSCCs reused, or serials of a batch id seen before).
fn duplicate(what: &str, e: diesel::result::Error) -> Error {
    match Error::from(e) {
        Error::Duplicate(detail)
        | Error::Conflict {
            message: detail, ..
        } => overlap(what, &detail),
        other => other,
    }
}

/// The database's constraint text stays in the log; the caller learns what overlapped.
fn overlap(what: &str, detail: &str) -> Error {
    tracing::info!(%detail, "import refused: codes already in the registry");
    Error::conflict(
        "batch_overlaps",
        format!(
            "a {what} of this batch is already in the registry: the batch overlaps one imported \
         before; nothing was imported"
        ),
    )
}
