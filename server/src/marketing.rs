//! Scan marketing (扫码营销, issue 21) on the verification path: which running campaign a genuine
//! first verification may draw from, the draw's chance paid from this instance's lease, and the
//! consumer's claim.
//!
//! The running campaigns are kept in memory for [`REFRESH`], so a verification with no campaign
//! to draw from costs no query at all. A stale copy cannot reward a paused campaign: the draw
//! reads the campaign's state in its own transaction; the copy only decides whether to try.
//!
//! What a draw wins is paid from a lease ([`Purses`]): this instance takes a block of the
//! campaign's budget and of a prize's stock by one conditional update, and spends it in memory,
//! so draws on many instances touch no common row. Measured with `verify_http --campaign`
//! (BENCHMARKS.md): a draw that spent the budget and the stock row by row, with its posting and
//! counters, ran at 0.26 (SQLite) and 0.09 (PostgreSQL) of a verification without a campaign.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use rand::{Rng, RngCore, rngs::OsRng};

use crate::domain::marketing::{self, ScanFacts};
use crate::error::Result;
use crate::store::Db;
use crate::store::marketing::{self as store, Offer, Paid, Rolls};

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

/// Whether a verification could draw from `offer` whatever its product turns out to be: what is
/// known before the code is read (the place, a bot, the time). Such a verification takes a
/// [`Ticket`] before its transaction.
pub fn may_draw(offer: &Offer, region: Option<&str>, bot: bool, at: NaiveDateTime) -> bool {
    let facts = ScanFacts {
        first: true,
        frozen: false,
        bot,
        sku: "",
        batch: "",
        region,
        at,
    };
    match marketing::eligible(&offer.terms, &facts) {
        Ok(()) => true,
        // Checked before the place: the product is not known yet.
        Err(marketing::Ineligible::OtherProduct) => offer.terms.scope.covers_region(region),
        Err(_) => false,
    }
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

/// How long the database is not asked again for a budget or a prize it had none left of.
pub const DRY_FOR: Duration = Duration::from_secs(1);
/// A lease no draw used for this long is given back, so the other instances can spend it.
pub const IDLE: Duration = Duration::from_secs(30);
/// Leases are marked alive this often (or a quarter of the stale time, when that is shorter);
/// one not marked for the stale time (`Settings::marketing_lease_stale_secs`, [`STALE`] by
/// default) belonged to a process that stopped without giving it back, and any instance ends it
/// (to the cent, from its rewards).
pub const RENEW: Duration = Duration::from_secs(15);
pub const STALE: Duration = Duration::from_secs(600);

/// This instance's leases of campaigns' budgets and prizes' stock, spent in memory.
///
/// A draw first takes a [`Ticket`]: the prize its roll wins, with that prize's value and a unit
/// of its stock set aside from the lease (topped up from the database when short). The ticket
/// goes into the verification's transaction; if the code draws, the reward row records the
/// lease, otherwise the ticket's share goes back into the purse. A lease ends (idle, the
/// campaign paused or ended, shutdown) only when no ticket of it is out, and gives back exactly
/// what its rewards did not use, read from the database — so a verification that failed after
/// taking its ticket loses nothing either.
pub struct Purses {
    holder: String,
    purses: Mutex<HashMap<i64, Purse>>,
    /// One top-up or ending at a time per campaign on this instance.
    gates: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

#[derive(Debug)]
struct Purse {
    lease_id: Option<i64>,
    cents: i64,
    units: HashMap<i64, i64>,
    /// Until when the database is known to have no more budget.
    budget_dry: Option<Instant>,
    /// Until when the database is known to have no more of a prize.
    stock_dry: HashMap<i64, Instant>,
    /// Tickets taken and not yet done.
    out: u32,
    used_at: Instant,
}

impl Default for Purse {
    fn default() -> Self {
        Purse {
            lease_id: None,
            cents: 0,
            units: HashMap::new(),
            budget_dry: None,
            stock_dry: HashMap::new(),
            out: 0,
            used_at: Instant::now(),
        }
    }
}

/// What a draw will win, set aside before its transaction (see [`Purses`]).
#[derive(Debug)]
pub struct Ticket {
    campaign: i64,
    /// `None`: the draw wins nothing (a lottery's blank, sold out, the budget spent).
    pub paid: Option<Paid>,
    /// The prize's id when a unit of its stock was set aside.
    unit: Option<i64>,
}

/// What the purse could not give a draw, and so asks of the database.
enum Short {
    /// The purse pays it.
    Paid(Ticket),
    /// Not in the purse, and the database said a moment ago it has none: the draw wins nothing.
    Dry,
    /// Ask the database.
    TopUp,
}

impl Default for Purses {
    fn default() -> Self {
        Purses::new(crate::supervise::instance_name())
    }
}

impl Purses {
    /// Purses for one holder (a server instance; unique per process).
    pub fn new(instance: String) -> Purses {
        let mut tag = [0u8; 4];
        OsRng.fill_bytes(&mut tag);
        Purses {
            holder: format!("{instance}:{}", data_encoding::HEXLOWER.encode(&tag)),
            purses: Mutex::default(),
            gates: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Purse>> {
        // A panic while holding the lock cannot leave a purse half-updated (each change is a
        // few assignments): use it.
        self.purses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn gate(&self, campaign: i64) -> Arc<tokio::sync::Mutex<()>> {
        self.gates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(campaign)
            .or_default()
            .clone()
    }

    /// The ticket of a draw from `offer` with these rolls.
    pub async fn ticket(&self, db: &Db, offer: &Offer, rolls: &Rolls) -> Result<Ticket> {
        let blank = Ticket {
            campaign: offer.id,
            paid: None,
            unit: None,
        };
        let odds: Vec<(u32, bool)> = offer
            .prizes
            .iter()
            .map(|(_, p)| (p.odds_bp, true))
            .collect();
        let Some(index) = marketing::draw(&odds, rolls.prize) else {
            return Ok(blank);
        };
        let (prize_id, prize) = &offer.prizes[index];
        let value = prize.value_cents(rolls.cash);
        match self.take(offer.id, index, *prize_id, prize, value, false) {
            Short::Paid(t) => return Ok(t),
            Short::Dry => return Ok(blank),
            Short::TopUp => {}
        }
        let gate = self.gate(offer.id);
        let _one = gate.lock().await;
        // Another draw may have topped the purse up while this one waited.
        match self.take(offer.id, index, *prize_id, prize, value, false) {
            Short::Paid(t) => return Ok(t),
            Short::Dry => return Ok(blank),
            Short::TopUp => {}
        }
        let (cents_have, units_have) = {
            let purses = self.lock();
            let p = purses.get(&offer.id);
            (
                p.map_or(0, |p| p.cents),
                p.and_then(|p| p.units.get(prize_id).copied()).unwrap_or(0),
            )
        };
        let dearest = offer
            .prizes
            .iter()
            .map(|(_, p)| p.value_cents(0).max(p.max_cents))
            .max()
            .unwrap_or(value);
        let floor = if prize.kind == marketing::PrizeKind::Cash && prize.min_cents < prize.max_cents
        {
            prize.min_cents
        } else {
            value
        };
        let want = store::Want {
            campaign: offer.id,
            holder: self.holder.clone(),
            at: crate::store::users::now(),
            cents_min: (floor - cents_have).max(0),
            cents_need: (value - cents_have).max(0),
            cents_block: dearest.saturating_mul(marketing::LEASE_DRAWS),
            units: (prize.stock.is_some() && units_have < 1)
                .then_some((*prize_id, marketing::LEASE_DRAWS)),
        };
        let grant = db.write(move |c| Ok(store::take_lease(c, &want)?)).await?;
        metrics::counter!("chainmark_marketing_lease_takes_total").increment(1);
        let crumbs = {
            let mut purses = self.lock();
            let p = purses.entry(offer.id).or_default();
            p.lease_id = Some(grant.lease_id);
            p.cents += grant.cents;
            *p.units.entry(*prize_id).or_default() += grant.units;
            let now = Instant::now();
            if want_short(grant.cents, cents_have, floor, value) {
                p.budget_dry = Some(now + DRY_FOR);
            }
            if prize.stock.is_some() && units_have + grant.units < 1 {
                p.stock_dry.insert(*prize_id, now + DRY_FOR);
            }
            // Too little for this draw and the database has no more: give the crumbs back, so
            // the instance whose draw they complete can take them.
            (prize.fit(value, p.cents).is_none() && p.out == 0 && p.cents > 0)
                .then(|| std::mem::take(&mut p.cents))
        };
        if let Some(crumbs) = crumbs {
            let (lease, campaign) = (grant.lease_id, offer.id);
            db.write(move |c| Ok(store::give_back(c, lease, campaign, crumbs)?))
                .await?;
        }
        Ok(
            match self.take(offer.id, index, *prize_id, prize, value, true) {
                Short::Paid(t) => t,
                Short::Dry | Short::TopUp => blank,
            },
        )
    }

    /// Sets the draw's share aside from the purse, if it holds it. `last`: after a top-up, a
    /// random cash amount may be cut to what the purse holds (the budget's last cents).
    fn take(
        &self,
        campaign: i64,
        index: usize,
        prize_id: i64,
        prize: &marketing::Prize,
        value: i64,
        last: bool,
    ) -> Short {
        let mut purses = self.lock();
        let p = purses.entry(campaign).or_default();
        let now = Instant::now();
        let Some(lease_id) = p.lease_id else {
            return Short::TopUp;
        };
        let unit_ok = prize.stock.is_none() || p.units.get(&prize_id).is_some_and(|n| *n > 0);
        let cost = if last || p.budget_dry.is_some_and(|t| t > now) {
            prize.fit(value, p.cents)
        } else {
            (p.cents >= value).then_some(value)
        };
        match cost {
            Some(cents) if unit_ok => {
                p.cents -= cents;
                if prize.stock.is_some()
                    && let Some(n) = p.units.get_mut(&prize_id)
                {
                    *n -= 1;
                }
                p.out += 1;
                p.used_at = now;
                Short::Paid(Ticket {
                    campaign,
                    paid: Some(Paid {
                        lease_id,
                        index,
                        cents,
                    }),
                    unit: prize.stock.is_some().then_some(prize_id),
                })
            }
            _ if last => Short::Dry,
            _ => {
                let budget_dry = cost.is_none() && p.budget_dry.is_some_and(|t| t > now);
                let stock_dry = !unit_ok && p.stock_dry.get(&prize_id).is_some_and(|t| *t > now);
                if budget_dry || stock_dry {
                    Short::Dry
                } else {
                    Short::TopUp
                }
            }
        }
    }

    /// The draw is over: `used` when its reward row was written (its share is spent), otherwise
    /// the share goes back into the purse. A verification that failed says `used`: what it set
    /// aside stays out of the purse until the lease ends and is counted from the database.
    pub fn done(&self, ticket: Ticket, used: bool) {
        let Some(paid) = ticket.paid else {
            return;
        };
        let mut purses = self.lock();
        let Some(p) = purses.get_mut(&ticket.campaign) else {
            return;
        };
        p.out = p.out.saturating_sub(1);
        if !used && p.lease_id == Some(paid.lease_id) {
            p.cents += paid.cents;
            if let Some(prize) = ticket.unit {
                *p.units.entry(prize).or_default() += 1;
            }
        }
    }

    /// Ends this instance's leases no draw is using: those of campaigns no longer running
    /// (`running`), those idle for [`IDLE`], or all of them (`all`, at shutdown).
    pub async fn end_idle(&self, db: &Db, running: &[i64], all: bool) -> Result<usize> {
        let campaigns: Vec<i64> = self.lock().keys().copied().collect();
        let mut ended = 0;
        for campaign in campaigns {
            let gate = self.gate(campaign);
            let _one = gate.lock().await;
            let lease = {
                let mut purses = self.lock();
                let idle = purses.get(&campaign).is_some_and(|p| {
                    p.out == 0
                        && (all || !running.contains(&campaign) || p.used_at.elapsed() >= IDLE)
                });
                if idle {
                    purses.remove(&campaign).and_then(|p| p.lease_id)
                } else {
                    None
                }
            };
            if let Some(lease) = lease {
                db.write(move |c| Ok(store::end_lease(c, lease, None)?))
                    .await?;
                ended += 1;
            }
        }
        Ok(ended)
    }

    /// Marks this instance's leases alive, and ends those not renewed for `stale`: their
    /// instances stopped without giving them back. Returns how many it ended.
    pub async fn renew(&self, db: &Db, stale: Duration) -> Result<usize> {
        let holder = self.holder.clone();
        let now = crate::store::users::now();
        let stale = now
            - chrono::Duration::from_std(stale)
                .map_err(|e| crate::error::Error::Internal(e.to_string()))?;
        // Read first: an instance holding no lease, with none left behind, writes nothing.
        let left = db.run(move |c| Ok(store::stale_leases(c, stale)?)).await?;
        if left.is_empty() && self.lock().values().all(|p| p.lease_id.is_none()) {
            return Ok(0);
        }
        db.write(move |c| {
            store::renew_leases(c, &holder, now)?;
            let mut ended = 0;
            for lease in store::stale_leases(c, stale)? {
                if store::end_lease(c, lease, Some(stale))? {
                    tracing::warn!(lease, "marketing: ended a lease its server left behind");
                    ended += 1;
                }
            }
            Ok(ended)
        })
        .await
    }
}

/// Whether a grant left the purse short of the draw's floor: the database has no more budget.
fn want_short(granted: i64, had: i64, floor: i64, value: i64) -> bool {
    had + granted < floor.min(value)
}

/// Books the rewards drawn and not yet settled (their postings, the dashboard's counters), in
/// groups; returns how many.
pub async fn settle(db: &Db) -> Result<usize> {
    // Read first: with nothing drawn since the last round (no campaign running, most of the
    // time), the writer is not asked every second.
    if !db.run(|c| Ok(store::any_unsettled(c)?)).await? {
        return Ok(0);
    }
    let mut total = 0;
    loop {
        let n = db.write(|c| Ok(store::settle(c, SETTLE_BATCH)?)).await?;
        metrics::counter!("chainmark_marketing_settled_total").increment(n as u64);
        total += n;
        if n < SETTLE_BATCH as usize {
            return Ok(total);
        }
    }
}

/// Rewards settled per transaction.
pub const SETTLE_BATCH: i64 = 500;

/// Ends this instance's leases and settles every reward drawn: at shutdown, and in tests before
/// they count money.
pub async fn quiesce(app: &crate::app::App) -> Result<()> {
    app.purses.end_idle(&app.db, &[], true).await?;
    settle(&app.db).await?;
    Ok(())
}

/// The background part of scan marketing on each instance: settles rewards every second, ends
/// idle leases and renews the rest every [`RENEW`].
pub fn spawn(state: crate::app::AppState) {
    let parts = state.parts.clone();
    parts.spawn("marketing", async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut renewed = Instant::now();
        let stale = Duration::from_secs(state.settings.marketing_lease_stale_secs);
        let every = RENEW.min(stale / 4);
        loop {
            tick.tick().await;
            let round = crate::supervise::catch_panic(async {
                settle(&state.db).await?;
                if renewed.elapsed() >= every {
                    renewed = Instant::now();
                    let running: Vec<i64> = state
                        .offers
                        .current(&state.db)
                        .await?
                        .iter()
                        .map(|o| o.id)
                        .collect();
                    state.purses.end_idle(&state.db, &running, false).await?;
                    state.purses.renew(&state.db, stale).await?;
                }
                Ok::<_, crate::error::Error>(())
            });
            match round.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "marketing: settling or leases failed"),
                Err(panic) => tracing::error!(%panic, "marketing: panicked; trying next second"),
            }
        }
    });
}
