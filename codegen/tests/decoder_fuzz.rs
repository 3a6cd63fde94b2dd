//! How `tests/fixtures/rqrr-panic.png` was found: a small deterministic generator draws images
//! of skewed finder patterns (the squares in three corners of a QR code) and noise, and each is
//! decoded until `rqrr` panics. Run with `cargo test -p codegen --test decoder_fuzz -- --ignored
//! --nocapture`; it writes the first such image to `target/rqrr-panic.png`.

use codegen::decode::decode_gray;
use image::{GrayImage, Luma};

/// xorshift64*: deterministic, so the search finds the same image every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn float(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.float()
    }
}

/// Draws a finder pattern (7×7 modules: dark ring, light ring, dark 3×3 centre) through the
/// affine map `[a b; c d]` centred on (`cx`, `cy`).
fn finder(img: &mut GrayImage, rng: &mut Rng, cx: f64, cy: f64) {
    let module = rng.range(1.5, 6.0);
    let (a, b, c, d) = (
        module * rng.range(0.3, 1.7),
        module * rng.range(-1.0, 1.0),
        module * rng.range(-1.0, 1.0),
        module * rng.range(0.3, 1.7),
    );
    let det = a * d - b * c;
    if det.abs() < 0.5 {
        return;
    }
    let (w, h) = (img.width() as i64, img.height() as i64);
    let reach = 5.0 * (a.abs() + b.abs() + c.abs() + d.abs());
    for y in (cy - reach) as i64..=(cy + reach) as i64 {
        for x in (cx - reach) as i64..=(cx + reach) as i64 {
            if x < 0 || y < 0 || x >= w || y >= h {
                continue;
            }
            let (dx, dy) = (x as f64 - cx, y as f64 - cy);
            // Into module coordinates, -3.5..3.5 across the pattern.
            let u = (d * dx - b * dy) / det;
            let v = (-c * dx + a * dy) / det;
            let r = u.abs().max(v.abs());
            let dark = r < 1.5 || (2.5..3.5).contains(&r);
            if r < 3.5 {
                img.put_pixel(x as u32, y as u32, Luma([if dark { 0 } else { 255 }]));
            }
        }
    }
}

fn image(seed: u64) -> GrayImage {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let size = 96 + (rng.next() % 96) as u32;
    let mut img = GrayImage::from_pixel(size, size, Luma([255]));
    let s = f64::from(size);
    for _ in 0..(3 + rng.next() % 4) {
        let (x, y) = (rng.range(0.1 * s, 0.9 * s), rng.range(0.1 * s, 0.9 * s));
        finder(&mut img, &mut rng, x, y);
    }
    for _ in 0..(rng.next() % 40) {
        let (x, y) = (rng.next() % u64::from(size), rng.next() % u64::from(size));
        let (w, h) = (1 + rng.next() % 6, 1 + rng.next() % 6);
        for yy in y..(y + h).min(u64::from(size)) {
            for xx in x..(x + w).min(u64::from(size)) {
                img.put_pixel(xx as u32, yy as u32, Luma([0]));
            }
        }
    }
    img
}

#[test]
#[ignore = "a search, not a test: it wrote tests/fixtures/rqrr-panic.png"]
fn search_for_an_image_rqrr_panics_on() {
    // The panics are expected; keep their messages off the output.
    std::panic::set_hook(Box::new(|_| {}));
    for seed in 0..200_000u64 {
        let img = image(seed);
        if let Err(e) = decode_gray(img.clone()) {
            let _ = std::panic::take_hook();
            let out =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/rqrr-panic.png");
            img.save(&out).expect("save");
            println!("seed {seed}: {e}; written to {}", out.display());
            return;
        }
    }
    panic!("no panic found");
}
