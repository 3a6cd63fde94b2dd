//! `chainmark backup FILE`: a consistent copy of the live SQLite database, while the server runs.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chainmark_server::config::Settings;
use chainmark_server::store::{Backend, Db, backup};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the copy: a new file (an existing one is never overwritten). It is created
    /// 0600, as it holds every security code.
    ///
    /// The copy is taken by SQLite (`VACUUM INTO`) from one read snapshot, so the server keeps
    /// serving and the copy holds every write committed before the backup began. It is checked
    /// (`PRAGMA integrity_check`) before it is given its name. To restore: stop the server, move
    /// `chainmark.db` and its `-wal` and `-shm` files aside, put the copy in its place as
    /// `chainmark.db`, start the server. Never copy a live database with `cp`.
    pub file: PathBuf,
}

pub fn run(settings: Settings, args: Args) -> anyhow::Result<()> {
    let url = &settings.database_url;
    if Backend::of_url(url) != Backend::Sqlite {
        bail!(
            "chainmark backup copies a SQLite database; on PostgreSQL use pg_dump or a base backup"
        );
    }
    let source = Path::new(url.strip_prefix("sqlite://").unwrap_or(url));
    // `metadata` is a stat: no descriptor of the live database is opened here.
    if !source.is_file() {
        bail!("no database at {}: nothing to back up", source.display());
    }
    if args.file.exists() {
        bail!(
            "{} exists: choose a new file name (a backup never overwrites)",
            args.file.display()
        );
    }
    let partial = partial_name(&args.file);
    // An empty file of our own, 0600, that SQLite then fills (VACUUM INTO accepts an empty file
    // and keeps its mode). No SQLite connection has it open yet.
    create_private(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let started = Instant::now();
    let spinner = spinner();
    let copied = copy(url, &partial);
    if let Some(s) = &spinner {
        s.finish_and_clear();
    }
    if let Err(e) = copied {
        if let Err(left) = std::fs::remove_file(&partial) {
            eprintln!("note: {} was left behind: {left}", partial.display());
        }
        return Err(e);
    }
    std::fs::rename(&partial, &args.file)
        .with_context(|| format!("cannot name the backup {}", args.file.display()))?;
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    println!(
        "backed up {} to {} ({:.1} MB, {:.1} s; integrity_check ok; mode 0600)",
        source.display(),
        args.file.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Copies through SQLite, then opens the copy with SQLite and checks it.
fn copy(url: &str, partial: &Path) -> anyhow::Result<()> {
    {
        let db = Db::open(url, 1)?;
        let mut conn = db.get()?;
        backup::vacuum_into(&mut conn, partial)?;
    }
    let check = {
        let copy = Db::open(&partial.display().to_string(), 1)?;
        let mut conn = copy.get()?;
        backup::integrity_check(&mut conn)?
    };
    if check != ["ok"] {
        bail!("the copy failed its integrity check: {}", check.join("; "));
    }
    // Every SQLite connection to the copy is closed: flushing it to disk through a handle of our
    // own cannot drop a lock SQLite holds.
    std::fs::File::open(partial)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot flush {}", partial.display()))?;
    Ok(())
}

fn partial_name(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

/// A spinner on stderr while SQLite copies (it reports no progress), when a person watches.
fn spinner() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let spinner = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} copying the database… {elapsed}") {
        spinner.set_style(style);
    }
    spinner.enable_steady_tick(Duration::from_millis(120));
    Some(spinner)
}
