use super::*;

const URL: &str = "https://brand.example/a/C-0001";
const INK: Rgb = Rgb(0x57, 0x53, 0x4e);

/// The discovered font, or `None` (the test then returns) on a machine without one; on CI a
/// missing font fails the test, so the PNG tests cannot silently stop running there.
fn test_fonts() -> Option<Fonts> {
    match Fonts::discover(None) {
        Ok(f) => Some(f),
        Err(e) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("no CJK font on CI ({e}); install fonts-wqy-microhei");
            }
            eprintln!("skipped: no CJK font ({e}); install fonts-wqy-microhei to run this test");
            None
        }
    }
}

/// The certificate's layout with sample data (the server's 授权证书, 750 × 1000).
fn certificate() -> Card {
    let mut card = Card::new(750, 1000, Rgb(0xff, 0xfd, 0xf7))
        .rect(20, 20, 710, 960, Paint::stroke(Rgb(0xb4, 0x53, 0x09), 6))
        .rect(34, 34, 682, 932, Paint::stroke(Rgb(0xb4, 0x53, 0x09), 2))
        .text(
            375,
            110,
            30,
            Text::new("品牌")
                .color(Rgb(0xb9, 0x1c, 0x1c))
                .bold()
                .middle(),
        )
        .text(375, 170, 44, Text::new("授权证书").bold().middle());
    let rows = [
        ("授权代理", "周新人"),
        ("授权级别", "省级代理"),
        ("授权区域", "浙江省 杭州市 西湖区"),
        ("有效期", "2025-01-01 — 2025-12-31"),
        ("证书编号", "C-0001"),
    ];
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 250 + 56 * i as u32;
        card = card.text(70, y, 24, Text::new(*label).color(INK)).text(
            230,
            y,
            28,
            Text::new(*value).bold().max_width(450),
        );
    }
    card.qr(URL, 275, 600, 200)
        .expect("the URL fits a QR code")
        .text(
            375,
            940,
            20,
            Text::new("扫码查询授权真伪").color(INK).middle(),
        )
}

fn decode_qr(png: &[u8]) -> Vec<String> {
    let img = image::load_from_memory(png).expect("a PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .iter()
        .filter_map(|g| g.decode().ok().map(|(_, content)| content))
        .collect()
}

fn is_dark(p: &image::Rgb<u8>) -> bool {
    p.0.iter().map(|&c| u32::from(c)).sum::<u32>() < 3 * 128
}

#[test]
fn card_svg_escapes_text_and_contains_the_qr_path() {
    let svg = Card::new(300, 300, Rgb::WHITE)
        .rect(
            10,
            10,
            280,
            280,
            Paint::fill(Rgb(0x7f, 0x1d, 0x1d)).radius(24),
        )
        .text(150, 40, 20, Text::new("<a & \"b\">").middle().bold())
        .qr(URL, 50, 60, 200)
        .expect("qr")
        .to_svg();
    assert!(
        svg.contains(">&lt;a &amp; &quot;b&quot;&gt;</text>"),
        "{svg}"
    );
    assert!(!svg.contains("<a "), "{svg}");
    assert!(svg.contains("text-anchor=\"middle\"") && svg.contains("font-weight=\"700\""));
    assert!(svg.contains("rx=\"24\" fill=\"#7f1d1d\""), "{svg}");
    assert!(
        svg.contains(&format!("font-family=\"{}\"", svg::FONT_FAMILY)),
        "{svg}"
    );
    // The QR: a nested SVG of 29 + 8 modules; the top row of the top-left finder pattern is a
    // run of 7 dark modules after the 4-module quiet zone.
    assert!(
        svg.contains("<svg x=\"50\" y=\"60\" width=\"200\" height=\"200\" viewBox=\"0 0 37 37\""),
        "{svg}"
    );
    assert!(svg.contains("shape-rendering=\"crispEdges\""));
    assert!(svg.contains("<path d=\"M4 4h7v1h-7z"), "{svg}");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"300\""));
    assert!(svg.ends_with("</svg></svg>"), "{svg}");
}

#[test]
fn card_qr_too_long_or_too_small_is_an_error() {
    let long = "x".repeat(4000);
    let err = Card::new(100, 100, Rgb::WHITE)
        .qr(&long, 0, 0, 100)
        .expect_err("too long");
    assert!(matches!(err, Error::QrEncode(_)), "{err:?}");
    let err = Card::new(100, 100, Rgb::WHITE)
        .qr(URL, 0, 0, 30)
        .expect_err("too small");
    assert!(matches!(err, Error::Card(_)), "{err:?}");
}

#[test]
fn card_png_certificate_decodes_back_to_the_url() {
    let Some(fonts) = test_fonts() else { return };
    let card = certificate();
    assert_eq!(card.missing_glyphs(&fonts), Vec::<char>::new());
    let png = card.to_png(&fonts).expect("png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let img = image::load_from_memory(&png).expect("decodes");
    assert_eq!((img.width(), img.height()), (750, 1000));
    assert_eq!(decode_qr(&png), vec![URL.to_string()]);
    // The background is where nothing is drawn.
    let rgb = img.to_rgb8();
    assert_eq!(rgb.get_pixel(100, 500).0, [0xff, 0xfd, 0xf7]);
    // The outer frame is drawn: the stroke straddles x = 20.
    assert_eq!(rgb.get_pixel(20, 500).0, [0xb4, 0x53, 0x09]);
}

#[test]
fn card_png_poster_with_a_big_qr_decodes() {
    let Some(fonts) = test_fonts() else { return };
    let card = Card::new(750, 1100, Rgb(0x7f, 0x1d, 0x1d))
        .rect(40, 40, 670, 1020, Paint::fill(Rgb::WHITE).radius(24))
        .text(
            375,
            150,
            40,
            Text::new("品牌")
                .bold()
                .color(Rgb(0xb9, 0x1c, 0x1c))
                .middle(),
        )
        .text(375, 240, 34, Text::new("周新人 邀请您加入").middle())
        .qr(URL, 175, 380, 400)
        .expect("qr");
    let png = card.to_png(&fonts).expect("png");
    assert_eq!(decode_qr(&png), vec![URL.to_string()]);
    let img = image::load_from_memory(&png).expect("png").to_rgb8();
    assert_eq!((img.width(), img.height()), (750, 1100));
    // Rounded corner: the card's corner pixel stays the background colour, the inside is white.
    assert_eq!(img.get_pixel(41, 41).0, [0x7f, 0x1d, 0x1d]);
    assert_eq!(img.get_pixel(100, 100).0, [255, 255, 255]);
}

#[test]
fn card_png_text_is_really_drawn() {
    let Some(fonts) = test_fonts() else { return };
    let card = Card::new(400, 200, Rgb::WHITE).text(20, 100, 40, Text::new("授权证书 周新人"));
    let img = image::load_from_memory(&card.to_png(&fonts).expect("png"))
        .expect("png")
        .to_rgb8();
    // The line's box: from the baseline up one em, a little below for descenders.
    let dark_in = |x0: u32, x1: u32, y0: u32, y1: u32| {
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| is_dark(img.get_pixel(x, y)))
            .count()
    };
    let inside = dark_in(20, 380, 60, 110);
    assert!(inside > 500, "only {inside} dark pixels in the text box");
    // Each of the first characters has ink in its own em box.
    for i in 0..4 {
        let x = 20 + 40 * i;
        assert!(dark_in(x, x + 40, 60, 110) > 50, "character {i} is blank");
    }
    // Nothing outside the line.
    assert_eq!(dark_in(0, 400, 0, 50), 0);
    assert_eq!(dark_in(0, 400, 120, 200), 0);

    // Bold has more ink than regular.
    let bold = Card::new(400, 200, Rgb::WHITE).text(20, 100, 40, Text::new("授权证书").bold());
    let regular = Card::new(400, 200, Rgb::WHITE).text(20, 100, 40, Text::new("授权证书"));
    let ink = |c: &Card| {
        png::draw(c, &fonts)
            .expect("draw")
            .pixels()
            .map(|p| 255 - u32::from(p.0[0]))
            .sum::<u32>()
    };
    assert!(ink(&bold) > ink(&regular) * 11 / 10);
}

/// Columns holding ink in an image, as (leftmost, rightmost).
fn ink_columns(img: &image::RgbImage) -> Option<(u32, u32)> {
    let cols: Vec<u32> = (0..img.width())
        .filter(|&x| (0..img.height()).any(|y| is_dark(img.get_pixel(x, y))))
        .collect();
    Some((*cols.first()?, *cols.last()?))
}

#[test]
fn card_png_max_width_keeps_a_chinese_line_inside_the_card() {
    let Some(fonts) = test_fonts() else { return };
    let line = "浙江省 杭州市 西湖区";
    let draw = |text: Text| {
        let card = Card::new(360, 120, Rgb::WHITE).text(180, 80, 40, text);
        png::draw(&card, &fonts).expect("draw")
    };
    // Without a limit the line (9 ideographs and 2 spaces at 40 px) runs off the 360-px card.
    let (l, r) = ink_columns(&draw(Text::new(line).middle())).expect("ink");
    assert!(l == 0 && r == 359, "unlimited line spans {l}..{r}");
    // With a limit of 180 px it is centred and inside the limit.
    let (l, r) = ink_columns(&draw(Text::new(line).middle().max_width(180))).expect("ink");
    let width = r - l + 1;
    assert!(width > 100 && width <= 180 && width < 360, "width {width}");
    assert!(l >= 90 && r < 270, "fitted line spans {l}..{r}");
    // The SVG says the same: truncated with an ellipsis at the shrink floor.
    let svg = Card::new(360, 120, Rgb::WHITE)
        .text(180, 80, 40, Text::new(line).middle().max_width(180))
        .to_svg();
    assert!(svg.contains(">浙江省 杭州…</text>"), "{svg}");
}

#[test]
fn card_missing_glyphs_are_found() {
    let Some(fonts) = test_fonts() else { return };
    let common = "授权证书 周新人 浙江省 杭州市 西湖区 扫码查询授权真伪，在线申请、有效期 \
                  ABCxyz 0123456789 -—…:/";
    let card = Card::new(100, 100, Rgb::WHITE).text(0, 50, 20, Text::new(common));
    assert_eq!(card.missing_glyphs(&fonts), Vec::<char>::new());
    assert!(fonts.covers(common));
    // A private-use character and an alchemical symbol: no CJK font has them.
    for odd in ['\u{E000}', '🜲'] {
        assert!(
            fonts.missing(&odd.to_string()) == vec![odd],
            "{odd:?} in {:?}",
            fonts.path()
        );
    }
    let card =
        Card::new(100, 100, Rgb::WHITE).text(0, 50, 20, Text::new("周\u{E000}新 🜲 \u{E000}"));
    assert_eq!(card.missing_glyphs(&fonts), vec!['\u{E000}', '🜲']);
    assert!(!fonts.covers("周\u{E000}"));
}

#[test]
fn card_rgb_hex_is_lowercase_six_digits() {
    assert_eq!(Rgb(0xb4, 0x53, 0x09).hex(), "#b45309");
    assert_eq!(Rgb::WHITE.hex(), "#ffffff");
}

#[test]
fn card_zpl_is_one_graphic_field_that_reads_back_to_the_picture() {
    let Some(fonts) = test_fonts() else { return };
    let card = certificate();
    let zpl = card.to_zpl(&fonts).expect("zpl");
    assert!(zpl.starts_with("^XA\n^PW750\n^LL1000\n") && zpl.ends_with("^XZ\n"));
    assert_eq!(zpl.matches("^GFA,").count(), 1, "one graphic field");
    // 750 dots a row is 94 bytes (the last one padded), 1000 rows.
    assert!(zpl.contains("^GFA,94000,94000,94,"));
    let img = decode_graphic(&zpl).expect("the graphic field reads back");
    assert_eq!(img.dimensions(), (752, 1000));
    let mut prepared = rqrr::PreparedImage::prepare(img.clone());
    let found: Vec<String> = prepared
        .detect_grids()
        .iter()
        .filter_map(|g| g.decode().ok().map(|(_, c)| c))
        .collect();
    assert_eq!(found, [URL], "the QR prints and scans");
    // The title's ink is there: black dots inside the box of "授权证书" (baseline 170, 44 px).
    let black = (140..175)
        .flat_map(|y| (280..470).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0[0] == 0)
        .count();
    assert!(black > 500, "the title printed: {black} black dots");
    // Outside the frame, nothing.
    assert!((0..1000).all(|y| img.get_pixel(5, y).0[0] == 255));
    assert!(decode_graphic("^XA^XZ").is_none());
    assert!(decode_graphic("^XA^GFA,10,10,3,\nFFFF^FS^XZ").is_none());
}

#[test]
fn card_pdf_is_one_page_of_the_asked_size() {
    let Some(fonts) = test_fonts() else { return };
    let pdf = certificate().to_pdf(&fonts, 75.0, 100.0).expect("pdf");
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.starts_with("%PDF-"));
    assert_eq!(
        text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count(),
        1
    );
    // 75 mm × 100 mm in points.
    assert!(
        text.contains("/MediaBox [0 0 212.59"),
        "{}",
        &text[..400.min(text.len())]
    );
    assert!(text.contains("/Width 750") && text.contains("/Height 1000"));
    for (w, h) in [(0.0, 100.0), (75.0, -1.0), (f32::NAN, 10.0), (2000.0, 10.0)] {
        assert!(certificate().to_pdf(&fonts, w, h).is_err(), "{w} × {h}");
    }
}
