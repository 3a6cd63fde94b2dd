//! Authorisation certificates (授权证书, DOMAIN §3): issued to an active agent with what it may
//! sell as (name, tier, region) and for how long; rendered as a PNG whose QR opens the public
//! check page `/a/{code}` (授权查询). The code is 128 random bits, so certificates cannot be
//! enumerated. The PNG carries ASCII only (codegen's bitmap font); the Chinese is on the page.

use chrono::{Duration, NaiveDateTime};

use crate::domain::Role;
use crate::domain::joining::{self as rules, Standing};
use crate::error::{Error, Result};
use crate::network::{Actor, policy};
use crate::store::joining::{self as store, CertificateRow, NewCertificate};
use crate::store::network::agents::{self as agent_store, AgentRow};
use crate::store::users::now;
use crate::store::{DbConnection, audit};

/// Validity when none is asked for: one year, the usual term of a distribution contract.
pub const DEFAULT_DAYS: u32 = 365;
/// The longest term HQ may grant at once.
pub const MAX_DAYS: u32 = 3 * 365;

/// Issues a certificate to an active agent: the agent itself (default term) or HQ admin (any
/// term up to [`MAX_DAYS`]). It says what the agent is now; an older one reads as superseded.
pub fn issue(
    conn: &mut DbConnection,
    actor: Actor,
    agent: i64,
    days: Option<u32>,
) -> Result<CertificateRow> {
    match actor {
        Actor::Agent { agent: me, .. } if me == agent && days.is_none() => {}
        other => other.require_hq(&[Role::HqAdmin], "issue certificates")?,
    }
    let days = days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(Error::BadRequest(format!(
            "days: must be between 1 and {MAX_DAYS}"
        )));
    }
    let row = agent_store::get(conn, agent)?;
    if !row.is_active() {
        return Err(Error::refuse(
            "agent_not_active",
            format!(
                "agent {agent} is {}: only an active agent is authorised",
                row.status
            ),
        ));
    }
    let p = policy::by_version(conn, row.policy_version)?;
    let tier = p
        .tiers()
        .iter()
        .find(|t| i32::from(t.rank.0) == row.tier_rank)
        .ok_or_else(|| Error::Internal(format!("agent {agent}: tier rank {}", row.tier_rank)))?;
    let at = now();
    let cert = store::insert_certificate(
        conn,
        &NewCertificate {
            code: super::new_code(16),
            agent_id: agent,
            holder_name: row.name.clone(),
            tier_rank: row.tier_rank,
            tier_key: tier.key.clone(),
            tier_name_zh: tier.name_zh.clone(),
            tier_name_en: tier.name_en.clone(),
            region: row.region.clone(),
            valid_from: at,
            valid_until: at + Duration::days(i64::from(days)),
            issued_at: at,
            issued_by: actor.user(),
        },
    )?;
    audit::record(
        conn,
        actor.user(),
        "certificate.issue",
        &format!("agent:{agent}"),
        &serde_json::json!({ "certificate": cert.id, "days": days }),
    )?;
    Ok(cert)
}

/// What the public check page shows.
#[derive(Debug, Clone)]
pub struct Check {
    pub certificate: CertificateRow,
    pub agent: AgentRow,
    pub standing: Standing,
}

/// The standing of certificate `code` at `at`; `None` when there is no such certificate.
pub fn check(conn: &mut DbConnection, code: &str, at: NaiveDateTime) -> Result<Option<Check>> {
    let Some(certificate) = store::certificate_by_code(conn, code.trim())? else {
        return Ok(None);
    };
    let agent = agent_store::get(conn, certificate.agent_id)?;
    let superseded = store::latest_certificate(conn, agent.id)?
        .is_some_and(|latest| latest.id != certificate.id);
    let standing = rules::standing(
        agent.status,
        certificate.valid_from,
        certificate.valid_until,
        superseded,
        at,
    );
    Ok(Some(Check {
        certificate,
        agent,
        standing,
    }))
}

/// The check page's address for a certificate.
pub fn check_url(base_url: &str, code: &str) -> String {
    format!("{base_url}/a/{code}")
}
