//! Handhelds as real processes: devices registered with `chainmark device add`, provisioned by
//! decoding the QR image it rendered, `chainmark-scanner` fed through stdin, and a mosquitto with
//! per-device passwords and topic ACLs.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chainmark_server::domain::custody::{CustodianKind, CustodyEventKind};
use chainmark_server::store::Db;
use chainmark_server::store::schema::{custody_events, device_scans, items};
use chainmark_server::store::typed::Stored;
use diesel::dsl::count_star;
use diesel::prelude::*;

use crate::bins::bin;
use crate::fixture::Fixture;
pub use crate::mosquitto::{Mosquitto, mosquitto_binary};

/// How long a wait may take before the test fails with what it saw: a hang guard, not a
/// performance threshold.
pub const PATIENCE: Duration = Duration::from_secs(240);

/// Registers `id` with the real CLI (`env`: the server's database and device key) and returns
/// its provisioning code, read back from the QR image the CLI rendered.
pub fn add_device(workdir: &Path, env: &[(&str, String)], id: &str) -> String {
    let out = workdir.join("devices");
    let mut cmd = Command::new(bin("chainmark"));
    cmd.args(["device", "add", id, "--warehouse", "E2E-WH"])
        .arg("--out")
        .arg(&out);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let done = cmd.output().expect("run chainmark device add");
    assert!(
        done.status.success(),
        "chainmark device add failed:\n{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let png = out.join(format!("{id}-provisioning.png"));
    match codegen::decode::decode_file(&png).expect("read the provisioning QR") {
        codegen::decode::Decoded::Payloads(mut found) if found.len() == 1 => {
            found.pop().expect("one payload")
        }
        other => panic!("provisioning QR of {id} did not decode to one code: {other:?}"),
    }
}

/// A `chainmark-scanner` process provisioned from `code`, its journal and config in `dir`; every
/// stdout line is collected.
pub struct Scanner {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    pub dir: PathBuf,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Scanner {
    /// First run: `--provision`, the provisioning code as the first line.
    pub fn provision(dir: &Path, code: &str) -> Scanner {
        let mut s = Scanner::spawn(dir, true);
        s.send(&[code]);
        s
    }

    /// A later run with the config the provisioning wrote (after a crash, say).
    pub fn restart(dir: &Path) -> Scanner {
        Scanner::spawn(dir, false)
    }

    fn spawn(dir: &Path, provision: bool) -> Scanner {
        std::fs::create_dir_all(dir).expect("scanner dir");
        let config = dir.join("handheld.toml");
        let mut cmd = Command::new(bin("chainmark-scanner"));
        if provision {
            cmd.arg("--provision").arg("--data-dir").arg(dir);
        }
        cmd.arg("--config")
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn chainmark-scanner");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut all) = sink.lock() {
                    all.push(line);
                }
            }
        });
        Scanner {
            child: Some(child),
            stdin,
            dir: dir.to_path_buf(),
            lines,
        }
    }

    /// Types `lines` into the scanner (one scan or command each).
    pub fn send(&mut self, lines: &[&str]) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        let mut text = String::new();
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        stdin
            .write_all(text.as_bytes())
            .expect("write to the scanner");
        stdin.flush().expect("flush");
    }

    /// Types every serial in `serials`, 500 lines a write.
    pub fn feed(&mut self, serials: &[String]) {
        let lines: Vec<&str> = serials.iter().map(String::as_str).collect();
        for chunk in lines.chunks(500) {
            self.send(chunk);
        }
    }

    /// Closes stdin: the scanner finishes once every scan has its final answer.
    pub fn close_input(&mut self) {
        self.stdin.take();
    }

    /// Waits for the process to exit; returns its exit code.
    pub fn wait(&mut self) -> i32 {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "chainmark-scanner in {} did not finish within {PATIENCE:?}; last lines: {:?}",
                    self.dir.display(),
                    self.tail(20)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill -9");
            let _ = child.wait();
        }
        self.stdin.take();
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// How many output lines start with `prefix` (e.g. `"accepted "`).
    pub fn count(&self, prefix: &str) -> usize {
        self.lines()
            .iter()
            .filter(|l| l.starts_with(prefix))
            .count()
    }

    /// Waits until `count(prefix) >= n`.
    pub fn wait_for(&self, prefix: &str, n: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.count(prefix) < n {
            assert!(
                Instant::now() < deadline,
                "waited {PATIENCE:?} for {n} {prefix:?} lines; last lines: {:?}",
                self.tail(20)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn tail(&self, n: usize) -> Vec<String> {
        let all = self.lines();
        all[all.len().saturating_sub(n)..].to_vec()
    }

    /// Scans still waiting in the journal (for a scanner that is not running).
    pub fn journal_pending(&self) -> usize {
        // Where the provisioned config keeps it (the file name carries the device id).
        let journal = firmware_config::Config::load(self.dir.join("handheld.toml"))
            .expect("the provisioned config")
            .journal
            .path;
        if !journal.exists() {
            return 0;
        }
        scanner_agent::journal::Journal::open(&journal, u64::MAX)
            .expect("open the journal")
            .pending_len()
    }
}

impl Drop for Scanner {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What the database holds: accepted scan records, and for `serials` how many were sold and how
/// many sell events they have (exactly once each means both equal the number of serials).
pub struct Applied {
    pub accepted: i64,
    pub sold: i64,
    pub sell_events: i64,
    pub max_events_per_item: i64,
}

pub fn applied(fix: &Fixture, serials: &[String]) -> Applied {
    let db = Db::open(&fix.database_url, 1).expect("open database");
    let mut conn = db.get().expect("connection");
    let accepted = device_scans::table
        .filter(device_scans::result.eq("accepted"))
        .count()
        .get_result(&mut *conn)
        .expect("count scans");
    let mut sold = 0;
    let mut sell_events = 0;
    let mut max_events_per_item = 0;
    for chunk in serials.chunks(500) {
        sold += items::table
            .filter(items::serial.eq_any(chunk))
            .filter(items::custodian_kind.eq(Stored(CustodianKind::Sold)))
            .count()
            .get_result::<i64>(&mut *conn)
            .expect("count sold");
        let per_item: Vec<(String, i64)> = custody_events::table
            .filter(custody_events::serial.eq_any(chunk))
            .filter(custody_events::kind.eq(Stored(CustodyEventKind::Sell)))
            .group_by(custody_events::serial)
            .select((custody_events::serial, count_star()))
            .load(&mut *conn)
            .expect("events");
        for (_, n) in per_item {
            sell_events += n;
            max_events_per_item = max_events_per_item.max(n);
        }
    }
    Applied {
        accepted,
        sold,
        sell_events,
        max_events_per_item,
    }
}

pub fn assert_exactly_once(fix: &Fixture, serials: &[String], scanners: &[&Scanner]) {
    let a = applied(fix, serials);
    let n = serials.len() as i64;
    assert_eq!(a.sold, n, "every scanned item sold");
    assert_eq!(a.sell_events, n, "one custody event per item");
    assert_eq!(a.max_events_per_item, 1, "no item moved twice");
    assert_eq!(a.accepted, n, "one accepted scan record per item");
    for s in scanners {
        assert_eq!(
            s.journal_pending(),
            0,
            "journal of {} is empty",
            s.dir.display()
        );
    }
}
