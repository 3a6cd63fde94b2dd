//! `chainmark-scanner`: the warehouse handheld agent. Everything is in the library
//! (`scanner_agent::cli`); this sets up logging and the runtime and maps the result to an exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use scanner_agent::cli::{self, Cli};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // On a handheld's own screen only warnings go to stderr, or the log would scroll the screen.
    let default = if std::io::stdout().is_terminal() {
        "warn"
    } else {
        "info"
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
        )
        .init();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("chainmark-scanner: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    // One thread: a handheld has little memory, and the agent waits on I/O, not the CPU.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    Ok(runtime.block_on(cli::run(cli))?)
}
