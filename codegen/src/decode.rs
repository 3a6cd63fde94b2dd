//! Reading QR codes back from label images (PNG or JPEG), with `rqrr`.
//!
//! Used to check printed or rendered labels: `verify-image` decodes each file here and hands
//! the payloads to `inspect`; the scanner agent's camera input decodes its frames here too. An
//! image in which no symbol decodes is [`Decoded::Unreadable`], a normal outcome rather than an
//! error. A file that is not an image at all is [`Error::NotAnImage`], and an image on which the
//! decoder itself breaks down is [`Error::DecoderFailed`]: never a panic, so one bad photograph
//! cannot stop a batch check or a scanning station.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use image::GrayImage;

use crate::error::{Error, Result};

/// What was found in an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// Every symbol that decoded, in the order `rqrr` found them.
    Payloads(Vec<String>),
    /// No symbol could be decoded (none found, or all damaged beyond correction).
    Unreadable,
}

/// Decodes every grid of a prepared image. A macro because `rqrr` keeps its buffer trait
/// private, so no function can be generic over both kinds of prepared image.
macro_rules! decode_prepared {
    ($img:expr) => {
        $img.detect_grids()
            .into_iter()
            .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
            .collect::<Vec<String>>()
    };
}

/// Decodes every QR symbol in a grey image.
///
/// Tries a global (Otsu) threshold first, then `rqrr`'s own adaptive one. Labels are printed or
/// rendered black on white, and once scaled down or blurred their module edges turn grey; the
/// adaptive threshold then breaks the finder patterns apart (no half-size label decoded in the
/// benchmark), while one threshold for the whole image keeps them. The adaptive pass stays as
/// the fallback for photographs with uneven lighting.
///
/// Fails with [`Error::DecoderFailed`] when `rqrr` panics on the image.
pub fn decode_gray(img: GrayImage) -> Result<Decoded> {
    // `rqrr` asserts on geometry it cannot map (its `geometry.rs`: a perspective fitted to a
    // degenerate group of finder patterns sends a module off past `i32`), and real photographs
    // of labels do reach those asserts. This is the one place that calls it, so the panic is
    // caught here and becomes an error about this image, instead of ending `verify-image` or the
    // scanner's camera input. Unwind safety: the closure owns the image and shares nothing
    // with the caller, so nothing half-updated is seen after a panic.
    catch_unwind(AssertUnwindSafe(move || decode_gray_unguarded(img))).map_err(|panic| {
        Error::DecoderFailed {
            path: None,
            reason: panic_message(panic.as_ref()),
        }
    })
}

/// The text of a caught panic (`panic!` carries a `&str` or a `String`).
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the QR decoder panicked".to_owned())
}

fn decode_gray_unguarded(img: GrayImage) -> Decoded {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let threshold = otsu(&img);
    let raw = img.as_raw();
    let mut global =
        rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| raw[y * w + x] <= threshold);
    let payloads = decode_prepared!(global);
    if !payloads.is_empty() {
        return Decoded::Payloads(payloads);
    }
    let mut adaptive = rqrr::PreparedImage::prepare(img);
    let payloads = decode_prepared!(adaptive);
    if payloads.is_empty() {
        Decoded::Unreadable
    } else {
        Decoded::Payloads(payloads)
    }
}

/// Otsu's threshold: the grey level that best separates the histogram into two classes.
fn otsu(img: &GrayImage) -> u8 {
    let mut hist = [0u64; 256];
    for &p in img.as_raw() {
        hist[usize::from(p)] += 1;
    }
    let total: u64 = hist.iter().sum();
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut weight_b, mut sum_b, mut best, mut best_var) = (0u64, 0f64, 127u8, -1f64);
    for (t, &count) in hist.iter().enumerate() {
        weight_b += count;
        if weight_b == 0 {
            continue;
        }
        let weight_f = total - weight_b;
        if weight_f == 0 {
            break;
        }
        sum_b += t as f64 * count as f64;
        let mean_b = sum_b / weight_b as f64;
        let mean_f = (sum_all - sum_b) / weight_f as f64;
        let var = weight_b as f64 * weight_f as f64 * (mean_b - mean_f).powi(2);
        if var > best_var {
            best_var = var;
            best = t as u8;
        }
    }
    best
}

/// Decodes image bytes (PNG or JPEG, recognised by content).
pub fn decode_bytes(bytes: &[u8]) -> Result<Decoded> {
    let img = image::load_from_memory(bytes).map_err(|e| Error::NotAnImage {
        path: None,
        reason: e.to_string(),
    })?;
    decode_gray(img.to_luma8())
}

/// Decodes an image file.
pub fn decode_file(path: &Path) -> Result<Decoded> {
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    decode_bytes(&bytes).map_err(|e| match e {
        Error::NotAnImage { reason, .. } => Error::NotAnImage {
            path: Some(path.to_owned()),
            reason,
        },
        Error::DecoderFailed { reason, .. } => Error::DecoderFailed {
            path: Some(path.to_owned()),
            reason,
        },
        other => other,
    })
}
