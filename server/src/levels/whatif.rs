//! What-if (before activating a level policy): how many agents would move up or down, and who.
//! Reads only. For a `relevel` policy: each agent's level under the new rules. For a `keep`
//! policy: how many agents get quotas, and what the assessment of `day` would then do.

use chrono::NaiveDate;
use serde::Serialize;

use super::population::{self, Member};
use crate::domain::Role;
use crate::domain::levels::{
    AgentLevel, ChangeKind, Lang, OnChange, Quota, decide, keep_level_quota, relevel,
};
use crate::error::Result;
use crate::network::Actor;
use crate::store::DbConnection;

/// How many agents a what-if lists by name.
pub const LISTED: usize = 500;

/// One agent that would move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Move {
    pub agent_id: i64,
    pub name: String,
    /// `upgrade`, `downgrade` or `protected`.
    pub kind: String,
    pub from_rank: i32,
    pub to_rank: i32,
    pub summary_zh: String,
    pub summary_en: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WhatIf {
    pub level_policy_version: i64,
    /// `relevel` or `keep`.
    pub on_change: String,
    pub day: NaiveDate,
    pub agents: i64,
    pub up: i64,
    pub down: i64,
    pub protected: i64,
    /// Agents that would get (or change) quotas (`keep`).
    pub quotas: i64,
    /// The first agents that would move, by id.
    pub moves: Vec<Move>,
}

/// The what-if of `document` as of `day`.
pub fn what_if(
    conn: &mut DbConnection,
    document: &str,
    day: NaiveDate,
    actor: Actor,
) -> Result<WhatIf> {
    actor.require_hq(
        &[Role::HqAdmin, Role::HqFinance, Role::HqAuditor],
        "see a level what-if",
    )?;
    let levels = super::policy::validate(conn, document)?;
    let mut out = WhatIf {
        level_policy_version: i64::from(levels.version),
        on_change: match levels.on_change {
            OnChange::Relevel => "relevel".into(),
            OnChange::Keep => "keep".into(),
        },
        day,
        ..WhatIf::default()
    };
    population::walk(conn, &levels, day, |_, members: Vec<Member>| {
        out.agents += members.len() as i64;
        for m in members {
            let fresh = AgentLevel {
                quota: Quota::new(),
                last_decided_on: None,
                ..m.level.clone()
            };
            let decision = match levels.on_change {
                OnChange::Relevel => relevel(&levels, &fresh, &m.metrics),
                OnChange::Keep => {
                    let quota = keep_level_quota(&levels, &fresh, &m.metrics);
                    if quota != m.level.quota {
                        out.quotas += 1;
                    }
                    decide(&levels, &AgentLevel { quota, ..fresh }, &m.metrics, day)
                }
            };
            let Some(d) = decision else { continue };
            match d.kind {
                ChangeKind::Upgrade => out.up += 1,
                ChangeKind::Downgrade => out.down += 1,
                ChangeKind::Protected => out.protected += 1,
            }
            if out.moves.len() < LISTED {
                out.moves.push(Move {
                    agent_id: m.agent.id,
                    name: m.agent.name.clone(),
                    kind: d.kind.as_str().into(),
                    from_rank: i32::from(d.from.0),
                    to_rank: i32::from(d.to.0),
                    summary_zh: d.summary(&levels, Lang::Zh),
                    summary_en: d.summary(&levels, Lang::En),
                });
            }
        }
        Ok(())
    })?;
    Ok(out)
}
