//! Writing a verified batch into the registry: the batch row, its cases, its items (in HQ
//! custody, active) and an `import` custody event per item, all in one transaction.
//!
//! Speed: rows go in multi-row INSERTs of [`CHUNK`] rows (SQLite allows 32766 bound parameters
//! per statement, PostgreSQL 65535; an item row binds 7), and the custody events are written by
//! one `INSERT … SELECT` over the batch's items instead of a second million bound rows.

use chrono::DateTime;
use codegen::batch::Record;
use codegen::import::VerifiedImport;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamp};

use super::DbConnection;
use super::audit;
use super::schema::{batches, cases, custody_events, items};
use super::users::now;
use crate::error::{Error, Result};

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
                batches::status.eq("active"),
            ))
            .execute(conn)?;

        let mut writer = Writer::new(&batch_id);
        for record in import.records().map_err(import_error)? {
            match record.map_err(import_error)? {
                Record::Case(case) => {
                    // A case row must exist before the items that reference it.
                    writer.flush_items(conn)?;
                    writer.cases.push(CaseRow {
                        code: case.id.as_str().to_string(),
                        index: to_i64(case.index)?,
                        sscc: match case.id {
                            codegen::payload::CaseId::Sscc(s) => Some(s.as_str().to_string()),
                            codegen::payload::CaseId::Code(_) => None,
                        },
                    });
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
                        progress(writer.written, header.items);
                    }
                }
            }
        }
        writer.flush_cases(conn)?;
        writer.flush_items(conn)?;
        let done = writer.written;
        progress(done, header.items);

        let events = diesel::insert_into(custody_events::table)
            .values(items::table.filter(items::batch_id.eq(&batch_id)).select((
                items::serial,
                "import".into_sql::<Text>(),
                Some("hq").into_sql::<Nullable<Text>>(),
                actor.into_sql::<Nullable<diesel::sql_types::BigInt>>(),
                at.into_sql::<Timestamp>(),
            )))
            .into_columns((
                custody_events::serial,
                custody_events::kind,
                custody_events::to_kind,
                custody_events::actor_user_id,
                custody_events::at,
            ))
            .execute(conn)?;
        if events as u64 != header.items || done != header.items {
            return Err(Error::Import(format!(
                "batch {batch_id}: expected {} items, wrote {done} ({events} events)",
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

fn refuse_duplicates(conn: &mut DbConnection, batch_id: &str, sha256: &str) -> Result<()> {
    let known: i64 = batches::table
        .filter(batches::id.eq(batch_id))
        .count()
        .get_result(conn)?;
    if known > 0 {
        return Err(Error::Conflict(format!(
            "batch {batch_id} is already imported"
        )));
    }
    let same_file: Option<String> = batches::table
        .filter(batches::import_sha256.eq(sha256))
        .select(batches::id)
        .first(conn)
        .optional()?;
    if let Some(other) = same_file {
        return Err(Error::Conflict(format!(
            "this import file (sha256 {sha256}) was already imported as batch {other}"
        )));
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
                    items::status.eq("active"),
                    items::custodian_kind.eq("hq"),
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
        Error::Conflict(detail) => Error::Conflict(format!(
            "a {what} of this batch is already in the registry ({detail}): the batch overlaps one \
             imported before; nothing was imported"
        )),
        other => other,
    }
}
