//! ZPL II labels for Zebra-style thermal printers: one `^XA … ^XZ` format per label.
//!
//! The printer draws the QR itself (`^BQN,2,m`); the `^FD` data starts with the error-correction
//! letter and `A` (automatic input mode) followed by a comma, as ZPL requires for `^BQ`. The
//! printer adds no quiet zone, so the field origin is placed `quiet_zone` modules in.

use std::fmt::Write as _;

use super::{LabelOptions, QrMatrix, caption_text};
use crate::error::Result;

/// ZPL's `^BQ` magnification (dots per module) accepts 1 to 10.
const MAX_MAGNIFICATION: u32 = 10;

/// Renders one label as a ZPL format (`^XA` … `^XZ`, newline-terminated).
pub fn render_zpl(payload: &str, caption: &str, opts: &LabelOptions) -> Result<String> {
    opts.validate()?;
    // The printer encodes the symbol itself; we encode it too, to know its size (where the
    // caption goes) and to reject an oversize payload here rather than on the printer.
    let qr = super::QrMatrix::encode(payload, opts.ecc)?;
    draw(&qr, payload, caption, opts)
}

/// Renders one label for `payload`, already encoded as `qr`; `opts` must be valid.
pub fn draw(qr: &QrMatrix, payload: &str, caption: &str, opts: &LabelOptions) -> Result<String> {
    let mag = opts.module.pixels()?.clamp(1, MAX_MAGNIFICATION);
    let origin = opts.quiet_zone * mag;
    let modules = qr.width() as u32;
    let caption_y = origin + (modules + 2) * mag;
    let char_h = (3 * mag).max(18);

    let mut zpl = String::with_capacity(payload.len() + 128);
    zpl.push_str("^XA\n^CI28\n");
    let _ = writeln!(
        zpl,
        "^FO{origin},{origin}^BQN,2,{mag}^FH_^FD{}A,{}^FS",
        opts.ecc.letter(),
        escape(payload)
    );
    let caption = caption_text(caption);
    if !caption.is_empty() {
        let _ = writeln!(
            zpl,
            "^FO{origin},{caption_y}^A0N,{char_h},{char_h}^FH_^FD{}^FS",
            escape(&caption)
        );
    }
    zpl.push_str("^XZ\n");
    Ok(zpl)
}

/// Hex-escapes the characters ZPL would read as commands (`^`, `~`) and the `^FH` escape
/// character itself, so any payload survives; codes and URLs from `docs/codes.md` contain none.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '^' => out.push_str("_5E"),
            '~' => out.push_str("_7E"),
            '_' => out.push_str("_5F"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_command_characters() {
        assert_eq!(escape("a^b~c_d"), "a_5Eb_7Ec_5Fd");
        assert_eq!(
            escape("https://x.test/v/ABC?t=XYZ"),
            "https://x.test/v/ABC?t=XYZ"
        );
    }
}
