//! PNG labels: the QR symbol drawn straight into an 8-bit grey buffer, caption underneath.
//!
//! Modules are written row by row into a pre-sized buffer (one pixel row per module row, then
//! copied `px` times) instead of going through `qrcode`'s generic renderer, and the PNG is encoded
//! with the fast deflate setting: labels are bilevel, so the fast setting costs little in size.

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, GrayImage, ImageEncoder};

use super::{LabelOptions, QrMatrix, caption_text, font};
use crate::error::{Error, Result};

const WHITE: u8 = 255;
const BLACK: u8 = 0;

/// Renders the label for `payload` with `caption` printed under the symbol.
pub fn render_gray(payload: &str, caption: &str, opts: &LabelOptions) -> Result<GrayImage> {
    opts.validate()?;
    let qr = QrMatrix::encode(payload, opts.ecc)?;
    draw(&qr, &caption_text(caption), opts)
}

/// Renders the label for `payload` as PNG bytes.
pub fn render_png(payload: &str, caption: &str, opts: &LabelOptions) -> Result<Vec<u8>> {
    encode_png(&render_gray(payload, caption, opts)?)
}

/// Encodes a grey image as PNG with fast compression.
pub fn encode_png(img: &GrayImage) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(img.as_raw().len() / 8 + 256);
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Sub)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            ExtendedColorType::L8,
        )
        .map_err(|e| Error::Image(e.to_string()))?;
    Ok(out)
}

/// Draws an encoded symbol and a caption into a new image.
pub fn draw(qr: &QrMatrix, caption: &str, opts: &LabelOptions) -> Result<GrayImage> {
    let px = opts.module.pixels()? as usize;
    let qz = opts.quiet_zone as usize;
    let n = qr.width();
    let qr_side = (n + 2 * qz) * px;

    // The caption is scaled to about the symbol's width but never taller than a few modules.
    let text_w = font::text_width(caption) as usize;
    let scale = (qr_side.saturating_sub(2 * px))
        .checked_div(text_w)
        .map_or(0, |s| s.clamp(1, px.max(1)));
    let width = qr_side.max(text_w * scale + 2 * px);
    let caption_h = if text_w == 0 {
        0
    } else {
        (font::HEIGHT as usize + 3) * scale
    };
    let height = qr_side + caption_h;
    let too_big = || Error::LabelOption(format!("label of {width}×{height} pixels is too large"));
    let (w32, h32) = (
        u32::try_from(width).map_err(|_| too_big())?,
        u32::try_from(height).map_err(|_| too_big())?,
    );
    if width.checked_mul(height).is_none_or(|a| a > 1 << 30) {
        return Err(too_big());
    }

    let mut buf = vec![WHITE; width * height];
    let x0 = (width - qr_side) / 2 + qz * px;
    let mut line = vec![WHITE; width];
    for y in 0..n {
        line.fill(WHITE);
        for (x, &dark) in qr.row(y).iter().enumerate() {
            if dark {
                let start = x0 + x * px;
                line[start..start + px].fill(BLACK);
            }
        }
        let top = (qz + y) * px;
        for row in buf[top * width..(top + px) * width].chunks_exact_mut(width) {
            row.copy_from_slice(&line);
        }
    }

    if scale > 0 {
        let left = (width - text_w * scale) / 2;
        let top = qr_side + scale;
        font::for_each_dot(caption, |fx, fy| {
            let (x, y) = (left + fx as usize * scale, top + fy as usize * scale);
            for yy in y..y + scale {
                buf[yy * width + x..yy * width + x + scale].fill(BLACK);
            }
        });
    }

    GrayImage::from_raw(w32, h32, buf).ok_or_else(too_big)
}
