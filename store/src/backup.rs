//! Backups of a live SQLite database, made by SQLite itself.
//!
//! `VACUUM INTO` reads one consistent snapshot through an ordinary read transaction, so the
//! server keeps writing meanwhile, and the copy holds everything committed before it began,
//! WAL included. Copying `chainmark.db` with `cp` instead misses what is still in the WAL, and a
//! program that opens and closes the database file itself drops SQLite's POSIX locks in its own
//! process (see `checkpoint`).

use std::path::Path;

use diesel::RunQueryDsl;
use diesel::sql_types::Text;

use super::DbConnection;
use crate::error::{Error, Result};

#[derive(diesel::QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

/// Writes a consistent copy of the database to `target`, which must not exist or be empty.
pub fn vacuum_into(conn: &mut DbConnection, target: &Path) -> Result<()> {
    let DbConnection::Sqlite(c) = conn else {
        return Err(Error::BadRequest(
            "backups are for SQLite; on PostgreSQL use pg_dump or a base backup".into(),
        ));
    };
    let target = target
        .to_str()
        .ok_or_else(|| Error::BadRequest(format!("{}: not UTF-8", target.display())))?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(target)
        .execute(c)?;
    Ok(())
}

/// `PRAGMA integrity_check`: `["ok"]` for a sound database, else the problems it found.
pub fn integrity_check(conn: &mut DbConnection) -> Result<Vec<String>> {
    let DbConnection::Sqlite(c) = conn else {
        return Err(Error::BadRequest("integrity_check is for SQLite".into()));
    };
    Ok(diesel::sql_query("PRAGMA integrity_check")
        .load::<Line>(c)?
        .into_iter()
        .map(|l| l.integrity_check)
        .collect())
}
