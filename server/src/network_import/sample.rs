//! A synthetic network in the template's format, for the benchmark, the tests and trying the
//! import: `n` agents in referral trees (tiers mixed, regions, join dates over the last year),
//! an available balance each, a frozen one for every fourth, three past orders each and some
//! activity. Deterministic: the same `n` and day give the same files.

use chrono::{Days, NaiveDate};
use rust_xlsxwriter::Workbook;

use super::read::Upload;
use crate::domain::network_import::Sheet;
use crate::error::{Error, Result};

/// Districts in the GB/T 2260 book.
const REGIONS: [&str; 6] = ["330106", "310101", "440305", "110101", "320102", "330100"];
const TIERS: [&str; 5] = ["national", "provincial", "city", "district", "special"];

/// The sheets' rows (headers first), in English headers.
pub struct Sample {
    pub sheets: Vec<(Sheet, Vec<Vec<String>>)>,
}

/// A small deterministic mix (splitmix64), so no generator crate is needed for fixtures.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

pub fn phone(i: usize) -> String {
    format!("{}", 13_000_000_000u64 + i as u64)
}

/// `n` agents as of `today`, ordering product `sku`.
pub fn network(n: usize, today: NaiveDate, sku: &str) -> Sample {
    let day = |ago: u64| {
        today
            .checked_sub_days(Days::new(ago))
            .unwrap_or(today)
            .format("%Y-%m-%d")
            .to_string()
    };
    let s = |v: &str| v.to_string();
    let mut agents = vec![
        [
            "phone",
            "name",
            "id_number",
            "tier",
            "referrer_phone",
            "regions",
            "joined_on",
            "tier_reached_on",
            "status",
        ]
        .map(s)
        .to_vec(),
    ];
    let mut balances = vec![["phone", "wallet", "amount", "release_on"].map(s).to_vec()];
    let mut orders = vec![
        ["phone", "order_no", "paid_on", "sku", "quantity", "amount"]
            .map(s)
            .to_vec(),
    ];
    let mut activity = vec![["phone", "date", "kind", "amount", "level"].map(s).to_vec()];
    for i in 0..n {
        let r = mix(i as u64);
        // Tiers roughly as a network has them: few at the top, most at the bottom.
        let tier = match r % 100 {
            0 => 0,
            1..=4 => 1,
            5..=19 => 2,
            20..=49 => 3,
            _ => 4,
        };
        // The first agents are roots; later ones are referred by an earlier one.
        let referrer = if i < 10 {
            String::new()
        } else {
            phone((mix(r) % i as u64) as usize)
        };
        let joined_ago = 30 + (n - i) as u64 * 300 / n.max(1) as u64;
        agents.push(vec![
            phone(i),
            format!("代理{i}"),
            format!("{}", 330_106_199_001_010_000u64 + i as u64),
            s(TIERS[tier]),
            referrer,
            s(REGIONS[(r >> 8) as usize % REGIONS.len()]),
            day(joined_ago),
            day(joined_ago - (r >> 16) % 20),
            s(if r % 97 == 0 { "suspended" } else { "active" }),
        ]);
        balances.push(vec![
            phone(i),
            s("available"),
            format!("{}.{:02}", (r >> 20) % 5000, (r >> 32) % 100),
            String::new(),
        ]);
        if i % 4 == 0 {
            balances.push(vec![
                phone(i),
                s("frozen"),
                format!("{}.00", 100 + (r >> 24) % 900),
                today
                    .checked_add_days(Days::new(30 + (r >> 28) % 300))
                    .unwrap_or(today)
                    .format("%Y-%m-%d")
                    .to_string(),
            ]);
        }
        for k in 0..3u64 {
            let ago = 1 + mix(r + k) % (joined_ago - 1);
            let quantity = 1 + mix(r ^ k) % 50;
            orders.push(vec![
                phone(i),
                format!("OLD-{i}-{k}"),
                day(ago),
                s(sku),
                quantity.to_string(),
                format!("{}.00", quantity * 38),
            ]);
        }
        if i % 10 == 0 {
            activity.push(vec![
                phone(i),
                day(1 + r % 20),
                s("customer_bound"),
                String::new(),
                String::new(),
            ]);
        }
    }
    Sample {
        sheets: vec![
            (Sheet::Agents, agents),
            (Sheet::Balances, balances),
            (Sheet::Orders, orders),
            (Sheet::Activity, activity),
        ],
    }
}

impl Sample {
    /// One CSV file per sheet.
    pub fn csv_files(&self) -> Result<Vec<Upload>> {
        self.sheets
            .iter()
            .map(|(sheet, rows)| {
                let mut w = csv::Writer::from_writer(Vec::new());
                for r in rows {
                    w.write_record(r)
                        .map_err(|e| Error::Internal(format!("sample: {e}")))?;
                }
                Ok(Upload {
                    name: format!("{}.csv", sheet.key()),
                    bytes: w
                        .into_inner()
                        .map_err(|e| Error::Internal(format!("sample: {e}")))?,
                })
            })
            .collect()
    }

    /// The same rows as one XLSX workbook (text cells).
    pub fn xlsx_file(&self, name: &str) -> Result<Upload> {
        let err = |e: rust_xlsxwriter::XlsxError| Error::Internal(format!("sample: {e}"));
        let mut book = Workbook::new();
        for (sheet, rows) in &self.sheets {
            let ws = book.add_worksheet();
            ws.set_name(sheet.name_en()).map_err(err)?;
            for (r, row) in rows.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    if !cell.is_empty() {
                        ws.write_string(
                            u32::try_from(r).unwrap_or(u32::MAX),
                            u16::try_from(c).unwrap_or(u16::MAX),
                            cell,
                        )
                        .map_err(err)?;
                    }
                }
            }
        }
        Ok(Upload {
            name: name.to_string(),
            bytes: book.save_to_buffer().map_err(err)?,
        })
    }

    /// The rows of a sheet (headers first), for a test to change one.
    pub fn rows_mut(&mut self, sheet: Sheet) -> Option<&mut Vec<Vec<String>>> {
        self.sheets
            .iter_mut()
            .find(|(s, _)| *s == sheet)
            .map(|(_, r)| r)
    }
}
