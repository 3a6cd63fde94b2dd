//! `chainmark import BATCH_DIR [--create-product]`: verify a codegen batch folder and write it
//! into the registry in one transaction.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use chainmark_server::config::Settings;
use chainmark_server::keys::KeyRing;
use chainmark_server::registry::{self, ImportOptions};
use chainmark_server::store::Db;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The batch folder written by `chainmark-codegen batch` (holds batch.json and import.jsonl).
    pub batch_dir: PathBuf,
    /// Create the batch's product (named by its SKU) if the registry does not have it yet.
    #[arg(long)]
    pub create_product: bool,
}

pub fn run(settings: Settings, args: Args) -> anyhow::Result<()> {
    let keys = KeyRing::load(&settings.key_files)?;
    let db = Db::open(&settings.database_url, 1)?;
    db.migrate()?;
    let mut conn = db.get()?;
    let bar = progress_bar();
    let started = Instant::now();
    let options = ImportOptions {
        create_product: args.create_product,
        actor: None,
    };
    let imported = registry::import_batch(
        &mut conn,
        &keys,
        &settings.key_files,
        &args.batch_dir,
        options,
        &mut |done, total| {
            if let Some(bar) = &bar {
                bar.set_length(total);
                bar.set_position(done);
            }
        },
    );
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let imported = imported?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "imported batch {}: {} items in {} cases ({:.1} s, {:.0} items/s)",
        imported.batch_id,
        imported.items,
        imported.cases,
        secs,
        imported.items as f64 / secs.max(1e-6)
    );
    Ok(())
}

/// A bar on stderr when a person is watching; nothing in scripts and logs.
fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} importing [{bar:40}] {pos}/{len} items ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    Some(bar)
}
