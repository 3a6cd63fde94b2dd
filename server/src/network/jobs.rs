//! The server's periodic background jobs: every few minutes, auto-receive and complete due orders
//! ([`settlement::tick`]); once a month has ended, its statements; once a day, the level
//! assessment of the days owed; with a courier adapter configured, the shipments' tracks
//! ([`tracking::fetch_round`]).
//!
//! Each job runs once per due time across every server instance on the database: the job claims
//! its due time (a settlement slot of [`PERIOD`], the month before, the day before) in the same
//! write as its work ([`job_runs::claim`]), and an instance that finds the claim made skips it.
//! The work itself is also safe to repeat (conditional state changes, unique posting keys, a
//! day decided once per agent), so the claim is what keeps two instances from doing the same work
//! at once, and a claim that rolls back with its failed work leaves the due time to the next try.

use std::time::Duration;

use chrono::NaiveDateTime;

use super::settlement::{self, Settled};
use super::statements::{self, Month};
use super::tracking;
use crate::app::AppState;
use crate::error::Result;
use crate::store::users::now;
use crate::store::{Db, DbConnection, job_runs};
use crate::supervise::catch_panic;

/// How often the jobs are looked at, and the length of a settlement slot.
pub const PERIOD: Duration = Duration::from_secs(300);

/// How long claims of settlement slots are kept.
const KEEP_SLOTS: chrono::Days = chrono::Days::new(7);

/// What one round did on this instance: `None` where the due time was already claimed.
#[derive(Debug, Default)]
pub struct Round {
    /// This slot's settlement.
    pub settled: Option<Settled>,
    /// The month before's statements (how many).
    pub statements: Option<usize>,
    /// The days owed of level assessment (how many were assessed).
    pub assessed: Option<usize>,
}

/// Starts the jobs on the runtime as a part of the server (`supervise`); a round that fails or
/// panics is logged and the next period tries again.
pub fn spawn(state: AppState) {
    let instance = crate::supervise::instance_name();
    let parts = state.parts.clone();
    let courier = state.settings.courier.courier();
    parts.spawn("network jobs", async move {
        let mut tick = tokio::time::interval(PERIOD);
        loop {
            tick.tick().await;
            let at = now();
            match catch_panic(run_once(&state.db, at, &instance)).await {
                Ok(Ok(round)) => tracing::debug!(?round, "network jobs"),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "network jobs failed; retrying next period");
                }
                Err(panic) => {
                    tracing::error!(%panic, "network jobs panicked; retrying next period");
                }
            }
            // The shipments' tracks (issue 20), when a courier adapter is configured.
            let Some(courier) = courier.clone() else {
                continue;
            };
            let slot = settlement_slot(at);
            match catch_panic(tracking::fetch_round(
                &state.db, courier, at, slot, &instance,
            ))
            .await
            {
                Ok(Ok(fetched)) => tracing::debug!(?fetched, "tracks fetched"),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "fetching tracks failed; retrying next period")
                }
                Err(panic) => {
                    tracing::error!(%panic, "fetching tracks panicked; retrying next period")
                }
            }
        }
    });
}

/// One round at `at` for `instance`: each job whose due time no instance has claimed yet.
pub async fn run_once(db: &Db, at: NaiveDateTime, instance: &str) -> Result<Round> {
    let settled = once(db, "settle", settlement_slot(at), instance, at, move |c| {
        job_runs::forget_before(c, "settle", at - KEEP_SLOTS)?;
        settlement::tick(c, at)
    })
    .await?;
    let previous = Month::of(at)?.previous()?;
    let statements = once(
        db,
        "statements",
        previous.name.clone(),
        instance,
        at,
        move |c| statements::generate(c, &previous),
    )
    .await?;
    // The level assessment (issue 6): the days owed up to yesterday, once a day.
    let yesterday = (at.date() - chrono::Days::new(1)).to_string();
    let assessed = once(db, "assess", yesterday, instance, at, |c| {
        crate::levels::assess::daily(c).map(|days| days.len())
    })
    .await
    .unwrap_or_else(|e| {
        tracing::warn!(error = %e, "level assessment failed; retrying next period");
        None
    });
    Ok(Round {
        settled,
        statements,
        assessed,
    })
}

/// Runs `work` if this call claims `job` for `due`, in the same write as the claim; `None` if
/// another run claimed it first.
async fn once<T, F>(
    db: &Db,
    job: &'static str,
    due: String,
    instance: &str,
    at: NaiveDateTime,
    work: F,
) -> Result<Option<T>>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
{
    let who = instance.to_owned();
    db.write(move |c| {
        if !job_runs::claim(c, job, &due, &who, at)? {
            return Ok(None);
        }
        work(c).map(Some)
    })
    .await
}

/// The settlement slot `at` falls in: its start, UTC, to the minute.
fn settlement_slot(at: NaiveDateTime) -> String {
    let period = PERIOD.as_secs() as i64;
    let start = at.and_utc().timestamp().div_euclid(period) * period;
    chrono::DateTime::from_timestamp(start, 0).map_or_else(
        || at.to_string(),
        |t| t.format("%Y-%m-%dT%H:%M").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::settlement_slot;

    #[test]
    fn slots_are_periods_of_wall_time() {
        let at = |h, m, s| {
            NaiveDate::from_ymd_opt(2026, 12, 6)
                .and_then(|d| d.and_hms_opt(h, m, s))
                .expect("time")
        };
        assert_eq!(settlement_slot(at(4, 0, 0)), "2026-12-06T04:00");
        assert_eq!(settlement_slot(at(4, 4, 59)), "2026-12-06T04:00");
        assert_eq!(settlement_slot(at(4, 5, 0)), "2026-12-06T04:05");
    }
}
