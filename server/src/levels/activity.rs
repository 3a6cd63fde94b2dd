//! Activity the network's orders do not hold, recorded by HQ for the level metrics: a customer
//! bound to an agent (绑定客户), a wallet recharge (充值), a level price paid (直接支付升级).

use chrono::NaiveDateTime;
use rust_decimal::Decimal;

use crate::domain::Role;
use crate::domain::levels::ActivityKind;
use crate::error::{Error, Result};
use crate::network::{Actor, policy as tier_policy};
use crate::store::DbConnection;
use crate::store::levels::changes::{self, ActivityRow};
use crate::store::network::agents as agents_store;
use crate::store::network::cents;
use crate::store::users::now;

/// What HQ records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewActivity {
    pub agent_id: i64,
    /// `customer_bound`, `recharge` or `level_payment`.
    pub kind: String,
    /// Yuan; required (> 0) for a recharge or a level payment, absent for a bound customer.
    pub amount: Option<Decimal>,
    /// The tier key a level payment is for.
    pub level_key: Option<String>,
    /// When it happened (default now; never in the future).
    pub at: Option<NaiveDateTime>,
    pub note: Option<String>,
}

pub fn record(conn: &mut DbConnection, input: NewActivity, actor: Actor) -> Result<ActivityRow> {
    actor.require_hq(&[Role::HqAdmin, Role::HqFinance], "record level activity")?;
    if agents_store::find(conn, input.agent_id)?.is_none() {
        return Err(Error::BadRequest(format!(
            "agent_id {}: there is no such agent",
            input.agent_id
        )));
    }
    let at = input.at.unwrap_or_else(now);
    if at > now() {
        return Err(Error::BadRequest(format!(
            "at {at}: activity cannot be in the future"
        )));
    }
    let Some(kind) = ActivityKind::parse(&input.kind) else {
        return Err(Error::BadRequest(format!(
            "kind {:?}: use customer_bound, recharge or level_payment",
            input.kind
        )));
    };
    let amount_cents = match (kind, input.amount) {
        (ActivityKind::CustomerBound, None) => 0,
        (ActivityKind::CustomerBound, Some(_)) => {
            return Err(Error::BadRequest(
                "amount: a bound customer carries no amount".into(),
            ));
        }
        (ActivityKind::Recharge | ActivityKind::LevelPayment, Some(a)) if a > Decimal::ZERO => {
            cents(a).map_err(|e| Error::BadRequest(format!("amount: {e}")))?
        }
        (ActivityKind::Recharge | ActivityKind::LevelPayment, _) => {
            return Err(Error::BadRequest(format!(
                "amount: a {} needs an amount > 0",
                kind.as_str()
            )));
        }
    };
    let level_key = match (kind, input.level_key) {
        (ActivityKind::LevelPayment, Some(key)) => {
            let (_, tiers) = tier_policy::active(conn)?;
            if tiers.tier_by_key(&key).is_none() {
                return Err(Error::BadRequest(format!(
                    "level_key {key:?}: no tier has this key"
                )));
            }
            Some(key)
        }
        (ActivityKind::LevelPayment, None) => {
            return Err(Error::BadRequest(
                "level_key: a level payment names its tier".into(),
            ));
        }
        (_, Some(_)) => {
            return Err(Error::BadRequest(
                "level_key: only a level payment names a tier".into(),
            ));
        }
        (_, None) => None,
    };
    if input.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(Error::BadRequest("note: at most 500 characters".into()));
    }
    Ok(changes::insert_activity(
        conn,
        &ActivityRow {
            id: 0,
            agent_id: input.agent_id,
            kind,
            amount_cents,
            level_key,
            note: input.note,
            at,
            recorded_by: actor.user(),
        },
    )?)
}
