//! Command-line flags (clap derive) and dispatch to one module per command.
//!
//! Flags are taken as given (strings) and validated by the commands into library types, so a
//! malformed value gets the library's specific message and the "invalid input" exit code
//! rather than clap's generic usage error. To add a command (e.g. `verify-image`), add a
//! variant to [`Command`], a module, and a line in [`run`].

mod batch;
mod check_import;
pub mod exit;
mod inspect;
mod keys;
mod verify_image;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Issues and checks chainmark codes: master keys, code batches, scanned payloads.
#[derive(Debug, Parser)]
#[command(
    name = "chainmark-codegen",
    version,
    about,
    after_long_help = exit::EXIT_CODES_HELP
)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Master key files.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Generate a batch of item codes into a new folder.
    #[command(after_long_help = BATCH_HELP)]
    Batch(Box<batch::BatchArgs>),
    /// Tell what a scanned string is and whether it is valid.
    #[command(after_long_help = INSPECT_HELP)]
    Inspect(inspect::InspectArgs),
    /// Verify a batch folder the way the server imports it (seal, tags, counts, cases).
    #[command(after_long_help = CHECK_IMPORT_HELP)]
    CheckImport(check_import::CheckImportArgs),
    /// Decode the QR codes in label images and check each payload as `inspect` does.
    #[command(after_long_help = VERIFY_IMAGE_HELP)]
    VerifyImage(verify_image::VerifyImageArgs),
}

/// `keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new master key file (32 random bytes, mode 0600). Never overwrites a file.
    #[command(after_long_help = "Example:\n  chainmark-codegen keys init --out /secure/master.key")]
    Init {
        /// Where to write the key; must not exist yet.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

const BATCH_HELP: &str = "\
Writes DIR/print.csv (serials with their security codes, for the printer), DIR/import.jsonl (for
the server: tags and security-code hashes, sealed), DIR/batch.json and, with --labels, DIR/labels/.
Everything is checked before anything is written; the folder appears only when complete.

Examples:
  chainmark-codegen batch --key master.key --product TEA-250G --items 10000 \\
      --base-url https://chainmark.example --out batches/tea-2025-06
  chainmark-codegen batch --key master.key --product TEA-250G --items 7200 --case-size 72 \\
      --gtin 4006381333931 --company-prefix 4006381 --production-date 2025-06-01 \\
      --base-url https://chainmark.example --out batches/tea-sscc --labels png,pdf";

const INSPECT_HELP: &str = "\
Accepts verify URLs ({base}/v/{serial}?t={tag}), logistics URLs ({base}/01/{gtin}/21/{serial},
{base}/s/{serial}), case URLs ({base}/00/{sscc}, {base}/c/{code}), bare serials, case codes, SSCCs
and GTINs. Exit code 0 if valid, 1 if not (the reason is printed).

Examples:
  chainmark-codegen inspect --key master.key 'https://chainmark.example/v/ABCDEFGH00000010?t=...'
  chainmark-codegen inspect --json 106141411234567897";

const VERIFY_IMAGE_HELP: &str = "\
Prints, per file: ok (payload and what it is), unreadable (no QR code decodes), invalid (the
reason, as inspect gives it) or error (not a PNG/JPEG image). Exit code 0 if every file is ok,
1 if any is unreadable or invalid, 3 if any is not an image.

Example:
  chainmark-codegen verify-image --key master.key batches/tea-2025-06/labels/items/*.png";

const CHECK_IMPORT_HELP: &str = "\
Example:
  chainmark-codegen check-import --key master.key batches/tea-2025-06";

/// Runs a command; `Ok` carries the exit code of a command that ran (inspect: valid or not).
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Keys(KeysCommand::Init { out }) => keys::init(&out),
        Command::Batch(a) => batch::run(*a),
        Command::Inspect(a) => inspect::run(a),
        Command::CheckImport(a) => check_import::run(a),
        Command::VerifyImage(a) => verify_image::run(a),
    }
}
