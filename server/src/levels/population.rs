//! Walks the active agents in id pages and hands each page to a caller with, for every agent,
//! its level as the engine sees it and its metrics over every window the policy reads. The sums
//! come from set-based SQL per page (`store::levels::metrics`); team sales from one roll-up over
//! the referral tree before the walk. [`member`] gives the same for one agent.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::levels::{
    AgentLevel, Condition, LevelPolicy, Metric, Metrics, MetricsByWindow, TeamSums,
};
use crate::domain::network::AgentStatus;
use crate::domain::network::TierRank;
use crate::error::Result;
use crate::store::DbConnection;
use crate::store::levels::metrics::{self, Buckets, Sums};
use crate::store::levels::state::{self, AgentLevelRow};
use crate::store::network::agents::{self as agents_store, AgentRow};

/// Agents per page.
pub const PAGE: i64 = 20_000;

/// One agent of a page, ready for a decision.
pub struct Member {
    pub agent: AgentRow,
    pub state: Option<AgentLevelRow>,
    pub level: AgentLevel,
    pub metrics: MetricsByWindow,
}

/// Whether any rule reads team sales (the roll-up is skipped otherwise).
fn reads_team(policy: &LevelPolicy) -> bool {
    let team = |c: &Condition| {
        matches!(
            c,
            Condition::AtLeast {
                metric: Metric::TeamSales,
                ..
            }
        )
    };
    policy.levels.iter().any(|l| {
        l.paths.iter().any(|p| p.set.conditions.iter().any(team))
            || l.protection
                .iter()
                .any(|p| p.set.conditions.iter().any(team))
    })
}

fn team_sums(conn: &mut DbConnection, b: &Buckets) -> Result<TeamSums> {
    let links = agents_store::referral_links(conn)?;
    let mut own: HashMap<i64, Vec<i64>> = HashMap::new();
    let max = links.last().map_or(0, |(id, _)| *id);
    let mut lo = 0;
    while lo <= max {
        let hi = lo + PAGE * 5 - 1;
        add_sales(&mut own, b, metrics::sales(conn, b, lo, hi)?);
        lo = hi + 1;
    }
    Ok(TeamSums::roll_up(&links, &own, b.len()))
}

fn add_sales(own: &mut HashMap<i64, Vec<i64>>, b: &Buckets, rows: Vec<(i64, i32, i64)>) {
    for (agent, bucket, cents) in rows {
        let v = own.entry(agent).or_insert_with(|| vec![0; b.len()]);
        if let Some(x) = usize::try_from(bucket).ok().and_then(|i| v.get_mut(i)) {
            *x += cents;
        }
    }
}

/// The team sums of one agent's referral subtree (it is the root of its own team).
fn team_of(conn: &mut DbConnection, b: &Buckets, agent: &AgentRow) -> Result<TeamSums> {
    let subtree = agents_store::with_descendants(conn, agent.id)?;
    let links: Vec<(i64, Option<i64>)> = subtree
        .iter()
        .map(|a| (a.id, a.referrer_id.filter(|_| a.id != agent.id)))
        .collect();
    let ids: Vec<i64> = subtree.iter().map(|a| a.id).collect();
    let mut own: HashMap<i64, Vec<i64>> = HashMap::new();
    add_sales(&mut own, b, metrics::sales_of(conn, b, &ids)?);
    Ok(TeamSums::roll_up(&links, &own, b.len()))
}

/// Every window's metrics of an agent from its bucket sums and its team's.
fn by_window(b: &Buckets, own: Option<&Vec<Sums>>, team: &[i64]) -> MetricsByWindow {
    let mut metrics = MetricsByWindow::default();
    for (i, w) in b.windows.iter().enumerate() {
        metrics.insert(*w, window_metrics(b, i, own, team));
    }
    metrics
}

/// The metrics of window `i` from an agent's bucket sums.
fn window_metrics(b: &Buckets, i: usize, sums: Option<&Vec<Sums>>, team: &[i64]) -> Metrics {
    let span = b.span(i);
    let mut m = Metrics::default();
    if let Some(sums) = sums {
        for s in sums.iter().take(span) {
            m.orders += s.orders;
            m.amount_paid += Decimal::new(s.paid_cents, 2);
            m.personal_sales += Decimal::new(s.sales_cents, 2);
            m.invited_agents += s.invited;
            m.bound_customers += s.customers;
            m.recharge += Decimal::new(s.recharge_cents, 2);
            m.products.extend(s.products.iter().cloned());
            for (k, v) in &s.level_payments {
                *m.level_payments.entry(k.clone()).or_default() += Decimal::new(*v, 2);
            }
        }
    }
    m.team_sales = Decimal::new(team.iter().take(span).sum(), 2);
    m
}

/// The day the agent reached its tier, when the engine has no record of it: the last paid
/// top-up (a seed-004 upgrade), else its activation, else its joining.
fn reached_elsewhere(conn: &mut DbConnection, agent: &AgentRow) -> Result<NaiveDate> {
    let upgraded = agents_store::last_paid_upgrade(conn, agent.id)?;
    Ok(upgraded
        .or(agent.activated_at)
        .unwrap_or(agent.joined_at)
        .date())
}

fn level_of(
    conn: &mut DbConnection,
    agent: &AgentRow,
    row: Option<&AgentLevelRow>,
) -> Result<AgentLevel> {
    let rank = TierRank(u8::try_from(agent.tier_rank).unwrap_or(u8::MAX));
    Ok(match row {
        Some(r) if r.tier_rank == agent.tier_rank => AgentLevel {
            rank,
            reached_on: r.reached_on,
            quota: r.quota(),
            last_decided_on: r.last_decided_on,
        },
        Some(r) => AgentLevel {
            rank,
            reached_on: reached_elsewhere(conn, agent)?,
            quota: r.quota(),
            last_decided_on: r.last_decided_on,
        },
        None if agent.activated_tier_rank == Some(agent.tier_rank) => AgentLevel {
            rank,
            reached_on: agent.activated_at.unwrap_or(agent.joined_at).date(),
            quota: Default::default(),
            last_decided_on: None,
        },
        None => AgentLevel {
            rank,
            reached_on: reached_elsewhere(conn, agent)?,
            quota: Default::default(),
            last_decided_on: None,
        },
    })
}

/// Active agents, for progress reporting.
pub fn count_active(conn: &mut DbConnection) -> Result<i64> {
    Ok(agents_store::count_active(conn)?)
}

/// Walks every active agent, a page at a time, as of `day` under `policy`.
pub fn walk(
    conn: &mut DbConnection,
    policy: &LevelPolicy,
    day: NaiveDate,
    mut page: impl FnMut(&mut DbConnection, Vec<Member>) -> Result<()>,
) -> Result<()> {
    let b = Buckets::new(policy.windows(), day)?;
    let team = if reads_team(policy) {
        Some(team_sums(conn, &b)?)
    } else {
        None
    };
    let skus = policy.upgrade_products();
    let mut after = 0;
    loop {
        let rows = agents_store::list(conn, Some(AgentStatus::Active), after, PAGE)?;
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            break;
        };
        let (lo, hi) = (first.id, last.id);
        after = hi;
        let sums = metrics::sums(conn, &b, lo, hi, &skus)?;
        let mut states = state::in_range(conn, lo, hi)?;
        let mut members = Vec::with_capacity(rows.len());
        for agent in rows {
            let state = states.remove(&agent.id);
            let level = level_of(conn, &agent, state.as_ref())?;
            let team = team.as_ref().map_or(&[][..], |t| t.of(agent.id));
            let metrics = by_window(&b, sums.get(&agent.id), team);
            members.push(Member {
                agent,
                state,
                level,
                metrics,
            });
        }
        page(conn, members)?;
    }
    Ok(())
}

/// One agent as of `day` under `policy` (an application, its approval, the agent's page): the
/// same sums as a run's page, over its id alone, and its team's sales from its subtree.
pub fn member(
    conn: &mut DbConnection,
    policy: &LevelPolicy,
    day: NaiveDate,
    agent: AgentRow,
) -> Result<Member> {
    let b = Buckets::new(policy.windows(), day)?;
    let sums = metrics::sums(conn, &b, agent.id, agent.id, &policy.upgrade_products())?;
    let team = if reads_team(policy) {
        Some(team_of(conn, &b, &agent)?)
    } else {
        None
    };
    let state = state::find(conn, agent.id)?;
    let level = level_of(conn, &agent, state.as_ref())?;
    let team = team.as_ref().map_or(&[][..], |t| t.of(agent.id));
    let metrics = by_window(&b, sums.get(&agent.id), team);
    Ok(Member {
        agent,
        state,
        level,
        metrics,
    })
}
