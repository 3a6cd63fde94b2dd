//! The tier policy's use cases: view the active version, validate a document (every problem
//! named by its field), save it as a draft, and activate it. Orders keep the version they were
//! placed under, so activation changes only what comes next.

use crate::domain::network::{Policy, PolicyErrors};
use crate::error::{Error, Result};
use crate::store::network::agents;
use crate::store::network::policies::{self, PolicyRow};
use crate::store::{DbConnection, in_transaction};

/// The active policy. Only reads: a fresh database gets the shipped `seed-004` preset as
/// version 1 when it is migrated (`store::network::policies::install_preset`), so pages that
/// show the policy run on a reader and never queue behind the SQLite writer.
pub fn active(conn: &mut DbConnection) -> Result<(PolicyRow, Policy)> {
    let row = policies::active(conn)?.ok_or_else(|| {
        Error::Internal("no active tier policy: the database has not been migrated".into())
    })?;
    let policy = parse_stored(&row)?;
    Ok((row, policy))
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
    Ok(policies::insert_draft(
        conn,
        i64::from(policy.version()),
        policy.name(),
        document,
        by,
    )?)
}

/// Activates a draft. Refused when agents sit at a tier rank the new policy does not have.
pub fn activate(conn: &mut DbConnection, version: i64, by: Option<i64>) -> Result<PolicyRow> {
    let row = policies::by_version(conn, version)?.ok_or_else(|| Error::not_found("policy"))?;
    let policy = parse_stored(&row)?;
    let deepest = agents::deepest_tier_rank(conn)?;
    if let Some(rank) = deepest.filter(|r| *r > policy.tiers().len() as i32) {
        return Err(Error::refuse(
            "tier_in_use",
            format!(
                "policy version {version} has {} tiers, but agents hold tier rank {rank}: keep every \
             tier in use",
                policy.tiers().len()
            ),
        ));
    }
    in_transaction(conn, |conn| policies::activate(conn, version, by))?;
    crate::store::audit::record(
        conn,
        by,
        "policy.activate",
        &format!("policy:{version}"),
        &serde_json::json!({ "name": row.name }),
    )?;
    policies::by_version(conn, version)?.ok_or_else(|| Error::not_found("policy"))
}

/// One product as an agent may order it: its price at the agent's tier (授权价格).
#[derive(Debug, Clone, PartialEq)]
pub struct OwnPrice {
    pub product_id: i64,
    pub sku: String,
    pub name: String,
    pub name_en: Option<String>,
    pub unit_price: rust_decimal::Decimal,
    /// The product's picture (`/products/{id}/picture?v=…` once HQ uploaded one).
    pub image_url: Option<String>,
}

/// The prices an agent buys at: every product of the registry priced at its own tier under the
/// active policy, and nothing of any other tier (DOMAIN §10: an agent sees its own prices only).
pub fn own_prices(
    conn: &mut crate::store::DbConnection,
    agent: i64,
) -> crate::error::Result<(crate::domain::network::Tier, Vec<OwnPrice>)> {
    let row = crate::store::network::agents::get(conn, agent)?;
    let (_, policy) = active(conn)?;
    let tier = policy
        .tier(super::book::tier(row.tier_rank))
        .ok_or_else(|| {
            crate::error::Error::Internal("the agent's tier is not in the policy".into())
        })?
        .clone();
    let prices = crate::store::products::list(conn)?
        .into_iter()
        .filter_map(|p| {
            policy.price(tier.rank, &p.sku).map(|unit_price| OwnPrice {
                product_id: p.id,
                sku: p.sku,
                name: p.name,
                name_en: p.name_en,
                unit_price,
                image_url: p.image_url,
            })
        })
        .collect();
    Ok((tier, prices))
}
