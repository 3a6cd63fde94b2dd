//! `chainmark import network FILE...`: bring an agent network in from the system a brand leaves
//! (docs/import.md). Checks everything first, then writes it all in one transaction, or nothing.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use chainmark_server::config::Settings;
use chainmark_server::network_import::{self, Checked, Outcome, Upload, template};
use chainmark_server::store::Db;
use chainmark_server::store::network::money;
use indicatif::{ProgressBar, ProgressStyle};

/// Bring in an agent network from the CSV or XLSX template: agents (with accounts), opening
/// balances, historical orders and activity; all or nothing (docs/import.md).
///
/// FILE is the XLSX workbook of the template (sheets 代理/Agents, 期初余额/Opening balances,
/// 历史订单/Historical orders, 历史活动/Historical activity), or one CSV file per sheet (each known
/// by its header row). Write the template with --template. Every row is checked before anything
/// is written: unknown tiers, referrers missing from the file and the database, referrer cycles,
/// duplicate or taken phones, bad GB/T 2260 region codes, amounts with more than two decimals,
/// dates in the future, ... each named by file, sheet, row and column, and then nothing is
/// imported. Importing the same content again changes nothing.
///
/// Each agent gets an account (its phone) with a one-time password, written once to the
/// credentials file (0600): hand each agent its own; it must be changed at first sign-in.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The XLSX workbook, or the CSV files of its sheets.
    #[arg(required_unless_present = "template")]
    pub files: Vec<PathBuf>,
    /// Check only: report problems or what would be imported, write nothing.
    #[arg(long)]
    pub check: bool,
    /// Write the template (XLSX; .csv writes the agents sheet's CSV) to this path and exit.
    #[arg(long, value_name = "PATH", conflicts_with = "files")]
    pub template: Option<PathBuf>,
    /// Language of problems and the template: zh or en. Default: from LANG (zh* is Chinese).
    #[arg(long)]
    pub lang: Option<String>,
    /// Where to write the one-time passwords (default: network-import-<id>-credentials.csv
    /// here). Never overwritten.
    #[arg(long, value_name = "PATH")]
    pub credentials: Option<PathBuf>,
}

fn chinese(lang: Option<&str>) -> bool {
    let env = std::env::var("LC_ALL")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var("LANG").ok())
        .unwrap_or_default();
    lang.unwrap_or(&env).to_lowercase().starts_with("zh")
}

pub fn run(settings: Settings, args: Args) -> anyhow::Result<()> {
    let zh = chinese(args.lang.as_deref());
    if let Some(path) = &args.template {
        let bytes = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            template::csv(chainmark_server::domain::network_import::Sheet::Agents, zh)?
        } else {
            template::xlsx(zh)?
        };
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
        return Ok(());
    }
    let mut files = Vec::new();
    for path in &args.files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        files.push(Upload { name, bytes });
    }
    let db = Db::open(&settings.database_url, 1)?;
    db.migrate()?;
    let mut conn = db.get_writer()?;
    if args.check {
        return match network_import::check(&mut conn, &files)? {
            Checked::Problems(p) => problems(&p, zh),
            Checked::AlreadyImported(row) => {
                already(&row, zh);
                Ok(())
            }
            Checked::Ready(plan) => {
                if zh {
                    println!(
                        "检查通过,可以导入:{} 个代理,{} 条期初余额(合计 {}),{} 条历史订单,{} 条历史活动",
                        plan.agents.len(),
                        plan.balances.len(),
                        money(plan.opening_cents()),
                        plan.orders.len(),
                        plan.activity.len()
                    );
                } else {
                    println!(
                        "ready to import: {} agents, {} opening balances ({} in total), {} historical orders, {} activity rows",
                        plan.agents.len(),
                        plan.balances.len(),
                        money(plan.opening_cents()),
                        plan.orders.len(),
                        plan.activity.len()
                    );
                }
                differences(&plan.supplier_differences, zh);
                Ok(())
            }
        };
    }
    // The passwords exist only in this run: make sure they can be written before importing.
    let credentials_path = args.credentials.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "network-import-{}-credentials.csv",
            chainmark_server::store::users::now().format("%Y%m%d-%H%M%S")
        ))
    });
    let mut credentials_file = create_private(&credentials_path)?;
    let bar = progress_bar();
    let started = Instant::now();
    let outcome = network_import::import(&mut conn, &files, None, &mut |step, done, total| {
        if let Some(b) = &bar {
            b.set_message(step);
            b.set_length(total);
            b.set_position(done);
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let outcome = match outcome {
        Ok(Outcome::Imported(done)) => done,
        other => {
            drop(credentials_file);
            let _ = std::fs::remove_file(&credentials_path);
            return match other? {
                Outcome::Problems(p) => problems(&p, zh),
                Outcome::AlreadyImported(row) => {
                    already(&row, zh);
                    Ok(())
                }
                Outcome::Imported(_) => Ok(()),
            };
        }
    };
    {
        let done = outcome;
        {
            let secs = started.elapsed().as_secs_f64();
            let path = credentials_path;
            credentials_file.write_all(&network_import::credentials_csv(&done.credentials, zh)?)?;
            credentials_file.sync_all()?;
            let i = &done.import;
            if zh {
                println!(
                    "已导入(第 {} 次导入):{} 个代理,{} 条期初余额(合计 {}),{} 条历史订单,{} 条历史活动,用时 {:.1} 秒",
                    i.id,
                    i.agents,
                    i.balances,
                    money(i.opening_cents),
                    i.orders,
                    i.activity,
                    secs
                );
                println!(
                    "一次性密码已写入 {}(仅本人可读):请逐一交给各代理,首次登录须修改;交付后删除此文件",
                    path.display()
                );
            } else {
                println!(
                    "imported (import {}): {} agents, {} opening balances ({} in total), {} historical orders, {} activity rows in {:.1} s ({:.0} agents/s)",
                    i.id,
                    i.agents,
                    i.balances,
                    money(i.opening_cents),
                    i.orders,
                    i.activity,
                    secs,
                    i.agents as f64 / secs.max(1e-6)
                );
                println!(
                    "one-time passwords are in {} (0600): hand each agent its own; they must be changed at first sign-in; delete the file once handed over",
                    path.display()
                );
            }
            differences(&done.differences, zh);
            Ok(())
        }
    }
}

fn problems(
    p: &[chainmark_server::domain::network_import::Problem],
    zh: bool,
) -> anyhow::Result<()> {
    let mut err = std::io::stderr().lock();
    for problem in p {
        let _ = writeln!(err, "{}", problem.render(zh));
    }
    if zh {
        bail!("发现 {} 个问题:没有导入任何数据", p.len())
    } else {
        bail!("{} problems found: nothing was imported", p.len())
    }
}

fn already(row: &chainmark_server::store::network_import::ImportRow, zh: bool) {
    if zh {
        println!(
            "该内容已于 {} 导入(第 {} 次导入):没有任何改变",
            row.imported_at.format("%Y-%m-%d %H:%M"),
            row.id
        );
    } else {
        println!(
            "this content was imported on {} (import {}): nothing changed",
            row.imported_at.format("%Y-%m-%d %H:%M"),
            row.id
        );
    }
}

fn differences(d: &[chainmark_server::domain::network_import::SupplierDifference], zh: bool) {
    if d.is_empty() {
        return;
    }
    let hq = if zh { "总部" } else { "HQ" };
    if zh {
        println!("{} 个代理的上级与原系统不同(上级按推荐链计算):", d.len());
    } else {
        println!(
            "{} agents get another supplier than the old system said (suppliers follow the referrer chain):",
            d.len()
        );
    }
    for x in d.iter().take(50) {
        let old = x.old.as_deref().unwrap_or(hq);
        let new = x.derived.as_deref().unwrap_or(hq);
        if zh {
            println!("  第 {} 行 {}:原上级 {old},现上级 {new}", x.row, x.phone);
        } else {
            println!("  row {} {}: was {old}, now {new}", x.row, x.phone);
        }
    }
    if d.len() > 50 {
        println!("  … {}", d.len() - 50);
    }
}

/// Creates `path` 0600, refusing to replace a file.
fn create_private(path: &Path) -> anyhow::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))
}

/// A bar on stderr when a person is watching; nothing in scripts and logs.
fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} importing {msg} [{bar:40}] {pos}/{len} ({eta} left)",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    Some(bar)
}
