//! What each caller reads of level applications: what an agent may apply for now (with its
//! conditions), its own applications, what waits for a supplier (its direct downline in the
//! supplier stage) or for HQ, and every application (HQ); and the stored reasons in words.

use chrono::NaiveDate;

use super::applications::{rank, the_agent};
use super::{policy, population};
use crate::domain::Role;
use crate::domain::levels::application::Status;
use crate::domain::levels::eligibility::{self, Offer};
use crate::domain::levels::{Lang, Reason};
use crate::domain::network::policy::ApprovalMode;
use crate::error::{Error, Result};
use crate::network::Actor;
use crate::store::DbConnection;
use crate::store::levels::applications::{self as store, LevelApplicationRow};
use crate::store::network::agents as agents_store;

/// Who reads every application.
const READERS: &[Role] = &[Role::HqAdmin, Role::HqFinance, Role::HqAuditor];

/// Stored reasons (JSON) in one line of `lang`; empty when there are none (0门槛).
pub fn reasons_text(json: &str, lang: Lang) -> String {
    let reasons: Vec<Reason> = serde_json::from_str(json).unwrap_or_default();
    Reason::render_all(&reasons, lang)
}

/// What the signed-in agent may apply for as of `day`: every path needing approval of every
/// level above its own, met or not. Empty without an active level policy.
pub fn options(conn: &mut DbConnection, actor: Actor, day: NaiveDate) -> Result<Vec<Offer>> {
    let me = the_agent(actor, "see what it may apply for")?;
    let Some((_, levels)) = policy::active(conn)? else {
        return Ok(Vec::new());
    };
    let agent = agents_store::get(conn, me)?;
    // The metrics are read only when some level above is reached by application.
    let above = levels
        .levels
        .iter()
        .filter(|l| l.rank.is_above(rank(agent.tier_rank)))
        .any(|l| {
            l.paths
                .iter()
                .any(|p| p.approval != ApprovalMode::Automatic)
        });
    if !agent.is_active() || !above {
        return Ok(Vec::new());
    }
    let m = population::member(conn, &levels, day, agent)?;
    Ok(eligibility::offers(&levels, &m.level, &m.metrics))
}

/// The signed-in agent's applications, newest first.
pub fn mine(conn: &mut DbConnection, actor: Actor) -> Result<Vec<LevelApplicationRow>> {
    let me = the_agent(actor, "read its level applications")?;
    Ok(store::of_agent(conn, me, 50)?)
}

/// The applications waiting for `actor`, oldest first: an agent's direct downline's in the
/// supplier stage; for HQ, those in its stage and those of agents it supplies itself.
pub fn queue(conn: &mut DbConnection, actor: Actor) -> Result<Vec<LevelApplicationRow>> {
    if let Actor::Agent { agent, .. } = actor {
        return Ok(store::awaiting_supplier(conn, Some(agent), 200)?);
    }
    actor.require_hq(READERS, "read level applications")?;
    let mut rows = store::list(conn, Some(Status::AwaitingHq), None, 200)?;
    rows.extend(store::awaiting_supplier(conn, None, 200)?);
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// Every application (HQ), newest first; of one status when given.
pub fn all(
    conn: &mut DbConnection,
    actor: Actor,
    status: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<LevelApplicationRow>> {
    actor.require_hq(READERS, "read level applications")?;
    let status = status
        .map(|s| {
            Status::parse(s).ok_or_else(|| {
                Error::BadRequest(format!(
                    "status {s:?}: use awaiting_supplier, awaiting_hq, approved, rejected, \
                     withdrawn or lapsed"
                ))
            })
        })
        .transpose()?;
    Ok(store::list(conn, status, before, limit)?)
}
