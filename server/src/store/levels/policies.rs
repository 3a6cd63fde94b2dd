//! Level policy versions: the documents as written, which one is active, who activated it when.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::schema::level_policies;
use crate::store::users::now;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = level_policies)]
pub struct LevelPolicyRow {
    pub id: i64,
    pub version: i64,
    pub name: String,
    pub document: String,
    /// `draft`, `active` or `retired`.
    pub status: String,
    pub created_at: NaiveDateTime,
    pub created_by: Option<i64>,
    pub activated_at: Option<NaiveDateTime>,
    pub activated_by: Option<i64>,
}

pub fn active(conn: &mut DbConnection) -> Result<Option<LevelPolicyRow>> {
    Ok(level_policies::table
        .filter(level_policies::status.eq("active"))
        .select(LevelPolicyRow::as_select())
        .load(conn)?
        .pop())
}

pub fn by_version(conn: &mut DbConnection, version: i64) -> Result<Option<LevelPolicyRow>> {
    Ok(level_policies::table
        .filter(level_policies::version.eq(version))
        .select(LevelPolicyRow::as_select())
        .load(conn)?
        .pop())
}

/// Newest version first.
pub fn list(conn: &mut DbConnection) -> Result<Vec<LevelPolicyRow>> {
    Ok(level_policies::table
        .order(level_policies::version.desc())
        .select(LevelPolicyRow::as_select())
        .load(conn)?)
}

/// Stores a validated document as a draft; its version must be new.
pub fn insert_draft(
    conn: &mut DbConnection,
    version: i64,
    name: &str,
    document: &str,
    by: Option<i64>,
) -> Result<LevelPolicyRow> {
    if by_version(conn, version)?.is_some() {
        return Err(Error::Conflict(format!(
            "level policy version {version} exists already: give the new document a higher \
             `version`"
        )));
    }
    diesel::insert_into(level_policies::table)
        .values((
            level_policies::version.eq(version),
            level_policies::name.eq(name),
            level_policies::document.eq(document),
            level_policies::status.eq("draft"),
            level_policies::created_at.eq(now()),
            level_policies::created_by.eq(by),
        ))
        .execute(conn)?;
    by_version(conn, version)?.ok_or_else(|| Error::Internal("draft not stored".into()))
}

/// Retires the active version and activates `version` (call inside a transaction).
pub fn activate(conn: &mut DbConnection, version: i64, by: Option<i64>) -> Result<()> {
    diesel::update(level_policies::table.filter(level_policies::status.eq("active")))
        .set(level_policies::status.eq("retired"))
        .execute(conn)?;
    let n = diesel::update(
        level_policies::table
            .filter(level_policies::version.eq(version))
            .filter(level_policies::status.eq("draft")),
    )
    .set((
        level_policies::status.eq("active"),
        level_policies::activated_at.eq(Some(now())),
        level_policies::activated_by.eq(by),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(Error::Conflict(format!(
            "level policy version {version} is not a draft: only a draft can be activated"
        )));
    }
    Ok(())
}
