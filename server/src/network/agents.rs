//! Agents' use cases: HQ creates an agent (pending until its entry order is paid), suspends and
//! reinstates it, and corrects a referrer entered by mistake (refusing cycles of any length).
//! After each, the suppliers of everyone below are recomputed (DOMAIN §3).
//!
//! Only active agents supply: a pending or suspended agent is invisible to the supplier rule, so
//! a suspended agent's downline orders go to the next active agent above it (or HQ), and come back
//! when it is reinstated.

use std::collections::HashMap;

use crate::domain::Role;
use crate::domain::network::AgentStatus;
use crate::domain::network::placement::{self, AgentGraph};
use crate::domain::network::{AgentId, Party, TierRank};
use crate::error::{Error, Result};
use crate::store::network::agents::{self as store, AgentRow, NewAgent};
use crate::store::network::{agent_id, agent_key};
use crate::store::typed::Stored;
use crate::store::users::now;
use crate::store::{DbConnection, audit};

use super::policy;

/// What HQ gives to create an agent.
#[derive(Debug, Clone, Default)]
pub struct NewAgentInput {
    pub name: String,
    /// The tier's key in the active policy (`district`, …).
    pub tier: String,
    pub referrer_id: Option<i64>,
    /// GB/T 2260 region code or name (free text until regions are modelled).
    pub region: String,
    /// The agent-role account it signs in with, if it has one yet.
    pub user_id: Option<i64>,
}

/// The slice of the referral graph a placement question needs, read from the agents table.
/// Agents that are not active read as the lowest possible tier — they supply nobody — except the
/// agent whose supplier is being asked for.
#[derive(Debug, Default)]
pub struct StoredGraph {
    rows: HashMap<AgentId, (Option<AgentId>, TierRank, bool)>,
}

impl StoredGraph {
    pub fn add(&mut self, row: &AgentRow) {
        let tier = TierRank(u8::try_from(row.tier_rank).unwrap_or(u8::MAX));
        self.rows.insert(
            agent_id(row.id),
            (row.referrer_id.map(agent_id), tier, row.is_active()),
        );
    }

    /// The graph as `subject` sees it.
    pub fn seen_by(&self, subject: AgentId) -> GraphView<'_> {
        GraphView {
            graph: self,
            subject,
        }
    }

    /// `id`'s supplier now.
    pub fn supplier(&self, id: AgentId) -> Result<Party> {
        placement::supplier_of(&self.seen_by(id), id).map_err(|e| Error::Internal(e.to_string()))
    }
}

pub struct GraphView<'a> {
    graph: &'a StoredGraph,
    subject: AgentId,
}

impl AgentGraph for GraphView<'_> {
    fn referrer(&self, id: AgentId) -> Option<AgentId> {
        self.graph.rows.get(&id).and_then(|r| r.0)
    }
    fn tier(&self, id: AgentId) -> TierRank {
        match self.graph.rows.get(&id) {
            Some((_, tier, active)) if *active || id == self.subject => *tier,
            _ => TierRank(u8::MAX),
        }
    }
}

/// The graph above `id` (its referrer chain).
pub fn graph_above(conn: &mut DbConnection, id: i64) -> Result<StoredGraph> {
    let mut g = StoredGraph::default();
    for row in store::with_ancestors(conn, id)? {
        g.add(&row);
    }
    Ok(g)
}

/// The agent a signed-in agent account acts as.
pub fn for_user(conn: &mut DbConnection, user_id: i64) -> Result<AgentRow> {
    store::by_user(conn, user_id)?.ok_or_else(|| {
        Error::Forbidden("this account is not linked to an agent of the network".into())
    })
}

fn check_text(field: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(Error::BadRequest(format!(
            "{field} must be 1 to {max} printable characters"
        )));
    }
    Ok(v.to_string())
}

/// HQ creates an agent: pending until its entry order is paid.
pub fn create(conn: &mut DbConnection, input: NewAgentInput, by: Option<i64>) -> Result<AgentRow> {
    let name = check_text("name", &input.name, 100)?;
    let region = check_text("region", &input.region, 100)?;
    let (policy_row, policy) = policy::active(conn)?;
    let tier = policy.tier_by_key(input.tier.trim()).ok_or_else(|| {
        let keys: Vec<&str> = policy.tiers().iter().map(|t| t.key.as_str()).collect();
        Error::BadRequest(format!(
            "tier {:?} is not in the active policy; use one of {}",
            input.tier,
            keys.join(", ")
        ))
    })?;
    if let Some(r) = input.referrer_id {
        let referrer = store::find(conn, r)?
            .ok_or_else(|| Error::BadRequest(format!("referrer_id {r}: there is no such agent")))?;
        if !referrer.is_active() {
            return Err(Error::refuse(
                "referrer_not_active",
                format!(
                    "referrer {r} is {}: only an active agent can refer",
                    referrer.status
                ),
            ));
        }
    }
    if let Some(u) = input.user_id {
        check_agent_account(conn, u)?;
    }
    let row = store::insert(
        conn,
        &NewAgent {
            user_id: input.user_id,
            name,
            tier_rank: i32::from(tier.rank.0),
            referrer_id: input.referrer_id,
            supplier_id: None,
            region,
            status: Stored(AgentStatus::Pending),
            joined_at: now(),
            activated_at: None,
            activated_tier_rank: None,
            policy_version: policy_row.version,
            entry_paid_cents: 0,
        },
    )?;
    let supplier = graph_above(conn, row.id)?.supplier(agent_id(row.id))?;
    store::set_supplier(conn, row.id, supplier_column(supplier))?;
    audit::record(
        conn,
        by,
        "agent.create",
        &format!("agent:{}", row.id),
        &serde_json::json!({ "tier": tier.key, "referrer_id": input.referrer_id }),
    )?;
    Ok(store::get(conn, row.id)?)
}

fn check_agent_account(conn: &mut DbConnection, user_id: i64) -> Result<()> {
    let user = crate::store::users::find_by_id(conn, user_id)?
        .ok_or_else(|| Error::BadRequest(format!("user_id {user_id}: there is no such user")))?;
    if user.role != Role::Agent {
        return Err(Error::BadRequest(format!(
            "user {} has role {}: an agent signs in with an 'agent' account",
            user.username, user.role
        )));
    }
    if store::by_user(conn, user_id)?.is_some() {
        return Err(Error::refuse(
            "user_already_agent",
            format!("user {} is already linked to an agent", user.username),
        ));
    }
    Ok(())
}

pub fn supplier_column(p: Party) -> Option<i64> {
    match p {
        Party::Hq => None,
        Party::Agent(a) => Some(agent_key(a)),
    }
}

/// Recomputes the supplier of every agent below `root` (and of `root` itself unless
/// `skip_root`); returns how many changed.
pub fn recompute_below(conn: &mut DbConnection, root: i64, skip_root: bool) -> Result<usize> {
    let mut graph = graph_above(conn, root)?;
    let below = store::with_descendants(conn, root)?;
    for row in &below {
        graph.add(row);
    }
    let mut changed = 0;
    for row in below.iter().filter(|r| !(skip_root && r.id == root)) {
        let supplier = supplier_column(graph.supplier(agent_id(row.id))?);
        if supplier != row.supplier_id {
            store::set_supplier(conn, row.id, supplier)?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Suspends an active agent: its downline buys from the next active agent above it.
pub fn suspend(
    conn: &mut DbConnection,
    id: i64,
    reason: &str,
    by: Option<i64>,
) -> Result<AgentRow> {
    let reason = check_text("reason", reason, 500)?;
    let row = store::get(conn, id)?;
    if !store::change_status(conn, id, AgentStatus::Active, AgentStatus::Suspended)? {
        return Err(Error::refuse(
            "agent_not_active",
            format!(
                "agent {id} is {}: only an active agent can be suspended",
                row.status
            ),
        ));
    }
    let moved = recompute_below(conn, id, true)?;
    audit::record(
        conn,
        by,
        "agent.suspend",
        &format!("agent:{id}"),
        &serde_json::json!({ "reason": reason, "suppliers_changed": moved }),
    )?;
    Ok(store::get(conn, id)?)
}

/// Reinstates a suspended agent: its downline buys from it again.
pub fn reinstate(conn: &mut DbConnection, id: i64, by: Option<i64>) -> Result<AgentRow> {
    let row = store::get(conn, id)?;
    if !store::change_status(conn, id, AgentStatus::Suspended, AgentStatus::Active)? {
        return Err(Error::refuse(
            "agent_not_suspended",
            format!(
                "agent {id} is {}: only a suspended agent can be reinstated",
                row.status
            ),
        ));
    }
    let moved = recompute_below(conn, id, true)?;
    audit::record(
        conn,
        by,
        "agent.reinstate",
        &format!("agent:{id}"),
        &serde_json::json!({ "suppliers_changed": moved }),
    )?;
    Ok(store::get(conn, id)?)
}

/// Sets the agent's authorised region (授权区域): a GB/T 2260 code of the region table (a
/// province, city or district). Recorded in the audit log; certificates issued before keep the
/// region they were issued with.
pub fn set_region(
    conn: &mut DbConnection,
    id: i64,
    region: &str,
    by: Option<i64>,
) -> Result<AgentRow> {
    let row = store::get(conn, id)?;
    let Some(code) = crate::diversion::regions().known(region.trim()) else {
        return Err(Error::BadRequest(format!(
            "region {region:?}: not a GB/T 2260 code of the region table"
        )));
    };
    let code = code.to_string();
    store::set_region(conn, id, &code)?;
    audit::record(
        conn,
        by,
        "agent.region",
        &format!("agent:{id}"),
        &serde_json::json!({ "from": row.region, "to": code }),
    )?;
    Ok(store::get(conn, id)?)
}

/// Corrects a referrer entered by mistake. Refused when it would close a referral cycle of any
/// length. Orders already placed keep the chain and earnings fixed on them.
pub fn correct_referrer(
    conn: &mut DbConnection,
    id: i64,
    referrer: i64,
    by: Option<i64>,
) -> Result<AgentRow> {
    let row = store::get(conn, id)?;
    if store::find(conn, referrer)?.is_none() {
        return Err(Error::BadRequest(format!(
            "referrer_id {referrer}: there is no such agent"
        )));
    }
    let mut graph = graph_above(conn, referrer)?;
    graph.add(&row);
    placement::check_referral(
        &graph.seen_by(agent_id(id)),
        agent_id(id),
        agent_id(referrer),
    )
    .map_err(super::refused)?;
    store::set_referrer(conn, id, referrer)?;
    let moved = recompute_below(conn, id, false)?;
    audit::record(
        conn,
        by,
        "agent.referrer",
        &format!("agent:{id}"),
        &serde_json::json!({ "from": row.referrer_id, "to": referrer, "suppliers_changed": moved }),
    )?;
    Ok(store::get(conn, id)?)
}
