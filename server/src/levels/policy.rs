//! The level policy's use cases: the active version, validating a document against the active
//! tier policy (every problem named by its field), saving a draft, and activating it — which,
//! as the document says (`on_change`), re-levels every agent or keeps their levels and records
//! the quotas (配额) that make them fit the new rules.

use chrono::NaiveDate;

use super::apply::{Cause, apply};
use super::population::{self, Member};
use crate::domain::Role;
use crate::domain::levels::{AgentLevel, LevelPolicy, OnChange, Quota, keep_level_quota, relevel};
use crate::domain::network::PolicyStatus;
use crate::error::{Error, Result};
use crate::network::{Actor, policy as tier_policy};
use crate::store::DbConnection;
use crate::store::in_transaction;
use crate::store::levels::policies::{self, LevelPolicyRow};
use crate::store::levels::state::{self, AgentLevelRow};
use crate::store::users::now;

/// What activating a level policy did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Activation {
    pub level_policy_version: i64,
    /// `relevel` or `keep`.
    pub on_change: String,
    /// Active agents looked at.
    pub agents: i64,
    /// Re-levelled up or down (`relevel`).
    pub upgrades: i64,
    pub downgrades: i64,
    /// Agents whose quotas (配额) changed (`keep`).
    pub quotas: i64,
}

/// The active level policy, if HQ has activated one.
pub fn active(conn: &mut DbConnection) -> Result<Option<(LevelPolicyRow, LevelPolicy)>> {
    let Some(row) = policies::active(conn)? else {
        return Ok(None);
    };
    let levels = parse_stored(conn, &row)?;
    Ok(Some((row, levels)))
}

fn parse_stored(conn: &mut DbConnection, row: &LevelPolicyRow) -> Result<LevelPolicy> {
    let (_, tiers) = tier_policy::active(conn)?;
    LevelPolicy::parse(&row.document, &tiers).map_err(|e| {
        Error::refuse(
            "level_policy_misfit",
            format!(
                "level policy version {} no longer fits the active tier policy: {e}",
                row.version
            ),
        )
    })
}

/// Checks a document against the active tier policy; 400 naming every wrong field.
pub fn validate(conn: &mut DbConnection, document: &str) -> Result<LevelPolicy> {
    let (_, tiers) = tier_policy::active(conn)?;
    LevelPolicy::parse(document, &tiers).map_err(|e| Error::BadRequest(e.to_string()))
}

/// Stores a valid document as a draft version.
pub fn save_draft(conn: &mut DbConnection, document: &str, actor: Actor) -> Result<LevelPolicyRow> {
    actor.require_hq(&[Role::HqAdmin], "write level policies")?;
    let levels = validate(conn, document)?;
    Ok(policies::insert_draft(
        conn,
        i64::from(levels.version),
        &levels.name,
        document,
        actor.user(),
    )?)
}

/// Activates a draft and applies its `on_change` to every active agent, all in one transaction.
pub fn activate(conn: &mut DbConnection, version: i64, actor: Actor) -> Result<Activation> {
    actor.require_hq(&[Role::HqAdmin], "activate level policies")?;
    let row =
        policies::by_version(conn, version)?.ok_or_else(|| Error::not_found("level policy"))?;
    if row.status != PolicyStatus::Draft {
        return Err(Error::refuse(
            "policy_version_not_draft",
            format!(
                "level policy version {version} is {}: only a draft can be activated",
                row.status
            ),
        ));
    }
    let levels = parse_stored(conn, &row)?;
    let day = now().date();
    in_transaction(conn, |conn| {
        policies::activate(conn, version, actor.user())?;
        let summary = apply_change(conn, &levels, day)?;
        // Applications claim a path of the version they were made under: they lapse with it.
        super::applications::sweep(conn, now())?;
        crate::store::audit::record(
            conn,
            actor.user(),
            "level_policy.activate",
            &format!("level_policy:{version}"),
            &serde_json::json!({ "name": row.name, "on_change": summary.on_change,
                "upgrades": summary.upgrades, "downgrades": summary.downgrades,
                "quotas": summary.quotas }),
        )?;
        Ok(summary)
    })
}

/// The agent's level under a new policy, before quotas: the new rules read the actual values.
fn fresh(level: &AgentLevel) -> AgentLevel {
    AgentLevel {
        quota: Quota::new(),
        last_decided_on: None,
        ..level.clone()
    }
}

/// Re-levels every agent or records their quotas.
fn apply_change(
    conn: &mut DbConnection,
    levels: &LevelPolicy,
    day: NaiveDate,
) -> Result<Activation> {
    let (tier_row, _) = tier_policy::active(conn)?;
    let mut summary = Activation {
        level_policy_version: i64::from(levels.version),
        on_change: match levels.on_change {
            OnChange::Relevel => "relevel".into(),
            OnChange::Keep => "keep".into(),
        },
        ..Activation::default()
    };
    population::walk(conn, levels, day, |conn, members: Vec<Member>| {
        summary.agents += members.len() as i64;
        for m in members {
            let level = fresh(&m.level);
            match levels.on_change {
                OnChange::Relevel => {
                    let mut state = m.state.clone();
                    if let Some(s) = state.as_mut().filter(|s| !s.quota().is_empty()) {
                        s.set_quota(&Quota::new());
                        state::save(conn, s)?;
                    }
                    if let Some(d) = relevel(levels, &level, &m.metrics) {
                        apply(
                            conn,
                            levels,
                            tier_row.version,
                            &m.agent,
                            state,
                            &d,
                            day,
                            Cause::PolicyChange,
                        )?;
                        if d.to.is_above(d.from) {
                            summary.upgrades += 1;
                        } else {
                            summary.downgrades += 1;
                        }
                    }
                }
                OnChange::Keep => {
                    let quota = keep_level_quota(levels, &level, &m.metrics);
                    if quota != m.level.quota {
                        let mut row = m.state.clone().unwrap_or_else(|| {
                            AgentLevelRow::new(m.agent.id, m.agent.tier_rank, m.level.reached_on)
                        });
                        row.tier_rank = m.agent.tier_rank;
                        row.reached_on = m.level.reached_on;
                        row.set_quota(&quota);
                        state::save(conn, &row)?;
                        summary.quotas += 1;
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(summary)
}

/// Every problem of a document, each naming its field (empty when valid). Changes nothing.
pub fn problems(
    conn: &mut DbConnection,
    document: &str,
) -> Result<Vec<crate::domain::network::PolicyError>> {
    let (_, tiers) = tier_policy::active(conn)?;
    Ok(LevelPolicy::parse(document, &tiers)
        .err()
        .map(|e| e.0)
        .unwrap_or_default())
}
