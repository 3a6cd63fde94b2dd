//! Benchmark: importing one large batch of codes (`chainmark import`, `registry::import_batch`)
//! into SQLite and PostgreSQL, with the process's peak memory.
//!
//! ```sh
//! cargo bench -p chainmark-server --bench import -- --codes 10000000 --dir /tmp/cm-import
//! cargo bench -p chainmark-server --bench import -- --codes 10000000 --dir /tmp/cm-import \
//!     --database-url postgres://postgres@127.0.0.1:54560/postgres
//! ```
//!
//! It generates one batch of `--codes` codes with codegen into `--dir` (kept and reused by later
//! runs with the same size, so SQLite and PostgreSQL import the same file), then imports it into
//! a fresh database: a SQLite file in `--dir`, or a fresh database `cm_import_bench` on the
//! PostgreSQL server `--database-url` names. Timed: the whole import (the file verified, then
//! every row written and committed). Prints a Markdown row with the peak resident memory before
//! and after the import (`VmHWM`), so a memory that grows with the batch shows.

#[path = "support/pg.rs"]
mod pg;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use chainmark_server::keys::KeyRing;
use chainmark_server::registry::{self, ImportOptions};
use chainmark_server::store::Db;
use codegen::batch::{BatchSpec, write_batch};
use codegen::keys::MasterKey;

fn main() -> anyhow::Result<()> {
    let mut codes: u64 = 1_000_000;
    let mut dir: Option<PathBuf> = None;
    let mut admin: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--codes" => codes = value()?.parse()?,
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--database-url" => admin = Some(value()?),
            "--bench" => {}
            other => bail!("unknown option {other} (see the file's doc comment)"),
        }
    }
    let tmp = tempfile::tempdir()?;
    let dir = dir.unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let key_path = dir.join("master.key");
    let key = if key_path.exists() {
        MasterKey::load(&key_path)?
    } else {
        MasterKey::generate_to(&key_path)?
    };
    let batch = dir.join(format!("batch-{codes}"));
    if !batch.join("batch.json").exists() {
        let _ = std::fs::remove_dir_all(&batch);
        let t = Instant::now();
        let spec = BatchSpec::new("BENCH-IMPORT", codes, "https://brand.example", &batch);
        write_batch(&spec, &key, &mut |_| {})?;
        eprintln!("generated {codes} codes in {:.1?}", t.elapsed());
    }
    let (url, backend) = match &admin {
        Some(admin) => (pg::fresh_database(admin, "cm_import_bench")?, "PostgreSQL"),
        None => {
            let file = dir.join("import-bench.db");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
            (format!("sqlite://{}", file.display()), "SQLite")
        }
    };
    let db = Db::open(&url, 2)?;
    db.migrate()?;
    let mut keys = KeyRing::default();
    keys.insert(key);
    let before = peak_rss_kb()?;
    let mut conn = db.get_writer()?;
    let t = Instant::now();
    let mut last_report = Instant::now();
    let imported = registry::import_batch(
        &mut conn,
        &keys,
        &[],
        &batch,
        ImportOptions {
            create_product: true,
            actor: None,
        },
        &mut |done, total| {
            if last_report.elapsed().as_secs() >= 10 {
                eprintln!("{done}/{total} after {:.0?}", t.elapsed());
                last_report = Instant::now();
            }
        },
    )?;
    let took = t.elapsed();
    let after = peak_rss_kb()?;
    println!();
    println!("| backend | codes | import | items/s | peak RSS before | peak RSS after |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {backend} | {} | {:.1} s | {:.0} | {:.1} MB | {:.1} MB |",
        imported.items,
        took.as_secs_f64(),
        imported.items as f64 / took.as_secs_f64(),
        before as f64 / 1024.0,
        after as f64 / 1024.0
    );
    Ok(())
}

/// The process's peak resident memory so far (`VmHWM`), in kB.
fn peak_rss_kb() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/self/status")
}
