//! `verify-image`: decode the QR codes in label images and check each payload with `inspect`.
//!
//! Each file is reported on its own line (or as one JSON array with `--json`) as `ok`,
//! `unreadable` (no QR code decodes, or the decoder broke down on the image, said in `error`),
//! `invalid` (a payload fails `inspect`, with its reason) or `error` (not an image, cannot be
//! read). One bad file does not stop the others. Files are decoded on all cores: decoding costs
//! milliseconds per image, checking microseconds.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use codegen::decode::{Decoded, decode_file};
use codegen::inspect::{Inspection, inspect};
use codegen::keys::MasterKey;
use rayon::prelude::*;
use serde::Serialize;

use super::exit;

/// Flags of `verify-image`.
#[derive(Debug, Args)]
pub struct VerifyImageArgs {
    /// Master key file, to check the tags of anti-counterfeit URLs.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Print the results as one JSON array.
    #[arg(long)]
    json: bool,
    /// Label images (PNG or JPEG).
    #[arg(value_name = "IMAGE", required = true)]
    images: Vec<PathBuf>,
}

/// What became of one file.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Ok,
    Unreadable,
    Invalid,
    Error,
}

/// One file's report.
#[derive(Debug, Serialize)]
struct FileReport {
    file: PathBuf,
    status: Status,
    /// Every decoded payload, inspected.
    payloads: Vec<Inspection>,
    /// Why the file could not be read (status `error`), or why the decoder gave up on it
    /// (status `unreadable` after a decoder failure).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Runs `verify-image`.
pub fn run(args: VerifyImageArgs) -> anyhow::Result<ExitCode> {
    let key = MasterKey::load(&args.key)?;
    let reports: Vec<FileReport> = args
        .images
        .par_iter()
        .map(|file| check(file, &key))
        .collect();
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &reports)?;
        writeln!(out)?;
    } else {
        for r in &reports {
            print_human(&mut out, r)?;
        }
    }
    // A file that is not an image is a usage problem, worse than a label that fails the check.
    let code = if reports.iter().any(|r| matches!(r.status, Status::Error)) {
        exit::INPUT
    } else if reports.iter().all(|r| matches!(r.status, Status::Ok)) {
        exit::OK
    } else {
        exit::INVALID_PAYLOAD
    };
    Ok(ExitCode::from(code))
}

fn check(file: &Path, key: &MasterKey) -> FileReport {
    let report = |status, payloads, error| FileReport {
        file: file.to_owned(),
        status,
        payloads,
        error,
    };
    match decode_file(file) {
        // A picture the decoder cannot cope with is a label that cannot be checked, like one
        // with no readable code: not a usage problem.
        Err(e @ codegen::Error::DecoderFailed { .. }) => {
            report(Status::Unreadable, Vec::new(), Some(e.to_string()))
        }
        Err(e) => report(Status::Error, Vec::new(), Some(e.to_string())),
        Ok(Decoded::Unreadable) => report(Status::Unreadable, Vec::new(), None),
        Ok(Decoded::Payloads(found)) => {
            let inspected: Vec<Inspection> = found.iter().map(|p| inspect(p, Some(key))).collect();
            let status = if inspected.iter().all(|i| i.valid) {
                Status::Ok
            } else {
                Status::Invalid
            };
            report(status, inspected, None)
        }
    }
}

fn print_human(out: &mut impl Write, r: &FileReport) -> io::Result<()> {
    let file = r.file.display();
    match r.status {
        Status::Error => writeln!(
            out,
            "{file}: error: {}",
            r.error.as_deref().unwrap_or("unknown")
        ),
        Status::Unreadable => match &r.error {
            Some(why) => writeln!(out, "{file}: unreadable ({why})"),
            None => writeln!(out, "{file}: unreadable (no QR code could be decoded)"),
        },
        Status::Ok | Status::Invalid => {
            for i in &r.payloads {
                match (&i.reason, &i.message) {
                    (Some(reason), Some(message)) => writeln!(
                        out,
                        "{file}: invalid ({}: {message}): {}",
                        reason.code(),
                        i.input
                    )?,
                    _ => writeln!(out, "{file}: ok: {} ({})", i.input, describe(i))?,
                }
            }
            Ok(())
        }
    }
}

/// "anti-counterfeit URL, tag authentic" and the like.
fn describe(i: &Inspection) -> String {
    let kind = i.payload.as_ref().map_or("unknown", |p| p.describe());
    match i.authentic {
        Some(true) => format!("{kind}, tag authentic"),
        _ => kind.to_owned(),
    }
}
