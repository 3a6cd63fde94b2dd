//! The command line of `chainmark-scanner`: parsed into [`Cli`], then [`run`] does the work and
//! returns the exit code. `main.rs` only sets up logging and the runtime.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use firmware_config::provision::DEFAULT_DATA_DIR;
use firmware_config::{Config, Input, Language};

use crate::agent::{self, End};
use crate::display::Display;
use crate::error::Error;
use crate::input;
use crate::session::Outcome;

/// Exit code when the input ended with scans kept in the journal after protocol failures.
pub const EXIT_KEPT: u8 = 3;

const ABOUT: &str = "The chainmark warehouse handheld agent: reads scans, checks them offline, \
journals each one durably and sends it to the server over MQTT, showing the server's answer.";

const AFTER_HELP: &str = "\
Ways to run:
  chainmark-scanner --config FILE
      Validate FILE (docs/firmware-config.md) and run: scans from the configured input, one
      result line per event on stdout (or a small screen on a terminal).
  chainmark-scanner --provision [--config FILE] [--data-dir DIR] [--language zh-CN|en]
      A fresh handheld: scan the provisioning QR the server printed (`chainmark device add`).
      The first valid code read from stdin becomes the config file (default DIR/handheld.toml,
      journal in DIR), then the agent runs with it, reading further scans from stdin.
  chainmark-scanner check-config FILE
      Validate FILE and the files it names; print every problem as file:line: field: message.

Scanning (grammar in docs/protocol.md): choose a mode first — scan an order's pick-list QR
(CMORDER:<order id>) to ship against it, or a command: @ship <order>, @pack [case],
@unpack, @receive [order], @return [order], @sell, @inspect, @close, @status. Every other
line is a code. Output lines: ready, online, offline, mode, queued seq=N, accepted seq=N,
rejected seq=N reason=R, refused reason=R, debounced, kept, bad_command, closed, status, done.

When the input ends (stdin closed) the agent keeps running until every scan it took has the
server's final answer, then exits 0 (3 if some were refused as protocol errors and are kept
in the journal). A serial or camera input never ends: if one stops for good (its frames folder
vanished, ...), the agent exits 1 with the reason, its scans kept in the journal. Camera frames
that cannot be decoded are moved into rejected/ in the frames folder. Logs go to stderr
(RUST_LOG=debug for more); secrets are never logged.";

/// Parsed command line.
#[derive(Debug, Parser)]
#[command(name = "chainmark-scanner", version, about = ABOUT, after_help = AFTER_HELP)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The handheld config file; with --provision, where to write it.
    #[arg(
        long,
        short,
        value_name = "FILE",
        required_unless_present = "provision"
    )]
    pub config: Option<PathBuf>,
    /// Read a provisioning code (CMPROV1:...) from stdin, write the config from it, then run.
    #[arg(long)]
    pub provision: bool,
    /// With --provision: the folder for the journal (and the config file by default).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// With --provision: the language of the handheld's messages.
    #[arg(long, value_enum, default_value = "zh-CN")]
    pub language: Lang,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a config file and the files it names, then exit.
    CheckConfig {
        /// The config file.
        file: PathBuf,
    },
}

/// `--language` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Lang {
    #[value(name = "zh-CN")]
    ZhCn,
    #[value(name = "en")]
    En,
}

impl From<Lang> for Language {
    fn from(lang: Lang) -> Self {
        match lang {
            Lang::ZhCn => Language::ZhCn,
            Lang::En => Language::En,
        }
    }
}

/// Runs the command line; the `u8` is the process exit code.
pub async fn run(cli: Cli) -> Result<u8, Error> {
    if let Some(Command::CheckConfig { file }) = &cli.command {
        return check_config(file);
    }
    let (config, lines, mut display) = if cli.provision {
        let path = cli
            .config
            .clone()
            .unwrap_or_else(|| cli.data_dir.join("handheld.toml"));
        let mut display = Display::new(&Default::default(), cli.language.into());
        let mut lines = input::start(&stdin())?;
        let config = agent::provisioning::provision(
            &mut lines,
            &path,
            &cli.data_dir,
            cli.language.into(),
            &mut display,
        )
        .await?;
        let display = Display::new(&config.feedback, config.language);
        (config, lines, display)
    } else {
        // clap requires --config unless --provision is given.
        let path = cli.config.clone().unwrap_or_default();
        let config = Config::load(&path)?;
        let lines = input::start(&config.input)?;
        let display = Display::new(&config.feedback, config.language);
        (config, lines, display)
    };
    tracing::info!(device = %config.device.id, broker = %config.broker.url, "starting");
    Ok(match agent::run(&config, lines, &mut display).await? {
        End::Finished(Outcome::AllAnswered) | End::Interrupted => 0,
        End::Finished(Outcome::Kept(_)) => EXIT_KEPT,
    })
}

fn stdin() -> Input {
    Input::KeyboardWedge {
        prefix: String::new(),
        suffix: "\n".to_owned(),
    }
}

/// `check-config`: the config itself, then the files it names, as they are on this device.
fn check_config(file: &Path) -> Result<u8, Error> {
    let config = Config::load(file)?;
    let mut problems = Vec::new();
    let shown = file.display();
    let mut need = |field: &str, path: &Path, ok: bool| {
        if !ok {
            problems.push(format!(
                "{shown}: {field}: {} cannot be read",
                path.display()
            ));
        }
    };
    if let Some(p) = &config.credentials.password_file {
        need(
            "credentials.password_file",
            p,
            std::fs::File::open(p).is_ok(),
        );
    }
    if let Some(tls) = &config.broker.tls {
        for (field, p) in [
            ("broker.tls.ca_file", &tls.ca_file),
            ("broker.tls.client_cert", &tls.client_cert),
            ("broker.tls.client_key", &tls.client_key),
        ] {
            if let Some(p) = p {
                need(field, p, std::fs::File::open(p).is_ok());
            }
        }
    }
    match &config.input {
        Input::Serial { port, .. } => need("input.port", Path::new(port), Path::new(port).exists()),
        Input::Camera { frames_dir, .. } => {
            need(
                "input.frames_dir",
                frames_dir,
                std::fs::read_dir(frames_dir).is_ok(),
            );
        }
        Input::KeyboardWedge { .. } => {}
    }
    if problems.is_empty() {
        println!(
            "ok {} device={} broker={} journal={}",
            file.display(),
            config.device.id,
            config.broker.url,
            config.journal.path.display()
        );
        Ok(0)
    } else {
        for p in &problems {
            eprintln!("{p}");
        }
        Ok(1)
    }
}
