//! A4 label sheets as PDF, streamed: a grid of labels per page, written page by page.
//!
//! `pdf-writer` builds each object (page, content stream, font, tree) but keeps a whole document
//! in memory, so only the file framing is done here: objects are written to the output as soon
//! as a page is full, their offsets remembered, and the cross-reference table and trailer written
//! at the end. 100,000 labels thus hold one page in memory, never the document. QR modules are
//! vector rectangles (one per horizontal run); captions use the base-14 Courier font, whose fixed
//! advance (600/1000 em) lets us centre them without font metrics.

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use pdf_writer::{Chunk, Content, Filter, Finish, Name, Rect, Ref, Str};

use super::{LabelOptions, QrMatrix, caption_text};
use crate::error::{Error, Result};

/// A4 in PDF points (1/72 inch).
const A4: (f32, f32) = (595.276, 841.89);
const CATALOG: Ref = Ref::new(1);
const PAGES: Ref = Ref::new(2);
const FONT: Ref = Ref::new(3);
const FIRST_FREE_ID: i32 = 4;
const FONT_NAME: Name<'static> = Name(b"F1");

/// How labels are laid out on a sheet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SheetLayout {
    /// Labels per row.
    pub columns: u32,
    /// Rows per page.
    pub rows: u32,
    /// Page margin in points.
    pub margin: f32,
    /// Caption font size in points.
    pub font_size: f32,
}

impl Default for SheetLayout {
    /// 4 × 6 labels per page, in cells of about 48 × 46 mm.
    fn default() -> Self {
        SheetLayout {
            columns: 4,
            rows: 6,
            margin: 28.0,
            font_size: 8.0,
        }
    }
}

impl SheetLayout {
    /// Labels per page.
    pub fn per_page(&self) -> u32 {
        self.columns * self.rows
    }

    fn validate(&self) -> Result<()> {
        let ok = (1..=20).contains(&self.columns)
            && (1..=30).contains(&self.rows)
            && (0.0..150.0).contains(&self.margin)
            && (2.0..=36.0).contains(&self.font_size);
        if ok {
            Ok(())
        } else {
            Err(Error::LabelOption(format!(
                "unusable sheet layout {self:?}"
            )))
        }
    }
}

/// Writes labels to a PDF as they come; call [`SheetWriter::finish`] to complete the file.
pub struct SheetWriter<W: Write> {
    out: W,
    layout: SheetLayout,
    opts: LabelOptions,
    /// Bytes written so far: the offset of the next object.
    pos: u64,
    /// Byte offset of each object, indexed by id − 1.
    offsets: Vec<u64>,
    pages: Vec<Ref>,
    next_id: i32,
    content: Content,
    on_page: u32,
}

impl<W: Write> SheetWriter<W> {
    /// Starts a document: writes the header.
    pub fn new(out: W, layout: SheetLayout, opts: LabelOptions) -> Result<Self> {
        layout.validate()?;
        opts.validate()?;
        let mut w = SheetWriter {
            out,
            layout,
            opts,
            pos: 0,
            offsets: Vec::new(),
            pages: Vec::new(),
            next_id: FIRST_FREE_ID,
            content: Content::new(),
            on_page: 0,
        };
        // The binary comment tells transfer tools the file is not text.
        w.write_raw(b"%PDF-1.7\n%\x80\x80\x80\x80\n")?;
        Ok(w)
    }

    /// Adds one label; writes the page out once it is full.
    pub fn add(&mut self, payload: &str, caption: &str) -> Result<()> {
        let qr = QrMatrix::encode(payload, self.opts.ecc)?;
        self.add_encoded(&qr, caption)
    }

    /// Adds one label from an already encoded symbol (encoded with this writer's ECC level).
    pub fn add_encoded(&mut self, qr: &QrMatrix, caption: &str) -> Result<()> {
        self.draw(qr, &caption_text(caption));
        self.on_page += 1;
        if self.on_page == self.layout.per_page() {
            self.flush_page()?;
        }
        Ok(())
    }

    /// Pages written or started so far.
    pub fn page_count(&self) -> usize {
        self.pages.len() + usize::from(self.on_page > 0)
    }

    /// Writes the last page, page tree, catalog, cross-reference table and trailer.
    pub fn finish(mut self) -> Result<W> {
        if self.on_page > 0 || self.pages.is_empty() {
            // An empty document still gets one blank page: a PDF with no pages is invalid.
            self.flush_page()?;
        }
        let mut chunk = Chunk::new();
        chunk
            .type1_font(FONT)
            .base_font(Name(b"Courier"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        self.write_chunk(&chunk, FONT)?;

        let mut chunk = Chunk::new();
        chunk
            .pages(PAGES)
            .kids(self.pages.iter().copied())
            .count(self.pages.len() as i32);
        self.write_chunk(&chunk, PAGES)?;

        let mut chunk = Chunk::new();
        chunk
            .indirect(CATALOG)
            .dict()
            .pair(Name(b"Type"), Name(b"Catalog"))
            .pair(Name(b"Pages"), PAGES);
        self.write_chunk(&chunk, CATALOG)?;

        self.write_xref()?;
        self.out.flush().map_err(io)?;
        Ok(self.out)
    }

    /// Draws one label into its grid cell on the current page.
    fn draw(&mut self, qr: &QrMatrix, caption: &str) {
        let l = &self.layout;
        let cell_w = (A4.0 - 2.0 * l.margin) / l.columns as f32;
        let cell_h = (A4.1 - 2.0 * l.margin) / l.rows as f32;
        let (col, row) = (self.on_page % l.columns, self.on_page / l.columns);
        let cell_x = l.margin + col as f32 * cell_w;
        let cell_top = A4.1 - l.margin - row as f32 * cell_h;

        let caption_h = if caption.is_empty() {
            0.0
        } else {
            l.font_size * 1.5
        };
        let side = cell_w.min(cell_h - caption_h);
        let modules = (qr.width() + 2 * self.opts.quiet_zone as usize) as f32;
        let unit = side / modules;
        let qz = self.opts.quiet_zone as f32;
        let x0 = cell_x + (cell_w - side) / 2.0 + qz * unit;
        let y0 = cell_top - qz * unit;

        // Module coordinates with y pointing down, so rectangles are written in whole numbers.
        self.content.save_state();
        self.content.transform([unit, 0.0, 0.0, -unit, x0, y0]);
        for (x, y, len) in qr.dark_runs() {
            self.content.rect(x as f32, y as f32, len as f32, 1.0);
        }
        self.content.fill_nonzero();
        self.content.restore_state();

        if !caption.is_empty() {
            // Courier's glyphs are all 0.6 em wide; anything outside Latin-1 prints as '?'.
            let text: Vec<u8> = caption
                .chars()
                .map(|c| u8::try_from(c).unwrap_or(b'?'))
                .collect();
            let text_w = 0.6 * l.font_size * text.len() as f32;
            let x = cell_x + (cell_w - text_w) / 2.0;
            let y = cell_top - side - l.font_size;
            self.content
                .begin_text()
                .set_font(FONT_NAME, l.font_size)
                .next_line(x, y)
                .show(Str(&text))
                .end_text();
        }
    }

    /// Writes the current page and its compressed content stream.
    fn flush_page(&mut self) -> Result<()> {
        let content = std::mem::replace(&mut self.content, Content::new()).finish();
        let mut z = ZlibEncoder::new(Vec::with_capacity(content.len() / 3), Compression::fast());
        z.write_all(&content).map_err(io)?;
        let compressed = z.finish().map_err(io)?;

        let page_id = self.alloc();
        let content_id = self.alloc();
        let mut chunk = Chunk::with_capacity(compressed.len() + 64);
        chunk
            .stream(content_id, &compressed)
            .filter(Filter::FlateDecode);
        self.write_chunk(&chunk, content_id)?;

        let mut chunk = Chunk::new();
        let mut page = chunk.page(page_id);
        page.parent(PAGES)
            .media_box(Rect::new(0.0, 0.0, A4.0, A4.1))
            .contents(content_id);
        page.resources().fonts().pair(FONT_NAME, FONT);
        page.finish();
        self.write_chunk(&chunk, page_id)?;
        self.pages.push(page_id);
        self.on_page = 0;
        Ok(())
    }

    fn alloc(&mut self) -> Ref {
        let id = Ref::new(self.next_id);
        self.next_id += 1;
        id
    }

    /// Writes a chunk holding exactly the one object `id`, remembering its offset.
    fn write_chunk(&mut self, chunk: &Chunk, id: Ref) -> Result<()> {
        let bytes = chunk.as_bytes();
        // One object per chunk, so it starts at the chunk's first byte; checked, because the
        // cross-reference table is only as right as these offsets.
        let marker = format!("{} 0 obj", id.get());
        if !bytes.starts_with(marker.as_bytes()) {
            return Err(Error::Pdf(format!(
                "object {} is not where expected",
                id.get()
            )));
        }
        self.record(id, self.pos);
        self.write_raw(bytes)
    }

    fn record(&mut self, id: Ref, offset: u64) {
        let index = id.get() as usize - 1;
        if self.offsets.len() <= index {
            self.offsets.resize(index + 1, 0);
        }
        self.offsets[index] = offset;
    }

    fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes).map_err(io)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    /// The classic cross-reference table: fixed 20-byte entries, then the trailer.
    fn write_xref(&mut self) -> Result<()> {
        let xref_at = self.pos;
        let size = self.offsets.len() + 1;
        let mut table = String::with_capacity(size * 20 + 128);
        table.push_str(&format!("xref\n0 {size}\n0000000000 65535 f\r\n"));
        for offset in &self.offsets {
            table.push_str(&format!("{offset:010} 00000 n\r\n"));
        }
        table.push_str(&format!(
            "trailer\n<< /Size {size} /Root {} 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
            CATALOG.get()
        ));
        self.write_raw(table.as_bytes())
    }
}

fn io(e: std::io::Error) -> Error {
    Error::Pdf(e.to_string())
}
