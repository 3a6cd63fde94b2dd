//! `check-import`: verify a batch folder as the server's import does.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use codegen::batch::Record;
use codegen::import::VerifiedImport;
use codegen::keys::MasterKey;

/// Flags of `check-import`.
#[derive(Debug, Args)]
pub struct CheckImportArgs {
    /// Master key file the batch was issued under.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The batch folder.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

/// Runs both passes of the import reader and prints the counts.
pub fn run(args: CheckImportArgs) -> anyhow::Result<ExitCode> {
    let key = MasterKey::load(&args.key)?;
    let import = VerifiedImport::open(&args.dir, &key)?;
    let (mut cases, mut items) = (0u64, 0u64);
    for record in import.records()? {
        match record? {
            Record::Case(_) => cases += 1,
            Record::Item(_) => items += 1,
        }
    }
    let h = import.header();
    println!(
        "ok: batch {} of {} ({items} items in {cases} cases, key {})",
        h.id, h.product, h.key_id
    );
    Ok(ExitCode::SUCCESS)
}
