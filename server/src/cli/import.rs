//! `chainmark import BATCH_DIR [--create-product]`: verify a codegen batch folder and write it
//! into the registry in one transaction.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chainmark_server::config::Settings;
use chainmark_server::keys::KeyRing;
use chainmark_server::registry::{self, ImportOptions};
use chainmark_server::store::Db;
use indicatif::{ProgressBar, ProgressStyle};

/// Verify a codegen batch folder and add its codes to the registry (all or nothing), or, with
/// `import network FILE`, bring in an agent network from a CSV or XLSX template.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    pub what: Option<ImportCommand>,
    /// The batch folder written by `chainmark-codegen batch` (holds batch.json and import.jsonl).
    #[arg(required = true)]
    pub batch_dir: Option<PathBuf>,
    /// Create the batch's product (named by its SKU) if the registry does not have it yet.
    #[arg(long)]
    pub create_product: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    // The help is the doc comment of `import_network::Args`.
    Network(super::import_network::Args),
}

pub fn run(settings: Settings, args: Args) -> anyhow::Result<()> {
    if let Some(ImportCommand::Network(network)) = args.what {
        return super::import_network::run(settings, network);
    }
    let Some(batch_dir) = args.batch_dir else {
        anyhow::bail!("give a batch folder, or `network FILE`");
    };
    let args = BatchArgs {
        batch_dir,
        create_product: args.create_product,
    };
    warn_if_shared(&args.batch_dir);
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
    println!(
        "the database file is 0600; {} still holds print.csv, every security code in clear: \
         keep it private (0600 files in a 0700 folder) or delete it once printed",
        args.batch_dir.display()
    );
    Ok(())
}

struct BatchArgs {
    batch_dir: PathBuf,
    create_product: bool,
}

/// Says so when the batch folder or its files are open to other users of the machine (a batch
/// copied with a permissive umask, say): `print.csv` holds every security code in clear.
fn warn_if_shared(batch_dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for path in [
        batch_dir.to_path_buf(),
        batch_dir.join("print.csv"),
        batch_dir.join("import.jsonl"),
    ] {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            let want = if meta.is_dir() { "700" } else { "600" };
            eprintln!(
                "warning: {} is open to other users (mode {mode:o}): chmod {want} it",
                path.display()
            );
        }
    }
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
