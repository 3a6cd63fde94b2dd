//! The tier policy's use cases: view the active version, validate a document (every problem
//! named by its field), save it as a draft, and activate it. Orders keep the version they were
//! placed under, so activation changes only what comes next.

use diesel::prelude::*;

use crate::domain::network::{Policy, PolicyErrors, policy::SEED_004};
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::network::policies::{self, PolicyRow};
use crate::store::schema::agents;

/// The active policy. A fresh database has none: the shipped `seed-004` preset becomes version 1.
pub fn active(conn: &mut DbConnection) -> Result<(PolicyRow, Policy)> {
    if let Some(row) = policies::active(conn)? {
        let policy = parse_stored(&row)?;
        return Ok((row, policy));
    }
    let seed = Policy::seed_004().map_err(|e| Error::Internal(e.to_string()))?;
    conn.transaction(|conn| {
        let row =
            policies::insert_draft(conn, i64::from(seed.version()), seed.name(), SEED_004, None)?;
        policies::activate(conn, row.version, None)?;
        Ok::<_, Error>(())
    })?;
    tracing::info!("no tier policy yet: the seed-004 preset is now version 1");
    let row = policies::active(conn)?
        .ok_or_else(|| Error::Internal("the seed policy did not activate".into()))?;
    Ok((row, seed))
}

/// The policy an order or posting was made under.
pub fn by_version(conn: &mut DbConnection, version: i64) -> Result<Policy> {
    let row = policies::by_version(conn, version)?
        .ok_or_else(|| Error::Internal(format!("policy version {version} is missing")))?;
    parse_stored(&row)
}

fn parse_stored(row: &PolicyRow) -> Result<Policy> {
    Policy::parse(&row.document).map_err(|e| {
        Error::Internal(format!(
            "stored policy version {} does not parse: {e}",
            row.version
        ))
    })
}

/// Checks a document; the errors name every field that is wrong.
pub fn validate(document: &str) -> std::result::Result<Policy, PolicyErrors> {
    Policy::parse(document)
}

/// A document refused as input: 400 with every problem in the message.
pub fn bad_document(e: PolicyErrors) -> Error {
    Error::BadRequest(e.to_string())
}

/// Stores a valid document as a draft version.
pub fn save_draft(conn: &mut DbConnection, document: &str, by: Option<i64>) -> Result<PolicyRow> {
    let policy = validate(document).map_err(bad_document)?;
    active(conn)?;
    policies::insert_draft(
        conn,
        i64::from(policy.version()),
        policy.name(),
        document,
        by,
    )
}

/// Activates a draft. Refused when agents sit at a tier rank the new policy does not have.
pub fn activate(conn: &mut DbConnection, version: i64, by: Option<i64>) -> Result<PolicyRow> {
    let row = policies::by_version(conn, version)?.ok_or_else(|| Error::not_found("policy"))?;
    let policy = parse_stored(&row)?;
    let deepest: Option<i32> = agents::table
        .select(diesel::dsl::max(agents::tier_rank))
        .get_result(conn)?;
    if let Some(rank) = deepest.filter(|r| *r > policy.tiers().len() as i32) {
        return Err(Error::Conflict(format!(
            "policy version {version} has {} tiers, but agents hold tier rank {rank}: keep every \
             tier in use",
            policy.tiers().len()
        )));
    }
    conn.transaction(|conn| policies::activate(conn, version, by))?;
    crate::store::audit::record(
        conn,
        by,
        "policy.activate",
        &format!("policy:{version}"),
        &serde_json::json!({ "name": row.name }),
    )?;
    policies::by_version(conn, version)?.ok_or_else(|| Error::not_found("policy"))
}
