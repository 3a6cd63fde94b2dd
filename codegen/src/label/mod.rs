//! Printable labels: one QR code per item or case, with its serial or case code printed under it.
//!
//! Every format starts from the same [`QrMatrix`] (the modules `qrcode` computed for a payload) and
//! the same [`LabelOptions`] (error correction, module size, quiet zone), so a PNG, an SVG, a PDF
//! sheet and a ZPL label for one payload carry the very same symbol. The formats live one per
//! file; [`sink`] is what the batch writer feeds to get a `labels/` folder.

pub mod font;
mod mask;
pub mod pdf;
pub mod png;
pub mod sink;
pub mod svg;
pub mod zpl;

use std::fmt;
use std::str::FromStr;

use qrcode::EcLevel;

use crate::error::{Error, Result};

pub use sink::{LabelFolder, LabelFormats, LabelSink};

/// ISO/IEC 18004 asks for at least four light modules around the symbol; scanners lose the
/// finder patterns against a busy background without it.
pub const MIN_QUIET_ZONE: u32 = 4;

/// Error-correction level of the QR symbol (share of the symbol that may be damaged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ecc {
    /// ~7 %.
    L,
    /// ~15 %; the default.
    #[default]
    M,
    /// ~25 %.
    Q,
    /// ~30 %.
    H,
}

impl Ecc {
    /// All levels, lowest first.
    pub const ALL: [Ecc; 4] = [Ecc::L, Ecc::M, Ecc::Q, Ecc::H];

    fn level(self) -> EcLevel {
        match self {
            Ecc::L => EcLevel::L,
            Ecc::M => EcLevel::M,
            Ecc::Q => EcLevel::Q,
            Ecc::H => EcLevel::H,
        }
    }

    /// The letter used by ZPL and most tools.
    pub fn letter(self) -> char {
        match self {
            Ecc::L => 'L',
            Ecc::M => 'M',
            Ecc::Q => 'Q',
            Ecc::H => 'H',
        }
    }
}

impl FromStr for Ecc {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "L" => Ok(Ecc::L),
            "M" => Ok(Ecc::M),
            "Q" => Ok(Ecc::Q),
            "H" => Ok(Ecc::H),
            _ => Err(Error::LabelOption(format!(
                "error correction level {s:?}: expected L, M, Q or H"
            ))),
        }
    }
}

impl fmt::Display for Ecc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.letter())
    }
}

/// How big one QR module is: in device pixels (dots), or physically at a resolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ModuleSize {
    /// Pixels (PNG) or printer dots (ZPL) per module.
    Pixels(u32),
    /// Millimetres per module at `dpi` dots per inch; rounded to whole dots.
    Physical { dpi: u32, mm: f32 },
}

impl ModuleSize {
    /// Whole pixels per module, at least 1.
    pub fn pixels(self) -> Result<u32> {
        match self {
            ModuleSize::Pixels(0) => Err(Error::LabelOption(
                "module size must be at least 1 pixel".into(),
            )),
            ModuleSize::Pixels(px) => Ok(px),
            ModuleSize::Physical { dpi, mm } => {
                if dpi == 0 || !(mm.is_finite() && mm > 0.0) {
                    return Err(Error::LabelOption(format!(
                        "module size {mm} mm at {dpi} dpi: both must be positive"
                    )));
                }
                let px = (f64::from(mm) * f64::from(dpi) / 25.4).round();
                // A module smaller than one dot cannot be printed; larger than 1000 is a typo.
                if !(1.0..=1000.0).contains(&px) {
                    return Err(Error::LabelOption(format!(
                        "module size {mm} mm at {dpi} dpi is {px} dots; expected 1 to 1000"
                    )));
                }
                Ok(px as u32)
            }
        }
    }
}

/// Options shared by every label format.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelOptions {
    /// Error-correction level.
    pub ecc: Ecc,
    /// Size of one module.
    pub module: ModuleSize,
    /// Light modules around the symbol; at least [`MIN_QUIET_ZONE`].
    pub quiet_zone: u32,
}

impl Default for LabelOptions {
    fn default() -> Self {
        LabelOptions {
            ecc: Ecc::M,
            module: ModuleSize::Pixels(4),
            quiet_zone: MIN_QUIET_ZONE,
        }
    }
}

impl LabelOptions {
    /// Checks the options once, so renderers can trust them.
    pub fn validate(&self) -> Result<()> {
        if self.quiet_zone < MIN_QUIET_ZONE {
            return Err(Error::QuietZone {
                got: self.quiet_zone,
                min: MIN_QUIET_ZONE,
            });
        }
        if self.quiet_zone > 100 {
            return Err(Error::LabelOption(format!(
                "quiet zone of {} modules is implausibly large",
                self.quiet_zone
            )));
        }
        self.module.pixels().map(|_| ())
    }
}

/// Label flags as typed on the command line, before validation.
#[derive(Debug, Clone, Copy, Default)]
pub struct LabelFlags<'a> {
    /// `--ecc`: L, M, Q or H.
    pub ecc: Option<&'a str>,
    /// `--module-px`: pixels (dots) per module.
    pub module_px: Option<&'a str>,
    /// `--module-mm`: millimetres per module, with `dpi`.
    pub module_mm: Option<&'a str>,
    /// `--dpi`: resolution for `module_mm`.
    pub dpi: Option<&'a str>,
    /// `--quiet-zone`: light modules around the symbol.
    pub quiet_zone: Option<&'a str>,
}

impl LabelFlags<'_> {
    /// Validates the flags into options; absent flags keep the defaults (M, 4 px, 4 modules).
    pub fn to_options(&self) -> Result<LabelOptions> {
        let number = |flag: &'static str, s: &str| -> Result<u32> {
            s.trim()
                .parse()
                .map_err(|_| Error::input(flag, s, "expected a whole number"))
        };
        let mut o = LabelOptions::default();
        if let Some(e) = self.ecc {
            o.ecc = e
                .parse()
                .map_err(|_| Error::input("--ecc", e, "expected L, M, Q or H"))?;
        }
        o.module = match (self.module_px, self.module_mm) {
            (Some(_), Some(_)) => {
                return Err(Error::input(
                    "--module-mm",
                    self.module_mm.unwrap_or_default(),
                    "give either --module-px or --module-mm with --dpi, not both",
                ));
            }
            (Some(px), None) => ModuleSize::Pixels(number("--module-px", px)?),
            (None, Some(mm)) => ModuleSize::Physical {
                dpi: number("--dpi", self.dpi.unwrap_or("300"))?,
                mm: mm.trim().parse().map_err(|_| {
                    Error::input("--module-mm", mm, "expected millimetres, e.g. 0.5")
                })?,
            },
            (None, None) => o.module,
        };
        if let Some(q) = self.quiet_zone {
            o.quiet_zone = number("--quiet-zone", q)?;
        }
        o.validate()?;
        Ok(o)
    }
}

/// The dark/light modules of one QR symbol, without quiet zone.
#[derive(Debug, Clone)]
pub struct QrMatrix {
    width: usize,
    dark: Vec<bool>,
}

impl QrMatrix {
    /// Encodes `payload` at `ecc`; fails if it does not fit in a QR symbol.
    pub fn encode(payload: &str, ecc: Ecc) -> Result<Self> {
        let (width, dark) = mask::encode(payload.as_bytes(), ecc.level())?;
        Ok(QrMatrix { width, dark })
    }

    /// Modules per side.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Whether the module at column `x`, row `y` is dark.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }

    /// One row of modules.
    pub fn row(&self, y: usize) -> &[bool] {
        &self.dark[y * self.width..(y + 1) * self.width]
    }

    /// Horizontal runs of dark modules as `(x, y, len)`: vector formats draw one rectangle per
    /// run instead of per module, which roughly halves their size.
    pub fn dark_runs(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        (0..self.width).flat_map(move |y| {
            let row = self.row(y);
            let mut runs = Vec::new();
            let mut x = 0;
            while x < row.len() {
                if row[x] {
                    let start = x;
                    while x < row.len() && row[x] {
                        x += 1;
                    }
                    runs.push((start, y, x - start));
                } else {
                    x += 1;
                }
            }
            runs
        })
    }
}

/// Upper-cases a caption and keeps it to one line; labels print codes, not prose.
pub(crate) fn caption_text(caption: &str) -> String {
    caption
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}
