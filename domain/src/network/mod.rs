//! The agent network of DOMAIN §2–§5 (seed 004) as pure rules: the tier policy, who supplies whom,
//! the restock order's life cycle, forwarding and upgrades, and the double-entry ledger that every
//! rebate, award and margin lands in. No database, no HTTP: the store and the API build on these.
//!
//! Money is [`rust_decimal::Decimal`] (CNY, two decimals), never a float; a computed amount is
//! rounded half away from zero to the cent once, where it is booked ([`round_cents`]).

pub mod earnings;
pub mod forwarding;
pub mod ledger;
pub mod order;
pub mod placement;
pub mod policy;
pub mod postings;
pub mod settlement;
pub mod tracking;
pub mod upgrade;

#[cfg(test)]
mod props;
#[cfg(test)]
mod scenarios;

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

pub use earnings::{BookedLine, BookedOrder, Earning, PaidVia, Referrer};
pub use forwarding::{
    CartLine, ForwardError, ForwardPlan, Leg, Margin, SupplierLink, plan_cart, plan_forwarding,
};
pub use ledger::{
    Account, ConsumerWallet, HqAccount, Ledger, LedgerError, Line, Posting, PostingError,
    PostingKind, Wallet,
};
pub use order::{
    OrderAction, OrderKind, OrderLine, OrderState, ProductId, RefundScope, RestockOrder,
    TransitionError, transition,
};
pub use placement::{
    AgentGraph, MemoryGraph, PlacementError, Supplier, check_referral, supplier_of,
};
pub use policy::{ApprovalMode, Entry, Policy, PolicyError, PolicyErrors, Tier};
pub use settlement::{Settleable, settle_completed};
pub use upgrade::{EntryBasis, TopUp, UpgradeError, top_up, upgrade_target};

/// An agent (代理) of the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AgentId(pub u64);

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A restock order (进货单); a forwarded order's linked orders have ids of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrderId(pub u64);

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A tier's rank: 1 is the top tier (总代 in seed 004); a lower number is a higher tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TierRank(pub u8);

impl TierRank {
    /// Strictly higher in the network (a lower rank number).
    pub fn is_above(self, other: TierRank) -> bool {
        self.0 < other.0
    }
}

impl fmt::Display for TierRank {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rank {}", self.0)
    }
}

/// Who sells to an agent, ships an order or receives a payment: another agent or the brand (HQ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Party {
    Hq,
    Agent(AgentId),
}

/// An agent's standing (代理状态).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum AgentStatus {
    /// 待激活: joined, until its entry order (首批) is paid.
    Pending,
    /// 已授权: buys, sells, refers.
    Active,
    /// 已暂停 by HQ: does nothing until reinstated.
    Suspended,
}

impl AgentStatus {
    pub const ALL: [AgentStatus; 3] = [
        AgentStatus::Pending,
        AgentStatus::Active,
        AgentStatus::Suspended,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<AgentStatus> {
        s.parse().ok()
    }
}

impl fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a version of a policy document (the tier policy, the level policy) stands: drafts until
/// one is activated, the active one retired when the next is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum PolicyStatus {
    Draft,
    Active,
    Retired,
}

impl PolicyStatus {
    pub const ALL: [PolicyStatus; 3] = [
        PolicyStatus::Draft,
        PolicyStatus::Active,
        PolicyStatus::Retired,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<PolicyStatus> {
        s.parse().ok()
    }
}

impl fmt::Display for PolicyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a withdrawal (提现) stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum WithdrawalStatus {
    /// Asked for by the agent; the amount is held.
    Requested,
    /// Approved by HQ finance, to be transferred.
    Approved,
    /// Refused; the amount is available again.
    Rejected,
    /// Transferred, with the bank's reference.
    Paid,
}

impl WithdrawalStatus {
    pub const ALL: [WithdrawalStatus; 4] = [
        WithdrawalStatus::Requested,
        WithdrawalStatus::Approved,
        WithdrawalStatus::Rejected,
        WithdrawalStatus::Paid,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<WithdrawalStatus> {
        s.parse().ok()
    }
}

impl fmt::Display for WithdrawalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which kind of party: stored beside an optional agent id (`seller_kind`, `shipper_kind`,
/// `devices.owner_kind`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum PartyKind {
    Hq,
    Agent,
}

impl PartyKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<PartyKind> {
        s.parse().ok()
    }
}

impl Party {
    pub fn kind(self) -> PartyKind {
        match self {
            Party::Hq => PartyKind::Hq,
            Party::Agent(_) => PartyKind::Agent,
        }
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Party::Hq => f.write_str("HQ"),
            Party::Agent(id) => write!(f, "agent {id}"),
        }
    }
}

/// Rounds a computed amount to the cent, half away from zero: done once, where it is booked.
pub fn round_cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// `quantity × unit_price`, rounded to the cent.
pub fn goods_amount(quantity: u32, unit_price: Decimal) -> Decimal {
    round_cents(Decimal::from(quantity) * unit_price)
}

#[cfg(test)]
pub(crate) fn dec(s: &str) -> Decimal {
    s.parse().expect("a decimal literal")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn party_kinds_keep_their_stored_names() {
        crate::pin_stored_names(
            &[(PartyKind::Hq, "hq"), (PartyKind::Agent, "agent")],
            PartyKind::as_str,
            PartyKind::parse,
        );
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_cents(dec("0.005")), dec("0.01"));
        assert_eq!(round_cents(dec("-0.005")), dec("-0.01"));
        assert_eq!(round_cents(dec("0.0049")), dec("0.00"));
        assert_eq!(round_cents(dec("810.000")), dec("810.00"));
    }

    #[test]
    fn ranks_compare_upwards() {
        assert!(TierRank(1).is_above(TierRank(2)));
        assert!(!TierRank(2).is_above(TierRank(2)));
        assert_eq!(goods_amount(360, dec("25.00")), dec("9000.00"));
    }
}

#[cfg(test)]
mod strum_names {
    use super::*;

    #[test]
    fn stored_names_of_agent_status() {
        crate::pin_stored_names(
            &[
                (AgentStatus::Pending, "pending"),
                (AgentStatus::Active, "active"),
                (AgentStatus::Suspended, "suspended"),
            ],
            AgentStatus::as_str,
            AgentStatus::parse,
        );
    }

    #[test]
    fn stored_names_of_policy_status() {
        crate::pin_stored_names(
            &[
                (PolicyStatus::Draft, "draft"),
                (PolicyStatus::Active, "active"),
                (PolicyStatus::Retired, "retired"),
            ],
            PolicyStatus::as_str,
            PolicyStatus::parse,
        );
    }

    #[test]
    fn stored_names_of_withdrawal_status() {
        crate::pin_stored_names(
            &[
                (WithdrawalStatus::Requested, "requested"),
                (WithdrawalStatus::Approved, "approved"),
                (WithdrawalStatus::Rejected, "rejected"),
                (WithdrawalStatus::Paid, "paid"),
            ],
            WithdrawalStatus::as_str,
            WithdrawalStatus::parse,
        );
    }
}
