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

/// Images are scaled down to at most this many pixels on their longer side before decoding:
/// a phone's 12-megapixel photograph holds the symbol at several pixels per module anyway, and
/// `rqrr`'s time grows with the pixels while finding nothing more.
pub const MAX_SIDE: u32 = 2048;

/// Decodes every QR symbol in a grey image.
///
/// Tries the preparations of [`ATTEMPTS`] in turn and stops at the first that yields a payload:
/// one global (Otsu) threshold, a threshold against the mean of a neighbourhood, `rqrr`'s own
/// adaptive one, then the image scaled up, smoothed or inverted. Labels are printed or rendered
/// black on white, and once scaled down or blurred their module edges turn grey; `rqrr`'s
/// adaptive threshold then breaks the finder patterns apart, while one threshold for the whole
/// image keeps them, hence the order. An unreadable image costs all ten attempts.
///
/// Fails with [`Error::DecoderFailed`] when `rqrr` panicked on a preparation and none decoded.
pub fn decode_gray(img: GrayImage) -> Result<Decoded> {
    let img = fit(img);
    let mut panicked = None;
    for attempt in ATTEMPTS {
        // `rqrr` asserts on geometry it cannot map (its `geometry.rs`: a perspective fitted to a
        // degenerate group of finder patterns sends a module off past `i32`), and real
        // photographs of labels do reach those asserts. This is the one place that calls it, so
        // the panic is caught here and the next preparation gets its turn; if none decodes, the
        // panic becomes an error about this image instead of ending `verify-image` or the
        // scanner's camera input. Unwind safety: each attempt reads the image and owns all it
        // writes, so nothing half-updated is seen after a panic.
        match catch_unwind(AssertUnwindSafe(|| attempt.run(&img))) {
            Ok(found) if !found.is_empty() => return Ok(Decoded::Payloads(found)),
            Ok(_) => {}
            Err(panic) => {
                panicked.get_or_insert_with(|| panic_message(panic.as_ref()));
            }
        }
    }
    match panicked {
        Some(reason) => Err(Error::DecoderFailed { path: None, reason }),
        None => Ok(Decoded::Unreadable),
    }
}

/// The text of a caught panic (`panic!` carries a `&str` or a `String`).
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the QR decoder panicked".to_owned())
}

/// How an attempt binarises the (scaled, smoothed) image.
#[derive(Debug, Clone, Copy)]
enum Threshold {
    /// One Otsu threshold for the whole image; `inverted` reads light modules on dark.
    Global { inverted: bool },
    /// `rqrr`'s own adaptive threshold.
    Rqrr,
    /// Dark below `percent` % of the mean of a square of side 2 × shorter side / `div`.
    Local { div: usize, percent: u64 },
}

/// One way of preparing the image for `rqrr`.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    scale: f64,
    blur: f32,
    threshold: Threshold,
}

const fn attempt(scale: f64, blur: f32, threshold: Threshold) -> Attempt {
    Attempt {
        scale,
        blur,
        threshold,
    }
}

const OTSU: Threshold = Threshold::Global { inverted: false };

/// The preparations [`decode_gray`] tries, in order: the cheap ones that read rendered and
/// printed labels first, then those that read photographs. The photograph steps were chosen on
/// the public set in BENCHMARKS.md ("decoding photographs"): upscaling helps `rqrr`'s finder
/// search and grid fitting on symbols of 2–4 pixels per module, and a local threshold keeps
/// the symbol whole under uneven light. Each step reads images none before it reads there.
const ATTEMPTS: [Attempt; 10] = [
    attempt(1.0, 0.0, OTSU),
    attempt(
        1.0,
        0.0,
        Threshold::Local {
            div: 16,
            percent: 88,
        },
    ),
    attempt(1.0, 0.0, Threshold::Rqrr),
    attempt(
        2.0,
        0.0,
        Threshold::Local {
            div: 8,
            percent: 95,
        },
    ),
    attempt(
        2.0,
        0.0,
        Threshold::Local {
            div: 16,
            percent: 88,
        },
    ),
    attempt(1.5, 1.0, OTSU),
    attempt(
        2.0,
        0.0,
        Threshold::Local {
            div: 32,
            percent: 95,
        },
    ),
    attempt(
        2.0,
        1.0,
        Threshold::Local {
            div: 8,
            percent: 88,
        },
    ),
    attempt(2.0, 0.0, OTSU),
    attempt(1.0, 0.0, Threshold::Global { inverted: true }),
];

impl Attempt {
    /// The payloads this preparation yields (none when the scale makes no sense for the image).
    fn run(self, img: &GrayImage) -> Vec<String> {
        let scaled;
        let img = if self.scale == 1.0 {
            img
        } else {
            match scaled_by(img, self.scale) {
                Some(s) => {
                    scaled = s;
                    &scaled
                }
                None => return Vec::new(),
            }
        };
        let smoothed;
        let img = if self.blur > 0.0 {
            smoothed = image::imageops::blur(img, self.blur);
            &smoothed
        } else {
            img
        };
        match self.threshold {
            Threshold::Global { inverted } => global(img, inverted),
            Threshold::Rqrr => {
                let mut adaptive = rqrr::PreparedImage::prepare(img.clone());
                decode_prepared!(adaptive)
            }
            Threshold::Local { div, percent } => local_mean(img, div, percent),
        }
    }
}

/// The image scaled down so that neither side exceeds [`MAX_SIDE`].
fn fit(img: GrayImage) -> GrayImage {
    let longer = img.width().max(img.height());
    if longer <= MAX_SIDE {
        return img;
    }
    let f = f64::from(MAX_SIDE) / f64::from(longer);
    scaled_by(&img, f).unwrap_or(img)
}

/// The image resized by `factor` (triangle filter), or `None` where that makes no sense: a side
/// under 21 pixels (no QR code fits) or, scaling up, a longer side past [`MAX_SIDE`].
fn scaled_by(img: &GrayImage, factor: f64) -> Option<GrayImage> {
    let w = (f64::from(img.width()) * factor).round();
    let h = (f64::from(img.height()) * factor).round();
    if w < 21.0 || h < 21.0 || (factor > 1.0 && w.max(h) > f64::from(MAX_SIDE)) {
        return None;
    }
    Some(image::imageops::resize(
        img,
        w as u32,
        h as u32,
        image::imageops::FilterType::Triangle,
    ))
}

/// One Otsu threshold for the whole image; `inverted` reads light modules on a dark ground.
fn global(img: &GrayImage, inverted: bool) -> Vec<String> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let threshold = otsu(img);
    let raw = img.as_raw();
    let mut prepared = rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| {
        (raw[y * w + x] <= threshold) != inverted
    });
    decode_prepared!(prepared)
}

/// Dark where a pixel is below `percent` % of the mean of the square around it (half-side: the
/// image's shorter side / `div`): follows light that changes across the photograph (glare,
/// shadow, a curved surface) and keeps weak contrast, where one threshold loses half the
/// symbol. The window is wider than a module, so finder patterns stay whole (unlike `rqrr`'s
/// own); below 100 %, flat areas (a pixel ≈ its mean) stay light, sensor noise included.
fn local_mean(img: &GrayImage, div: usize, percent: u64) -> Vec<String> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let raw = img.as_raw();
    // Summed-area table with a zero row and column in front: any window's sum in four reads.
    let stride = w + 1;
    let mut sums = vec![0u64; stride * (h + 1)];
    for y in 0..h {
        let mut row = 0u64;
        for x in 0..w {
            row += u64::from(raw[y * w + x]);
            sums[(y + 1) * stride + x + 1] = sums[y * stride + x + 1] + row;
        }
    }
    let r = (w.min(h) / div.max(1)).max(3);
    let dark: Vec<bool> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
            let sum = sums[y1 * stride + x1] + sums[y0 * stride + x0]
                - sums[y0 * stride + x1]
                - sums[y1 * stride + x0];
            let n = ((x1 - x0) * (y1 - y0)) as u64;
            u64::from(raw[y * w + x]) * n * 100 < sum * percent
        })
        .collect();
    let mut prepared = rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| dark[y * w + x]);
    decode_prepared!(prepared)
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
