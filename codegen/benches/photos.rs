//! Benchmark: reading real photographs of QR codes with `codegen::decode`, next to zxing-cpp and
//! zbar (`benches/photos/reference.py`) on the same files.
//!
//! ```sh
//! codegen/benches/photos/fetch.sh /tmp/qr-photos      # the public set, see the script
//! cargo bench -p codegen --bench photos -- /tmp/qr-photos
//! /usr/bin/python3 codegen/benches/photos/reference.py /tmp/qr-photos
//! ```
//!
//! The folder holds one folder per category with `NAME.png` and the expected text in `NAME.txt`.
//! A file counts as read when one of the payloads found is exactly the expected text. Each image
//! is timed from its file (read, PNG decode, search, decode), as the references are. Prints
//! Markdown rows for BENCHMARKS.md, and the files ours missed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use codegen::decode::{Decoded, decode_file};

fn main() -> anyhow::Result<()> {
    let root = std::env::args()
        .skip(1)
        .find(|a| a != "--bench")
        .map(PathBuf::from)
        .ok_or_else(|| anyhow::anyhow!("usage: photos DIR (see the file's doc comment)"))?;
    let mut files = Vec::new();
    for category in std::fs::read_dir(&root)? {
        let category = category?.path();
        if !category.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&category)? {
            let f = f?.path();
            if f.extension().is_some_and(|e| e == "png") && f.with_extension("txt").exists() {
                files.push(f);
            }
        }
    }
    files.sort();
    let mut per: BTreeMap<String, (u32, u32, Duration)> = BTreeMap::new();
    let mut missed = Vec::new();
    let mut failed = 0;
    for f in &files {
        let expected = std::fs::read_to_string(f.with_extension("txt"))?;
        let start = Instant::now();
        let decoded = decode_file(f);
        let took = start.elapsed();
        let ok = match &decoded {
            Ok(Decoded::Payloads(found)) => found.contains(&expected),
            Ok(Decoded::Unreadable) => false,
            Err(e) => {
                failed += 1;
                eprintln!("{}: {e}", f.display());
                false
            }
        };
        if !ok {
            missed.push(name(f));
        }
        let e = per.entry(category(f)).or_default();
        *e = (e.0 + 1, e.1 + u32::from(ok), e.2 + took);
    }
    let (mut n, mut good, mut t) = (0, 0, Duration::ZERO);
    for (cat, (cn, cgood, ct)) in &per {
        println!(
            "| {cat} | ours | {cgood}/{cn} | {:.0} |",
            f64::from(*cn) / ct.as_secs_f64()
        );
        (n, good, t) = (n + cn, good + cgood, t + *ct);
    }
    println!(
        "| all | ours | {good}/{n} ({:.0} %) | {:.0} |",
        100.0 * f64::from(good) / f64::from(n.max(1)),
        f64::from(n) / t.as_secs_f64()
    );
    println!("decoder errors (caught panics): {failed}");
    println!("missed: {}", missed.join(" "));
    Ok(())
}

fn category(f: &Path) -> String {
    f.parent()
        .and_then(Path::file_name)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn name(f: &Path) -> String {
    format!(
        "{}/{}",
        category(f),
        f.file_name().unwrap_or_default().to_string_lossy()
    )
}
