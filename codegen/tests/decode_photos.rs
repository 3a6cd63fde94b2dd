//! The decoder on what cameras deliver: symbols without a quiet zone, uneven light, blur, and on
//! what they should never crash on: garbage, truncated files, huge images.

use codegen::decode::{Decoded, MAX_SIDE, decode_bytes, decode_gray};
use codegen::label::png::{render_gray, render_png};
use codegen::label::{Ecc, LabelOptions, ModuleSize};
use image::{GrayImage, Luma};
use proptest::prelude::*;

const SERIAL: &str = "7K3M9QXA0000042B";
const URL: &str = "https://chainmark.example/v/7K3M9QXA0000042B?t=MFRGGZDFMZTWQ2LK";

fn label(px: u32, quiet_zone: u32) -> GrayImage {
    let opts = LabelOptions {
        ecc: Ecc::M,
        module: ModuleSize::Pixels(px),
        quiet_zone,
    };
    render_gray(URL, SERIAL, &opts).expect("render")
}

fn read(img: GrayImage) -> Decoded {
    decode_gray(img).expect("the decoder does not fail")
}

fn found() -> Decoded {
    Decoded::Payloads(vec![URL.to_owned()])
}

/// A photograph cropped to the symbol's edge: no light margin around the finder patterns.
#[test]
fn a_symbol_without_quiet_zone_is_read() {
    let img = label(4, 4);
    let (qz, module_px) = (4 * 4, 4);
    let side = img.width() - 2 * qz;
    // Keep the symbol and one pixel less than a module of margin.
    let cut = qz - (module_px - 1);
    let cropped = image::imageops::crop_imm(
        &img,
        cut,
        cut,
        side + 2 * (module_px - 1),
        side + 2 * (module_px - 1),
    )
    .to_image();
    assert_eq!(read(cropped), found());
}

/// Light falling off across the label (a lamp on one side, a curved bottle): the left half of
/// the symbol's light modules are darker than the right half's dark ones.
#[test]
fn a_symbol_under_strongly_uneven_light_is_read() {
    let img = label(6, 4);
    let w = img.width() as f64;
    let lit = GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let p = f64::from(img.get_pixel(x, y)[0]);
        // Brightness from 0.25 on the left to 1.0 on the right, contrast 0.5.
        let gain = 0.25 + 0.75 * f64::from(x) / w;
        Luma([((64.0 + p * 0.5) * gain).round().min(255.0) as u8])
    });
    assert_eq!(read(lit), found());
}

/// Low contrast: dark modules mid grey, light ones a little lighter.
#[test]
fn a_faint_symbol_is_read() {
    let img = label(5, 4);
    let faint = GrayImage::from_fn(img.width(), img.height(), |x, y| {
        Luma([if img.get_pixel(x, y)[0] < 128 {
            120
        } else {
            150
        }])
    });
    assert_eq!(read(faint), found());
}

/// A camera's large frame: scaled to `MAX_SIDE` first, and the symbol still read.
#[test]
fn a_large_frame_is_scaled_down_and_read() {
    let img = label(8, 4);
    let (w, h) = (MAX_SIDE * 2 + 100, MAX_SIDE + 400);
    let mut frame = GrayImage::from_pixel(w, h, Luma([200]));
    image::imageops::replace(&mut frame, &img, 1500, 700);
    assert_eq!(read(frame), found());
}

#[test]
fn blank_and_tiny_images_are_unreadable_not_errors() {
    for (w, h) in [(0, 0), (1, 1), (20, 20), (21, 3), (3000, 1)] {
        assert_eq!(read(GrayImage::new(w, h)), Decoded::Unreadable, "{w}x{h}");
    }
}

/// A PNG cut short anywhere: an error or nothing found, never a panic.
#[test]
fn truncated_files_never_panic() {
    let png = render_png(
        URL,
        SERIAL,
        &LabelOptions {
            ecc: Ecc::M,
            module: ModuleSize::Pixels(3),
            quiet_zone: 4,
        },
    )
    .expect("render");
    for len in (0..png.len()).step_by(97) {
        let _ = decode_bytes(&png[..len]);
    }
}

/// A PNG whose header claims 100,000 × 100,000 pixels: refused before memory is taken.
#[test]
fn an_image_claiming_to_be_huge_is_refused() {
    let mut png = Vec::new();
    png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(b"IHDR");
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    png.extend_from_slice(&[0, 0, 0, 0]);
    png.extend_from_slice(b"IEND");
    png.extend_from_slice(&crc32(b"IEND").to_be_bytes());
    assert!(decode_bytes(&png).is_err());
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any bytes at all: an error or a result, never a panic.
    #[test]
    fn garbage_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = decode_bytes(&bytes);
    }

    /// Any grey image, noise with blocks of dark and light (finder-like shapes appear): a result
    /// or `DecoderFailed`, never a panic.
    #[test]
    fn noise_images_never_panic(
        w in 1u32..160,
        h in 1u32..160,
        seed in any::<u64>(),
        block in 1u32..9,
    ) {
        let img = GrayImage::from_fn(w, h, |x, y| {
            // xorshift over the block the pixel is in: blocky noise.
            let mut v = (seed | 1) ^ (u64::from(x / block) << 32) ^ u64::from(y / block);
            v ^= v << 13;
            v ^= v >> 7;
            v ^= v << 17;
            Luma([if v % 3 == 0 { 0 } else { 255 }])
        });
        let _ = decode_gray(img);
    }
}

/// A distant, slightly out-of-focus symbol: two pixels per module, then blurred.
#[test]
fn a_small_blurred_symbol_is_read() {
    let img = image::imageops::blur(&label(2, 4), 0.8);
    assert_eq!(read(img), found());
}
