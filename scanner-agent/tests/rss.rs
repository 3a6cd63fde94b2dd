//! Memory with 100,000 unsent scans held (no broker reachable): the journal keeps only
//! (seq, offset, length) per scan and the session only seqs, so the agent's resident set stays
//! small. Slow (100,000 fsynced scans), so ignored by default; run it with
//! `cargo test --release -p chainmark-scanner --test rss -- --ignored --nocapture`
//! (numbers in BENCHMARKS.md).

mod common;

use common::{Agent, codes, free_port, write_config};

fn status_kb(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("field")
}

#[test]
#[ignore = "slow: 100,000 fsynced scans; run with --ignored"]
fn rss_with_100k_unsent_scans() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Nothing listens on this port: every connection attempt is refused.
    let config = write_config(dir.path(), &format!("mqtt://127.0.0.1:{}", free_port()));
    let n = 100_000;
    let mut lines = vec!["@inspect".to_owned()];
    lines.extend(codes(n));
    let mut agent = Agent::start(&["--config", config.to_str().expect("utf-8")]);
    let start = std::time::Instant::now();
    agent.feed(lines);
    agent.wait_for("all queued", |l| l.starts_with(&format!("queued seq={n} ")));
    let took = start.elapsed();
    let (rss, hwm) = (
        status_kb(agent.pid(), "VmRSS:"),
        status_kb(agent.pid(), "VmHWM:"),
    );
    let journal = std::fs::metadata(dir.path().join("journal"))
        .expect("journal")
        .len();
    println!(
        "{n} unsent scans held: VmRSS {rss} kB, peak VmHWM {hwm} kB, journal {journal} B, \
         taken in {took:?} ({:.0} scans/s)",
        n as f64 / took.as_secs_f64()
    );
    assert!(agent.lines_of("accepted").is_empty());
    assert!(hwm < 20 * 1024, "peak RSS {hwm} kB is over the 20 MB goal");
    agent.kill9();
}
