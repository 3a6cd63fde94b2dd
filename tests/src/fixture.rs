//! A brand's set-up done with the real tools: a master key and a batch from `chainmark-codegen`,
//! imported with `chainmark import` into a fresh SQLite database, one item released for sale.

use std::path::{Path, PathBuf};
use std::process::Command;

use chainmark_server::registry;
use chainmark_server::store::Db;
use tempfile::TempDir;

use crate::bins::{bin, run};

/// The base URL the codes are printed with; pages are visited on the server's own address.
pub const PRINTED_BASE: &str = "https://brand.example";

/// One row of `print.csv`.
#[derive(Debug, Clone)]
pub struct Printed {
    pub serial: String,
    pub security_code: String,
    /// `/v/{serial}?t={tag}`: the anti-counterfeit URL without its host.
    pub verify_path: String,
}

pub struct Fixture {
    pub dir: TempDir,
    pub key: PathBuf,
    pub database_url: String,
    pub batch_id: String,
    pub items: Vec<Printed>,
}

impl Fixture {
    /// Issues and imports a batch of `items` into a fresh SQLite database; the first item is
    /// released for sale.
    pub fn issue(items: u64) -> Fixture {
        Fixture::issue_into(items, None)
    }

    /// Like [`Fixture::issue`], into the database at `database_url` (a fresh PostgreSQL
    /// database, say) instead of a SQLite file in the fixture's folder.
    pub fn issue_into(items: u64, database_url: Option<String>) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = dir.path().join("master.key");
        let out = dir.path().join("batch");
        let database_url = database_url
            .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("chainmark.db").display()));
        run("chainmark-codegen", &["keys", "init", "--out", path(&key)]);
        run(
            "chainmark-codegen",
            &[
                "batch",
                "--key",
                path(&key),
                "--product",
                "TEA-250G",
                "--items",
                &items.to_string(),
                // Several cases, so the import's case/item interleaving is exercised too.
                "--case-size",
                "4",
                "--production-date",
                "2026-11-01",
                "--base-url",
                PRINTED_BASE,
                "--out",
                path(&out),
            ],
        );
        let import = Command::new(bin("chainmark"))
            .args(["import", path(&out), "--create-product"])
            .env("CHAINMARK_DATABASE_URL", &database_url)
            .env("CHAINMARK_KEY_FILES", &key)
            .output()
            .expect("run chainmark import");
        assert!(
            import.status.success(),
            "chainmark import failed:\n{}",
            String::from_utf8_lossy(&import.stderr)
        );
        let batch: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("batch.json")).expect("batch.json"))
                .expect("batch.json is JSON");
        let batch_id = batch["id"].as_str().expect("batch id").to_string();
        let items = read_print_csv(&out.join("print.csv"));
        let fixture = Fixture {
            dir,
            key,
            database_url,
            batch_id,
            items,
        };
        fixture.release(&fixture.items[0].serial);
        fixture
    }

    /// Releases one item for sale. There is no command for it yet (HQ does it through the API
    /// once signed in), so this is one call to the server's library on the same database.
    pub fn release(&self, serial: &str) {
        let db = Db::open(&self.database_url, 1).expect("open database");
        let mut conn = db.get().expect("connection");
        registry::release(&mut conn, &self.batch_id, serial, serial, None).expect("release");
    }

    /// Releases the rest of the batch for sale (the first item is released already).
    pub fn release_all(&self) {
        let (Some(first), Some(last)) = (self.items.get(1), self.items.last()) else {
            return;
        };
        let db = Db::open(&self.database_url, 1).expect("open database");
        let mut conn = db.get().expect("connection");
        registry::release(&mut conn, &self.batch_id, &first.serial, &last.serial, None)
            .expect("release");
    }

    /// The `CHAINMARK_*` variables for a server over this fixture.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CHAINMARK_DATABASE_URL", self.database_url.clone()),
            ("CHAINMARK_KEY_FILES", path(&self.key).to_string()),
        ]
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

fn read_print_csv(file: &Path) -> Vec<Printed> {
    let text = std::fs::read_to_string(file).expect("print.csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("serial,security_code,verify_url,logistics_url,case_code"),
        "print.csv header"
    );
    lines
        .map(|line| {
            let cols: Vec<&str> = line.split(',').collect();
            let url = cols.get(2).copied().unwrap_or_default();
            Printed {
                serial: cols[0].to_string(),
                security_code: cols[1].to_string(),
                verify_path: url.strip_prefix(PRINTED_BASE).unwrap_or(url).to_string(),
            }
        })
        .collect()
}
