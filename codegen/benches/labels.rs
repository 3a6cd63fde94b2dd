//! Label benchmarks against the usual command-line tools, printed as Markdown for BENCHMARKS.md.
//!
//! (a) rendering PNG QR labels, ours vs `zint --batch`, same payloads, ECC level, module size and
//!     quiet zone, files written to disk by both;
//! (b) decoding label images, `rqrr` (ours) vs `zbarimg`, on the same images at full size, half
//!     size and blurred.
//!
//! Run: `cargo bench -p codegen --bench labels -- [ITEMS] [DECODE_IMAGES]`. Needs the Debian
//! packages `zint` and `zbar-tools` for the comparison columns; without them only ours is timed.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use codegen::decode::{Decoded, decode_bytes};
use codegen::label::png::render_png;
use codegen::label::{Ecc, LabelOptions, ModuleSize};
use image::imageops::{self, FilterType};
use rayon::prelude::*;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXY";
const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Pixels per module; zint's raster X-dimension is 2 px per unit of `--scale`.
const MODULE_PX: u32 = 4;
const ECC: Ecc = Ecc::M;

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let items: usize = args.first().map_or(Ok(5000), |a| a.parse())?;
    let decode_n: usize = args.get(1).map_or(Ok(300), |a| a.parse())?;
    // tmpfs by default: ext4 file creation costs more than rendering a label and varies with
    // what was deleted before, which would measure the disk rather than the renderers.
    let root = std::env::var_os("LABELS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/dev/shm"));
    let tmp = tempfile::tempdir_in(if root.is_dir() {
        root
    } else {
        std::env::temp_dir()
    })?;
    let payloads = payloads(items);
    let opts = LabelOptions {
        ecc: ECC,
        module: ModuleSize::Pixels(MODULE_PX),
        quiet_zone: 4,
    };

    println!("machine: {} cores, {}", cores(), cpu_model());
    println!(
        "\n### (a) PNG label rendering, {items} item URLs, ECC {ECC}, {MODULE_PX} px/module, quiet zone 4\n"
    );
    println!("| renderer | time | labels/s | vs zint |");
    println!("|---|---|---|---|");
    // Best of two runs each, alternating, so neither side pays for a cold cache alone.
    let zint = zint_render(&payloads, tmp.path(), 0)
        .and_then(|a| zint_render(&payloads, tmp.path(), 1).map(|b| a.min(b)));
    let zint_rate = zint.as_ref().ok().map(|d| rate(items, *d));
    let row = |name: &str, d: Duration| {
        let r = rate(items, d);
        let vs = zint_rate.map_or("n/a".to_owned(), |z| format!("{:.2}×", r / z));
        println!("| {name} | {:.3} s | {r:.0} | {vs} |", d.as_secs_f64());
    };
    let best = |caption, parallel| -> Res<Duration> {
        let a = ours_render(&payloads, &opts, tmp.path(), caption, parallel, 0)?;
        Ok(a.min(ours_render(
            &payloads,
            &opts,
            tmp.path(),
            caption,
            parallel,
            1,
        )?))
    };
    row("ours, 1 thread, no caption", best(false, false)?);
    row("ours, 1 thread, caption", best(true, false)?);
    let threads = rayon::current_num_threads();
    row(
        &format!("ours, rayon ({threads} threads), caption"),
        best(true, true)?,
    );
    match &zint {
        Ok(d) => row("zint --batch (1 process), no caption", *d),
        Err(e) => println!("| zint | skipped: {e} | | |"),
    }

    println!("\n### (b) decoding {decode_n} label images (ours, {MODULE_PX} px/module, caption)\n");
    println!("| variant | decoder | decoded | rate | images/s |");
    println!("|---|---|---|---|---|");
    let sample = &payloads[..decode_n.min(payloads.len())];
    for (variant, dir) in make_variants(sample, &opts, tmp.path())? {
        let files = list_pngs(&dir)?;
        let (ok, d) = rqrr_decode(&files, sample)?;
        print_decode(&variant, "rqrr (ours)", ok, files.len(), d);
        let (ok, d) = rqrr_decode_parallel(&files, sample)?;
        let threads = rayon::current_num_threads();
        print_decode(
            &variant,
            &format!("rqrr (ours), {threads} threads"),
            ok,
            files.len(),
            d,
        );
        match zbar_decode(&files, sample) {
            Ok((ok, d)) => print_decode(&variant, "zbarimg", ok, files.len(), d),
            Err(e) => println!("| {variant} | zbarimg | skipped: {e} | | |"),
        }
    }
    Ok(())
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn print_decode(variant: &str, decoder: &str, ok: usize, n: usize, d: Duration) {
    println!(
        "| {variant} | {decoder} | {ok}/{n} | {:.1} % | {:.0} |",
        100.0 * ok as f64 / n as f64,
        rate(n, d)
    );
}

/// Deterministic item URLs of the real shape: `{base}/v/{serial}?t={tag}`.
fn payloads(n: usize) -> Vec<String> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |m: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % m as u64) as usize
    };
    (0..n)
        .map(|_| {
            let serial: String = (0..16).map(|_| char::from(ALPHABET[next(31)])).collect();
            let tag: String = (0..16).map(|_| char::from(BASE32[next(32)])).collect();
            format!("https://chainmark.example/v/{serial}?t={tag}")
        })
        .collect()
}

fn serial_of(payload: &str) -> &str {
    payload
        .split("/v/")
        .nth(1)
        .and_then(|s| s.split('?').next())
        .unwrap_or("")
}

fn ours_render(
    payloads: &[String],
    opts: &LabelOptions,
    tmp: &Path,
    caption: bool,
    parallel: bool,
    run: u32,
) -> Res<Duration> {
    let dir = tmp.join(format!("ours-{caption}-{parallel}-{run}"));
    fs::create_dir_all(&dir)?;
    let one = |(i, p): (usize, &String)| -> Result<(), String> {
        let cap = if caption { serial_of(p) } else { "" };
        let png = render_png(p, cap, opts).map_err(|e| e.to_string())?;
        fs::write(dir.join(format!("{i:06}.png")), png).map_err(|e| e.to_string())
    };
    let start = Instant::now();
    if parallel {
        payloads.par_iter().enumerate().try_for_each(one)?;
    } else {
        payloads.iter().enumerate().try_for_each(one)?;
    }
    Ok(start.elapsed())
}

fn zint_render(payloads: &[String], tmp: &Path, run: u32) -> Res<Duration> {
    let dir = tmp.join(format!("zint-{run}"));
    fs::create_dir_all(&dir)?;
    let input = tmp.join("payloads.txt");
    fs::write(&input, payloads.join("\n") + "\n")?;
    let secure = match ECC {
        Ecc::L => 1,
        Ecc::M => 2,
        Ecc::Q => 3,
        Ecc::H => 4,
    };
    let start = Instant::now();
    let out = Command::new("zint")
        .args(["--barcode=58", "--batch", "--filetype=png", "--quietzones"])
        .arg(format!("--secure={secure}"))
        .arg(format!("--scale={}", MODULE_PX / 2))
        .arg("-i")
        .arg(&input)
        .arg("-o")
        .arg(dir.join("~~~~~~.png"))
        .output()?;
    let elapsed = start.elapsed();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
    }
    let written = fs::read_dir(&dir)?.count();
    if written != payloads.len() {
        return Err(format!("zint wrote {written} of {} files", payloads.len()).into());
    }
    Ok(elapsed)
}

/// Writes the label images and their half-size and blurred variants; returns (name, folder).
fn make_variants(
    payloads: &[String],
    opts: &LabelOptions,
    tmp: &Path,
) -> Res<Vec<(String, PathBuf)>> {
    let names = [
        "full size",
        "half size",
        "blurred (σ 1.5)",
        "half size + blur (σ 0.7)",
    ];
    let dirs: Vec<PathBuf> = (0..names.len())
        .map(|i| tmp.join(format!("variant{i}")))
        .collect();
    for d in &dirs {
        fs::create_dir_all(d)?;
    }
    payloads
        .par_iter()
        .enumerate()
        .try_for_each(|(i, p)| -> Result<(), String> {
            let img = codegen::label::png::render_gray(p, serial_of(p), opts)
                .map_err(|e| e.to_string())?;
            let (w, h) = (img.width(), img.height());
            let half = imageops::resize(&img, w / 2, h / 2, FilterType::Triangle);
            let variants = [
                img.clone(),
                half.clone(),
                imageops::blur(&img, 1.5),
                imageops::blur(&half, 0.7),
            ];
            for (v, d) in variants.iter().zip(&dirs) {
                v.save(d.join(format!("{i:06}.png")))
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        })?;
    Ok(names.iter().map(|n| n.to_string()).zip(dirs).collect())
}

fn list_pngs(dir: &Path) -> Res<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    Ok(files)
}

/// Single-threaded, like zbarimg: file read, PNG decode, QR decode.
fn rqrr_decode(files: &[PathBuf], payloads: &[String]) -> Res<(usize, Duration)> {
    let start = Instant::now();
    let mut ok = 0;
    for (file, expected) in files.iter().zip(payloads) {
        if let Decoded::Payloads(found) = decode_bytes(&fs::read(file)?)? {
            ok += usize::from(found.iter().any(|f| f == expected));
        }
    }
    Ok((ok, start.elapsed()))
}

/// The same on all cores, as `verify-image` does.
fn rqrr_decode_parallel(files: &[PathBuf], payloads: &[String]) -> Res<(usize, Duration)> {
    let start = Instant::now();
    let ok = files
        .par_iter()
        .zip(payloads)
        .map(|(file, expected)| -> Result<usize, String> {
            let bytes = fs::read(file).map_err(|e| e.to_string())?;
            Ok(match decode_bytes(&bytes).map_err(|e| e.to_string())? {
                Decoded::Payloads(found) => usize::from(found.iter().any(|f| f == expected)),
                Decoded::Unreadable => 0,
            })
        })
        .sum::<Result<usize, String>>()?;
    Ok((ok, start.elapsed()))
}

/// One zbarimg process for all files; a file counts when its payload appears in the output.
fn zbar_decode(files: &[PathBuf], payloads: &[String]) -> Res<(usize, Duration)> {
    let start = Instant::now();
    let out = Command::new("zbarimg")
        .args(["-q", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .args(files)
        .output()?;
    let elapsed = start.elapsed();
    if out.stdout.is_empty() && !out.stderr.is_empty() && out.status.code() != Some(4) {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let found: HashSet<&str> = text.lines().collect();
    let ok = payloads
        .iter()
        .filter(|p| found.contains(p.as_str()))
        .count();
    Ok((ok, elapsed))
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
