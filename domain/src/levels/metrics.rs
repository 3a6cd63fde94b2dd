//! What the level rules measure (考核指标), over an assessment window that ends on the assessment
//! day: the last N days, or unbounded (不限期).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A measured quantity an upgrade threshold can be set on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// 邀请代理数: agents it referred that were activated in the window.
    InvitedAgents,
    /// 绑定客户数: customers newly bound to it in the window.
    BoundCustomers,
    /// 个人业绩 (成交金额): its own completed orders net of returns.
    PersonalSales,
    /// 团队业绩: personal sales of it and its whole referral subtree.
    TeamSales,
    /// 实收金额: goods amount of the orders it paid, returns not deducted.
    AmountPaid,
    /// 支付单数: orders it paid, returns not deducted.
    Orders,
    /// 充值金额: wallet recharges.
    Recharge,
    /// 等级值: points from the policy's [`PointsRule`].
    Points,
}

impl Metric {
    pub const ALL: [Metric; 8] = [
        Metric::InvitedAgents,
        Metric::BoundCustomers,
        Metric::PersonalSales,
        Metric::TeamSales,
        Metric::AmountPaid,
        Metric::Orders,
        Metric::Recharge,
        Metric::Points,
    ];

    /// The key used in policy documents and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Metric::InvitedAgents => "invited_agents",
            Metric::BoundCustomers => "bound_customers",
            Metric::PersonalSales => "personal_sales",
            Metric::TeamSales => "team_sales",
            Metric::AmountPaid => "amount_paid",
            Metric::Orders => "orders",
            Metric::Recharge => "recharge",
            Metric::Points => "points",
        }
    }

    pub fn from_key(key: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.key() == key)
    }

    /// Yuan (two decimals) rather than a count.
    pub fn is_money(self) -> bool {
        matches!(
            self,
            Metric::PersonalSales | Metric::TeamSales | Metric::AmountPaid | Metric::Recharge
        )
    }

    /// The smallest step of the metric: a cent or one.
    pub fn unit(self) -> Decimal {
        if self.is_money() {
            Decimal::new(1, 2)
        } else {
            Decimal::ONE
        }
    }
}

/// The days an assessment looks back over, ending on (and including) the assessment day; `None`
/// is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window(pub Option<u32>);

impl Window {
    pub const UNBOUNDED: Window = Window(None);
    pub fn days(n: u32) -> Window {
        Window(Some(n))
    }
}

/// 等级值: points per yuan of personal sales, per bound customer and per invited agent (seed 002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PointsRule {
    pub per_yuan_sold: Decimal,
    pub per_bound_customer: Decimal,
    pub per_sub_agent: Decimal,
}

/// One agent's measurements over one window.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Metrics {
    pub invited_agents: i64,
    pub bound_customers: i64,
    pub personal_sales: Decimal,
    pub team_sales: Decimal,
    pub amount_paid: Decimal,
    pub orders: i64,
    pub recharge: Decimal,
    /// The designated upgrade products (SKUs) it bought (paid, not refunded).
    pub products: BTreeSet<String>,
    /// Level prices paid, by tier key (直接支付升级).
    pub level_payments: BTreeMap<String, Decimal>,
}

impl Metrics {
    /// The raw value of `metric` (points computed by `points`).
    pub fn value(&self, metric: Metric, points: &PointsRule) -> Decimal {
        match metric {
            Metric::InvitedAgents => Decimal::from(self.invited_agents),
            Metric::BoundCustomers => Decimal::from(self.bound_customers),
            Metric::PersonalSales => self.personal_sales,
            Metric::TeamSales => self.team_sales,
            Metric::AmountPaid => self.amount_paid,
            Metric::Orders => Decimal::from(self.orders),
            Metric::Recharge => self.recharge,
            Metric::Points => {
                points.per_yuan_sold * self.personal_sales
                    + points.per_bound_customer * Decimal::from(self.bound_customers)
                    + points.per_sub_agent * Decimal::from(self.invited_agents)
            }
        }
    }
}

/// 配额: per-metric adjustments recorded when a policy change keeps an agent's level (seed 001);
/// added to the measured value wherever a threshold is compared. Positive or negative.
pub type Quota = BTreeMap<Metric, Decimal>;

/// All zeros: an agent with no activity in a window.
static NO_ACTIVITY: Metrics = Metrics {
    invited_agents: 0,
    bound_customers: 0,
    personal_sales: Decimal::ZERO,
    team_sales: Decimal::ZERO,
    amount_paid: Decimal::ZERO,
    orders: 0,
    recharge: Decimal::ZERO,
    products: BTreeSet::new(),
    level_payments: BTreeMap::new(),
};

/// The metrics of one agent for every window the policy reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsByWindow(pub HashMap<Window, Metrics>);

impl MetricsByWindow {
    /// The metrics over `w`; an agent with no activity in it has all zeros.
    pub fn get(&self, w: Window) -> &Metrics {
        self.0.get(&w).unwrap_or(&NO_ACTIVITY)
    }

    pub fn insert(&mut self, w: Window, m: Metrics) {
        self.0.insert(w, m);
    }
}

impl Metrics {
    /// Adds another period's metrics to these.
    pub fn add(&mut self, o: &Metrics) {
        self.invited_agents += o.invited_agents;
        self.bound_customers += o.bound_customers;
        self.personal_sales += o.personal_sales;
        self.team_sales += o.team_sales;
        self.amount_paid += o.amount_paid;
        self.orders += o.orders;
        self.recharge += o.recharge;
        self.products.extend(o.products.iter().cloned());
        for (k, v) in &o.level_payments {
            *self.level_payments.entry(k.clone()).or_default() += *v;
        }
    }
}

/// The reference of what the store sums with SQL: dated activity summed over each window ending
/// on `today` (activity after `today` is not counted).
pub fn over_windows(
    activity: &[(NaiveDate, Metrics)],
    windows: &[Window],
    today: NaiveDate,
) -> MetricsByWindow {
    let mut out = MetricsByWindow::default();
    for w in windows {
        let mut sum = Metrics::default();
        for (on, m) in activity {
            let age = (today - *on).num_days();
            if age >= 0 && w.0.is_none_or(|d| age < i64::from(d)) {
                sum.add(m);
            }
        }
        out.insert(*w, sum);
    }
    out
}
