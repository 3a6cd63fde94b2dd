//! `chainmark export epcis`: the traceability export (docs/epcis.md) to a file or stdout.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use chainmark_server::config::Settings;
use chainmark_server::domain::epcis::Ids;
use chainmark_server::epcis::{self, Request};
use chainmark_server::store::Db;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, clap::Subcommand)]
pub enum ExportCommand {
    /// Write a GS1 EPCIS 2.0 JSON-LD document (an EPCISDocument) of a batch or a time window.
    ///
    /// The document holds the custody history as EPCIS events: commissioning at import, the
    /// packing codegen did and the packing and unpacking scans (AggregationEvents), shipping and
    /// receiving against restock orders (with the order as business transaction and the shipper
    /// and buyer as source and destination), returns, sales, inspections, voids and recalls.
    /// Items have GS1 Digital Link URIs when their product has a GTIN, cases when they have an
    /// SSCC; otherwise the brand's own logistics URLs under base_url. See docs/epcis.md.
    ///
    /// The document is written as it is read, page by page, so a batch of any size fits; a bar
    /// on stderr counts the events when stderr is a terminal.
    #[command(group(clap::ArgGroup::new("what").required(true).args(["batch", "from"])))]
    Epcis(Args),
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The batch to export (8-character id): its items, its cases and the scans of them.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub batch: Option<String>,
    /// Start of a time window, inclusive (RFC 3339, e.g. 2026-11-01T00:00:00+08:00).
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// End of the window, exclusive (RFC 3339); must be after --from.
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// Write here instead of stdout (replaced if it exists; removed again if the export fails).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

pub fn run(settings: Settings, command: ExportCommand) -> anyhow::Result<()> {
    let ExportCommand::Epcis(args) = command;
    let filter = epcis::parse_request(&Request {
        batch: args.batch.as_deref(),
        from: args.from.as_deref(),
        to: args.to.as_deref(),
    })?;
    let db = Db::open(&settings.database_url, 1)?;
    db.migrate()?;
    let mut conn = db.get()?;
    epcis::check(&mut conn, &filter)?;
    let ids = Ids::new(&settings.base_url);
    let bar = progress_bar();
    let mut progress = |events: u64| {
        if let Some(bar) = &bar {
            bar.set_position(events);
        }
    };
    let summary = match &args.out {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::new(file);
            let written = epcis::export(&mut conn, &ids, &filter, &mut out, &mut progress);
            if written.is_err() {
                drop(out);
                let _ = std::fs::remove_file(path);
            }
            written?
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let summary = epcis::export(&mut conn, &ids, &filter, &mut out, &mut progress)?;
            out.flush()?;
            summary
        }
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Some(path) = &args.out {
        eprintln!(
            "wrote {} EPCIS events to {}",
            summary.events,
            path.display()
        );
    }
    Ok(())
}

/// A counter on stderr when a person is watching; nothing in scripts and logs.
fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} exporting: {pos} events ({per_sec})")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}
