//! Each agent's level state (`agent_levels`): when it reached the level it holds, the last day a
//! decision was recorded for it, and its quotas (配额), one column per metric.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::domain::levels::{Metric, Quota};
use crate::error::Result;
use crate::store::DbConnection;
use crate::store::schema::agent_levels;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = agent_levels)]
pub struct AgentLevelRow {
    pub agent_id: i64,
    /// The level this row is about; when the agent's tier differs, its tier changed elsewhere.
    pub tier_rank: i32,
    pub reached_on: NaiveDate,
    pub last_decided_on: Option<NaiveDate>,
    pub quota_invited_agents: i64,
    pub quota_bound_customers: i64,
    pub quota_personal_sales_cents: i64,
    pub quota_team_sales_cents: i64,
    pub quota_amount_paid_cents: i64,
    pub quota_orders: i64,
    pub quota_recharge_cents: i64,
    /// Hundredths of a point.
    pub quota_points_centi: i64,
}

impl AgentLevelRow {
    /// A fresh row for an agent at `tier_rank` since `reached_on`, without quotas.
    pub fn new(agent_id: i64, tier_rank: i32, reached_on: NaiveDate) -> AgentLevelRow {
        AgentLevelRow {
            agent_id,
            tier_rank,
            reached_on,
            last_decided_on: None,
            quota_invited_agents: 0,
            quota_bound_customers: 0,
            quota_personal_sales_cents: 0,
            quota_team_sales_cents: 0,
            quota_amount_paid_cents: 0,
            quota_orders: 0,
            quota_recharge_cents: 0,
            quota_points_centi: 0,
        }
    }

    /// The stored quotas as the domain's map (zeros left out).
    pub fn quota(&self) -> Quota {
        let mut q = Quota::new();
        for m in Metric::ALL {
            let v = match m {
                Metric::InvitedAgents => Decimal::from(self.quota_invited_agents),
                Metric::BoundCustomers => Decimal::from(self.quota_bound_customers),
                Metric::PersonalSales => Decimal::new(self.quota_personal_sales_cents, 2),
                Metric::TeamSales => Decimal::new(self.quota_team_sales_cents, 2),
                Metric::AmountPaid => Decimal::new(self.quota_amount_paid_cents, 2),
                Metric::Orders => Decimal::from(self.quota_orders),
                Metric::Recharge => Decimal::new(self.quota_recharge_cents, 2),
                Metric::Points => Decimal::new(self.quota_points_centi, 2),
            };
            if !v.is_zero() {
                q.insert(m, v);
            }
        }
        q
    }

    /// Sets the quotas from the domain's map (hundredths, rounded toward zero).
    pub fn set_quota(&mut self, q: &Quota) {
        let whole = |m: Metric| q.get(&m).and_then(|v| v.trunc().to_i64()).unwrap_or(0);
        let hundredths = |m: Metric| {
            q.get(&m)
                .and_then(|v| (*v * Decimal::ONE_HUNDRED).trunc().to_i64())
                .unwrap_or(0)
        };
        self.quota_invited_agents = whole(Metric::InvitedAgents);
        self.quota_bound_customers = whole(Metric::BoundCustomers);
        self.quota_personal_sales_cents = hundredths(Metric::PersonalSales);
        self.quota_team_sales_cents = hundredths(Metric::TeamSales);
        self.quota_amount_paid_cents = hundredths(Metric::AmountPaid);
        self.quota_orders = whole(Metric::Orders);
        self.quota_recharge_cents = hundredths(Metric::Recharge);
        self.quota_points_centi = hundredths(Metric::Points);
    }
}

/// The rows of the agents with ids in `lo..=hi`, by agent id.
pub fn in_range(conn: &mut DbConnection, lo: i64, hi: i64) -> Result<HashMap<i64, AgentLevelRow>> {
    Ok(agent_levels::table
        .filter(agent_levels::agent_id.between(lo, hi))
        .select(AgentLevelRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| (r.agent_id, r))
        .collect())
}

pub fn find(conn: &mut DbConnection, agent: i64) -> Result<Option<AgentLevelRow>> {
    Ok(agent_levels::table
        .filter(agent_levels::agent_id.eq(agent))
        .select(AgentLevelRow::as_select())
        .load(conn)?
        .pop())
}

/// Inserts or replaces an agent's row.
pub fn save(conn: &mut DbConnection, row: &AgentLevelRow) -> Result<()> {
    let updated =
        diesel::update(agent_levels::table.filter(agent_levels::agent_id.eq(row.agent_id)))
            .set(row)
            .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(agent_levels::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}
