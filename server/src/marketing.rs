//! Scan marketing (扫码营销, issue 21) on the verification path: which running campaign a genuine
//! first verification may draw from, the draw's chance, and the consumer's claim.
//!
//! The running campaigns are kept in memory for [`REFRESH`], so a verification with no campaign
//! to draw from costs no query at all. A stale copy cannot overspend or reward a paused
//! campaign: the draw's conditional update checks the state, the window and the budget in the
//! database; the copy only decides whether to try.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use rand::{Rng, RngCore, rngs::OsRng};

use crate::domain::marketing::{self, ScanFacts};
use crate::error::Result;
use crate::store::Db;
use crate::store::marketing::{self as store, Offer, Rolls};

/// How long a copy of the running campaigns is used before it is read again.
pub const REFRESH: Duration = Duration::from_secs(2);

/// The running campaigns, read at most every [`REFRESH`].
#[derive(Default)]
pub struct Offers {
    cached: Mutex<Option<(Instant, Arc<Vec<Offer>>)>>,
}

impl Offers {
    /// The running campaigns as of at most [`REFRESH`] ago.
    pub async fn current(&self, db: &Db) -> Result<Arc<Vec<Offer>>> {
        if let Some((at, offers)) = self.lock().as_ref()
            && at.elapsed() < REFRESH
        {
            return Ok(offers.clone());
        }
        let now = crate::store::users::now();
        let offers = Arc::new(db.run(move |c| Ok(store::offers(c, now)?)).await?);
        *self.lock() = Some((Instant::now(), offers.clone()));
        Ok(offers)
    }

    /// Forgets the copy, so a campaign HQ just started or paused on this instance counts at once.
    pub fn invalidate(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Arc<Vec<Offer>>)>> {
        // A panic while holding the lock left only a cache behind: use it.
        self.cached
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The first running campaign a verification could draw from if it turns out to be the code's
/// first: covers the product, the batch, the place and the time, and the client is no bot.
pub fn candidate<'a>(
    offers: &'a [Offer],
    sku: &str,
    batch: &str,
    region: Option<&str>,
    bot: bool,
    at: NaiveDateTime,
) -> Option<&'a Offer> {
    let facts = ScanFacts {
        first: true,
        frozen: false,
        bot,
        sku,
        batch,
        region,
        at,
    };
    offers
        .iter()
        .find(|o| marketing::eligible(&o.terms, &facts).is_ok())
}

/// The chance of one draw, and the claim token shown to the consumer (its hash is stored).
pub fn roll() -> (Rolls, String) {
    let mut rng = OsRng;
    let mut token = [0u8; 16];
    rng.fill_bytes(&mut token);
    let token = data_encoding::BASE32_NOPAD.encode(&token).to_lowercase();
    let coupon = format!(
        "CP{}",
        data_encoding::BASE32_NOPAD.encode(&rng.r#gen::<[u8; 5]>())
    );
    let rolls = Rolls {
        prize: rng.gen_range(0..marketing::ALL_ODDS),
        cash: rng.next_u64(),
        coupon_code: coupon,
        claim_hash: crate::auth::token::hash_token(&token),
    };
    (rolls, token)
}

/// The reward a claim token was shown for, if any.
pub async fn claimable(app: &crate::app::App, token: &str) -> Result<Option<store::Claimable>> {
    let hash = crate::auth::token::hash_token(token.trim());
    app.db.run(move |c| Ok(store::by_token(c, &hash)?)).await
}

/// Gives the reward of a claim token to a signed-in consumer: once, within the campaign's daily
/// limit (refusals `reward_claimed`, `reward_daily_limit`, `reward_nothing`).
pub async fn claim(
    app: &crate::app::App,
    token: &str,
    consumer: i64,
) -> Result<(store::Claimable, store::Claimed)> {
    let Some(reward) = claimable(app, token).await? else {
        return Err(crate::error::Error::NotFound { what: "reward" });
    };
    let id = reward.reward_id;
    let at = crate::store::users::now();
    let claimed = app
        .db
        .write(move |c| Ok(store::claim(c, id, consumer, at)?))
        .await?;
    if claimed == store::Claimed::New {
        metrics::counter!("chainmark_marketing_claims_total").increment(1);
    }
    Ok((reward, claimed))
}
