//! `inspect`: what a scanned string is and whether it is valid.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use codegen::inspect::{Inspection, inspect};
use codegen::keys::MasterKey;
use codegen::payload::Payload;

use super::exit;

/// Flags of `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Master key file; without it, tags of verify URLs cannot be checked.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
    /// The scanned or typed string (quote URLs in the shell).
    #[arg(value_name = "PAYLOAD")]
    payload: String,
}

/// Runs `inspect`.
pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let key = args.key.as_deref().map(MasterKey::load).transpose()?;
    let result = inspect(&args.payload, key.as_ref());
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &result)?;
        writeln!(out)?;
    } else {
        print_human(&mut out, &result, key.is_some())?;
    }
    Ok(ExitCode::from(if result.valid {
        exit::OK
    } else {
        exit::INVALID_PAYLOAD
    }))
}

fn print_human(out: &mut impl Write, r: &Inspection, have_key: bool) -> io::Result<()> {
    if let Some(p) = &r.payload {
        writeln!(out, "kind:     {}", p.describe())?;
        match p {
            Payload::VerifyUrl { base, serial, tag } => {
                writeln!(out, "base:     {base}")?;
                writeln!(out, "serial:   {serial}")?;
                writeln!(out, "tag:      {tag}")?;
            }
            Payload::LogisticsUrl { base, gtin, serial } => {
                writeln!(out, "base:     {base}")?;
                if let Some(gtin) = gtin {
                    writeln!(out, "gtin:     {gtin}")?;
                }
                writeln!(out, "serial:   {serial}")?;
            }
            Payload::CaseUrl { base, case } => {
                writeln!(out, "base:     {base}")?;
                writeln!(out, "case:     {}", case.as_str())?;
            }
            Payload::Serial { serial } => writeln!(out, "serial:   {serial}")?,
            Payload::Case { case } => writeln!(out, "case:     {}", case.as_str())?,
            Payload::Gtin { gtin } => writeln!(out, "gtin:     {gtin}")?,
        }
        if let (Some(batch), Some(index)) = (&r.batch_id, r.index) {
            writeln!(out, "batch:    {batch} (index {index})")?;
        }
        if matches!(p, Payload::VerifyUrl { .. }) {
            let tag = match r.authentic {
                Some(true) => "authentic",
                Some(false) => "FORGED",
                None if have_key => "not checked",
                None => "not checked (give --key to check it)",
            };
            writeln!(out, "tag check: {tag}")?;
        }
    }
    match (&r.reason, &r.message) {
        (Some(reason), Some(message)) => {
            writeln!(out, "valid:    no ({}: {message})", reason.code())
        }
        _ => writeln!(out, "valid:    yes"),
    }
}
