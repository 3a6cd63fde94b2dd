//! Scan marketing (扫码营销, seed 004: "防伪查询与扫码营销活动"): a brand rewards a consumer's genuine
//! *first* verification of a code with points (积分), a coupon (优惠券), a lottery draw (抽奖) or
//! cash (红包), within a budget no one can overrun.
//!
//! The rules here are pure; the store spends the budget and the prize stock by conditional updates
//! (so two server instances cannot both take the last cent), and books every reward in the
//! ledger:
//!
//! - a **draw** happens once per code ever (the serial is the key of the reward's row), when the
//!   code is verified genuine for the first time, is not frozen, the client is not a bot, and the
//!   campaign covers its product, batch and the place it was verified in;
//! - its value is booked at once, from HQ's marketing expense to "rewards owed"
//!   ([`HqAccount::RewardsOwed`](crate::network::HqAccount)), so the ledger knows the cost before
//!   anyone claims it;
//! - the consumer **claims** it by signing in with their phone; the value then moves to their
//!   own account (points, coupons or cash), within the campaign's limit of claims per day;
//! - cash owed is **paid out** by HQ finance in batches (a CSV for the bank's bulk transfer),
//!   each marked paid once with the bank's reference.
//!
//! Points are valued at [`POINT_VALUE`] each in the ledger, so a points campaign has a budget in
//! yuan like every other one.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

use crate::Refusal;

/// What one point is worth in the ledger: ¥0.01 (100 points to the yuan, the usual rate of
/// brands' points schemes).
pub const POINT_VALUE: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// Odds are in basis points: 10000 is "every scan wins".
pub const ALL_ODDS: u32 = 10_000;

/// The most prizes a lottery offers.
pub const MAX_PRIZES: usize = 8;

/// The largest cash amount one scan can win (¥200, the ceiling of a WeChat red packet).
pub const MAX_CASH_CENTS: i64 = 20_000;

/// Where a campaign stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum CampaignState {
    /// Being set up: no scan is rewarded yet.
    Draft,
    /// Rewarding scans inside its window.
    Running,
    /// Stopped for now; can run again.
    Paused,
    /// Over for good.
    Ended,
}

impl CampaignState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<CampaignState> {
        s.parse().ok()
    }
}

/// What HQ does to a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum CampaignAction {
    Start,
    Pause,
    End,
}

impl CampaignAction {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<CampaignAction> {
        s.parse().ok()
    }

    /// The state this action leads to from `from`, or why it can't be taken.
    pub fn apply(self, from: CampaignState) -> Result<CampaignState, MarketingError> {
        use CampaignState::*;
        match (self, from) {
            (CampaignAction::Start, Draft | Paused) => Ok(Running),
            (CampaignAction::Pause, Running) => Ok(Paused),
            (CampaignAction::End, Draft | Running | Paused) => Ok(Ended),
            _ => Err(MarketingError::Transition { action: self, from }),
        }
    }
}

/// What a prize gives.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum PrizeKind {
    /// 积分: a number of points, worth [`POINT_VALUE`] each.
    Points,
    /// 优惠券: a coupon code with a face value.
    Coupon,
    /// 红包: cash, a fixed amount or a random one in a range.
    Cash,
}

impl PrizeKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<PrizeKind> {
        s.parse().ok()
    }
}

/// One prize of a campaign. A points, coupon or cash campaign has one prize that every scan wins
/// (odds [`ALL_ODDS`], no stock of its own: the budget bounds it); a lottery has several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prize {
    pub name: String,
    pub kind: PrizeKind,
    /// Points won (points prizes only).
    pub points: i64,
    /// Cash from `min_cents` to `max_cents` (equal for a fixed amount); a coupon's face value
    /// (both the same).
    pub min_cents: i64,
    pub max_cents: i64,
    /// Chance per scan, in basis points.
    pub odds_bp: u32,
    /// How many can be won in all; `None` for as many as the budget allows.
    pub stock: Option<i64>,
}

impl Prize {
    /// The ledger value of the smallest win (what the budget must at least hold).
    pub fn min_value_cents(&self) -> i64 {
        match self.kind {
            PrizeKind::Points => self.points,
            PrizeKind::Coupon | PrizeKind::Cash => self.min_cents,
        }
    }

    /// The value of a win given a roll for a random cash amount.
    pub fn value_cents(&self, roll: u64) -> i64 {
        match self.kind {
            // One point is one cent (POINT_VALUE).
            PrizeKind::Points => self.points,
            PrizeKind::Coupon => self.min_cents,
            PrizeKind::Cash => {
                let span = (self.max_cents - self.min_cents).max(0) as u64 + 1;
                self.min_cents + (roll % span) as i64
            }
        }
    }

    /// What a win of `value` costs the budget when `remaining` is left: a random cash amount is
    /// cut to what is left (so a budget ends on its last cent) as long as the prize's minimum
    /// fits; every other prize is given whole or not at all.
    pub fn fit(&self, value_cents: i64, remaining_cents: i64) -> Option<i64> {
        if value_cents <= remaining_cents {
            Some(value_cents)
        } else if self.kind == PrizeKind::Cash
            && self.min_cents < self.max_cents
            && self.min_cents <= remaining_cents
            && remaining_cents > 0
        {
            Some(remaining_cents)
        } else {
            None
        }
    }
}

/// Which prize a roll in `0..ALL_ODDS` wins, walking the published odds in order. A prize out of
/// stock keeps its share of the odds, which then wins nothing: sold-out prizes never raise the
/// others' chances beyond what was announced.
pub fn draw(prizes: &[(u32, bool)], roll: u32) -> Option<usize> {
    let mut upto = 0u32;
    for (i, (odds, in_stock)) in prizes.iter().enumerate() {
        upto = upto.saturating_add(*odds);
        if roll < upto {
            return in_stock.then_some(i);
        }
    }
    None
}

/// How many draws of its dearest prize a lease takes at a time, at most (see [`lease_size`]).
pub const LEASE_DRAWS: i64 = 64;

/// How much of a campaign's budget (in cents) or of a prize's stock (in units) one server
/// instance takes into its lease when its own runs short: at least `need` (what the draw in hand
/// is missing), otherwise a block of `block` (a lease's worth of draws), but never more than an
/// eighth of what is `available` — so the other instances keep a share, and what a lease still
/// holds when the campaign runs dry elsewhere is small. Nothing when nothing is available; all of
/// it when that is less than `need` (the caller decides whether that is enough).
pub fn lease_size(available: i64, need: i64, block: i64) -> i64 {
    if available <= 0 {
        return 0;
    }
    need.max(block.min(available / 8)).min(available)
}

/// What a campaign rewards: products (by SKU), batches and regions (GB/T 2260 codes of a
/// province, a city or a county). An empty list covers everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub skus: Vec<String>,
    pub batches: Vec<String>,
    pub regions: Vec<String>,
}

impl Scope {
    pub fn covers_product(&self, sku: &str, batch: &str) -> bool {
        (self.skus.is_empty() || self.skus.iter().any(|s| s == sku))
            && (self.batches.is_empty() || self.batches.iter().any(|b| b == batch))
    }

    /// Whether a scan from `region` (a county code, or none when the place is unknown) is
    /// inside. A campaign limited to regions rewards no scan from an unknown place.
    pub fn covers_region(&self, region: Option<&str>) -> bool {
        if self.regions.is_empty() {
            return true;
        }
        region.is_some_and(|r| self.regions.iter().any(|c| region_contains(c, r)))
    }
}

/// Whether GB/T 2260 code `outer` (a province `xx0000`, a city `xxxx00` or a county) contains
/// `inner`.
pub fn region_contains(outer: &str, inner: &str) -> bool {
    let significant = if outer.ends_with("0000") {
        2
    } else if outer.ends_with("00") {
        4
    } else {
        6
    };
    outer.len() == 6
        && inner.len() == 6
        && outer.as_bytes()[..significant] == inner.as_bytes()[..significant]
}

/// The province (`xx0000`) of a GB/T 2260 code; the dashboard counts by province.
pub fn province_of(region: &str) -> Option<String> {
    (region.len() == 6 && region.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{}0000", &region[..2]))
}

/// The calendar day in China (UTC+8) of a stored UTC time: the day a daily limit counts and the
/// dashboard shows.
pub fn china_day(utc: NaiveDateTime) -> NaiveDate {
    let east8 = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    utc.and_utc().with_timezone(&east8).date_naive()
}

/// What is known of a verification when it may earn a reward.
#[derive(Debug, Clone, Copy)]
pub struct ScanFacts<'a> {
    /// The code's first genuine verification.
    pub first: bool,
    /// Frozen by the verification ceiling, or under a cloning or overuse alert.
    pub frozen: bool,
    /// The diversion module took the client for a bot.
    pub bot: bool,
    pub sku: &'a str,
    pub batch: &'a str,
    /// The county the scan was placed in, if any.
    pub region: Option<&'a str>,
    pub at: NaiveDateTime,
}

/// A campaign as the reward decision needs it.
#[derive(Debug, Clone)]
pub struct Terms {
    pub state: CampaignState,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub scope: Scope,
}

/// Why a scan earns nothing from a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    NotFirst,
    Frozen,
    Bot,
    NotRunning,
    OutsideWindow,
    OtherProduct,
    OutsideRegions,
}

/// Whether a scan may draw from a campaign. Budget and stock are not decided here: the store
/// spends them atomically.
pub fn eligible(terms: &Terms, scan: &ScanFacts<'_>) -> Result<(), Ineligible> {
    if !scan.first {
        return Err(Ineligible::NotFirst);
    }
    if scan.frozen {
        return Err(Ineligible::Frozen);
    }
    if scan.bot {
        return Err(Ineligible::Bot);
    }
    if terms.state != CampaignState::Running {
        return Err(Ineligible::NotRunning);
    }
    if scan.at < terms.starts_at || scan.at >= terms.ends_at {
        return Err(Ineligible::OutsideWindow);
    }
    if !terms.scope.covers_product(scan.sku, scan.batch) {
        return Err(Ineligible::OtherProduct);
    }
    if !terms.scope.covers_region(scan.region) {
        return Err(Ineligible::OutsideRegions);
    }
    Ok(())
}

/// A campaign as HQ sets it up, checked by [`CampaignDraft::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignDraft {
    pub name: String,
    pub scope: Scope,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub budget: Decimal,
    /// Rewards one consumer may claim from this campaign per day.
    pub daily_limit: i32,
    /// A lottery draws among `prizes` by their odds; otherwise there is exactly one prize and
    /// every scan wins it.
    pub lottery: bool,
    pub prizes: Vec<Prize>,
}

impl CampaignDraft {
    /// The budget in cents.
    pub fn budget_cents(&self) -> Option<i64> {
        (self.budget * Decimal::ONE_HUNDRED)
            .normalize()
            .to_string()
            .parse()
            .ok()
    }

    /// Checks every rule of a campaign; the first broken one is named.
    pub fn check(&self) -> Result<(), MarketingError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(MarketingError::Name);
        }
        if self.ends_at <= self.starts_at {
            return Err(MarketingError::Window);
        }
        if self.budget.normalize().scale() > 2 || self.budget <= Decimal::ZERO {
            return Err(MarketingError::Budget);
        }
        let budget = self.budget_cents().ok_or(MarketingError::Budget)?;
        if !(1..=1000).contains(&self.daily_limit) {
            return Err(MarketingError::DailyLimit);
        }
        for r in &self.scope.regions {
            if province_of(r).is_none() {
                return Err(MarketingError::Region(r.clone()));
            }
        }
        if self.prizes.is_empty() || self.prizes.len() > MAX_PRIZES {
            return Err(MarketingError::Prizes);
        }
        if !self.lottery && (self.prizes.len() != 1 || self.prizes[0].odds_bp != ALL_ODDS) {
            return Err(MarketingError::Prizes);
        }
        let mut odds = 0u32;
        for (i, p) in self.prizes.iter().enumerate() {
            let n = i + 1;
            if p.name.trim().is_empty() || p.name.chars().count() > 40 {
                return Err(MarketingError::PrizeName(n));
            }
            let value_ok = match p.kind {
                PrizeKind::Points => (1..=1_000_000).contains(&p.points),
                PrizeKind::Coupon => p.min_cents > 0 && p.min_cents == p.max_cents,
                PrizeKind::Cash => {
                    p.min_cents > 0 && p.min_cents <= p.max_cents && p.max_cents <= MAX_CASH_CENTS
                }
            };
            if !value_ok {
                return Err(MarketingError::PrizeValue(n));
            }
            if p.min_value_cents() > budget {
                return Err(MarketingError::PrizeOverBudget(n));
            }
            if p.odds_bp == 0 || p.odds_bp > ALL_ODDS {
                return Err(MarketingError::Odds);
            }
            if p.stock.is_some_and(|s| s < 1) {
                return Err(MarketingError::Stock(n));
            }
            odds += p.odds_bp;
        }
        if odds > ALL_ODDS {
            return Err(MarketingError::Odds);
        }
        Ok(())
    }
}

/// A one-time sign-in code's rules: six digits, good for ten minutes and five tries; a phone is
/// sent at most one code a minute and five an hour.
pub mod sign_in {
    use chrono::{Duration, NaiveDateTime};

    pub const DIGITS: usize = 6;
    pub const VALID_FOR: Duration = Duration::minutes(10);
    pub const MAX_ATTEMPTS: i32 = 5;
    pub const RESEND_AFTER: Duration = Duration::seconds(60);
    pub const PER_HOUR: usize = 5;

    /// Whether another code may be sent to a phone that was sent codes at `sent` (any order);
    /// `Err` holds the seconds to wait.
    pub fn may_send(sent: &[NaiveDateTime], now: NaiveDateTime) -> Result<(), i64> {
        let hour_ago = now - Duration::hours(1);
        let recent: Vec<_> = sent.iter().filter(|t| **t > hour_ago).collect();
        if let Some(last) = recent.iter().max()
            && now - **last < RESEND_AFTER
        {
            return Err((RESEND_AFTER - (now - **last)).num_seconds().max(1));
        }
        if recent.len() >= PER_HOUR {
            let oldest = recent.iter().min().map_or(now, |t| **t);
            return Err((oldest + Duration::hours(1) - now).num_seconds().max(1));
        }
        Ok(())
    }

    /// Whether a code is shaped like one (before it is looked up).
    pub fn well_formed(code: &str) -> bool {
        code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
    }
}

/// Refusals of scan marketing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarketingError {
    #[error("a campaign needs a name of at most 60 characters")]
    Name,
    #[error("the campaign must end after it starts")]
    Window,
    #[error("the budget is a positive amount in yuan with at most two decimals")]
    Budget,
    #[error("the daily limit per consumer is a whole number from 1 to 1000")]
    DailyLimit,
    #[error("{0} is not a GB/T 2260 region code")]
    Region(String),
    #[error("{0} is not the SKU of any product")]
    Sku(String),
    #[error("a lottery has 1 to 8 prizes; any other campaign has exactly one, won by every scan")]
    Prizes,
    #[error("prize {0} needs a name of at most 40 characters")]
    PrizeName(usize),
    #[error(
        "prize {0}: points are 1 to 1,000,000; a coupon has a face value; cash is ¥0.01 to ¥200.00, the lowest first"
    )]
    PrizeValue(usize),
    #[error("prize {0} is worth more than the whole budget")]
    PrizeOverBudget(usize),
    #[error("the odds of all prizes add up to at most 100%")]
    Odds,
    #[error("prize {0}: the stock is a whole number of at least 1, or empty for no limit")]
    Stock(usize),
    #[error("a campaign that is {from:?} cannot {action:?}")]
    Transition {
        action: CampaignAction,
        from: CampaignState,
    },
    #[error("this reward was claimed already")]
    Claimed,
    #[error("the daily limit of rewards from this campaign is reached; claim it tomorrow")]
    DailyLimitReached,
    #[error("that sign-in code is wrong or expired; ask for a new one")]
    WrongCode,
    #[error("a code was sent a moment ago; wait {0} s before asking for another")]
    CodeWait(i64),
    #[error("this payout batch is paid already")]
    PayoutPaid,
    #[error("no cash is owed to anyone: there is nothing to pay out")]
    NothingToPay,
    #[error("the bank's reference is 1 to 64 characters")]
    PayoutReference,
}

impl Refusal for MarketingError {
    fn code(&self) -> &'static str {
        match self {
            MarketingError::Name => "campaign_name",
            MarketingError::Window => "campaign_window",
            MarketingError::Budget => "campaign_budget",
            MarketingError::DailyLimit => "campaign_daily_limit",
            MarketingError::Region(_) => "campaign_region",
            MarketingError::Sku(_) => "campaign_sku",
            MarketingError::Prizes => "campaign_prizes",
            MarketingError::PrizeName(_) => "prize_name",
            MarketingError::PrizeValue(_) => "prize_value",
            MarketingError::PrizeOverBudget(_) => "prize_over_budget",
            MarketingError::Odds => "prize_odds",
            MarketingError::Stock(_) => "prize_stock",
            MarketingError::Transition { .. } => "campaign_transition",
            MarketingError::Claimed => "reward_claimed",
            MarketingError::DailyLimitReached => "reward_daily_limit",
            MarketingError::WrongCode => "sign_in_code_wrong",
            MarketingError::CodeWait(_) => "sign_in_code_wait",
            MarketingError::PayoutPaid => "payout_paid",
            MarketingError::NothingToPay => "payout_empty",
            MarketingError::PayoutReference => "payout_reference",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .expect("a valid time")
    }

    fn cash(min: i64, max: i64) -> Prize {
        Prize {
            name: "红包".into(),
            kind: PrizeKind::Cash,
            points: 0,
            min_cents: min,
            max_cents: max,
            odds_bp: ALL_ODDS,
            stock: None,
        }
    }

    fn draft() -> CampaignDraft {
        CampaignDraft {
            name: "双十二扫码有礼".into(),
            scope: Scope::default(),
            starts_at: at(0),
            ends_at: at(20),
            budget: Decimal::new(10_000, 2),
            daily_limit: 3,
            lottery: false,
            prizes: vec![cash(100, 300)],
        }
    }

    #[test]
    fn a_lease_takes_a_block_an_eighth_at_most_and_at_least_what_the_draw_needs() {
        // Plenty left: a block of draws.
        assert_eq!(lease_size(1_000_000, 250, 64 * 250), 16_000);
        // Less left: an eighth of it, so other instances keep a share.
        assert_eq!(lease_size(80_000, 250, 64 * 250), 10_000);
        // An eighth is less than the draw in hand needs: what it needs.
        assert_eq!(lease_size(1_000, 250, 64 * 250), 250);
        // Less left than it needs: all of it (a random amount may be cut to it).
        assert_eq!(lease_size(120, 250, 64 * 250), 120);
        assert_eq!(lease_size(0, 250, 64 * 250), 0);
        assert_eq!(lease_size(-5, 1, 64), 0);
        // Units of stock the same way.
        assert_eq!(lease_size(30, 1, LEASE_DRAWS), 3);
        assert_eq!(lease_size(3, 1, LEASE_DRAWS), 1);
    }

    #[test]
    fn stored_names_are_pinned() {
        crate::pin_stored_names(
            &[
                (CampaignState::Draft, "draft"),
                (CampaignState::Running, "running"),
                (CampaignState::Paused, "paused"),
                (CampaignState::Ended, "ended"),
            ],
            CampaignState::as_str,
            CampaignState::parse,
        );
        crate::pin_stored_names(
            &[
                (PrizeKind::Points, "points"),
                (PrizeKind::Coupon, "coupon"),
                (PrizeKind::Cash, "cash"),
            ],
            PrizeKind::as_str,
            PrizeKind::parse,
        );
    }

    #[test]
    fn transitions() {
        use CampaignAction::*;
        use CampaignState::*;
        assert_eq!(Start.apply(Draft), Ok(Running));
        assert_eq!(Pause.apply(Running), Ok(Paused));
        assert_eq!(Start.apply(Paused), Ok(Running));
        assert_eq!(End.apply(Paused), Ok(Ended));
        assert!(Start.apply(Ended).is_err());
        assert!(Pause.apply(Draft).is_err());
        assert!(End.apply(Ended).is_err());
    }

    #[test]
    fn draws_follow_the_published_odds_and_sold_out_prizes_win_nothing() {
        let prizes = [(100, true), (900, false), (1000, true)];
        assert_eq!(draw(&prizes, 0), Some(0));
        assert_eq!(draw(&prizes, 99), Some(0));
        assert_eq!(draw(&prizes, 100), None, "sold out keeps its share");
        assert_eq!(draw(&prizes, 999), None);
        assert_eq!(draw(&prizes, 1000), Some(2));
        assert_eq!(draw(&prizes, 1999), Some(2));
        assert_eq!(
            draw(&prizes, 2000),
            None,
            "the rest of the odds win nothing"
        );
        // Over many rolls, each prize wins its share exactly.
        let wins = (0..ALL_ODDS)
            .filter(|r| draw(&prizes, *r) == Some(2))
            .count();
        assert_eq!(wins, 1000);
    }

    #[test]
    fn cash_is_fixed_or_in_its_range_and_a_budget_ends_on_its_last_cent() {
        let fixed = cash(188, 188);
        assert_eq!(fixed.value_cents(12345), 188);
        assert_eq!(
            fixed.fit(188, 187),
            None,
            "a fixed amount is whole or nothing"
        );
        let range = cash(100, 300);
        for roll in 0..1000 {
            assert!((100..=300).contains(&range.value_cents(roll)));
        }
        assert_eq!(range.fit(250, 1000), Some(250));
        assert_eq!(range.fit(250, 120), Some(120), "cut to what is left");
        assert_eq!(range.fit(250, 99), None, "below the minimum: nothing");
        let points = Prize {
            kind: PrizeKind::Points,
            points: 50,
            ..cash(0, 0)
        };
        assert_eq!(points.value_cents(7), 50, "a point is a cent");
    }

    #[test]
    fn regions_contain_by_level() {
        assert!(region_contains("440000", "440305"));
        assert!(region_contains("440300", "440305"));
        assert!(region_contains("440305", "440305"));
        assert!(!region_contains("440300", "440106"));
        assert!(!region_contains("110000", "440305"));
        assert_eq!(province_of("440305").as_deref(), Some("440000"));
        assert_eq!(province_of("44030"), None);
        let scope = Scope {
            regions: vec!["440300".into()],
            ..Scope::default()
        };
        assert!(scope.covers_region(Some("440305")));
        assert!(!scope.covers_region(None), "an unknown place is outside");
        assert!(Scope::default().covers_region(None));
    }

    #[test]
    fn eligibility() {
        let terms = Terms {
            state: CampaignState::Running,
            starts_at: at(1),
            ends_at: at(10),
            scope: Scope {
                skus: vec!["TEA-1".into()],
                ..Scope::default()
            },
        };
        let scan = ScanFacts {
            first: true,
            frozen: false,
            bot: false,
            sku: "TEA-1",
            batch: "B1",
            region: None,
            at: at(5),
        };
        assert_eq!(eligible(&terms, &scan), Ok(()));
        let no = |s: ScanFacts<'_>| eligible(&terms, &s).expect_err("ineligible");
        assert_eq!(
            no(ScanFacts {
                first: false,
                ..scan
            }),
            Ineligible::NotFirst
        );
        assert_eq!(
            no(ScanFacts {
                frozen: true,
                ..scan
            }),
            Ineligible::Frozen
        );
        assert_eq!(no(ScanFacts { bot: true, ..scan }), Ineligible::Bot);
        assert_eq!(
            no(ScanFacts { at: at(10), ..scan }),
            Ineligible::OutsideWindow
        );
        assert_eq!(
            no(ScanFacts {
                sku: "WINE",
                ..scan
            }),
            Ineligible::OtherProduct
        );
        let paused = Terms {
            state: CampaignState::Paused,
            ..terms.clone()
        };
        assert_eq!(eligible(&paused, &scan), Err(Ineligible::NotRunning));
    }

    #[test]
    fn drafts_are_checked_field_by_field() {
        assert_eq!(draft().check(), Ok(()));
        assert_eq!(draft().budget_cents(), Some(10_000));
        let bad = |f: fn(&mut CampaignDraft)| {
            let mut d = draft();
            f(&mut d);
            d.check().expect_err("refused").code()
        };
        assert_eq!(bad(|d| d.name = " ".into()), "campaign_name");
        assert_eq!(bad(|d| d.ends_at = d.starts_at), "campaign_window");
        assert_eq!(bad(|d| d.budget = Decimal::new(1001, 3)), "campaign_budget");
        assert_eq!(bad(|d| d.daily_limit = 0), "campaign_daily_limit");
        assert_eq!(
            bad(|d| d.scope.regions = vec!["44".into()]),
            "campaign_region"
        );
        assert_eq!(bad(|d| d.prizes[0].odds_bp = 5000), "campaign_prizes");
        assert_eq!(bad(|d| d.prizes[0].max_cents = 50_000), "prize_value");
        assert_eq!(bad(|d| d.budget = Decimal::new(50, 2)), "prize_over_budget");
        assert_eq!(
            bad(|d| {
                d.lottery = true;
                d.prizes[0].odds_bp = 6000;
                d.prizes.push(Prize {
                    odds_bp: 6000,
                    ..d.prizes[0].clone()
                });
            }),
            "prize_odds"
        );
        assert_eq!(
            bad(|d| {
                d.lottery = true;
                d.prizes[0].stock = Some(0);
            }),
            "prize_stock"
        );
    }

    #[test]
    fn codes_are_sent_at_most_once_a_minute_and_five_times_an_hour() {
        use chrono::Duration;
        let now = at(12);
        assert_eq!(sign_in::may_send(&[], now), Ok(()));
        assert_eq!(
            sign_in::may_send(&[now - Duration::seconds(20)], now),
            Err(40)
        );
        let five: Vec<_> = (1..=5).map(|m| now - Duration::minutes(m * 10)).collect();
        assert_eq!(sign_in::may_send(&five, now), Err(600));
        assert_eq!(sign_in::may_send(&five[..4], now), Ok(()));
        assert!(sign_in::well_formed("012345"));
        assert!(!sign_in::well_formed("01234a"));
    }

    #[test]
    fn china_days_start_at_16_utc() {
        assert_eq!(
            china_day(at(15)),
            NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date")
        );
        assert_eq!(
            china_day(at(16)),
            NaiveDate::from_ymd_opt(2026, 12, 2).expect("a date")
        );
    }
}
