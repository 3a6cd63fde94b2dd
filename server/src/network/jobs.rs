//! The network's background job in the server: every few minutes, auto-receive and complete due
//! orders ([`settlement::tick`]) and, once a month has ended, generate its statements. Runs in the
//! writer (`Db::write`), so it never races a request's write on SQLite; on PostgreSQL the
//! conditional state changes and unique posting keys keep overlapping runs from paying twice.

use std::time::Duration;

use super::settlement;
use super::statements::{self, Month};
use crate::app::AppState;
use crate::error::Result;
use crate::store::users::now;

/// How often the job runs.
pub const PERIOD: Duration = Duration::from_secs(300);

/// Starts the job on the runtime; it lives as long as the server.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PERIOD);
        let mut last_month: Option<String> = None;
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&state, &mut last_month).await {
                tracing::warn!(error = %e, "network settlement job failed; retrying next period");
            }
        }
    });
}

async fn run_once(state: &AppState, last_month: &mut Option<String>) -> Result<()> {
    let settled = state.db.write(|c| settlement::tick(c, now())).await?;
    if settled.received + settled.completed > 0 {
        tracing::info!(
            received = settled.received,
            completed = settled.completed,
            "settlement run"
        );
    }
    // At the first run of a month, the month before gets its statements.
    let current = Month::of(now())?;
    if last_month.as_deref() != Some(current.name.as_str()) {
        let previous = current.previous()?;
        state
            .db
            .write(move |c| statements::generate(c, &previous))
            .await?;
        *last_month = Some(current.name);
    }
    // The level assessment (issue 6) of each day owed since its last run, once a day.
    if let Err(e) = state.db.write(crate::levels::assess::daily).await {
        tracing::warn!(error = %e, "level assessment failed; retrying next period");
    }
    Ok(())
}
