//! The double-entry ledger (DOMAIN §5): every amount lands here as a [`Posting`] whose lines sum to
//! zero, carries an idempotency key derived from its business event, and is never edited —
//! corrections are new postings. [`Ledger`] is the in-memory book the store will mirror: it applies
//! a posting once, and a replay of the same key books nothing.
//!
//! Sign convention: a line's amount *credits* its account when positive. An agent's `available` of
//! +810.00 is 810.00 the brand owes it; HQ `sales` and `payables` read positive too, while HQ's own
//! asset and expense accounts (`cash`, `rebate_expense`) read negative: cash −500.00 means 500.00
//! came in. [`Posting::transfers`] reads as "move this much from that account to this one".

use std::collections::HashMap;
use std::fmt;

use rust_decimal::Decimal;

use super::AgentId;

/// What booked a posting (`postings.kind`): the statements sum an agent's lines by it, and the
/// pages name it in words. Stored by its `snake_case` name.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum PostingKind {
    /// An order paid (货款).
    Paid,
    Margin,
    Rebate,
    Award,
    /// An upgrade's allowance.
    Allowance,
    /// An order completed: its earnings unfrozen.
    Complete,
    Refund,
    WithdrawalRequested,
    WithdrawalApproved,
    WithdrawalRejected,
    /// An opening balance brought in by a network import.
    Opening,
    /// Held money released by a network import.
    Release,
    /// A deposit into an agent's wallet.
    Deposit,
    /// A diversion penalty (防串货罚款).
    DiversionPenalty,
    /// Cash rewards paid out to consumers.
    Payout,
    /// Scan-marketing rewards drawn.
    Reward,
    /// A scan-marketing reward claimed by its consumer.
    RewardClaim,
    /// A key no rule names.
    #[default]
    Other,
}

impl PostingKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// `None` for a name that is not a kind.
    pub fn parse(s: &str) -> Option<PostingKind> {
        s.parse().ok()
    }

    /// The kind of event an order's or a withdrawal's key names: `order:7:margin:3` → `Margin`,
    /// `withdrawal:4:requested` → `WithdrawalRequested`.
    pub fn of_key(key: &str) -> PostingKind {
        let mut parts = key.split(':');
        match (parts.next(), parts.nth(1)) {
            (Some("order"), Some("paid")) => PostingKind::Paid,
            (Some("order"), Some("margin")) => PostingKind::Margin,
            (Some("order"), Some("rebate")) => PostingKind::Rebate,
            (Some("order"), Some("award")) => PostingKind::Award,
            (Some("order"), Some("allowance")) => PostingKind::Allowance,
            (Some("order"), Some("complete")) => PostingKind::Complete,
            (Some("order"), Some("refund")) => PostingKind::Refund,
            (Some("withdrawal"), Some("requested")) => PostingKind::WithdrawalRequested,
            (Some("withdrawal"), Some("approved")) => PostingKind::WithdrawalApproved,
            (Some("withdrawal"), Some("rejected")) => PostingKind::WithdrawalRejected,
            (Some("import"), Some("opening")) => PostingKind::Opening,
            (Some("import"), Some("release")) => PostingKind::Release,
            _ => PostingKind::Other,
        }
    }
}

/// An agent's two wallets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Wallet {
    /// Withdrawable (may be negative after a clawback).
    Available,
    /// Earned but held until the order completes.
    Frozen,
}

/// The brand's own accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HqAccount {
    /// Goods sold by HQ itself.
    Sales,
    /// Rebates and awards HQ pays (同级推荐奖, 跨级推荐奖).
    RebateExpense,
    /// Money HQ holds for others: goods money owed to agent sellers until completion, and
    /// withdrawals requested but not yet paid out.
    Payables,
    /// HQ's bank: money in from offline transfers, out on paid withdrawals.
    Cash,
    /// The other side of opening balances brought in from a brand's previous system (issue 23):
    /// what HQ owed its agents there, now owed here.
    Migration,
    /// What scan-marketing rewards cost the brand (扫码营销, issue 21).
    MarketingExpense,
    /// Rewards drawn but not yet claimed by a signed-in consumer.
    RewardsOwed,
}

/// What a consumer holds from scan-marketing rewards, each owed by the brand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConsumerWallet {
    /// Points, at `marketing::POINT_VALUE` each.
    Points,
    /// Coupons at their face value, until redeemed.
    Coupons,
    /// Cash (红包) until paid out.
    Cash,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    Agent(AgentId, Wallet),
    Hq(HqAccount),
    /// A consumer's account (the `consumers` row's id).
    Consumer(i64, ConsumerWallet),
}

impl Account {
    pub fn available(agent: AgentId) -> Account {
        Account::Agent(agent, Wallet::Available)
    }
    pub fn frozen(agent: AgentId) -> Account {
        Account::Agent(agent, Wallet::Frozen)
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Account::Agent(a, Wallet::Available) => write!(f, "agent:{a}:available"),
            Account::Agent(a, Wallet::Frozen) => write!(f, "agent:{a}:frozen"),
            Account::Hq(HqAccount::Sales) => f.write_str("hq:sales"),
            Account::Hq(HqAccount::RebateExpense) => f.write_str("hq:rebate_expense"),
            Account::Hq(HqAccount::Payables) => f.write_str("hq:payables"),
            Account::Hq(HqAccount::Cash) => f.write_str("hq:cash"),
            Account::Hq(HqAccount::Migration) => f.write_str("hq:migration"),
            Account::Hq(HqAccount::MarketingExpense) => f.write_str("hq:marketing_expense"),
            Account::Hq(HqAccount::RewardsOwed) => f.write_str("hq:rewards_owed"),
            Account::Consumer(c, ConsumerWallet::Points) => write!(f, "consumer:{c}:points"),
            Account::Consumer(c, ConsumerWallet::Coupons) => write!(f, "consumer:{c}:coupons"),
            Account::Consumer(c, ConsumerWallet::Cash) => write!(f, "consumer:{c}:cash"),
        }
    }
}

/// One line of a posting: a positive amount credits the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub account: Account,
    pub amount: Decimal,
}

/// A balanced set of lines booked together under one idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    key: String,
    lines: Vec<Line>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostingError {
    #[error("a posting needs an idempotency key")]
    NoKey,
    #[error("a posting needs at least one non-zero line")]
    NoLines,
    #[error("{0}: amounts are booked in whole cents")]
    NotCents(Account),
    #[error("lines sum to {0}, not zero")]
    Unbalanced(Decimal),
}

impl Posting {
    /// Refuses anything but whole-cent, non-zero lines that sum to zero.
    pub fn new(key: impl Into<String>, lines: Vec<Line>) -> Result<Posting, PostingError> {
        let key = key.into();
        if key.is_empty() {
            return Err(PostingError::NoKey);
        }
        if lines.is_empty() || lines.iter().any(|l| l.amount.is_zero()) {
            return Err(PostingError::NoLines);
        }
        if let Some(l) = lines.iter().find(|l| l.amount.normalize().scale() > 2) {
            return Err(PostingError::NotCents(l.account));
        }
        let sum: Decimal = lines.iter().map(|l| l.amount).sum();
        if !sum.is_zero() {
            return Err(PostingError::Unbalanced(sum));
        }
        Ok(Posting { key, lines })
    }

    /// Moves each `(from, to, amount)`: balanced by construction. Zero moves are dropped; `None`
    /// when nothing is left (or the amounts are not whole cents, which callers round first).
    pub fn transfers(
        key: impl Into<String>,
        moves: impl IntoIterator<Item = (Account, Account, Decimal)>,
    ) -> Option<Posting> {
        let mut lines = Vec::new();
        for (from, to, amount) in moves {
            if !amount.is_zero() {
                lines.push(Line {
                    account: from,
                    amount: -amount,
                });
                lines.push(Line {
                    account: to,
                    amount,
                });
            }
        }
        Posting::new(key, lines).ok()
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The net amount this posting books on `account`.
    pub fn net(&self, account: &Account) -> Decimal {
        self.lines
            .iter()
            .filter(|l| l.account == *account)
            .map(|l| l.amount)
            .sum()
    }
}

/// What applying a posting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Booked,
    /// The key was booked before, with the same lines: nothing happened.
    Replayed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The same business event computed twice with different money: a bug to stop on.
    #[error("posting {0} was already booked with different lines")]
    ConflictingReplay(String),
}

/// The book: postings by key, and each account's balance (the sum of its lines).
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    postings: Vec<Posting>,
    by_key: HashMap<String, usize>,
    balances: HashMap<Account, Decimal>,
}

impl Ledger {
    /// Books a posting once; a replay of its key books nothing.
    pub fn apply(&mut self, posting: Posting) -> Result<Applied, LedgerError> {
        if let Some(&i) = self.by_key.get(posting.key()) {
            return if self.postings[i] == posting {
                Ok(Applied::Replayed)
            } else {
                Err(LedgerError::ConflictingReplay(posting.key))
            };
        }
        for line in &posting.lines {
            *self.balances.entry(line.account).or_default() += line.amount;
        }
        self.by_key.insert(posting.key.clone(), self.postings.len());
        self.postings.push(posting);
        Ok(Applied::Booked)
    }

    /// Books each posting once, in order; stops at the first conflict.
    pub fn apply_all(
        &mut self,
        postings: impl IntoIterator<Item = Posting>,
    ) -> Result<Vec<Applied>, LedgerError> {
        postings.into_iter().map(|p| self.apply(p)).collect()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    pub fn posting(&self, key: &str) -> Option<&Posting> {
        self.by_key.get(key).map(|&i| &self.postings[i])
    }

    /// Every posting, in booking order.
    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }

    pub fn balance(&self, account: &Account) -> Decimal {
        self.balances.get(account).copied().unwrap_or_default()
    }

    /// Every account that has a line.
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.balances.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::dec;

    const CASH: Account = Account::Hq(HqAccount::Cash);
    const SALES: Account = Account::Hq(HqAccount::Sales);

    fn line(account: Account, amount: &str) -> Line {
        Line {
            account,
            amount: dec(amount),
        }
    }

    #[test]
    fn posting_kinds_keep_their_stored_names() {
        use strum::IntoEnumIterator;
        let names: Vec<&str> = PostingKind::iter().map(PostingKind::as_str).collect();
        assert_eq!(
            names,
            [
                "paid",
                "margin",
                "rebate",
                "award",
                "allowance",
                "complete",
                "refund",
                "withdrawal_requested",
                "withdrawal_approved",
                "withdrawal_rejected",
                "opening",
                "release",
                "deposit",
                "diversion_penalty",
                "payout",
                "reward",
                "reward_claim",
                "other",
            ]
        );
        for kind in PostingKind::iter() {
            assert_eq!(PostingKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(PostingKind::of_key("order:7:margin:3"), PostingKind::Margin);
        assert_eq!(
            PostingKind::of_key("withdrawal:4:requested"),
            PostingKind::WithdrawalRequested
        );
        assert_eq!(
            PostingKind::of_key("import:2:opening:9"),
            PostingKind::Opening
        );
        assert_eq!(PostingKind::of_key("campaign:1"), PostingKind::Other);
    }

    #[test]
    fn the_constructor_refuses_unbalanced_lines() {
        let a = Account::available(AgentId(1));
        assert_eq!(
            Posting::new("k", vec![line(CASH, "-10.00"), line(SALES, "9.99")]),
            Err(PostingError::Unbalanced(dec("-0.01")))
        );
        assert_eq!(
            Posting::new("", vec![line(a, "1"), line(CASH, "-1")]),
            Err(PostingError::NoKey)
        );
        assert_eq!(Posting::new("k", vec![]), Err(PostingError::NoLines));
        assert_eq!(
            Posting::new("k", vec![line(a, "0.001"), line(CASH, "-0.001")]),
            Err(PostingError::NotCents(a))
        );
        assert!(Posting::new("k", vec![line(CASH, "-10.00"), line(SALES, "10.00")]).is_ok());
        assert_eq!(
            Posting::transfers("k", [(CASH, SALES, Decimal::ZERO)]),
            None
        );
    }

    #[test]
    fn a_replay_books_nothing_and_a_conflict_is_refused() {
        let mut ledger = Ledger::default();
        let p = Posting::transfers("order:1:paid", [(CASH, SALES, dec("760.00"))]).expect("lines");
        assert_eq!(ledger.apply(p.clone()), Ok(Applied::Booked));
        assert_eq!(ledger.apply(p), Ok(Applied::Replayed));
        assert_eq!(ledger.balance(&SALES), dec("760.00"));
        assert_eq!(ledger.balance(&CASH), dec("-760.00"));
        let other =
            Posting::transfers("order:1:paid", [(CASH, SALES, dec("1.00"))]).expect("lines");
        assert_eq!(
            ledger.apply(other),
            Err(LedgerError::ConflictingReplay("order:1:paid".into()))
        );
        assert_eq!(ledger.postings().len(), 1);
        assert_eq!(Account::frozen(AgentId(7)).to_string(), "agent:7:frozen");
        assert_eq!(
            Account::Hq(HqAccount::RebateExpense).to_string(),
            "hq:rebate_expense"
        );
    }
}
