//! The `chainmark` command line: flags parsed into one type, then each command in its own file.

mod backup;
mod demo;
mod demo_network;
mod device;
mod epcis;
mod import;
mod import_network;
mod levels;
mod migrate;
mod network;
mod serve;
mod user;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// chainmark: anti-counterfeit channel ordering for brands with a tiered agent network.
///
/// Start with `chainmark demo`: it needs nothing installed and prints the URLs to open.
#[derive(Debug, Parser)]
#[command(name = "chainmark", version)]
pub struct Cli {
    /// Settings file (TOML); every setting can also be given as a CHAINMARK_* environment variable.
    #[arg(long, global = true, env = "CHAINMARK_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up a demo brand in a folder (first run), serve it and print the URLs to open.
    Demo(demo::Args),
    /// Serve the API, the pages and /metrics until SIGTERM (requests in flight finish first).
    Serve(serve::Args),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Copy the live SQLite database to a new file while the server runs (VACUUM INTO).
    Backup(backup::Args),
    /// Verify a codegen batch folder and add its codes to the registry (all or nothing);
    /// `import network FILE` brings in an agent network from the CSV or XLSX template.
    Import(import::Args),
    /// Manage staff and agent accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Register and provision warehouse handhelds (chainmark-scanner).
    #[command(subcommand)]
    Device(device::DeviceCommand),
    /// The agent network's settlement: auto-receive, complete, monthly statements.
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// The level engine: assess agents' levels now, or see what a level policy would change.
    #[command(subcommand)]
    Levels(levels::LevelsCommand),
    /// Export data in standard formats (GS1 EPCIS 2.0 traceability documents).
    #[command(subcommand)]
    Export(epcis::ExportCommand),
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = chainmark_server::config::Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve(args) => serve::run(settings, args),
        Command::Migrate => migrate::run(settings),
        Command::Backup(args) => backup::run(settings, args),
        Command::User(cmd) => user::run(settings, cmd),
        Command::Device(cmd) => device::run(settings, cmd),
        Command::Import(args) => import::run(settings, args),
        Command::Demo(args) => demo::run(args),
        Command::Network(cmd) => network::run(settings, cmd),
        Command::Levels(cmd) => levels::run(settings, cmd),
        Command::Export(cmd) => epcis::run(settings, cmd),
    }
}
