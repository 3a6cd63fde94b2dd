//! `batch`: validate the flags into a [`BatchSpec`], load the key, write the batch with a
//! progress bar on a terminal.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Args;
use codegen::batch::{BatchSpec, DEFAULT_CASE_SIZE, Progress, counter_path, write_batch};
use codegen::gs1::{CompanyPrefix, Gtin14};
use codegen::keys::MasterKey;
use codegen::label::{LabelFlags, LabelFormats};
use codegen::{Error, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Flags of `batch`, as typed.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Master key file (create one with `keys init`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Product reference (SKU), recorded in the batch files.
    #[arg(long, value_name = "SKU")]
    product: String,
    /// Number of items (serials) to generate.
    #[arg(long, value_name = "N")]
    items: String,
    /// Items per case; the last case may be short.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CASE_SIZE.to_string())]
    case_size: String,
    /// GTIN-8/12/13/14 of the product; logistics URLs then use GS1 Digital Link (/01/…/21/…).
    #[arg(long, value_name = "GTIN")]
    gtin: Option<String>,
    /// GS1 company prefix (4–12 digits); cases then get SSCC-18 codes.
    #[arg(long, value_name = "P")]
    company_prefix: Option<String>,
    /// First SSCC serial reference; default: the counter beside the key file (FILE.sscc.json).
    #[arg(long, value_name = "N", requires = "company_prefix")]
    sscc_start: Option<String>,
    /// Production date, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    production_date: Option<String>,
    /// Base of every URL printed in QR codes, e.g. https://chainmark.example.
    #[arg(long, value_name = "URL")]
    base_url: String,
    /// The batch folder to create; must not exist (or be empty).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Also render labels: any of png,svg,pdf,zpl (or all).
    #[arg(long, value_name = "FORMATS")]
    labels: Option<String>,
    /// Labels: QR error correction, L, M, Q or H [default: M].
    #[arg(long, value_name = "LEVEL")]
    ecc: Option<String>,
    /// Labels: pixels (PNG) or printer dots (ZPL) per QR module [default: 4].
    #[arg(long, value_name = "PX")]
    module_px: Option<String>,
    /// Labels: millimetres per QR module, at --dpi (instead of --module-px).
    #[arg(long, value_name = "MM")]
    module_mm: Option<String>,
    /// Labels: printer resolution for --module-mm [default: 300].
    #[arg(long, value_name = "DPI", requires = "module_mm")]
    dpi: Option<String>,
    /// Labels: light modules around each QR code, at least 4 [default: 4].
    #[arg(long, value_name = "MODULES")]
    quiet_zone: Option<String>,
}

impl BatchArgs {
    /// Validates every flag into a spec; nothing is touched on disk.
    fn to_spec(&self) -> Result<BatchSpec> {
        let mut spec = BatchSpec::new(
            self.product.clone(),
            parse_number("--items", &self.items)?,
            self.base_url.clone(),
            self.out.clone(),
        );
        spec.case_size = u32::try_from(parse_number("--case-size", &self.case_size)?)
            .map_err(|_| Error::input("--case-size", &self.case_size, "too large"))?;
        spec.gtin = self
            .gtin
            .as_deref()
            .map(|g| Gtin14::parse(g).map_err(|e| Error::input("--gtin", g, e.to_string())))
            .transpose()?;
        spec.company_prefix = self
            .company_prefix
            .as_deref()
            .map(|p| {
                CompanyPrefix::parse(p)
                    .map_err(|e| Error::input("--company-prefix", p, e.to_string()))
            })
            .transpose()?;
        spec.sscc_start = self
            .sscc_start
            .as_deref()
            .map(|n| parse_number("--sscc-start", n))
            .transpose()?;
        if spec.company_prefix.is_some() {
            spec.sscc_counter = Some(counter_path(&self.key));
        }
        spec.production_date = self
            .production_date
            .as_deref()
            .map(|d| {
                NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                    Error::input("--production-date", d, "expected a date as YYYY-MM-DD")
                })
            })
            .transpose()?;
        spec.labels = self
            .labels
            .as_deref()
            .map(str::parse::<LabelFormats>)
            .transpose()?;
        spec.label_options = LabelFlags {
            ecc: self.ecc.as_deref(),
            module_px: self.module_px.as_deref(),
            module_mm: self.module_mm.as_deref(),
            dpi: self.dpi.as_deref(),
            quiet_zone: self.quiet_zone.as_deref(),
        }
        .to_options()?;
        Ok(spec)
    }
}

fn parse_number(flag: &'static str, s: &str) -> Result<u64> {
    s.trim()
        .replace('_', "")
        .parse()
        .map_err(|_| Error::input(flag, s, "expected a whole number"))
}

/// Runs `batch`.
pub fn run(args: BatchArgs) -> anyhow::Result<ExitCode> {
    let spec = args.to_spec()?;
    let key = MasterKey::load(&args.key)?;
    let bar = progress_bar(spec.items);
    let summary = write_batch(&spec, &key, &mut |p: Progress| bar.set_position(p.done))?;
    bar.finish_and_clear();
    let h = &summary.header;
    println!(
        "batch {} written to {}: {} items in {} cases (key {})",
        h.id,
        spec.out.display(),
        h.items,
        h.cases,
        h.key_id
    );
    if let Some((first, end)) = summary.sscc_range {
        println!("SSCC serial references {first}..{end} used");
    }
    println!(
        "private: the folder is 0700 and its files 0600 (print.csv holds every security code in \
         clear): hand print.csv to the printer over a private channel, then delete it"
    );
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on stderr if it is a terminal, hidden otherwise.
fn progress_bar(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} items  {per_sec}  eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}
