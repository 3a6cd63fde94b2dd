//! Reads every photograph of a set with rxing (a Rust port of ZXing), as `--bench photos` reads
//! it with `codegen::decode` and `reference.py` with zxing-cpp and zbar: the same files, the same
//! rule (a file counts when one symbol found carries exactly the expected text), each image
//! timed from its file.
//!
//! ```sh
//! cargo run --release --manifest-path codegen/benches/photos/rxing-eval/Cargo.toml -- /tmp/qr-photos
//! ```
//!
//! Two ways: rxing's plain QR reader, then with its "try harder" hint (a slower, more thorough
//! search). Prints Markdown rows for BENCHMARKS.md and the files each missed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rxing::{BarcodeFormat, DecodeHints};

fn main() -> anyhow::Result<()> {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .ok_or_else(|| anyhow::anyhow!("usage: rxing-eval DIR"))?;
    let mut files = Vec::new();
    for category in std::fs::read_dir(&root)? {
        let category = category?.path();
        if !category.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&category)? {
            let file = file?.path();
            if file.extension().is_some_and(|e| e == "png") {
                files.push(file);
            }
        }
    }
    files.sort();
    for (name, harder) in [("rxing", false), ("rxing, try harder", true)] {
        let mut by_category: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut missed = Vec::new();
        let mut spent = Duration::ZERO;
        for file in &files {
            let expected = std::fs::read_to_string(file.with_extension("txt"))?;
            let category = file
                .parent()
                .and_then(|p| p.file_name())
                .map(|c| c.to_string_lossy().into_owned())
                .unwrap_or_default();
            let path = file.to_string_lossy().into_owned();
            let started = Instant::now();
            let mut hints = DecodeHints::default().with(rxing::DecodeHintValue::TryHarder(harder));
            // A panic inside the decoder counts as a miss, and is reported.
            let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                rxing::helpers::detect_multiple_in_file_with_hints(&path, &mut hints)
                    .map(|results| {
                        results
                            .into_iter()
                            .filter(|r| *r.getBarcodeFormat() == BarcodeFormat::QR_CODE)
                            .map(|r| r.getText().to_owned())
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            }));
            spent += started.elapsed();
            let found = found.unwrap_or_else(|_| {
                eprintln!("panic on {}", file.display());
                Vec::new()
            });
            let entry = by_category.entry(category).or_default();
            entry.0 += 1;
            if found.contains(&expected) {
                entry.1 += 1;
            } else {
                missed.push(file.display().to_string());
            }
        }
        let (images, read) = by_category
            .values()
            .fold((0, 0), |(a, b), (i, r)| (a + i, b + r));
        for (category, (images, read)) in &by_category {
            println!("| {name} | {category} | {images} | {read} |");
        }
        println!(
            "| {name} | all | {images} | {read} | {:.1} images/s |",
            images as f64 / spent.as_secs_f64()
        );
        for m in missed {
            println!("  {name} missed {m}");
        }
    }
    Ok(())
}
