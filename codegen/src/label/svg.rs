//! SVG labels: the symbol as one vector path in module units, the caption as real `<text>`.
//!
//! Drawn by hand rather than with `qrcode`'s SVG renderer because that one emits a rectangle per
//! module and has no caption; one path of horizontal runs is smaller and scales cleanly.

use std::fmt::Write as _;

use super::{LabelOptions, ModuleSize, QrMatrix, caption_text};
use crate::error::Result;

/// Renders the label for `payload` as an SVG document.
pub fn render_svg(payload: &str, caption: &str, opts: &LabelOptions) -> Result<String> {
    opts.validate()?;
    let qr = QrMatrix::encode(payload, opts.ecc)?;
    Ok(draw(&qr, &caption_text(caption), opts))
}

/// Draws an encoded symbol and caption; `opts` must be valid.
pub fn draw(qr: &QrMatrix, caption: &str, opts: &LabelOptions) -> String {
    let qz = opts.quiet_zone as usize;
    let side = qr.width() + 2 * qz;
    // The caption takes three modules of height; the symbol's own quiet zone separates them.
    let caption_h = if caption.is_empty() { 0 } else { 3 };
    let height = side + caption_h;
    let (w, h) = match opts.module {
        ModuleSize::Pixels(px) => (
            format!("{}", side as u32 * px),
            format!("{}", height as u32 * px),
        ),
        ModuleSize::Physical { mm, .. } => (
            format!("{:.2}mm", side as f32 * mm),
            format!("{:.2}mm", height as f32 * mm),
        ),
    };

    let mut svg = String::with_capacity(4096);
    let _ = write!(
        svg,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}" height="{h}" viewBox="0 0 {side} {height}" shape-rendering="crispEdges">
<rect width="{side}" height="{height}" fill="#fff"/>
<path fill="#000" d=""##
    );
    for (x, y, len) in qr.dark_runs() {
        let _ = write!(svg, "M{} {}h{len}v1h-{len}z", x + qz, y + qz);
    }
    svg.push_str("\"/>\n");
    if !caption.is_empty() {
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" font-family="DejaVu Sans Mono,Consolas,monospace" font-size="2" text-anchor="middle">{}</text>"#,
            side as f32 / 2.0,
            side + 2,
            escape(caption)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Escapes text for an XML text node.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}
