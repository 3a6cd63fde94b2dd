//! Pictures made of rectangles, single lines of text and a QR code (an agent's certificate
//! 授权证书, an invitation poster), described once and drawn as SVG or as PNG.
//!
//! Why one description and two renderings: the SVG stays sharp when printed and is drawn by the
//! phone in its own CJK font, but phones inside WeChat cannot save or share an SVG, so the same
//! picture is also needed as a PNG, rasterised here from a CJK font the server has ([`Fonts`]).
//! Writing both from one [`Card`] means the two can never drift apart: same boxes, same colours,
//! same words, same QR.
//!
//! Text that must fit a width is fitted once, without any font (see [`Text::max_width`]), so the
//! SVG and the PNG even agree on where a long name is cut.

mod fit;
mod fonts;
mod pdf;
mod png;
mod svg;
mod zpl;

use crate::error::{Error, Result};
use crate::label::{Ecc, QrMatrix};

pub use fonts::{FONT_ENV, Fonts, KNOWN_FONT_PATHS};
pub use zpl::decode_graphic;

/// A colour, 8 bits per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Black, the default text colour (SVG's default fill too).
    pub const BLACK: Rgb = Rgb(0, 0, 0);
    /// White.
    pub const WHITE: Rgb = Rgb(255, 255, 255);

    /// `#rrggbb`, as SVG attributes want it.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// An outline: colour and width in pixels, centred on the rectangle's edge as in SVG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stroke {
    /// Colour.
    pub color: Rgb,
    /// Width in pixels.
    pub width: u32,
}

/// How a rectangle is painted: a fill, an outline, or both, with rounded corners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Paint {
    /// Fill colour; `None` leaves the inside transparent.
    pub fill: Option<Rgb>,
    /// Outline; `None` draws none.
    pub stroke: Option<Stroke>,
    /// Corner radius in pixels (SVG's `rx`); 0 for square corners.
    pub radius: u32,
}

impl Paint {
    /// A filled rectangle without outline.
    pub fn fill(color: Rgb) -> Paint {
        Paint {
            fill: Some(color),
            ..Paint::default()
        }
    }

    /// An outline only.
    pub fn stroke(color: Rgb, width: u32) -> Paint {
        Paint {
            stroke: Some(Stroke { color, width }),
            ..Paint::default()
        }
    }

    /// The same paint with rounded corners.
    pub fn radius(mut self, radius: u32) -> Paint {
        self.radius = radius;
        self
    }
}

/// Where a line of text sits relative to its x (SVG's `text-anchor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Anchor {
    /// The line starts at x.
    #[default]
    Start,
    /// The line is centred on x.
    Middle,
}

/// One line of text and how it looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// The words. Line breaks and other control characters are turned into spaces: a card's
    /// text is always a single line.
    pub content: String,
    /// Colour.
    pub color: Rgb,
    /// Bold (SVG's `font-weight="700"`; in the PNG the line is drawn twice, slightly offset,
    /// since one regular CJK font is all the server has).
    pub bold: bool,
    /// Alignment on x.
    pub anchor: Anchor,
    /// The widest the line may be, in pixels. A longer line is first **shrunk**, down to two
    /// thirds of its size, and what still does not fit at that size is **truncated** with "…".
    /// The width is estimated without a font (CJK characters one em, others 0.6 em), because
    /// the SVG is drawn in the phone's font, which the server cannot measure; the PNG shrinks a
    /// little further if its font turns out wider than the estimate.
    pub max_width: Option<u32>,
}

impl Text {
    /// Black, regular, start-anchored text without a width limit.
    pub fn new(content: impl Into<String>) -> Text {
        Text {
            content: content.into(),
            color: Rgb::BLACK,
            bold: false,
            anchor: Anchor::Start,
            max_width: None,
        }
    }

    /// Sets the colour.
    pub fn color(mut self, color: Rgb) -> Text {
        self.color = color;
        self
    }

    /// Makes the text bold.
    pub fn bold(mut self) -> Text {
        self.bold = true;
        self
    }

    /// Centres the text on its x.
    pub fn middle(mut self) -> Text {
        self.anchor = Anchor::Middle;
        self
    }

    /// Limits the width; see [`Text::max_width`](Text#structfield.max_width).
    pub fn max_width(mut self, width: u32) -> Text {
        self.max_width = Some(width);
        self
    }
}

/// One element of a card, drawn in the order added.
#[derive(Debug, Clone)]
enum Item {
    Rect {
        x: u32,
        y: u32,
        w: u32,
        h: u32,
        paint: Paint,
    },
    Text {
        x: u32,
        /// Baseline, as SVG's text `y`.
        y: u32,
        size: u32,
        text: Text,
    },
    Qr {
        x: u32,
        y: u32,
        size: u32,
        matrix: QrMatrix,
    },
}

/// Light modules around a card's QR code (ISO/IEC 18004's minimum).
const QUIET_ZONE: usize = 4;

/// A picture: a background colour and items drawn in order. Coordinates are pixels from the
/// top-left corner, as in SVG.
#[derive(Debug, Clone)]
pub struct Card {
    width: u32,
    height: u32,
    background: Rgb,
    items: Vec<Item>,
}

impl Card {
    /// An empty card of `width` × `height` pixels filled with `background`.
    pub fn new(width: u32, height: u32, background: Rgb) -> Card {
        Card {
            width,
            height,
            background,
            items: Vec::new(),
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Adds a rectangle with its top-left corner at (`x`, `y`).
    pub fn rect(mut self, x: u32, y: u32, w: u32, h: u32, paint: Paint) -> Card {
        self.items.push(Item::Rect { x, y, w, h, paint });
        self
    }

    /// Adds a line of text of `size` pixels (the em size, SVG's `font-size`) whose baseline is
    /// at `y`.
    pub fn text(mut self, x: u32, y: u32, size: u32, mut text: Text) -> Card {
        text.content = fit::single_line(&text.content);
        self.items.push(Item::Text { x, y, size, text });
        self
    }

    /// Adds a QR code of `data` (error correction M) in the square at (`x`, `y`), `size` pixels
    /// wide, quiet zone included. Fails if `data` does not fit in a QR code, or if the square is
    /// too small to give every module (quiet zone included) at least one pixel.
    pub fn qr(mut self, data: &str, x: u32, y: u32, size: u32) -> Result<Card> {
        let matrix = QrMatrix::encode(data, Ecc::M)?;
        let n = matrix.width() + 2 * QUIET_ZONE;
        if (size as usize) < n {
            return Err(Error::Card(format!(
                "a QR code of {n} modules (quiet zone included) needs at least {n} pixels, \
                 got {size}"
            )));
        }
        self.items.push(Item::Qr { x, y, size, matrix });
        Ok(self)
    }

    /// The card as an SVG document; text is drawn by the viewer in its own CJK font.
    pub fn to_svg(&self) -> String {
        svg::render(self)
    }

    /// The card as a PNG, its text drawn with `fonts`.
    pub fn to_png(&self, fonts: &Fonts) -> Result<Vec<u8>> {
        png::render(self, fonts)
    }

    /// The card as a one-page PDF of `width_mm` × `height_mm` (the picture fills the page; draw
    /// it at the page's proportions), its text drawn with `fonts`.
    pub fn to_pdf(&self, fonts: &Fonts, width_mm: f32, height_mm: f32) -> Result<Vec<u8>> {
        pdf::render(self, fonts, width_mm, height_mm)
    }

    /// The card as a ZPL II label for a thermal printer, one pixel per printer dot (800 × 1200
    /// for 100 × 150 mm at 203 dpi), its text drawn with `fonts` (see `card/zpl.rs`).
    pub fn to_zpl(&self, fonts: &Fonts) -> Result<String> {
        zpl::render(self, fonts)
    }

    /// Every character of the card's text that `fonts` has no glyph for (whitespace aside),
    /// each once, in order of appearance: empty means the PNG shows no tofu boxes.
    pub fn missing_glyphs(&self, fonts: &Fonts) -> Vec<char> {
        let mut out: Vec<char> = Vec::new();
        for item in &self.items {
            if let Item::Text { size, text, .. } = item {
                // The fitted line may add "…", which must be in the font as well.
                let (fitted, _) = fit::fit(text, *size);
                for c in fonts
                    .missing(&text.content)
                    .into_iter()
                    .chain(fonts.missing(&fitted))
                {
                    if !out.contains(&c) {
                        out.push(c);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
