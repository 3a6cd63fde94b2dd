//! `chainmark network tick|settle`: the network's scheduled work by hand (or from cron).

use chainmark_server::config::Settings;
use chainmark_server::network::settlement;
use chainmark_server::network::statements::{self, Month};
use chainmark_server::store::users::now;
use chainmark_server::store::{Db, in_transaction};

#[derive(Debug, clap::Subcommand)]
pub enum NetworkCommand {
    /// Auto-receive shipped orders past the receive window and complete received orders past the
    /// return window (what the server does every few minutes).
    Tick,
    /// Month-end settlement: `tick`, then generate every agent's statement for a month.
    Settle {
        /// The month, YYYY-MM (default: the month that ended last).
        #[arg(long)]
        month: Option<String>,
    },
}

pub fn run(settings: Settings, cmd: NetworkCommand) -> anyhow::Result<()> {
    let db = Db::open(&settings.database_url, 1)?;
    db.migrate()?;
    let mut conn = db.get_writer()?;
    let settled = settlement::tick(&mut conn, now())?;
    println!(
        "received {} orders automatically, completed {} ({} completion postings)",
        settled.received, settled.completed, settled.postings
    );
    if let NetworkCommand::Settle { month } = cmd {
        let month = match month {
            Some(m) => Month::parse(&m)?,
            None => Month::of(now())?.previous()?,
        };
        let n = in_transaction(&mut conn, |c| statements::generate(c, &month))?;
        println!("generated {n} statements for {}", month.name);
    }
    Ok(())
}
