//! The assessment run (考核): every active agent under the active level policy, as of one day.
//! Daily from the network job and on demand (API, CLI). A day is decided once per agent (the
//! engine's state remembers the last decided day), so running a day twice changes nothing, and
//! no agent moves twice in one run. Only agents that change are written.

use chrono::NaiveDate;
use serde::Serialize;

use super::apply::{Cause, apply};
use super::policy;
use super::population::{self, Member};
use crate::domain::levels::{ChangeKind, Decision, decide};
use crate::error::{Error, Result};
use crate::network::{Actor, policy as tier_policy};
use crate::store::DbConnection;
use crate::store::in_transaction;
use crate::store::levels::changes::{self, LevelRunRow};
use crate::store::users::now;

/// What a run looked at and changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RunSummary {
    /// The day assessed (windows end on it, inclusive).
    pub day: NaiveDate,
    pub level_policy_version: i64,
    /// Active agents looked at.
    pub agents: i64,
    pub upgrades: i64,
    pub downgrades: i64,
    /// Due downgrades skipped by protection (保级).
    pub protected: i64,
}

impl RunSummary {
    pub fn count(&mut self, d: &Decision) {
        match d.kind {
            ChangeKind::Upgrade => self.upgrades += 1,
            ChangeKind::Downgrade => self.downgrades += 1,
            ChangeKind::Protected => self.protected += 1,
        }
    }
}

/// Assesses every active agent as of `day`; `progress(done, total)` after each page.
pub fn run(
    conn: &mut DbConnection,
    day: NaiveDate,
    actor: Actor,
    progress: &mut dyn FnMut(i64, i64),
) -> Result<RunSummary> {
    actor.require_hq(&[crate::domain::Role::HqAdmin], "run the level assessment")?;
    if day > now().date() {
        return Err(Error::BadRequest(format!(
            "date {day}: a future day cannot be assessed"
        )));
    }
    let (row, levels) = policy::active(conn)?.ok_or_else(|| {
        Error::refuse(
            "no_level_policy",
            "no level policy is active: activate one first",
        )
    })?;
    let (tier_row, _) = tier_policy::active(conn)?;
    let started_at = now();
    let total = population::count_active(conn)?;
    let mut summary = RunSummary {
        day,
        level_policy_version: row.version,
        ..RunSummary::default()
    };
    population::walk(conn, &levels, day, |conn, members: Vec<Member>| {
        summary.agents += members.len() as i64;
        let decided: Vec<(Member, Decision)> = members
            .into_iter()
            .filter_map(|m| decide(&levels, &m.level, &m.metrics, day).map(|d| (m, d)))
            .collect();
        in_transaction(conn, |conn| {
            for (m, d) in &decided {
                apply(
                    conn,
                    &levels,
                    tier_row.version,
                    &m.agent,
                    m.state.clone(),
                    d,
                    day,
                    Cause::Assessment,
                )?;
                summary.count(d);
            }
            Ok::<_, Error>(())
        })?;
        progress(summary.agents, total);
        Ok(())
    })?;
    changes::insert_run(
        conn,
        &LevelRunRow {
            id: 0,
            assessed_on: day,
            level_policy_version: row.version,
            agents: summary.agents,
            upgrades: summary.upgrades,
            downgrades: summary.downgrades,
            protected: summary.protected,
            started_at,
            finished_at: now(),
            started_by: actor.user(),
        },
    )?;
    // Applications whose agent moved another way (a top-up, a suspension) lapse with the run.
    let lapsed = super::applications::sweep(conn, now())?;
    tracing::info!(
        %day,
        agents = summary.agents,
        lapsed,
        upgrades = summary.upgrades,
        downgrades = summary.downgrades,
        protected = summary.protected,
        "level assessment"
    );
    Ok(summary)
}

/// The days the daily job still owes: from the day after the last run (at most `catch_up` days
/// back) through `yesterday`. Cyclic and single checks fall due on one exact day, so a missed
/// day is assessed late rather than skipped.
pub fn owed_days(last: Option<NaiveDate>, yesterday: NaiveDate, catch_up: u64) -> Vec<NaiveDate> {
    let earliest = yesterday - chrono::Days::new(catch_up.saturating_sub(1));
    let from = last.map_or(yesterday, |l| (l + chrono::Days::new(1)).max(earliest));
    from.iter_days().take_while(|d| *d <= yesterday).collect()
}

/// The daily job's step: assesses the owed days, if a level policy is active.
pub fn daily(conn: &mut DbConnection) -> Result<Vec<RunSummary>> {
    if policy::active(conn)?.is_none() {
        return Ok(Vec::new());
    }
    let yesterday = now().date() - chrono::Days::new(1);
    let days = owed_days(changes::last_run_day(conn)?, yesterday, 7);
    days.into_iter()
        .map(|d| run(conn, d, Actor::System, &mut |_, _| {}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).expect("date")
    }

    #[test]
    fn owed_days_catch_up_a_bounded_gap() {
        assert_eq!(owed_days(None, d(4, 12), 7), vec![d(4, 12)]);
        assert_eq!(
            owed_days(Some(d(4, 12)), d(4, 12), 7),
            Vec::<NaiveDate>::new()
        );
        assert_eq!(
            owed_days(Some(d(4, 10)), d(4, 12), 7),
            vec![d(4, 11), d(4, 12)]
        );
        assert_eq!(
            owed_days(Some(d(3, 1)), d(4, 12), 3),
            vec![d(4, 10), d(4, 11), d(4, 12)]
        );
    }
}
