//! Packing slips (货单) as PDF: a title, the order's fields, a table of its lines, a list of the
//! case codes shipped, and a QR the handheld opens — in Chinese as well as Latin letters.
//!
//! The label sheets ([`crate::label::pdf`]) only print codes and can use the base-14 Courier
//! font; a slip prints product and buyer names, so it embeds the CJK font the certificates are
//! drawn with ([`crate::card::Fonts`]) as a CID-keyed TrueType font (Type 0, `Identity-H`): each
//! character is written as the 2-byte id of its glyph. Only the glyphs the slip uses are
//! embedded (`subsetter`: a few kilobytes instead of the 5 MB font), with a `ToUnicode` map so
//! the text can be searched, copied and extracted (`pdftotext`).

use std::collections::BTreeMap;
use std::io::Write;

use ab_glyph::{Font, GlyphId};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};

use crate::card::Fonts;
use crate::error::{Error, Result};
use crate::label::{Ecc, QrMatrix};

/// A4 in PDF points (1/72 inch).
const A4: (f32, f32) = (595.276, 841.89);
const MARGIN: f32 = 48.0;
const FONT_NAME: Name<'static> = Name(b"F1");
/// Side of the QR symbol, quiet zone included: 40 mm, easily read by a handheld.
const QR_SIDE: f32 = 113.0;

/// A table: its heading, the share of the width each column gets, and its rows.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub head: Vec<String>,
    /// Relative widths of the columns (any scale).
    pub widths: Vec<f32>,
    pub rows: Vec<Vec<String>>,
}

/// What a packing slip shows, already in the reader's words.
#[derive(Debug, Clone, Default)]
pub struct Slip {
    pub title: String,
    /// `(label, value)` pairs under the title: order number, buyer, ship-to, …
    pub fields: Vec<(String, String)>,
    pub table: Table,
    /// The heading of the list of codes (e.g. the case codes shipped) and its items.
    pub list_heading: String,
    pub list: Vec<String>,
    /// The QR's payload and the caption printed under it.
    pub qr: Option<(String, String)>,
    /// A last line (printed when, by whom).
    pub footer: String,
}

/// Renders `slip` as a PDF with `fonts` embedded (only the glyphs used).
pub fn render_slip(slip: &Slip, fonts: &Fonts) -> Result<Vec<u8>> {
    let missing = fonts.missing(&all_text(slip));
    if !missing.is_empty() {
        return Err(Error::Font(format!(
            "{} has no glyph for {}",
            fonts.path().display(),
            missing.iter().collect::<String>()
        )));
    }
    let mut w = Writer::new(fonts);
    w.layout(slip)?;
    w.finish()
}

fn all_text(slip: &Slip) -> String {
    let mut s = slip.title.clone();
    for (k, v) in &slip.fields {
        s.push_str(k);
        s.push_str(v);
    }
    for cell in slip
        .table
        .head
        .iter()
        .chain(slip.table.rows.iter().flatten())
    {
        s.push_str(cell);
    }
    s.push_str(&slip.list_heading);
    for c in &slip.list {
        s.push_str(c);
    }
    if let Some((_, caption)) = &slip.qr {
        s.push_str(caption);
    }
    s.push_str(&slip.footer);
    s.push('…');
    s
}

/// Lays the slip out page by page, remembering every glyph it used.
struct Writer<'f> {
    fonts: &'f Fonts,
    pages: Vec<Content>,
    y: f32,
    /// Original glyph id → the id in the subset (which is also the CID written).
    remap: subsetter::GlyphRemapper,
    /// CID → the character it shows, for `ToUnicode`.
    unicode: BTreeMap<u16, char>,
}

impl<'f> Writer<'f> {
    fn new(fonts: &'f Fonts) -> Self {
        Writer {
            fonts,
            pages: vec![Content::new()],
            y: A4.1 - MARGIN,
            remap: subsetter::GlyphRemapper::new(),
            unicode: BTreeMap::new(),
        }
    }

    fn page(&mut self) -> &mut Content {
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Moves down by `h`; starts a new page when that would cross the bottom margin.
    fn down(&mut self, h: f32) {
        if self.y - h < MARGIN {
            self.pages.push(Content::new());
            self.y = A4.1 - MARGIN;
        }
        self.y -= h;
    }

    /// Width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let font = self.fonts.font();
        let em = font.units_per_em().unwrap_or(1000.0);
        text.chars()
            .map(|c| font.h_advance_unscaled(font.glyph_id(c)))
            .sum::<f32>()
            * size
            / em
    }

    /// `text` cut to fit `max` points, ending in "…" when cut.
    fn fit(&self, text: &str, size: f32, max: f32) -> String {
        if self.width(text, size) <= max {
            return text.to_string();
        }
        let mut out: String = text.to_string();
        while !out.is_empty() && self.width(&format!("{out}…"), size) > max {
            out.pop();
        }
        format!("{out}…")
    }

    /// Writes `text` with its baseline at (`x`, the cursor).
    fn text(&mut self, x: f32, size: f32, text: &str) {
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for c in text.chars().filter(|c| !c.is_control()) {
            let gid = self.fonts.font().glyph_id(c).0;
            let cid = self.remap.remap(gid);
            self.unicode.entry(cid).or_insert(c);
            bytes.extend_from_slice(&cid.to_be_bytes());
        }
        let y = self.y;
        self.page()
            .begin_text()
            .set_font(FONT_NAME, size)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
    }

    fn rule(&mut self, width: f32) {
        let y = self.y;
        self.page()
            .set_line_width(width)
            .move_to(MARGIN, y)
            .line_to(A4.0 - MARGIN, y)
            .stroke();
    }

    fn qr(&mut self, payload: &str, caption: &str) -> Result<()> {
        let qr = QrMatrix::encode(payload, Ecc::M)?;
        let quiet = 4.0;
        let unit = QR_SIDE / (qr.width() as f32 + 2.0 * quiet);
        let x0 = A4.0 - MARGIN - QR_SIDE + quiet * unit;
        let y0 = A4.1 - MARGIN - quiet * unit;
        let page = self.page();
        page.save_state();
        page.transform([unit, 0.0, 0.0, -unit, x0, y0]);
        for (x, y, len) in qr.dark_runs() {
            page.rect(x as f32, y as f32, len as f32, 1.0);
        }
        page.fill_nonzero();
        page.restore_state();
        let size = 8.0;
        let caption = self.fit(caption, size, QR_SIDE);
        let x = A4.0 - MARGIN - QR_SIDE / 2.0 - self.width(&caption, size) / 2.0;
        let keep = self.y;
        self.y = A4.1 - MARGIN - QR_SIDE - 2.0;
        self.text(x, size, &caption);
        self.y = keep;
        Ok(())
    }

    fn layout(&mut self, slip: &Slip) -> Result<()> {
        if let Some((payload, caption)) = &slip.qr {
            self.qr(payload, caption)?;
        }
        // Text beside the QR stays left of it.
        let beside = A4.0 - 2.0 * MARGIN - QR_SIDE - 12.0;
        self.down(20.0);
        let title = self.fit(&slip.title, 20.0, beside);
        self.text(MARGIN, 20.0, &title);
        self.down(10.0);
        let label_w = slip
            .fields
            .iter()
            .map(|(k, _)| self.width(k, 10.5))
            .fold(0.0, f32::max)
            + 10.0;
        for (k, v) in &slip.fields {
            self.down(16.0);
            self.text(MARGIN, 10.5, k);
            let max = if self.y > A4.1 - MARGIN - QR_SIDE - 14.0 {
                beside - label_w
            } else {
                A4.0 - 2.0 * MARGIN - label_w
            };
            let v = self.fit(v, 10.5, max);
            self.text(MARGIN + label_w, 10.5, &v);
        }
        // Below the QR, whatever the fields took.
        if self.y > A4.1 - MARGIN - QR_SIDE - 16.0 {
            self.y = A4.1 - MARGIN - QR_SIDE - 16.0;
        }
        self.table(&slip.table);
        if !slip.list.is_empty() {
            self.down(26.0);
            self.text(MARGIN, 12.0, &slip.list_heading);
            self.down(6.0);
            self.rule(0.5);
            let columns = 3;
            let col_w = (A4.0 - 2.0 * MARGIN) / columns as f32;
            for chunk in slip.list.chunks(columns) {
                self.down(15.0);
                for (i, code) in chunk.iter().enumerate() {
                    let code = self.fit(code, 10.0, col_w - 6.0);
                    self.text(MARGIN + i as f32 * col_w, 10.0, &code);
                }
            }
        }
        if !slip.footer.is_empty() {
            self.down(28.0);
            let footer = self.fit(&slip.footer, 8.5, A4.0 - 2.0 * MARGIN);
            self.text(MARGIN, 8.5, &footer);
        }
        Ok(())
    }

    fn table(&mut self, table: &Table) {
        let total: f32 = table.widths.iter().sum::<f32>().max(f32::EPSILON);
        let usable = A4.0 - 2.0 * MARGIN;
        let xs: Vec<(f32, f32)> = table
            .widths
            .iter()
            .scan(MARGIN, |x, w| {
                let width = w / total * usable;
                let at = *x;
                *x += width;
                Some((at, width))
            })
            .collect();
        let row = |w: &mut Self, cells: &[String], size: f32| {
            for ((x, width), cell) in xs.iter().zip(cells) {
                let cell = w.fit(cell, size, width - 6.0);
                w.text(*x, size, &cell);
            }
        };
        self.down(18.0);
        row(self, &table.head, 10.5);
        self.down(6.0);
        self.rule(0.8);
        for cells in &table.rows {
            self.down(17.0);
            row(self, cells, 10.5);
        }
        self.down(6.0);
        self.rule(0.5);
    }

    /// The subset font, its descriptor and maps, the pages, the catalog.
    fn finish(self) -> Result<Vec<u8>> {
        let font = self.fonts.font();
        let em = font.units_per_em().unwrap_or(1000.0);
        let scale = |v: f32| v * 1000.0 / em;
        let subset = subsetter::subset(font.as_slice(), 0, &self.remap)
            .map_err(|e| Error::Pdf(format!("cannot embed the font: {e}")))?;
        let widths: Vec<f32> = self
            .remap
            .remapped_gids()
            .map(|gid| scale(font.h_advance_unscaled(GlyphId(gid))))
            .collect();

        let mut pdf = Pdf::new();
        let mut next = 1;
        let mut alloc = || {
            let r = Ref::new(next);
            next += 1;
            r
        };
        let (catalog, tree, type0, cid, descriptor, file, cmap) = (
            alloc(),
            alloc(),
            alloc(),
            alloc(),
            alloc(),
            alloc(),
            alloc(),
        );
        let page_ids: Vec<(Ref, Ref)> = self.pages.iter().map(|_| (alloc(), alloc())).collect();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids(page_ids.iter().map(|(p, _)| *p))
            .count(page_ids.len() as i32);
        for ((page_id, content_id), content) in page_ids.iter().zip(self.pages) {
            let mut page = pdf.page(*page_id);
            page.parent(tree)
                .media_box(Rect::new(0.0, 0.0, A4.0, A4.1))
                .contents(*content_id);
            page.resources().fonts().pair(FONT_NAME, type0);
            page.finish();
            pdf.stream(*content_id, &deflate(&content.finish())?)
                .filter(Filter::FlateDecode);
        }

        // A subset's name starts with six capital letters and a plus (PDF 32000 § 9.6.4).
        let base = Name(b"CMSLIP+ChainmarkCJK");
        let info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        pdf.type0_font(type0)
            .base_font(base)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(cmap);
        let mut cid_font = pdf.cid_font(cid);
        cid_font
            .subtype(CidFontType::Type2)
            .base_font(base)
            .system_info(info)
            .font_descriptor(descriptor)
            .default_width(1000.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid_font.widths().consecutive(0, widths);
        cid_font.finish();
        let (ascent, descent) = (
            scale(font.ascent_unscaled()),
            scale(font.descent_unscaled()),
        );
        pdf.font_descriptor(descriptor)
            .name(base)
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(0.0, descent, 1000.0, ascent))
            .italic_angle(0.0)
            .ascent(ascent)
            .descent(descent)
            .cap_height(ascent * 0.8)
            .stem_v(80.0)
            .font_file2(file);
        pdf.stream(file, &deflate(&subset)?)
            .filter(Filter::FlateDecode);
        let mut map = UnicodeCmap::new(Name(b"Chainmark-UCS"), info);
        for (cid, c) in &self.unicode {
            map.pair(*cid, *c);
        }
        pdf.cmap(cmap, &map.finish());
        Ok(pdf.finish())
    }
}

fn deflate(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut z = ZlibEncoder::new(Vec::with_capacity(bytes.len() / 2), Compression::default());
    z.write_all(bytes)
        .and_then(|()| z.finish())
        .map_err(|e| Error::Pdf(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slip_embeds_only_the_glyphs_it_uses() {
        let Ok(fonts) = Fonts::discover(None) else {
            eprintln!("skipped: no CJK font (apt-get install fonts-wqy-microhei)");
            return;
        };
        let slip = Slip {
            title: "装箱单 Packing slip".into(),
            fields: vec![("订单".into(), "#42".into())],
            table: Table {
                head: vec!["商品".into(), "数量".into()],
                widths: vec![3.0, 1.0],
                rows: vec![vec!["明前龙井 250g".into(), "72".into()]],
            },
            list_heading: "箱码".into(),
            list: vec!["ABCDEFGH0000011".into()],
            qr: Some(("CMORDER:42".into(), "#42".into())),
            footer: String::new(),
        };
        let pdf = render_slip(&slip, &fonts).expect("slip");
        assert!(pdf.starts_with(b"%PDF-"));
        if let Some(out) = std::env::var_os("CHAINMARK_SLIP_OUT") {
            std::fs::write(out, &pdf).expect("write the slip");
        }
        assert!(
            pdf.len() < 200_000,
            "a subset, not the whole font: {} bytes",
            pdf.len()
        );
    }
}
