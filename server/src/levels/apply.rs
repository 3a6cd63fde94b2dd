//! Applies one decision the way a seed-004 upgrade takes effect: the agent's tier changes, the
//! suppliers of it and its downline are recomputed, and orders from now on are priced at the new
//! tier (orders already placed keep their prices). The engine's state and the change, with its
//! reasons in both languages, are saved alongside.

use chrono::NaiveDate;

use crate::domain::levels::{ChangeKind, Decision, Lang, LevelPolicy};
use crate::error::{Error, Result};
use crate::network::agents as agent_cases;
use crate::store::DbConnection;
use crate::store::levels::changes::{self, NewLevelChange};
use crate::store::levels::state::{self, AgentLevelRow};
use crate::store::network::agents::{self as agents_store, AgentRow};
use crate::store::typed::Stored;
use crate::store::users::now;

pub use crate::domain::levels::Cause;

/// Everything a decision changes, in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    conn: &mut DbConnection,
    policy: &LevelPolicy,
    tier_policy_version: i64,
    agent: &AgentRow,
    state: Option<AgentLevelRow>,
    decision: &Decision,
    day: NaiveDate,
    cause: Cause,
) -> Result<()> {
    let from = i32::from(decision.from.0);
    let to = i32::from(decision.to.0);
    if agent.tier_rank != from {
        return Err(Error::refuse(
            "changed_meanwhile",
            format!(
                "agent {} is at tier rank {}, not {from}: its level changed meanwhile",
                agent.id, agent.tier_rank
            ),
        ));
    }
    let mut row = state.unwrap_or_else(|| AgentLevelRow::new(agent.id, from, day));
    if to != from {
        agents_store::set_tier(
            conn,
            agent.id,
            to,
            agent.entry_paid_cents,
            tier_policy_version,
        )?;
        agent_cases::recompute_below(conn, agent.id, false)?;
        // An application waiting from the old level no longer stands.
        super::applications::lapse_open_of(conn, agent.id, now())?;
        row.tier_rank = to;
        row.reached_on = day;
    } else if row.tier_rank != from {
        row.tier_rank = from;
    }
    row.last_decided_on = Some(day);
    state::save(conn, &row)?;
    let reasons = serde_json::to_string(&decision.reasons)
        .map_err(|e| Error::Internal(format!("reasons do not serialise: {e}")))?;
    changes::insert(
        conn,
        &NewLevelChange {
            agent_id: agent.id,
            assessed_on: day,
            cause: Stored(cause),
            kind: Stored(decision.kind),
            from_rank: from,
            to_rank: to,
            level_policy_version: i64::from(policy.version),
            summary_zh: decision.summary(policy, Lang::Zh),
            summary_en: decision.summary(policy, Lang::En),
            reasons,
            created_at: now(),
        },
    )?;
    if decision.kind != ChangeKind::Protected {
        tracing::debug!(agent = agent.id, from, to, "level changed");
    }
    Ok(())
}
