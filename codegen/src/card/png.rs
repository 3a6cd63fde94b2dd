//! A card rasterised into an RGB image and encoded as PNG.
//!
//! Shapes are antialiased by coverage (the share of a pixel inside the shape), text by the
//! coverage `ab_glyph` computes per glyph; the QR is the exception: its modules are whole pixel
//! squares, so a scanner (and `rqrr`) sees crisp edges.

use ab_glyph::{Font, GlyphId, PxScale, ScaleFont, point};
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, RgbImage};

use super::fit::{self, BOLD_OFFSET_EM};
use super::{Anchor, Card, Fonts, Item, Paint, QUIET_ZONE, Rgb, Text};
use crate::error::{Error, Result};
use crate::label::QrMatrix;

/// The largest side drawn: a certificate is 750 × 1000; 8192 leaves room for print sizes while
/// keeping a mistyped size from allocating gigabytes.
const MAX_SIDE: u32 = 8192;

pub(super) fn render(card: &Card, fonts: &Fonts) -> Result<Vec<u8>> {
    let img = draw(card, fonts)?;
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            ExtendedColorType::Rgb8,
        )
        .map_err(|e| Error::Image(e.to_string()))?;
    Ok(out)
}

/// The card as an image.
pub(super) fn draw(card: &Card, fonts: &Fonts) -> Result<RgbImage> {
    let (w, h) = (card.width, card.height);
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(Error::Card(format!(
            "a card of {w} × {h} pixels; each side must be 1 to {MAX_SIDE}"
        )));
    }
    let bg = card.background;
    let mut img = RgbImage::from_pixel(w, h, image::Rgb([bg.0, bg.1, bg.2]));
    for item in &card.items {
        match item {
            Item::Rect { x, y, w, h, paint } => rect(&mut img, *x, *y, *w, *h, paint),
            Item::Text { x, y, size, text } => self::text(&mut img, fonts, *x, *y, *size, text),
            Item::Qr { x, y, size, matrix } => qr(&mut img, matrix, *x, *y, *size),
        }
    }
    Ok(img)
}

/// Mixes `color` into the pixel at (`x`, `y`) by `alpha` (0 to 1); outside the image, nothing.
fn blend(img: &mut RgbImage, x: i64, y: i64, color: Rgb, alpha: f32) {
    let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) else {
        return;
    };
    if x >= img.width() || y >= img.height() || alpha <= 0.0 {
        return;
    }
    let a = alpha.min(1.0);
    let p = img.get_pixel_mut(x, y);
    for (channel, target) in p.0.iter_mut().zip([color.0, color.1, color.2]) {
        let mixed = f32::from(*channel) * (1.0 - a) + f32::from(target) * a;
        *channel = mixed.round().clamp(0.0, 255.0) as u8;
    }
}

/// Signed distance from (`px`, `py`) to the edge of a rounded rectangle (negative inside).
fn rounded_rect_distance(px: f32, py: f32, r: (f32, f32, f32, f32), radius: f32) -> f32 {
    let (x, y, w, h) = r;
    let (hw, hh) = (w / 2.0, h / 2.0);
    let radius = radius.min(hw).min(hh).max(0.0);
    let qx = (px - (x + hw)).abs() - hw + radius;
    let qy = (py - (y + hh)).abs() - hh + radius;
    let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
    outside + qx.max(qy).min(0.0) - radius
}

/// A rectangle: its fill, then its outline centred on the edge (as SVG draws them), both with
/// edges antialiased from the distance of each pixel's centre to the edge.
fn rect(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, paint: &Paint) {
    let geometry = (x as f32, y as f32, w as f32, h as f32);
    let radius = paint.radius as f32;
    let half_stroke = paint.stroke.map_or(0.0, |s| s.width as f32 / 2.0);
    // Pixels that can be touched: the rectangle grown by half the stroke and a pixel.
    let grow = half_stroke.ceil() as i64 + 1;
    let (x0, y0) = (i64::from(x) - grow, i64::from(y) - grow);
    let (x1, y1) = (
        (i64::from(x) + i64::from(w) + grow).min(i64::from(img.width())),
        (i64::from(y) + i64::from(h) + grow).min(i64::from(img.height())),
    );
    for py in y0.max(0)..y1 {
        for px in x0.max(0)..x1 {
            let d = rounded_rect_distance(px as f32 + 0.5, py as f32 + 0.5, geometry, radius);
            if let Some(fill) = paint.fill {
                blend(img, px, py, fill, (0.5 - d).clamp(0.0, 1.0));
            }
            if let Some(stroke) = paint.stroke {
                let coverage = (0.5 - (d.abs() - half_stroke)).clamp(0.0, 1.0);
                blend(img, px, py, stroke.color, coverage);
            }
        }
    }
}

/// The pixel scale `ab_glyph` wants for an em size of `size` pixels: its scale is the height
/// from descender to ascender, SVG's font-size is the em.
fn scale_for(font: &impl Font, size: f32) -> PxScale {
    // Every TrueType/OpenType font has units per em in its head table; 1000 is the common
    // value, a harmless fallback.
    let upem = font.units_per_em().unwrap_or(1000.0);
    PxScale::from(size * font.height_unscaled() / upem)
}

/// Glyphs of `s` laid out on one line from x = 0 with kerning, and the line's advance width.
fn layout(font: &impl Font, scale: PxScale, s: &str) -> (Vec<(GlyphId, f32)>, f32) {
    let scaled = font.as_scaled(scale);
    let mut caret = 0.0;
    let mut prev: Option<GlyphId> = None;
    let mut glyphs = Vec::new();
    for c in s.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            caret += scaled.kern(p, id);
        }
        glyphs.push((id, caret));
        caret += scaled.h_advance(id);
        prev = Some(id);
    }
    (glyphs, caret)
}

/// A line of text, its baseline at `y`.
fn text(img: &mut RgbImage, fonts: &Fonts, x: u32, y: u32, size: u32, text: &Text) {
    let font = fonts.font();
    let (words, mut size) = fit::fit(text, size);
    if words.is_empty() || size <= 0.0 {
        return;
    }
    let bold_offset = if text.bold {
        size * BOLD_OFFSET_EM
    } else {
        0.0
    };
    let (mut glyphs, mut width) = layout(font, scale_for(font, size), &words);
    // The fit is an estimate made without a font; if this font is wider still, shrink to the
    // limit so the PNG never overflows.
    if let Some(max) = text.max_width {
        let drawn = width + bold_offset;
        if drawn > max as f32 && drawn > 0.0 {
            size *= max as f32 / drawn;
            (glyphs, width) = layout(font, scale_for(font, size), &words);
        }
    }
    let scale = scale_for(font, size);
    let bold_offset = if text.bold {
        size * BOLD_OFFSET_EM
    } else {
        0.0
    };
    let start = match text.anchor {
        Anchor::Start => x as f32,
        Anchor::Middle => x as f32 - (width + bold_offset) / 2.0,
    };
    let baseline = y as f32;

    // Coverage of the whole line in one buffer, so the two drawings of a bold line (and
    // overlapping glyphs) combine by maximum instead of darkening their antialiased edges twice.
    let passes: &[f32] = if text.bold {
        &[0.0, bold_offset]
    } else {
        &[0.0]
    };
    let mut outlined = Vec::new();
    for &dx in passes {
        for &(id, gx) in &glyphs {
            let glyph = id.with_scale_and_position(scale, point(start + gx + dx, baseline));
            if let Some(o) = font.outline_glyph(glyph) {
                outlined.push(o);
            }
        }
    }
    let Some(first) = outlined.first() else {
        return;
    };
    let mut bounds = first.px_bounds();
    for o in &outlined {
        let b = o.px_bounds();
        bounds.min.x = bounds.min.x.min(b.min.x);
        bounds.min.y = bounds.min.y.min(b.min.y);
        bounds.max.x = bounds.max.x.max(b.max.x);
        bounds.max.y = bounds.max.y.max(b.max.y);
    }
    let (bx, by) = (bounds.min.x.floor() as i64, bounds.min.y.floor() as i64);
    let bw = (bounds.max.x.ceil() as i64 - bx).max(0) as usize + 1;
    let bh = (bounds.max.y.ceil() as i64 - by).max(0) as usize + 1;
    let mut coverage = vec![0.0f32; bw * bh];
    for o in &outlined {
        let b = o.px_bounds();
        let (ox, oy) = (b.min.x as i64 - bx, b.min.y as i64 - by);
        o.draw(|gx, gy, c| {
            let (cx, cy) = (ox + i64::from(gx), oy + i64::from(gy));
            if (0..bw as i64).contains(&cx) && (0..bh as i64).contains(&cy) {
                let cell = &mut coverage[cy as usize * bw + cx as usize];
                *cell = cell.max(c);
            }
        });
    }
    for cy in 0..bh {
        for cx in 0..bw {
            let c = coverage[cy * bw + cx];
            blend(img, bx + cx as i64, by + cy as i64, text.color, c);
        }
    }
}

/// The QR with whole-pixel modules: the largest integer module size whose symbol and quiet zone
/// fit `size`, centred in the `size` square, which is white like the quiet zone.
fn qr(img: &mut RgbImage, matrix: &QrMatrix, x: u32, y: u32, size: u32) {
    let white = image::Rgb([255, 255, 255]);
    let black = image::Rgb([0, 0, 0]);
    let mut put = |px: u64, py: u64, color| {
        if let (Ok(px), Ok(py)) = (u32::try_from(px), u32::try_from(py)) {
            if px < img.width() && py < img.height() {
                img.put_pixel(px, py, color);
            }
        }
    };
    let size = u64::from(size);
    let (x, y) = (u64::from(x), u64::from(y));
    for py in y..y + size {
        for px in x..x + size {
            put(px, py, white);
        }
    }
    let n = (matrix.width() + 2 * QUIET_ZONE) as u64;
    // `Card::qr` made sure size >= n, so a module is at least one pixel.
    let module = size / n.max(1);
    let margin = (size - module * n) / 2 + module * QUIET_ZONE as u64;
    for my in 0..matrix.width() {
        for (mx, &dark) in matrix.row(my).iter().enumerate() {
            if !dark {
                continue;
            }
            let (left, top) = (
                x + margin + mx as u64 * module,
                y + margin + my as u64 * module,
            );
            for py in top..top + module {
                for px in left..left + module {
                    put(px, py, black);
                }
            }
        }
    }
}
