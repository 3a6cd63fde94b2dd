//! HQ's campaign desk (扫码营销, issue 21): campaigns made, started, paused and ended; their
//! dashboards; and the cash owed to consumers paid out in batches. Shared by the API
//! (`api/campaigns.rs`) and the pages (`web/hq_marketing*.rs`): each use case asks the caller's
//! permission itself and writes its audit entry in the transaction of the change.

use chrono::{Duration, NaiveDateTime};
use rust_decimal::Decimal;
use serde_json::json;

use crate::diversion::regions;
use crate::domain::Permission;
use crate::domain::marketing::{
    CampaignAction, CampaignDraft, CampaignState, MarketingError, Prize, PrizeKind,
};
use crate::error::{Error, Result};
use crate::network::Actor;
use crate::store::campaigns::{self, CampaignRow, Counts, DayCounts, PrizeRow, ProvinceCounts};
use crate::store::payouts::{self, BatchRow, Line};
use crate::store::users::now;
use crate::store::{DbConnection, audit};

/// China's offset from UTC: the desk shows and takes times in China, the store keeps UTC.
pub const CHINA: Duration = Duration::hours(8);

/// A time typed in China as stored (UTC).
pub fn from_china(local: NaiveDateTime) -> NaiveDateTime {
    local - CHINA
}

/// A stored (UTC) time as shown in China.
pub fn in_china(utc: NaiveDateTime) -> NaiveDateTime {
    utc + CHINA
}

/// Yuan with at most two decimals, at least 0.01, as cents; `None` otherwise.
pub fn yuan_to_cents(text: &str) -> Option<i64> {
    let d: Decimal = text.trim().trim_start_matches('¥').parse().ok()?;
    if d <= Decimal::ZERO || d.normalize().scale() > 2 {
        return None;
    }
    rust_decimal::prelude::ToPrimitive::to_i64(&(d * Decimal::ONE_HUNDRED))
}

/// Cents as yuan with two decimals ("12.50").
pub fn yuan(cents: i64) -> String {
    let mut d = Decimal::new(cents, 2);
    d.rescale(2);
    d.to_string()
}

/// Checks a draft beyond its own rules: every region must be in the GB/T 2260 book the server
/// ships, not only shaped like a code.
pub fn check_draft(draft: &CampaignDraft) -> std::result::Result<(), MarketingError> {
    draft.check()?;
    let book = regions();
    if !book.is_empty()
        && let Some(r) = draft.scope.regions.iter().find(|r| book.known(r).is_none())
    {
        return Err(MarketingError::Region(r.clone()));
    }
    Ok(())
}

/// HQ admin creates a campaign (a draft until started).
pub fn create(conn: &mut DbConnection, actor: Actor, draft: &CampaignDraft) -> Result<CampaignRow> {
    actor.require(Permission::ManageCampaigns, "create campaigns")?;
    check_draft(draft).map_err(|e| Error::refused(&e))?;
    // The page offers the products' SKUs only; an API client may send any text.
    for sku in &draft.scope.skus {
        if crate::store::products::find_by_sku(conn, sku)?.is_none() {
            return Err(Error::refused(&MarketingError::Sku(sku.clone())));
        }
    }
    let row = campaigns::create(conn, draft, actor.user(), now())?;
    audit::record(
        conn,
        actor.user(),
        "campaign_created",
        &format!("campaign:{}", row.id),
        &json!({
            "name": row.name,
            "budget_cents": row.budget_cents,
            "lottery": row.lottery,
            "prizes": draft.prizes.len(),
        }),
    )?;
    Ok(row)
}

/// HQ admin starts, pauses or ends a campaign.
pub fn act(
    conn: &mut DbConnection,
    actor: Actor,
    id: i64,
    action: CampaignAction,
) -> Result<CampaignState> {
    actor.require(Permission::ManageCampaigns, "start, pause or end campaigns")?;
    let to = campaigns::apply(conn, id, action, now())?;
    audit::record(
        conn,
        actor.user(),
        "campaign_state",
        &format!("campaign:{id}"),
        &json!({ "action": action.as_str(), "state": to.as_str() }),
    )?;
    Ok(to)
}

/// A campaign with its prizes and the dashboard's numbers.
pub struct CampaignView {
    pub campaign: CampaignRow,
    pub prizes: Vec<PrizeRow>,
    pub totals: Counts,
}

/// Campaign `id` for any HQ desk role.
pub fn get(conn: &mut DbConnection, actor: Actor, id: i64) -> Result<CampaignView> {
    actor.require(Permission::ReadCampaigns, "see campaigns")?;
    let (campaign, prizes) = campaigns::get(conn, id)?;
    let totals = campaigns::totals(conn, id)?;
    Ok(CampaignView {
        campaign,
        prizes,
        totals,
    })
}

/// The dashboard of campaign `id`: per day and per province.
pub fn dashboard(
    conn: &mut DbConnection,
    actor: Actor,
    id: i64,
) -> Result<(Vec<DayCounts>, Vec<ProvinceCounts>)> {
    actor.require(Permission::ReadCampaigns, "see campaigns")?;
    Ok((
        campaigns::by_day(conn, id)?,
        campaigns::by_province(conn, id)?,
    ))
}

/// HQ finance exports every cash reward owed as a payout batch.
pub fn export(conn: &mut DbConnection, actor: Actor) -> Result<BatchRow> {
    actor.require(Permission::PayRewards, "pay out rewards")?;
    let batch = payouts::export(conn, actor.user(), now())?;
    audit::record(
        conn,
        actor.user(),
        "payout_exported",
        &format!("payout:{}", batch.id),
        &json!({ "total_cents": batch.total_cents, "lines": batch.line_count }),
    )?;
    Ok(batch)
}

/// HQ finance marks a batch paid with the bank's reference; the ledger books it once.
pub fn mark_paid(
    conn: &mut DbConnection,
    actor: Actor,
    id: i64,
    reference: &str,
) -> Result<BatchRow> {
    actor.require(Permission::PayRewards, "pay out rewards")?;
    let batch = payouts::mark_paid(conn, id, reference, actor.user(), now())?;
    audit::record(
        conn,
        actor.user(),
        "payout_paid",
        &format!("payout:{id}"),
        &json!({ "reference": batch.reference, "total_cents": batch.total_cents }),
    )?;
    Ok(batch)
}

/// HQ finance downloads a batch's file for the bank: its number and the CSV. The file holds
/// consumers' phone numbers, so each download is audited.
pub fn payout_file(conn: &mut DbConnection, actor: Actor, id: i64) -> Result<(String, Vec<u8>)> {
    actor.require(Permission::PayRewards, "pay out rewards")?;
    let batch = payouts::get(conn, id)?;
    let lines = payouts::all_lines(conn, id)?;
    let file = csv(&batch, &lines)?;
    audit::record(
        conn,
        actor.user(),
        "payout_downloaded",
        &format!("payout:{id}"),
        &json!({ "lines": lines.len(), "total_cents": batch.total_cents }),
    )?;
    Ok((batch.number(), file))
}

/// A batch's lines as the bank's bulk transfer takes them: 序号, 收款手机号, 金额(元), 备注
/// (the batch number), 奖励数.
pub fn csv(batch: &BatchRow, lines: &[Line]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::Internal(format!("payout CSV: {e}"));
    w.write_record(["序号", "收款手机号", "金额(元)", "备注", "奖励数"])
        .map_err(fail)?;
    let number = batch.number();
    for (i, l) in lines.iter().enumerate() {
        w.write_record([
            (i + 1).to_string(),
            l.phone.clone(),
            yuan(l.cents),
            number.clone(),
            l.rewards.to_string(),
        ])
        .map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("payout CSV: {e}")))
}

/// One prize as the API and the form give it: a kind, its value in points or yuan, odds in
/// basis points, a stock.
#[derive(Debug, Clone, Default)]
pub struct PrizeInput {
    pub name: String,
    pub kind: Option<PrizeKind>,
    pub points: Option<i64>,
    /// Yuan: a coupon's face value, cash's fixed amount or lowest.
    pub min: Option<String>,
    /// Yuan: cash's highest (empty for a fixed amount).
    pub max: Option<String>,
    pub odds_bp: u32,
    pub stock: Option<i64>,
}

impl PrizeInput {
    /// The prize, or why its value cannot be read (prize `n`, 1-based).
    pub fn prize(&self, n: usize) -> std::result::Result<Prize, MarketingError> {
        let kind = self.kind.ok_or(MarketingError::PrizeValue(n))?;
        let amount = |s: &Option<String>| -> std::result::Result<Option<i64>, MarketingError> {
            match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(t) => yuan_to_cents(t)
                    .map(Some)
                    .ok_or(MarketingError::PrizeValue(n)),
            }
        };
        let (points, min, max) = match kind {
            PrizeKind::Points => (self.points.ok_or(MarketingError::PrizeValue(n))?, 0, 0),
            PrizeKind::Coupon | PrizeKind::Cash => {
                let min = amount(&self.min)?.ok_or(MarketingError::PrizeValue(n))?;
                let max = if kind == PrizeKind::Cash {
                    amount(&self.max)?.unwrap_or(min)
                } else {
                    min
                };
                (0, min, max)
            }
        };
        Ok(Prize {
            name: self.name.trim().to_string(),
            kind,
            points,
            min_cents: min,
            max_cents: max,
            odds_bp: self.odds_bp,
            stock: self.stock,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_round_trips_and_refuses_what_is_not_money() {
        assert_eq!(yuan_to_cents("12.5"), Some(1250));
        assert_eq!(yuan_to_cents(" ¥0.01 "), Some(1));
        assert_eq!(yuan_to_cents("1.001"), None);
        assert_eq!(yuan_to_cents("0"), None);
        assert_eq!(yuan_to_cents("-1"), None);
        assert_eq!(yuan_to_cents("abc"), None);
        assert_eq!(yuan(1250), "12.50");
        assert_eq!(yuan(0), "0.00");
    }

    #[test]
    fn prizes_read_their_value_by_kind() {
        let cash = PrizeInput {
            name: "红包".into(),
            kind: Some(PrizeKind::Cash),
            min: Some("1.00".into()),
            max: Some("5".into()),
            odds_bp: 10_000,
            ..PrizeInput::default()
        };
        let p = cash.prize(1).expect("cash");
        assert_eq!((p.min_cents, p.max_cents), (100, 500));
        let fixed = PrizeInput {
            max: None,
            ..cash.clone()
        };
        assert_eq!(fixed.prize(1).expect("fixed").max_cents, 100);
        let bad = PrizeInput {
            min: Some("x".into()),
            ..cash
        };
        assert_eq!(bad.prize(3), Err(MarketingError::PrizeValue(3)));
        let points = PrizeInput {
            kind: Some(PrizeKind::Points),
            points: None,
            ..PrizeInput::default()
        };
        assert_eq!(points.prize(2), Err(MarketingError::PrizeValue(2)));
    }
}
