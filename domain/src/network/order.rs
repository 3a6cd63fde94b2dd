//! The restock order (进货单, DOMAIN §4): what is fixed on it when it is placed, and its life cycle
//! as a pure state machine — submitted → accepted | forwarded | rejected → paid → shipping →
//! shipped → received → completed; cancelled before shipping; refunded or partially refunded by
//! returned quantity.

use std::fmt;

use rust_decimal::Decimal;

use super::forwarding::SupplierLink;
use super::{AgentId, OrderId, Party, TierRank, goods_amount};

/// Why the order exists.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum OrderKind {
    /// 首批: activates the agent at this tier.
    Entry,
    /// 补货: an ordinary restock.
    Restock,
    /// 补齐差额: the top-up that upgrades the buyer to the order's tier when paid.
    Upgrade,
}

impl OrderKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<OrderKind> {
        s.parse().ok()
    }
}

impl fmt::Display for OrderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A product of the catalogue (the registry's id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProductId(pub u64);

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "product {}", self.0)
    }
}

/// One line of an order (a product of the cart), priced and snapshotted when placed.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    pub product: ProductId,
    pub quantity: u32,
    /// The buyer's price for this product at the order's tier (授权价格).
    pub unit_price: Decimal,
    /// quantity × unit price, rounded once.
    pub goods_amount: Decimal,
    /// An upgrade's price-difference credit on this line that HQ bears; zero otherwise.
    pub upgrade_allowance: Decimal,
    /// Each agent of the order's supplier chain with its own price for this product, nearest
    /// first: where forwarding climbs, and what each forwarding agent buys at.
    pub chain: Vec<SupplierLink>,
}

impl OrderLine {
    /// A line of `quantity` at `unit_price`, goods = quantity × price.
    pub fn new(product: ProductId, quantity: u32, unit_price: Decimal) -> OrderLine {
        OrderLine {
            product,
            quantity,
            unit_price,
            goods_amount: goods_amount(quantity, unit_price),
            upgrade_allowance: Decimal::ZERO,
            chain: Vec::new(),
        }
    }
}

/// What is fixed on an order when it is placed; a later change of tier, upline or policy never
/// rewrites it.
#[derive(Debug, Clone, PartialEq)]
pub struct RestockOrder {
    pub id: OrderId,
    pub kind: OrderKind,
    pub buyer: AgentId,
    /// The tier the order is priced at (the buyer's tier, or the target tier of an upgrade).
    pub tier: TierRank,
    /// The payee: the buyer's supplier when the order was placed.
    pub seller: Party,
    /// The supplier chain above the seller when the order was placed (where forwarding climbs).
    pub supplier_chain: Vec<AgentId>,
    /// The cart: one line per product, at least one.
    pub lines: Vec<OrderLine>,
    pub policy_version: u32,
    pub state: OrderState,
}

impl RestockOrder {
    /// A new order in `Submitted`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: OrderId,
        kind: OrderKind,
        buyer: AgentId,
        tier: TierRank,
        seller: Party,
        supplier_chain: Vec<AgentId>,
        lines: Vec<OrderLine>,
        policy_version: u32,
    ) -> RestockOrder {
        RestockOrder {
            id,
            kind,
            buyer,
            tier,
            seller,
            supplier_chain,
            lines,
            policy_version,
            state: OrderState::Submitted,
        }
    }

    /// Items of all lines.
    pub fn quantity(&self) -> u64 {
        self.lines.iter().map(|l| u64::from(l.quantity)).sum()
    }

    /// The goods of all lines (each rounded once, on its line).
    pub fn goods_amount(&self) -> Decimal {
        self.lines.iter().map(|l| l.goods_amount).sum()
    }

    /// HQ's upgrade allowance over all lines.
    pub fn upgrade_allowance(&self) -> Decimal {
        self.lines.iter().map(|l| l.upgrade_allowance).sum()
    }

    /// Applies an action to the order's state.
    pub fn apply(&mut self, action: OrderAction) -> Result<OrderState, TransitionError> {
        self.state = transition(self.state, action)?;
        Ok(self.state)
    }
}

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
pub enum OrderState {
    Submitted,
    Accepted,
    /// 一键提交上级代发: passed up the chain; someone above will drop-ship.
    Forwarded,
    Rejected,
    Paid,
    Shipping,
    Shipped,
    Received,
    Completed,
    Cancelled,
    PartiallyRefunded,
    Refunded,
}

impl OrderState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Every state, in life-cycle order.
    pub const ALL: [OrderState; 12] = [
        OrderState::Submitted,
        OrderState::Accepted,
        OrderState::Forwarded,
        OrderState::Rejected,
        OrderState::Paid,
        OrderState::Shipping,
        OrderState::Shipped,
        OrderState::Received,
        OrderState::Completed,
        OrderState::Cancelled,
        OrderState::PartiallyRefunded,
        OrderState::Refunded,
    ];

    /// The state named `s` (as [`OrderState::as_str`] writes it).
    pub fn parse(s: &str) -> Option<OrderState> {
        s.parse().ok()
    }

    /// No action applies any more.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            OrderState::Rejected | OrderState::Cancelled | OrderState::Refunded
        )
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a refund returns everything still held or only part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundScope {
    Partial,
    Full,
}

impl RefundScope {
    /// The scope of returning `returning` more items when `returned_before` of `quantity` already
    /// came back; `None` when that is nothing or more than was bought.
    pub fn of(quantity: u32, returned_before: u32, returning: u32) -> Option<RefundScope> {
        let after = returned_before.checked_add(returning)?;
        match (returning, after.cmp(&quantity)) {
            (0, _) | (_, std::cmp::Ordering::Greater) => None,
            (_, std::cmp::Ordering::Equal) => Some(RefundScope::Full),
            (_, std::cmp::Ordering::Less) => Some(RefundScope::Partial),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    Accept,
    Forward,
    Reject,
    Pay,
    /// The first shipping scan.
    StartShipping,
    /// The shipment left.
    Ship,
    /// Confirmed by the buyer.
    Receive,
    /// The receive window passed after shipping.
    AutoReceive,
    /// The return window passed after receipt with no after-sale case open.
    Complete,
    Cancel,
    /// Returned items refunded (also after completion: an after-sale case HQ accepted late).
    Refund(RefundScope),
}

/// Why an action does not apply: one reason per wrong state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the order is {0} and closed")]
    Closed(OrderState),
    #[error("the supplier already answered the order ({0})")]
    AlreadyAnswered(OrderState),
    #[error("the supplier has not accepted or forwarded the order yet")]
    NotAnswered,
    #[error("the order is already paid")]
    AlreadyPaid,
    #[error("the order is not paid yet")]
    NotPaid,
    #[error("shipping has started; the order can no longer be cancelled")]
    ShippingStarted,
    #[error("the order is already {0}")]
    AlreadyShipped(OrderState),
    #[error("the order has not shipped yet")]
    NotShipped,
    #[error("the order was already received")]
    AlreadyReceived,
    #[error("the order has not been received yet")]
    NotReceived,
    #[error("the order is already completed")]
    AlreadyCompleted,
}

/// The order's next state, or the specific reason the action does not apply.
pub fn transition(state: OrderState, action: OrderAction) -> Result<OrderState, TransitionError> {
    use OrderAction as A;
    use OrderState as S;
    use TransitionError as E;
    if state.is_closed() {
        return Err(E::Closed(state));
    }
    let after = |scope| match scope {
        RefundScope::Full => S::Refunded,
        RefundScope::Partial => S::PartiallyRefunded,
    };
    let shipped_or_later = matches!(
        state,
        S::Shipped | S::Received | S::Completed | S::PartiallyRefunded
    );
    Ok(match (state, action) {
        (S::Submitted, A::Accept) => S::Accepted,
        (S::Submitted, A::Forward) => S::Forwarded,
        (S::Submitted, A::Reject) => S::Rejected,
        (S::Submitted | S::Accepted | S::Forwarded | S::Paid, A::Cancel) => S::Cancelled,
        (S::Accepted | S::Forwarded, A::Pay) => S::Paid,
        (S::Paid, A::StartShipping) => S::Shipping,
        (S::Shipping, A::Ship) => S::Shipped,
        (S::Shipped, A::Receive | A::AutoReceive) => S::Received,
        (S::Received | S::PartiallyRefunded, A::Complete) => S::Completed,
        (S::Received | S::Completed | S::PartiallyRefunded, A::Refund(scope)) => after(scope),

        (_, A::Accept | A::Forward | A::Reject) => return Err(E::AlreadyAnswered(state)),
        (S::Submitted, _) => return Err(E::NotAnswered),
        (_, A::Pay) => return Err(E::AlreadyPaid),
        (S::Accepted | S::Forwarded, _) => return Err(E::NotPaid),
        (_, A::Cancel) => return Err(E::ShippingStarted),
        (S::Paid, A::Ship) => return Err(E::NotShipped),
        (_, A::StartShipping | A::Ship) => return Err(E::AlreadyShipped(state)),
        (S::Completed, A::Complete) => return Err(E::AlreadyCompleted),
        (_, A::Receive | A::AutoReceive) if shipped_or_later => return Err(E::AlreadyReceived),
        (S::Paid | S::Shipping, _) => return Err(E::NotShipped),
        (S::Shipped, _) => return Err(E::NotReceived),
        (_, _) => return Err(E::AlreadyCompleted),
    })
}

impl crate::Refusal for TransitionError {
    fn code(&self) -> &'static str {
        match self {
            TransitionError::Closed(_) => "order_closed",
            TransitionError::AlreadyAnswered(_) => "order_already_answered",
            TransitionError::NotAnswered => "order_not_answered",
            TransitionError::AlreadyPaid => "order_already_paid",
            TransitionError::NotPaid => "order_not_paid",
            TransitionError::ShippingStarted => "order_shipping_started",
            TransitionError::AlreadyShipped(_) => "order_already_shipped",
            TransitionError::NotShipped => "order_not_shipped",
            TransitionError::AlreadyReceived => "order_already_received",
            TransitionError::NotReceived => "order_not_received",
            TransitionError::AlreadyCompleted => "order_already_completed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderAction as A;
    use OrderState as S;
    use TransitionError as E;

    fn run(actions: &[OrderAction]) -> Result<OrderState, TransitionError> {
        actions
            .iter()
            .try_fold(S::Submitted, |s, &a| transition(s, a))
    }

    #[test]
    fn the_happy_path_and_its_variants() {
        let happy = [
            A::Accept,
            A::Pay,
            A::StartShipping,
            A::Ship,
            A::Receive,
            A::Complete,
        ];
        assert_eq!(run(&happy), Ok(S::Completed));
        let forwarded = [
            A::Forward,
            A::Pay,
            A::StartShipping,
            A::Ship,
            A::AutoReceive,
        ];
        assert_eq!(run(&forwarded), Ok(S::Received));
        assert_eq!(run(&[A::Reject]), Ok(S::Rejected));
        assert_eq!(run(&[A::Accept, A::Pay, A::Cancel]), Ok(S::Cancelled));
    }

    #[test]
    fn refunds_by_returned_quantity() {
        let base = [A::Accept, A::Pay, A::StartShipping, A::Ship, A::Receive];
        let partial = [&base[..], &[A::Refund(RefundScope::Partial)]].concat();
        assert_eq!(run(&partial), Ok(S::PartiallyRefunded));
        let rest = [&partial[..], &[A::Complete, A::Refund(RefundScope::Full)]].concat();
        assert_eq!(run(&rest), Ok(S::Refunded));
        assert_eq!(RefundScope::of(20, 0, 5), Some(RefundScope::Partial));
        assert_eq!(RefundScope::of(20, 15, 5), Some(RefundScope::Full));
        assert_eq!(RefundScope::of(20, 15, 6), None, "more than was bought");
        assert_eq!(RefundScope::of(20, 0, 0), None, "nothing");
        assert_eq!(RefundScope::of(u32::MAX, u32::MAX, 1), None);
    }

    #[test]
    fn each_wrong_state_has_its_own_reason() {
        let cases = [
            (S::Submitted, A::Pay, E::NotAnswered),
            (S::Accepted, A::Accept, E::AlreadyAnswered(S::Accepted)),
            (S::Paid, A::Forward, E::AlreadyAnswered(S::Paid)),
            (S::Paid, A::Pay, E::AlreadyPaid),
            (S::Forwarded, A::Ship, E::NotPaid),
            (S::Shipping, A::Cancel, E::ShippingStarted),
            (S::Received, A::Cancel, E::ShippingStarted),
            (S::Paid, A::Ship, E::NotShipped),
            (S::Paid, A::Receive, E::NotShipped),
            (S::Shipping, A::Refund(RefundScope::Full), E::NotShipped),
            (S::Shipped, A::StartShipping, E::AlreadyShipped(S::Shipped)),
            (S::Shipped, A::Complete, E::NotReceived),
            (S::Shipped, A::Refund(RefundScope::Partial), E::NotReceived),
            (S::Received, A::AutoReceive, E::AlreadyReceived),
            (S::Completed, A::Complete, E::AlreadyCompleted),
            (S::Cancelled, A::Pay, E::Closed(S::Cancelled)),
            (
                S::Refunded,
                A::Refund(RefundScope::Full),
                E::Closed(S::Refunded),
            ),
            (S::Rejected, A::Accept, E::Closed(S::Rejected)),
        ];
        for (state, action, want) in cases {
            assert_eq!(transition(state, action), Err(want), "{state} {action:?}");
        }
    }

    #[test]
    fn every_pair_is_decided() {
        let states = [
            S::Submitted,
            S::Accepted,
            S::Forwarded,
            S::Rejected,
            S::Paid,
            S::Shipping,
            S::Shipped,
            S::Received,
            S::Completed,
            S::Cancelled,
            S::PartiallyRefunded,
            S::Refunded,
        ];
        let actions = [
            A::Accept,
            A::Forward,
            A::Reject,
            A::Pay,
            A::StartShipping,
            A::Ship,
            A::Receive,
            A::AutoReceive,
            A::Complete,
            A::Cancel,
            A::Refund(RefundScope::Partial),
            A::Refund(RefundScope::Full),
        ];
        let mut allowed = 0;
        for s in states {
            for a in actions {
                if let Ok(next) = transition(s, a) {
                    allowed += 1;
                    assert_ne!(next, S::Submitted, "nothing returns to submitted");
                }
            }
        }
        assert_eq!(allowed, 21);
    }
}

#[cfg(test)]
mod strum_names {
    use super::*;

    #[test]
    fn stored_names_of_order_state() {
        crate::pin_stored_names(
            &[
                (OrderState::Submitted, "submitted"),
                (OrderState::Accepted, "accepted"),
                (OrderState::Forwarded, "forwarded"),
                (OrderState::Rejected, "rejected"),
                (OrderState::Paid, "paid"),
                (OrderState::Shipping, "shipping"),
                (OrderState::Shipped, "shipped"),
                (OrderState::Received, "received"),
                (OrderState::Completed, "completed"),
                (OrderState::Cancelled, "cancelled"),
                (OrderState::PartiallyRefunded, "partially_refunded"),
                (OrderState::Refunded, "refunded"),
            ],
            OrderState::as_str,
            OrderState::parse,
        );
    }

    #[test]
    fn stored_names_of_order_kind() {
        crate::pin_stored_names(
            &[
                (OrderKind::Entry, "entry"),
                (OrderKind::Restock, "restock"),
                (OrderKind::Upgrade, "upgrade"),
            ],
            OrderKind::as_str,
            OrderKind::parse,
        );
    }
}
