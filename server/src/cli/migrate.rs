//! `chainmark migrate`.

use chainmark_server::config::Settings;
use chainmark_server::store::{Db, redact};

pub fn run(settings: Settings) -> anyhow::Result<()> {
    let db = Db::open(&settings.database_url, 1)?;
    let applied = db.migrate()?;
    println!(
        "{}: {applied} migration(s) applied, schema up to date",
        redact(&settings.database_url)
    );
    Ok(())
}
