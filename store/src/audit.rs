//! The audit log: who did what to which subject, append-only, for HQ.

use diesel::prelude::*;

use super::DbConnection;
use super::schema::audit_log;
use super::users::now;
use crate::error::Result;

/// Appends one entry; `detail` is JSON (what was asked and what came of it).
pub fn record(
    conn: &mut DbConnection,
    actor_user_id: Option<i64>,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_user_id.eq(actor_user_id),
            audit_log::action.eq(action),
            audit_log::subject.eq(subject),
            audit_log::detail.eq(detail.to_string()),
            audit_log::at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}
