//! Exit codes, one per error class, and how errors are reported on stderr.

use std::io::{self, Write};
use std::process::ExitCode;

use codegen::{Error, ErrorKind};

/// Success (and, for `inspect`, a valid payload).
pub const OK: u8 = 0;
/// `inspect`: the payload is not valid.
pub const INVALID_PAYLOAD: u8 = 1;
/// Bad command-line syntax (clap's own code; listed for completeness).
#[allow(dead_code)]
pub const USAGE: u8 = 2;
/// A flag's value is malformed (GTIN, prefix, item count, URL, date, ...).
pub const INPUT: u8 = 3;
/// The key file is missing, the wrong size, unreadable, or would be overwritten.
pub const KEY: u8 = 4;
/// The output folder exists and is not empty, or cannot be created.
pub const OUTPUT: u8 = 5;
/// Reading or writing failed mid-way (disk full, ...); nothing was left behind.
pub const IO: u8 = 6;
/// `check-import`: the batch folder is refused.
pub const IMPORT: u8 = 7;
/// Anything else (a bug).
pub const INTERNAL: u8 = 70;

/// The exit-code table shown by `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0   success (inspect: the payload is valid)
  1   inspect: the payload is not valid
  2   command-line syntax error
  3   a flag's value is malformed (GTIN, company prefix, items, URL, date, ...)
  4   key file problem: missing, wrong size, unreadable, or already exists (keys init)
  5   output folder exists and is not empty, or cannot be created
  6   I/O error while writing; nothing was left behind
  7   check-import: the batch folder is refused
  70  internal error";

/// The exit code for an error class.
pub fn code_for(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Input => INPUT,
        ErrorKind::Key => KEY,
        ErrorKind::Output => OUTPUT,
        ErrorKind::Io => IO,
        ErrorKind::Import => IMPORT,
    }
}

/// Prints `err` to stderr and returns its exit code. A broken pipe is not an error.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if let Some(e) = err.downcast_ref::<io::Error>() {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return ExitCode::from(OK);
        }
    }
    let code = match err.downcast_ref::<Error>() {
        Some(e) => code_for(e.kind()),
        None => INTERNAL,
    };
    let _ = writeln!(io::stderr(), "error: {err:#}");
    ExitCode::from(code)
}
