//! A card as a one-page PDF of a given paper size: the picture rasterised (as for the PNG) and
//! placed on the whole page. For labels printed from an office printer or a PDF-driven label
//! printer (a 100 × 150 mm courier label), where the ZPL is for thermal printers.

use std::io::Write as _;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref};

use super::{Card, Fonts, png};
use crate::error::{Error, Result};

/// Points per millimetre (a point is 1/72 inch).
const PT_PER_MM: f32 = 72.0 / 25.4;

pub(super) fn render(card: &Card, fonts: &Fonts, width_mm: f32, height_mm: f32) -> Result<Vec<u8>> {
    if !(width_mm > 0.0 && height_mm > 0.0 && width_mm <= 1000.0 && height_mm <= 1000.0) {
        return Err(Error::Card(format!(
            "a page of {width_mm} × {height_mm} mm; each side must be above 0 and at most 1000"
        )));
    }
    let img = png::draw(card, fonts)?;
    let (w, h) = img.dimensions();
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(img.as_raw())
        .map_err(|e| Error::Pdf(e.to_string()))?;
    let pixels = z.finish().map_err(|e| Error::Pdf(e.to_string()))?;

    let (catalog, tree, page, image, content) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
    );
    let (pw, ph) = (width_mm * PT_PER_MM, height_mm * PT_PER_MM);
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, pw, ph));
    p.parent(tree);
    p.contents(content);
    p.resources().x_objects().pair(Name(b"Im1"), image);
    p.finish();
    let mut x = pdf.image_xobject(image, &pixels);
    x.filter(Filter::FlateDecode);
    x.width(i32::try_from(w).unwrap_or(i32::MAX));
    x.height(i32::try_from(h).unwrap_or(i32::MAX));
    x.color_space().device_rgb();
    x.bits_per_component(8);
    x.finish();
    let mut c = Content::new();
    c.save_state();
    c.transform([pw, 0.0, 0.0, ph, 0.0, 0.0]);
    c.x_object(Name(b"Im1"));
    c.restore_state();
    pdf.stream(content, &c.finish());
    Ok(pdf.finish())
}
