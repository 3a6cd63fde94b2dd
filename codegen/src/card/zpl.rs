//! A card as a ZPL II label: the picture rasterised (as for the PNG) at the printer's dots,
//! thresholded to black and white, and sent as one graphic field (`^GFA`).
//!
//! Why a picture rather than ZPL's own text and barcode commands: a label printer has no Chinese
//! font unless one was downloaded to it, and a waybill label is mostly Chinese (names,
//! addresses). A graphic field prints the same on every Zebra-compatible printer, at the cost of
//! size: a 100 × 150 mm label at 203 dpi is 800 × 1200 dots, 120,000 bytes as 1 bit per dot, sent
//! as hex (240 KB), a second on a 9100 link. The QR is whole-dot squares in the picture, so it
//! scans as crisply as the printer's own `^BQ` would.

use std::fmt::Write as _;

use image::{GrayImage, Luma, RgbImage};

use super::{Card, Fonts, png};
use crate::error::Result;

/// Darker than this (0–255 luma) prints as a black dot.
const THRESHOLD: u8 = 160;

/// The card as one ZPL format (`^XA` … `^XZ`) whose label is the card's size in dots.
pub(super) fn render(card: &Card, fonts: &Fonts) -> Result<String> {
    let img = png::draw(card, fonts)?;
    Ok(encode(&img))
}

/// The rasterised card as a `^GFA` field: each row packed 8 dots to a byte, most significant
/// bit leftmost, 1 = black; rows padded to whole bytes.
fn encode(img: &RgbImage) -> String {
    let (w, h) = img.dimensions();
    let row_bytes = w.div_ceil(8) as usize;
    let total = row_bytes * h as usize;
    let mut hex = String::with_capacity(total * 2 + h as usize);
    for y in 0..h {
        let mut row = vec![0u8; row_bytes];
        for x in 0..w {
            let p = img.get_pixel(x, y).0;
            // Rec. 601 luma, in integers.
            let luma =
                (299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2])) / 1000;
            if luma < u32::from(THRESHOLD) {
                row[(x / 8) as usize] |= 0x80 >> (x % 8);
            }
        }
        for b in row {
            let _ = write!(hex, "{b:02X}");
        }
        hex.push('\n');
    }
    format!("^XA\n^PW{w}\n^LL{h}\n^LH0,0\n^FO0,0^GFA,{total},{total},{row_bytes},\n{hex}^FS\n^XZ\n")
}

/// Reads a label written by [`render`] back into a picture (black on white): for tests, and for
/// a preview of what the printer will print.
pub fn decode_graphic(zpl: &str) -> Option<GrayImage> {
    let start = zpl.find("^GFA,")? + 5;
    let rest = &zpl[start..];
    let mut fields = rest.splitn(4, ',');
    let total: usize = fields.next()?.trim().parse().ok()?;
    let _ = fields.next()?;
    let row_bytes: usize = fields.next()?.trim().parse().ok()?;
    let data = fields.next()?;
    let data = &data[..data.find("^FS")?];
    let bytes: Vec<u8> = data
        .split_whitespace()
        .flat_map(|line| {
            line.as_bytes()
                .chunks(2)
                .map(|c| c.to_vec())
                .collect::<Vec<_>>()
        })
        .filter_map(|pair| u8::from_str_radix(std::str::from_utf8(&pair).ok()?, 16).ok())
        .collect();
    if row_bytes == 0 || bytes.len() != total || total % row_bytes != 0 {
        return None;
    }
    let w = u32::try_from(row_bytes * 8).ok()?;
    let h = u32::try_from(total / row_bytes).ok()?;
    let mut img = GrayImage::from_pixel(w, h, Luma([255]));
    for (i, b) in bytes.iter().enumerate() {
        let y = u32::try_from(i / row_bytes).ok()?;
        for bit in 0..8u32 {
            if b & (0x80 >> bit) != 0 {
                let x = u32::try_from(i % row_bytes).ok()? * 8 + bit;
                img.put_pixel(x, y, Luma([0]));
            }
        }
    }
    Some(img)
}
