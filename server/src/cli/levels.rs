//! `chainmark levels assess|what-if`: the level engine's assessment by hand (or from cron), and
//! the what-if of a level policy document before it is activated.

use std::io::IsTerminal;
use std::path::PathBuf;

use chainmark_server::config::Settings;
use chainmark_server::levels::{assess, whatif};
use chainmark_server::network::Actor;
use chainmark_server::store::Db;
use chainmark_server::store::users::now;
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, clap::Subcommand)]
pub enum LevelsCommand {
    /// Assess every active agent under the active level policy, as of one day: upgrades,
    /// downgrades and protection (保级), each recorded with its reasons. A day already assessed
    /// changes nothing when run again. The server does this every day for the day before.
    Assess {
        /// The day to assess, YYYY-MM-DD (windows end on it, inclusive). Default: today (UTC).
        #[arg(long)]
        date: Option<NaiveDate>,
    },
    /// Show what activating a level policy document would do, changing nothing: how many agents
    /// would move up or down, and who (the first 500).
    WhatIf {
        /// The level policy document (TOML; see docs/levels.md).
        policy_file: PathBuf,
        /// The day to assess as, YYYY-MM-DD. Default: today (UTC).
        #[arg(long)]
        date: Option<NaiveDate>,
        /// List every agent that would move, not just the counts.
        #[arg(long)]
        list: bool,
    },
}

pub fn run(settings: Settings, cmd: LevelsCommand) -> anyhow::Result<()> {
    let db = Db::open(&settings.database_url, 1)?;
    db.migrate()?;
    let mut conn = db.get_writer()?;
    match cmd {
        LevelsCommand::Assess { date } => {
            let day = date.unwrap_or_else(|| now().date());
            let bar = progress_bar();
            let started = std::time::Instant::now();
            let summary = assess::run(
                &mut conn,
                day,
                Actor::System,
                &mut |done, total| match &bar {
                    Some(b) => {
                        b.set_length(u64::try_from(total).unwrap_or(0));
                        b.set_position(u64::try_from(done).unwrap_or(0));
                    }
                    None => eprintln!("assessed {done}/{total} agents"),
                },
            )?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            println!(
                "{day}: {} agents under level policy version {}: {} upgraded, {} downgraded, {} \
                 protected ({:.1} s)",
                summary.agents,
                summary.level_policy_version,
                summary.upgrades,
                summary.downgrades,
                summary.protected,
                started.elapsed().as_secs_f64()
            );
        }
        LevelsCommand::WhatIf {
            policy_file,
            date,
            list,
        } => {
            let document = std::fs::read_to_string(&policy_file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", policy_file.display()))?;
            let day = date.unwrap_or_else(|| now().date());
            let w = whatif::what_if(&mut conn, &document, day, Actor::System)?;
            println!(
                "level policy version {} ({}), as of {day}: {} agents; {} up, {} down, {} \
                 protected; {} get quotas",
                w.level_policy_version, w.on_change, w.agents, w.up, w.down, w.protected, w.quotas
            );
            if list {
                for m in &w.moves {
                    println!("agent {} {}: {}", m.agent_id, m.name, m.summary_en);
                }
            }
        }
    }
    Ok(())
}

/// A bar on stderr when a person is watching; plain progress lines otherwise.
fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} assessing [{bar:40}] {pos}/{len} agents ({eta} left)",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    Some(bar)
}
