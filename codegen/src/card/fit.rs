//! Fitting a line of text into its maximum width, without a font.
//!
//! The SVG is drawn in the viewer's font, which the server cannot measure, so the width is an
//! estimate from character classes; the PNG uses the same estimate so both show the same words
//! at the same size.

use super::Text;

/// Smallest size a line is shrunk to, as a share of its size, before it is truncated instead:
/// below that, a name next to its label looks like a footnote.
const SHRINK_FLOOR: f32 = 2.0 / 3.0;

/// What ends a truncated line.
pub(super) const ELLIPSIS: char = '…';

/// Width of non-CJK characters in ems: generous for Latin letters and digits (most are
/// 0.5 to 0.6 em), so the estimate rarely falls short.
const NARROW_EM: f32 = 0.6;

/// Replaces line breaks and other control characters by spaces: a card line is one line, and
/// control characters are not allowed in XML.
pub(super) fn single_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Whether `c` is drawn one em wide in CJK fonts (ideographs, kana, hangul, fullwidth forms,
/// CJK punctuation, and the dash and ellipsis, which CJK fonts draw full width).
fn is_wide(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x115F
        | 0x2014
        | 0x2026
        | 0x2E80..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD)
}

/// Estimated width of `s` in ems.
fn ems(s: &str) -> f32 {
    s.chars()
        .map(|c| if is_wide(c) { 1.0 } else { NARROW_EM })
        .sum()
}

/// The extra width of a bold line in ems: the second, offset drawing (see the PNG renderer).
pub(super) fn bold_extra_em(bold: bool) -> f32 {
    if bold { BOLD_OFFSET_EM } else { 0.0 }
}

/// How far the second drawing of a bold line is offset, in ems.
pub(super) const BOLD_OFFSET_EM: f32 = 1.0 / 24.0;

/// The words drawn and the font size for `text` at `size`: unchanged when it fits (or has no
/// limit), else shrunk down to [`SHRINK_FLOOR`], else truncated with [`ELLIPSIS`] at that size.
pub(super) fn fit(text: &Text, size: u32) -> (String, f32) {
    let size = size as f32;
    let Some(max) = text.max_width else {
        return (text.content.clone(), size);
    };
    let max = max as f32;
    let extra = bold_extra_em(text.bold);
    let full = ems(&text.content) + extra;
    if full * size <= max {
        return (text.content.clone(), size);
    }
    let floor = size * SHRINK_FLOOR;
    let shrunk = max / full;
    if shrunk >= floor {
        return (text.content.clone(), shrunk);
    }
    // At the floor size: as many characters as fit with the ellipsis after them.
    let budget = max / floor - extra - ems(&ELLIPSIS.to_string());
    let mut used = 0.0;
    let mut kept = String::new();
    for c in text.content.chars() {
        used += if is_wide(c) { 1.0 } else { NARROW_EM };
        if used > budget {
            break;
        }
        kept.push(c);
    }
    if budget < 0.0 {
        // Not even the ellipsis fits: draw nothing rather than overflow.
        return (String::new(), floor);
    }
    let mut out = kept.trim_end().to_string();
    out.push(ELLIPSIS);
    (out, floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_fit_shrinks_then_truncates() {
        let t = Text::new("周新人").max_width(300);
        assert_eq!(fit(&t, 40), ("周新人".to_string(), 40.0));
        // 120 px wide at 40 px, allowed 100: shrunk to 100/3 px, above the floor of 26.7.
        let (s, size) = fit(&Text::new("周新人").max_width(100), 40);
        assert_eq!(s, "周新人");
        assert!((size - 100.0 / 3.0).abs() < 0.01, "{size}");
        // Ten characters into 100 px: at the floor (26.7 px) 3.75 ems fit: 2 characters + "…".
        let (s, size) = fit(&Text::new("浙江省杭州市西湖区之").max_width(100), 40);
        assert_eq!(s, "浙江…");
        assert!((size - 80.0 / 3.0).abs() < 0.01, "{size}");
        assert_eq!(single_line("a\nb\tc"), "a b c");
    }
}
