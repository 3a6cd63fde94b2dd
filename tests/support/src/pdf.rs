//! Reading PDFs the server made as a person's tools would: the text with poppler's `pdftotext`
//! (through the font's `ToUnicode` map), the QR codes by rendering a page with `pdftoppm` and
//! decoding it with codegen's `rqrr` reader. `./scripts/test` installs poppler-utils; without
//! it these answer `None` after saying why, and fail under CI.

use std::path::PathBuf;
use std::process::Command;

/// The path of poppler's `tool`, or `None` (a failure under CI).
fn poppler(tool: &str) -> Option<PathBuf> {
    for dir in ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"] {
        let path = PathBuf::from(dir).join(tool);
        if path.is_file() {
            return Some(path);
        }
    }
    let msg = format!("{tool} is missing: apt-get install poppler-utils");
    if crate::ci() {
        panic!("{msg}");
    }
    eprintln!("skipped: {msg}");
    None
}

/// The text of every page of `pdf`, in reading order.
pub fn text(pdf: &[u8]) -> Option<String> {
    let tool = poppler("pdftotext")?;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("in.pdf");
    std::fs::write(&file, pdf).expect("write pdf");
    let out = Command::new(tool)
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("run pdftotext");
    assert!(
        out.status.success(),
        "pdftotext refused the file: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Page `page` (1-based) of `pdf` rendered as PNG at `dpi`.
pub fn render(pdf: &[u8], page: u32, dpi: u32) -> Option<Vec<u8>> {
    let tool = poppler("pdftoppm")?;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("in.pdf");
    std::fs::write(&file, pdf).expect("write pdf");
    let out = Command::new(tool)
        .args(["-png", "-singlefile", "-r", &dpi.to_string()])
        .args(["-f", &page.to_string(), "-l", &page.to_string()])
        .arg(&file)
        .arg(dir.path().join("page"))
        .output()
        .expect("run pdftoppm");
    assert!(
        out.status.success(),
        "pdftoppm refused the file: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(std::fs::read(dir.path().join("page.png")).expect("rendered page"))
}

/// The payloads of the QR codes on page `page` of `pdf`, sorted.
pub fn qr_codes(pdf: &[u8], page: u32) -> Option<Vec<String>> {
    let png = render(pdf, page, 150)?;
    let mut found = match codegen::decode::decode_bytes(&png).expect("decode the page") {
        codegen::decode::Decoded::Payloads(p) => p,
        codegen::decode::Decoded::Unreadable => Vec::new(),
    };
    found.sort();
    Some(found)
}

/// The payloads of a label sheet's QR codes on page `page`, read cell by cell: `columns` ×
/// `rows` cells inside a margin of `margin_pt` points (`rqrr` finds only some of many symbols
/// in one picture, each alone in its cell it reads). Sorted; an empty cell adds nothing.
pub fn sheet_codes(
    pdf: &[u8],
    page: u32,
    columns: u32,
    rows: u32,
    margin_pt: f32,
) -> Option<Vec<String>> {
    const DPI: u32 = 150;
    let png = render(pdf, page, DPI)?;
    let img = image::load_from_memory(&png).expect("a PNG").to_luma8();
    let margin = (margin_pt / 72.0 * DPI as f32) as u32;
    let cell_w = (img.width() - 2 * margin) / columns;
    let cell_h = (img.height() - 2 * margin) / rows;
    let mut found = Vec::new();
    for r in 0..rows {
        for c in 0..columns {
            let cell = image::imageops::crop_imm(
                &img,
                margin + c * cell_w,
                margin + r * cell_h,
                cell_w,
                cell_h,
            )
            .to_image();
            if let codegen::decode::Decoded::Payloads(p) =
                codegen::decode::decode_gray(cell).expect("decode a cell")
            {
                found.extend(p);
            }
        }
    }
    found.sort();
    Some(found)
}
