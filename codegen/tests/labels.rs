//! Labels: every format carries exactly its payload, and the options are enforced.

use codegen::decode::{Decoded, decode_bytes, decode_gray};
use codegen::error::Error;
use codegen::label::pdf::{SheetLayout, SheetWriter};
use codegen::label::png::{render_gray, render_png};
use codegen::label::svg::render_svg;
use codegen::label::zpl::render_zpl;
use codegen::label::{Ecc, LabelFolder, LabelFormats, LabelOptions, LabelSink, ModuleSize};
use proptest::prelude::*;

const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXY";
const SERIAL: &str = "7K3M9QXA0000042B";
const URL: &str = "https://chainmark.example/v/7K3M9QXA0000042B?t=MFRGGZDFMZTWQ2LK";

fn opts(ecc: Ecc, px: u32) -> LabelOptions {
    LabelOptions {
        ecc,
        module: ModuleSize::Pixels(px),
        quiet_zone: 4,
    }
}

fn decodes_to(img: image::GrayImage, payload: &str) {
    assert_eq!(
        decode_gray(img).expect("the decoder does not fail"),
        Decoded::Payloads(vec![payload.to_owned()])
    );
}

#[test]
fn png_decodes_at_every_level_and_several_module_sizes() {
    for ecc in Ecc::ALL {
        for px in [2, 3, 4, 6, 10] {
            let png = render_png(URL, SERIAL, &opts(ecc, px)).expect("render");
            assert_eq!(
                decode_bytes(&png).expect("png"),
                Decoded::Payloads(vec![URL.to_owned()]),
                "ecc {ecc} px {px}"
            );
        }
    }
}

#[test]
fn physical_module_size_rounds_to_dots() {
    let o = LabelOptions {
        module: ModuleSize::Physical { dpi: 300, mm: 0.5 },
        ..LabelOptions::default()
    };
    assert_eq!(o.module.pixels().expect("valid"), 6);
    let img = render_gray(URL, SERIAL, &o).expect("render");
    assert!(img.width() >= (29 + 8) * 6);
    decodes_to(img, URL);
    let bad = ModuleSize::Physical { dpi: 0, mm: 0.5 };
    assert!(matches!(bad.pixels(), Err(Error::LabelOption(_))));
}

#[test]
fn quiet_zone_below_four_is_rejected_by_every_format() {
    let o = LabelOptions {
        quiet_zone: 3,
        ..LabelOptions::default()
    };
    let quiet = |r: Result<(), Error>| {
        let e = r.expect_err("quiet zone 3 accepted");
        assert!(matches!(e, Error::QuietZone { got: 3, min: 4 }), "{e}");
        assert!(e.to_string().contains("at least 4"), "{e}");
    };
    quiet(render_png(URL, SERIAL, &o).map(drop));
    quiet(render_svg(URL, SERIAL, &o).map(drop));
    quiet(render_zpl(URL, SERIAL, &o).map(drop));
    quiet(SheetWriter::new(Vec::new(), SheetLayout::default(), o).map(drop));
    let dir = tempfile::tempdir().expect("tempdir");
    quiet(LabelFolder::create(dir.path(), "png".parse().expect("formats"), o).map(drop));
}

#[test]
fn oversized_payload_is_an_error_not_a_panic() {
    let huge = "X".repeat(5000);
    assert!(matches!(
        render_png(&huge, "", &LabelOptions::default()),
        Err(Error::QrEncode(_))
    ));
}

#[test]
fn svg_is_vector_with_a_text_caption() {
    let svg = render_svg(URL, SERIAL, &LabelOptions::default()).expect("render");
    assert!(svg.starts_with("<?xml"));
    assert!(svg.contains("<path fill=\"#000\" d=\"M"));
    assert!(svg.contains(&format!(">{SERIAL}</text>")));
    assert!(svg.trim_end().ends_with("</svg>"));
    let mm = LabelOptions {
        module: ModuleSize::Physical { dpi: 300, mm: 0.4 },
        ..LabelOptions::default()
    };
    assert!(
        render_svg(URL, SERIAL, &mm)
            .expect("render")
            .contains("mm\"")
    );
}

#[test]
fn zpl_has_one_format_per_label_with_the_payload_in_fd() {
    let mut all = String::new();
    let payloads: Vec<String> = (0..5)
        .map(|i| format!("https://x.example/c/ABCDEFGH00000{i}K"))
        .collect();
    for p in &payloads {
        let one = render_zpl(p, "ABCDEFGH00000", &opts(Ecc::Q, 4)).expect("render");
        assert!(one.starts_with("^XA\n") && one.ends_with("^XZ\n"));
        assert_eq!(one.matches("^XA").count(), 1);
        assert!(one.contains("^BQN,2,4"));
        assert!(one.contains(&format!("^FDQA,{p}^FS")), "{one}");
        all.push_str(&one);
    }
    assert_eq!(all.matches("^XA").count(), 5);
    assert_eq!(all.matches("^XZ").count(), 5);
}

/// Minimal structural check of a PDF: header, trailer, every xref offset pointing at its
/// object; returns the number of page objects. Works on bytes: content streams are binary.
fn check_pdf(pdf: &[u8]) -> usize {
    let at = |offset: usize, needle: &str| pdf[offset..].starts_with(needle.as_bytes());
    let find_last = |needle: &[u8]| pdf.windows(needle.len()).rposition(|w| w == needle);
    let count = |needle: &[u8]| pdf.windows(needle.len()).filter(|w| *w == needle).count();
    assert!(pdf.starts_with(b"%PDF-1."));
    assert!(pdf.ends_with(b"%%EOF\n"));
    let sx = find_last(b"startxref\n").expect("startxref") + "startxref\n".len();
    let tail = std::str::from_utf8(&pdf[sx..]).expect("ascii trailer");
    let xref_at: usize = tail
        .lines()
        .next()
        .expect("offset")
        .parse()
        .expect("number");
    assert!(at(xref_at, "xref\n0 "));
    let table = std::str::from_utf8(&pdf[xref_at..]).expect("ascii xref");
    let mut lines = table.lines().skip(1);
    let header = lines.next().expect("subsection");
    let size: usize = header
        .split(' ')
        .nth(1)
        .expect("size")
        .parse()
        .expect("size");
    lines.next(); // the free entry
    for id in 1..size {
        let entry = lines.next().expect("entry");
        let offset: usize = entry[..10].parse().expect("offset");
        assert!(
            at(offset, &format!("{id} 0 obj")),
            "object {id} not at {offset}"
        );
    }
    assert!(table.contains(&format!("/Size {size}")));
    count(b"/Type /Page\n") + count(b"/Type /Page ")
}

#[test]
fn pdf_sheets_have_the_right_page_count_and_structure() {
    for (labels, pages) in [(0, 1), (1, 1), (24, 1), (25, 2), (60, 3)] {
        let mut w = SheetWriter::new(Vec::new(), SheetLayout::default(), LabelOptions::default())
            .expect("writer");
        for i in 0..labels {
            w.add(
                &format!("https://x.example/s/ABCDEFGH{i:07}X"),
                "ABCDEFGH0000000X",
            )
            .expect("add");
        }
        let pdf = w.finish().expect("finish");
        assert_eq!(check_pdf(&pdf), pages, "{labels} labels");
        let count = format!("/Count {pages}");
        assert!(pdf.windows(count.len()).any(|w| w == count.as_bytes()));
    }
}

#[test]
fn pdf_passes_poppler_when_installed() {
    let Ok(out) = std::process::Command::new("pdfinfo").arg("-v").output() else {
        return; // poppler-utils not installed: the structural check above still ran
    };
    let _ = out;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.pdf");
    let file = std::fs::File::create(&path).expect("create");
    let mut w = SheetWriter::new(file, SheetLayout::default(), LabelOptions::default()).expect("w");
    for i in 0..50 {
        w.add(&format!("https://x.example/s/ABCDEFGH{i:07}X"), "ABCD")
            .expect("add");
    }
    w.finish().expect("finish");
    let info = std::process::Command::new("pdfinfo")
        .arg(&path)
        .output()
        .expect("pdfinfo");
    assert!(
        info.status.success(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
    let stdout = String::from_utf8_lossy(&info.stdout);
    let pages = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .map(str::trim);
    assert_eq!(pages, Some("3"), "{stdout}");
}

#[test]
fn label_folder_writes_every_requested_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let formats: LabelFormats = "png,svg,pdf,zpl".parse().expect("formats");
    let mut sink =
        LabelFolder::create(dir.path(), formats, LabelOptions::default()).expect("create");
    sink.case("ABCDEFGH000000K", "https://x.example/c/ABCDEFGH000000K")
        .expect("case");
    for i in 0..300 {
        let serial = format!("ABCDEFGH{i:07}X");
        sink.item(&serial, &format!("https://x.example/v/{serial}?t=AAAA"))
            .expect("item");
    }
    sink.finish().expect("finish");
    let labels = dir.path().join("labels");
    let png = std::fs::read(labels.join("items/ABCDEFGH0000299X.png")).expect("png");
    assert_eq!(
        decode_bytes(&png).expect("decode"),
        Decoded::Payloads(vec!["https://x.example/v/ABCDEFGH0000299X?t=AAAA".into()])
    );
    assert!(labels.join("cases/ABCDEFGH000000K.svg").exists());
    assert_eq!(
        std::fs::read_dir(labels.join("items"))
            .expect("dir")
            .count(),
        600
    );
    let pdf = std::fs::read(labels.join("sheets.pdf")).expect("pdf");
    assert_eq!(check_pdf(&pdf), 301usize.div_ceil(24));
    let zpl = std::fs::read_to_string(labels.join("labels.zpl")).expect("zpl");
    assert_eq!(zpl.matches("^XA").count(), 301);
}

#[test]
fn label_names_cannot_escape_the_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sink = LabelFolder::create(
        dir.path(),
        "png".parse().expect("f"),
        LabelOptions::default(),
    )
    .expect("c");
    assert!(sink.item("../evil", "https://x.example/").is_err());
}

#[test]
fn label_formats_parse() {
    let f: LabelFormats = "PNG, zpl".parse().expect("parse");
    assert!(f.png && f.zpl && !f.svg && !f.pdf);
    assert!("png,gif".parse::<LabelFormats>().is_err());
    assert!("".parse::<LabelFormats>().is_err());
}

fn code(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        proptest::sample::select(ALPHABET.chars().collect::<Vec<_>>()),
        len,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn digits(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, len)
        .prop_map(|v| v.into_iter().map(|d| char::from(b'0' + d)).collect())
}

/// Payloads of every URL shape in `docs/codes.md`.
fn payload() -> impl Strategy<Value = String> {
    let base = proptest::sample::select(vec![
        "https://chainmark.example",
        "https://verify.brand-name.example.com",
        "http://localhost:8080",
    ]);
    let tag = proptest::collection::vec(
        proptest::sample::select(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
                .chars()
                .collect::<Vec<_>>(),
        ),
        16,
    )
    .prop_map(|v| v.into_iter().collect::<String>());
    (
        base,
        code(16),
        tag,
        digits(14),
        digits(18),
        code(15),
        0..5u8,
    )
        .prop_map(|(base, serial, tag, gtin, sscc, case, shape)| match shape {
            0 => format!("{base}/v/{serial}?t={tag}"),
            1 => format!("{base}/01/{gtin}/21/{serial}"),
            2 => format!("{base}/s/{serial}"),
            3 => format!("{base}/00/{sscc}"),
            _ => format!("{base}/c/{case}"),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_rendered_png_decodes_to_its_payload(
        p in payload(),
        ecc in proptest::sample::select(Ecc::ALL.to_vec()),
        px in 2u32..7,
    ) {
        let png = render_png(&p, "CAPTION", &opts(ecc, px)).expect("render");
        prop_assert_eq!(decode_bytes(&png).expect("decode"), Decoded::Payloads(vec![p]));
    }
}
