//! What to generate ([`BatchSpec`]) and its validation into a `Plan` — every check that can
//! be made before a single byte is written.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::gs1::{CompanyPrefix, Gtin14};
use crate::label::{LabelFormats, LabelOptions};
use crate::serial::{MAX_CASES, MAX_ITEMS};

use super::sscc_counter::SsccCounter;

/// Default items per case.
pub const DEFAULT_CASE_SIZE: u32 = 72;
/// First SSCC serial reference when neither a counter nor `--sscc-start` says otherwise.
pub const FIRST_SSCC_SERIAL: u64 = 1;

/// Everything needed to generate one batch. Build it, then call [`super::write_batch`].
#[derive(Debug, Clone)]
pub struct BatchSpec {
    /// Product reference (SKU); free text, 1–200 characters, no control characters.
    pub product: String,
    /// Number of items, at least 1.
    pub items: u64,
    /// Items per case (the last case may be short), at least 1.
    pub case_size: u32,
    /// GTIN of the product: logistics URLs then use GS1 Digital Link.
    pub gtin: Option<Gtin14>,
    /// GS1 company prefix: cases then get SSCC-18s.
    pub company_prefix: Option<CompanyPrefix>,
    /// First SSCC serial reference; overrides the counter.
    pub sscc_start: Option<u64>,
    /// Counter file of SSCC serial references (`KEYFILE.sscc.json`, see
    /// [`super::sscc_counter::counter_path`]); advanced after a successful batch.
    pub sscc_counter: Option<PathBuf>,
    /// Production date, recorded in the batch files.
    pub production_date: Option<NaiveDate>,
    /// Base of every URL, e.g. `https://chainmark.example`; a trailing slash is dropped.
    pub base_url: String,
    /// The batch folder to create. Must not exist, or be empty; its parent must exist.
    pub out: PathBuf,
    /// Label files to render into `labels/`, if any.
    pub labels: Option<LabelFormats>,
    /// How to render labels.
    pub label_options: LabelOptions,
}

impl BatchSpec {
    /// A spec with defaults: case size 72, no GTIN, no prefix, no labels.
    pub fn new(
        product: impl Into<String>,
        items: u64,
        base_url: impl Into<String>,
        out: impl Into<PathBuf>,
    ) -> Self {
        BatchSpec {
            product: product.into(),
            items,
            case_size: DEFAULT_CASE_SIZE,
            gtin: None,
            company_prefix: None,
            sscc_start: None,
            sscc_counter: None,
            production_date: None,
            base_url: base_url.into(),
            out: out.into(),
            labels: None,
            label_options: LabelOptions::default(),
        }
    }
}

/// A validated spec: what [`super::write_batch`] executes.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub base_url: String,
    pub cases: u64,
    /// First SSCC serial reference, when cases get SSCCs.
    pub sscc_first: Option<u64>,
    pub counter: Option<SsccCounter>,
    pub parent: PathBuf,
    pub name: String,
}

impl BatchSpec {
    /// Checks every field and the output folder; writes nothing.
    pub(crate) fn plan(&self) -> Result<Plan> {
        check_product(&self.product)?;
        if self.items == 0 {
            return Err(Error::input(
                "--items",
                "0",
                "a batch needs at least one item",
            ));
        }
        if self.items >= MAX_ITEMS {
            return Err(Error::input(
                "--items",
                self.items.to_string(),
                format!("at most {} items fit in a batch", MAX_ITEMS - 1),
            ));
        }
        if self.case_size == 0 {
            return Err(Error::input(
                "--case-size",
                "0",
                "a case holds at least one item",
            ));
        }
        let cases = self.items.div_ceil(u64::from(self.case_size));
        if cases >= MAX_CASES {
            return Err(Error::input(
                "--case-size",
                self.case_size.to_string(),
                "too many cases for one batch; use bigger cases",
            ));
        }
        let base_url = check_base_url(&self.base_url)?;
        if let Some(labels) = self.labels {
            if !labels.is_empty() {
                self.label_options.validate()?;
            }
        }
        let (sscc_first, counter) = self.plan_sscc(cases)?;
        let (parent, name) = check_out(&self.out)?;
        Ok(Plan {
            base_url,
            cases,
            sscc_first,
            counter,
            parent,
            name,
        })
    }

    fn plan_sscc(&self, cases: u64) -> Result<(Option<u64>, Option<SsccCounter>)> {
        let Some(prefix) = &self.company_prefix else {
            if self.sscc_start.is_some() {
                return Err(Error::input(
                    "--sscc-start",
                    self.sscc_start.unwrap_or_default().to_string(),
                    "SSCCs need a GS1 company prefix; add --company-prefix",
                ));
            }
            return Ok((None, None));
        };
        let counter = match &self.sscc_counter {
            Some(path) => Some(SsccCounter::load(path)?),
            None => None,
        };
        let first = match (self.sscc_start, &counter) {
            (Some(start), _) => start,
            (None, Some(counter)) => counter.next(prefix),
            (None, None) => FIRST_SSCC_SERIAL,
        };
        let capacity = prefix.serial_capacity();
        if first.checked_add(cases).is_none_or(|end| end > capacity) {
            return Err(Error::input(
                "--sscc-start",
                first.to_string(),
                format!(
                    "{cases} cases from serial reference {first} exceed the {capacity} SSCCs of \
                     company prefix {prefix}"
                ),
            ));
        }
        Ok((Some(first), counter))
    }
}

fn check_product(product: &str) -> Result<()> {
    let n = product.chars().count();
    if n == 0 || n > 200 || product.chars().any(char::is_control) || product.trim() != product {
        return Err(Error::input(
            "--product",
            product,
            "give 1 to 200 printable characters, without leading or trailing spaces",
        ));
    }
    Ok(())
}

/// Characters allowed in a base URL: unreserved, `:` `/` `%` `@` and `-`; nothing that would
/// need quoting in CSV or escaping in JSON, no query or fragment.
fn check_base_url(url: &str) -> Result<String> {
    let trimmed = url.strip_suffix('/').unwrap_or(url);
    let bad = |why: &str| Err(Error::input("--base-url", url, why.to_owned()));
    let rest = if let Some(r) = trimmed.strip_prefix("https://") {
        r
    } else if let Some(r) = trimmed.strip_prefix("http://") {
        r
    } else {
        return bad("must start with https:// (or http://), e.g. https://chainmark.example");
    };
    if rest.is_empty() || rest.starts_with('/') {
        return bad("has no host name");
    }
    if !rest
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._~:/%@".contains(c))
    {
        return bad(
            "may only contain letters, digits and - . _ ~ : / % @ (no query, fragment or spaces)",
        );
    }
    Ok(trimmed.to_owned())
}

/// Splits `out` into an existing parent and a file name; refuses an existing non-empty folder.
fn check_out(out: &Path) -> Result<(PathBuf, String)> {
    let unwritable = |source| Error::OutputUnwritable {
        path: out.to_owned(),
        source,
    };
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| unwritable(io::Error::other("the path must end in a folder name")))?
        .to_owned();
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    match fs::metadata(&parent) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(unwritable(io::Error::other("its parent is not a folder"))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(unwritable(io::Error::new(
                io::ErrorKind::NotFound,
                "its parent folder does not exist",
            )));
        }
        Err(e) => return Err(unwritable(e)),
    }
    match fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::OutputExists {
                    path: out.to_owned(),
                });
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(_) if out.exists() => {
            return Err(Error::OutputExists {
                path: out.to_owned(),
            });
        }
        Err(e) => return Err(unwritable(e)),
    }
    Ok((parent, name))
}
