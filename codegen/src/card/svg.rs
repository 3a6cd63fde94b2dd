//! A card as an SVG document.

use std::fmt::Write;

use super::{Anchor, Card, Item, QUIET_ZONE, fit};
use crate::label::QrMatrix;

/// Fonts asked of the viewer: the system CJK font of iOS, Android, Windows and Linux desktops.
pub(super) const FONT_FAMILY: &str =
    "'PingFang SC','Noto Sans CJK SC','Microsoft YaHei','WenQuanYi Micro Hei',sans-serif";

/// Escapes text for an SVG text node or a double-quoted attribute.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A length without a needless ".0" (fitted font sizes are fractional, the rest whole).
fn num(v: f32) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

pub(super) fn render(card: &Card) -> String {
    let (w, h) = (card.width, card.height);
    let mut out = String::with_capacity(4096);
    // `write!` into a String cannot fail; the results are ignored for that reason.
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"{}\">\
         <rect width=\"{w}\" height=\"{h}\" fill=\"{}\"/>",
        esc(FONT_FAMILY),
        card.background.hex()
    );
    for item in &card.items {
        match item {
            Item::Rect { x, y, w, h, paint } => {
                let _ = write!(
                    out,
                    "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\""
                );
                if paint.radius > 0 {
                    let _ = write!(out, " rx=\"{}\"", paint.radius);
                }
                match paint.fill {
                    Some(c) => {
                        let _ = write!(out, " fill=\"{}\"", c.hex());
                    }
                    None => out.push_str(" fill=\"none\""),
                }
                if let Some(s) = paint.stroke {
                    let _ = write!(
                        out,
                        " stroke=\"{}\" stroke-width=\"{}\"",
                        s.color.hex(),
                        s.width
                    );
                }
                out.push_str("/>");
            }
            Item::Text { x, y, size, text } => {
                let (words, size) = fit::fit(text, *size);
                let _ = write!(out, "<text x=\"{x}\" y=\"{y}\"");
                if text.anchor == Anchor::Middle {
                    out.push_str(" text-anchor=\"middle\"");
                }
                let _ = write!(
                    out,
                    " font-size=\"{}\" fill=\"{}\"",
                    num(size),
                    text.color.hex()
                );
                if text.bold {
                    out.push_str(" font-weight=\"700\"");
                }
                let _ = write!(out, ">{}</text>", esc(&words));
            }
            Item::Qr { x, y, size, matrix } => qr(&mut out, matrix, *x, *y, *size),
        }
    }
    out.push_str("</svg>");
    out
}

/// The QR as a nested SVG whose viewBox is in modules, so each module is a unit square scaled
/// to `size`; `crispEdges` keeps the module edges sharp. Runs of dark modules are one
/// rectangle each, which halves the path.
fn qr(out: &mut String, matrix: &QrMatrix, x: u32, y: u32, size: u32) {
    let n = matrix.width() + 2 * QUIET_ZONE;
    let _ = write!(
        out,
        "<svg x=\"{x}\" y=\"{y}\" width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {n} {n}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{n}\" height=\"{n}\" fill=\"#fff\"/>\
         <path d=\""
    );
    for (mx, my, len) in matrix.dark_runs() {
        let _ = write!(
            out,
            "M{} {}h{len}v1h-{len}z",
            mx + QUIET_ZONE,
            my + QUIET_ZONE
        );
    }
    out.push_str("\" fill=\"#000\"/></svg>");
}
