//! `chainmark-codegen`: the thin shell over the `codegen` library — parse, run, map the result
//! to an exit code (see `cli::exit`).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => cli::exit::report(&err),
    }
}
