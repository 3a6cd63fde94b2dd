//! Policy versions: the documents as written, which one is active, and who activated it when.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::schema::policy_versions;
use crate::store::users::now;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = policy_versions)]
pub struct PolicyRow {
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

pub fn active(conn: &mut DbConnection) -> Result<Option<PolicyRow>> {
    Ok(policy_versions::table
        .filter(policy_versions::status.eq("active"))
        .select(PolicyRow::as_select())
        .load(conn)?
        .pop())
}

pub fn by_version(conn: &mut DbConnection, version: i64) -> Result<Option<PolicyRow>> {
    Ok(policy_versions::table
        .filter(policy_versions::version.eq(version))
        .select(PolicyRow::as_select())
        .load(conn)?
        .pop())
}

/// Newest version first.
pub fn list(conn: &mut DbConnection) -> Result<Vec<PolicyRow>> {
    Ok(policy_versions::table
        .order(policy_versions::version.desc())
        .select(PolicyRow::as_select())
        .load(conn)?)
}

/// Stores a validated document as a draft; its version must be new.
pub fn insert_draft(
    conn: &mut DbConnection,
    version: i64,
    name: &str,
    document: &str,
    by: Option<i64>,
) -> Result<PolicyRow> {
    if by_version(conn, version)?.is_some() {
        return Err(Error::Conflict(format!(
            "policy version {version} exists already: give the new document a higher `version`"
        )));
    }
    diesel::insert_into(policy_versions::table)
        .values((
            policy_versions::version.eq(version),
            policy_versions::name.eq(name),
            policy_versions::document.eq(document),
            policy_versions::status.eq("draft"),
            policy_versions::created_at.eq(now()),
            policy_versions::created_by.eq(by),
        ))
        .execute(conn)?;
    by_version(conn, version)?.ok_or_else(|| Error::Internal("policy row vanished".into()))
}

/// Retires the active version and activates `version` (a draft), in the caller's transaction.
pub fn activate(conn: &mut DbConnection, version: i64, by: Option<i64>) -> Result<()> {
    let at = now();
    diesel::update(policy_versions::table.filter(policy_versions::status.eq("active")))
        .set(policy_versions::status.eq("retired"))
        .execute(conn)?;
    let n = diesel::update(
        policy_versions::table
            .filter(policy_versions::version.eq(version))
            .filter(policy_versions::status.eq("draft")),
    )
    .set((
        policy_versions::status.eq("active"),
        policy_versions::activated_at.eq(Some(at)),
        policy_versions::activated_by.eq(by),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(Error::Conflict(format!(
            "policy version {version} is not a draft: only drafts can be activated"
        )));
    }
    Ok(())
}
