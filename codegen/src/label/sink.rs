//! The `labels/` folder of a batch: an observer the batch writer feeds with every case and item.
//!
//! Labels are buffered in blocks of [`BLOCK`]; each block's symbols are encoded once for all
//! formats and its PNG and SVG files written in parallel (rayon), since encoding and rendering
//! are the costly part of a batch with labels. The PDF sheets and the ZPL file are then appended
//! in order, so they list labels as `import.jsonl` does (each case, then its items).

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rayon::prelude::*;

use super::pdf::{SheetLayout, SheetWriter};
use super::{LabelOptions, QrMatrix, caption_text, png, svg, zpl};
use crate::error::{Error, Result};

/// Labels buffered before a parallel render: enough to keep both cores busy, small in memory.
const BLOCK: usize = 256;

/// Receives every label of a batch, cases and items in file order.
pub trait LabelSink {
    /// An item label: its serial (caption and file name) and the QR payload.
    fn item(&mut self, serial: &str, payload: &str) -> Result<()>;
    /// A case label: its code (SSCC or internal case code) and the QR payload.
    fn case(&mut self, code: &str, payload: &str) -> Result<()>;
    /// Writes whatever is buffered and closes the files; called once after the last label.
    fn finish(&mut self) -> Result<()>;
}

/// Which label formats to write; parsed from `png,svg,pdf,zpl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LabelFormats {
    /// `items/{serial}.png`, `cases/{code}.png`.
    pub png: bool,
    /// `items/{serial}.svg`, `cases/{code}.svg`.
    pub svg: bool,
    /// `sheets.pdf`.
    pub pdf: bool,
    /// `labels.zpl`.
    pub zpl: bool,
}

impl LabelFormats {
    /// Whether no format is selected.
    pub fn is_empty(&self) -> bool {
        *self == LabelFormats::default()
    }
}

impl FromStr for LabelFormats {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let mut f = LabelFormats::default();
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name.to_ascii_lowercase().as_str() {
                "png" => f.png = true,
                "svg" => f.svg = true,
                "pdf" => f.pdf = true,
                "zpl" => f.zpl = true,
                "all" => {
                    f = LabelFormats {
                        png: true,
                        svg: true,
                        pdf: true,
                        zpl: true,
                    }
                }
                _ => {
                    return Err(Error::input(
                        "--labels",
                        s,
                        format!(
                            "unknown label format {name:?}; expected png, svg, pdf, zpl or all"
                        ),
                    ));
                }
            }
        }
        if f.is_empty() {
            return Err(Error::input(
                "--labels",
                s,
                "no label format given; expected png, svg, pdf, zpl or all",
            ));
        }
        Ok(f)
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Item,
    Case,
}

/// Writes `labels/` inside a batch folder.
pub struct LabelFolder {
    dir: PathBuf,
    formats: LabelFormats,
    opts: LabelOptions,
    pending: Vec<(Kind, String, String)>,
    sheets: Option<SheetWriter<BufWriter<File>>>,
    zpl: Option<BufWriter<File>>,
}

impl LabelFolder {
    /// Creates `{batch_dir}/labels/` and its files for `formats`.
    pub fn create(batch_dir: &Path, formats: LabelFormats, opts: LabelOptions) -> Result<Self> {
        opts.validate()?;
        let dir = batch_dir.join("labels");
        for sub in ["items", "cases"] {
            if formats.png || formats.svg {
                let path = dir.join(sub);
                fs::create_dir_all(&path).map_err(Error::io(&path))?;
            }
        }
        fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
        let sheets = if formats.pdf {
            let path = dir.join("sheets.pdf");
            let file = File::create(&path).map_err(Error::io(&path))?;
            Some(SheetWriter::new(
                BufWriter::with_capacity(1 << 16, file),
                SheetLayout::default(),
                opts,
            )?)
        } else {
            None
        };
        let zpl = if formats.zpl {
            let path = dir.join("labels.zpl");
            let file = File::create(&path).map_err(Error::io(&path))?;
            Some(BufWriter::with_capacity(1 << 16, file))
        } else {
            None
        };
        Ok(LabelFolder {
            dir,
            formats,
            opts,
            pending: Vec::with_capacity(BLOCK),
            sheets,
            zpl,
        })
    }

    fn push(&mut self, kind: Kind, name: &str, payload: &str) -> Result<()> {
        // The name becomes a file name: codes are alphanumeric, anything else is a bug upstream
        // and must not become a path.
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::input(
                "label name",
                name,
                "must be a serial or case code",
            ));
        }
        self.pending
            .push((kind, name.to_owned(), payload.to_owned()));
        if self.pending.len() >= BLOCK {
            self.flush()?;
        }
        Ok(())
    }

    /// Encodes the buffered labels and writes their PNG/SVG files on all cores, then appends
    /// them, in order, to the PDF sheets and the ZPL file. Each symbol is encoded once for all
    /// formats: encoding is the costly step.
    fn flush(&mut self) -> Result<()> {
        let (dir, formats, opts) = (&self.dir, self.formats, &self.opts);
        let encoded: Vec<QrMatrix> = self
            .pending
            .par_iter()
            .map(|(kind, name, payload)| -> Result<QrMatrix> {
                let qr = QrMatrix::encode(payload, opts.ecc)?;
                let sub = dir.join(match kind {
                    Kind::Item => "items",
                    Kind::Case => "cases",
                });
                if formats.png {
                    let path = sub.join(format!("{name}.png"));
                    let bytes = png::encode_png(&png::draw(&qr, &caption_text(name), opts)?)?;
                    fs::write(&path, bytes).map_err(Error::io(&path))?;
                }
                if formats.svg {
                    let path = sub.join(format!("{name}.svg"));
                    let text = svg::draw(&qr, &caption_text(name), opts);
                    fs::write(&path, text).map_err(Error::io(&path))?;
                }
                Ok(qr)
            })
            .collect::<Result<_>>()?;
        for ((_, name, payload), qr) in self.pending.iter().zip(&encoded) {
            if let Some(sheets) = &mut self.sheets {
                sheets.add_encoded(qr, name)?;
            }
            if let Some(out) = &mut self.zpl {
                let text = zpl::draw(qr, payload, name, opts)?;
                let path = dir.join("labels.zpl");
                out.write_all(text.as_bytes()).map_err(Error::io(path))?;
            }
        }
        self.pending.clear();
        Ok(())
    }
}

impl LabelSink for LabelFolder {
    fn item(&mut self, serial: &str, payload: &str) -> Result<()> {
        self.push(Kind::Item, serial, payload)
    }

    fn case(&mut self, code: &str, payload: &str) -> Result<()> {
        self.push(Kind::Case, code, payload)
    }

    fn finish(&mut self) -> Result<()> {
        self.flush()?;
        if let Some(sheets) = self.sheets.take() {
            let path = self.dir.join("sheets.pdf");
            let mut out = sheets.finish()?;
            out.flush().map_err(Error::io(path))?;
        }
        if let Some(mut out) = self.zpl.take() {
            let path = self.dir.join("labels.zpl");
            out.flush().map_err(Error::io(path))?;
        }
        Ok(())
    }
}
