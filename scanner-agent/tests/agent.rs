//! The `chainmark-scanner` binary end to end against a real mosquitto and a tiny answering
//! server (tests/common): scans piped through stdin, acks, exit when all are answered; kill -9
//! and restart; the broker killed and restarted; forged and protocol-failure acks; bad configs;
//! provisioning from a scanned code.

mod common;

use std::collections::{HashMap, HashSet};

use common::{
    Agent, DEVICE, Mosquitto, PREFIX, Policy, SECRET, TestServer, codes, field, journal_pending,
    mosquitto_path, write_config,
};
use firmware_config::provision::{self, Provisioning};

fn with_order(codes: &[String]) -> Vec<String> {
    let mut lines = vec!["CMORDER:ORD-1".to_owned()];
    lines.extend(codes.iter().cloned());
    lines
}

/// Every code applied exactly once, under distinct seqs, and no seq ever carried two codes.
fn assert_each_once(server: &TestServer, codes: &[String]) {
    let seen = server.seen.lock().expect("lock");
    assert!(
        seen.seq_reused.is_empty(),
        "seq reused: {:?}",
        seen.seq_reused
    );
    let mut by_code: HashMap<&str, u32> = HashMap::new();
    for code in seen.applied.values() {
        *by_code.entry(code.as_str()).or_default() += 1;
    }
    for code in codes {
        assert_eq!(
            by_code.get(code.as_str()),
            Some(&1),
            "{code} applied {:?} times",
            by_code.get(code.as_str())
        );
    }
    assert_eq!(seen.applied.len(), codes.len());
}

#[test]
fn scans_piped_are_answered_and_the_journal_is_empty_at_exit() {
    let Some(mosquitto) = mosquitto_path() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&mosquitto, dir.path());
    let good = codes(2000);
    let reject: HashSet<String> = good.iter().step_by(100).cloned().collect();
    let server = TestServer::start(
        broker.port,
        Policy {
            reject: reject.clone(),
            ..Policy::default()
        },
    );
    let config = write_config(dir.path(), &broker.url());

    let mut typo = good[0].clone();
    let last = typo.pop().expect("non-empty");
    typo.push(if last == '2' { '3' } else { '2' });
    let mut lines = vec![good[0].clone()]; // before any mode: refused
    lines.extend(with_order(&good));
    lines.push(typo.clone());
    lines.push("@fly".to_owned());

    let mut agent = Agent::start(&["--config", config.to_str().expect("utf-8")]);
    agent.feed(lines);
    let status = agent.wait_exit();
    assert!(status.success(), "{status:?}\n{}", agent.seen.join("\n"));

    let accepted = agent.lines_of("accepted");
    let rejected = agent.lines_of("rejected");
    assert_eq!(accepted.len() + rejected.len(), good.len());
    assert_eq!(rejected.len(), reject.len());
    for line in &rejected {
        assert_eq!(field(line, "reason"), Some("not_on_order"), "{line}");
        assert!(
            reject.contains(field(line, "code").expect("code")),
            "{line}"
        );
    }
    let refused = agent.lines_of("refused");
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert_eq!(field(refused[0], "reason"), Some("no_mode"));
    assert_eq!(field(refused[1], "reason"), Some("bad_check_character"));
    assert_eq!(field(refused[1], "code"), Some(typo.as_str()));
    assert_eq!(agent.lines_of("bad_command").len(), 1);
    assert_eq!(agent.lines_of("mode"), ["mode ship context=ORD-1"]);
    assert!(
        agent
            .lines_of("done")
            .first()
            .is_some_and(|l| l.starts_with("done kept=0"))
    );

    // Seqs are 1..=2000 in scan order, one per code.
    let queued: Vec<u64> = agent
        .lines_of("queued")
        .iter()
        .map(|l| field(l, "seq").and_then(|s| s.parse().ok()).expect("seq"))
        .collect();
    assert_eq!(queued, (1..=2000).collect::<Vec<u64>>());
    assert_each_once(&server, &good);
    assert_eq!(journal_pending(&dir.path().join("journal")), 0);
}

#[test]
fn kill_9_mid_stream_then_restart_loses_nothing_and_reuses_no_seq() {
    let Some(mosquitto) = mosquitto_path() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&mosquitto, dir.path());
    let server = TestServer::start(broker.port, Policy::default());
    let config = write_config(dir.path(), &broker.url());
    let all = codes(3000);
    let arg = ["--config", config.to_str().expect("utf-8")];

    let mut agent = Agent::start(&arg);
    agent.feed(with_order(&all[..1500]));
    agent.wait_for("some scans queued", |l| l.starts_with("queued seq=300 "));
    agent.kill9();

    // Whatever the journal took (shown or not) is the first next_seq-1 codes, in order.
    let mut agent = Agent::start(&arg);
    let ready = agent.wait_for("ready", |l| l.starts_with("ready "));
    let next_seq: usize = field(&ready, "next_seq")
        .and_then(|s| s.parse().ok())
        .expect("next_seq");
    assert!(next_seq > 300, "{ready}");
    agent.feed(with_order(&all[next_seq - 1..]));
    let status = agent.wait_exit();
    assert!(status.success(), "{status:?}");
    let first_new = agent
        .lines_of("queued")
        .first()
        .and_then(|l| field(l, "seq"))
        .map(str::to_owned);
    assert_eq!(
        first_new,
        Some(next_seq.to_string()),
        "the restart continues the seqs"
    );
    assert_each_once(&server, &all);
    assert_eq!(journal_pending(&dir.path().join("journal")), 0);
}

#[test]
fn broker_killed_and_restarted_scans_are_resent() {
    let Some(mosquitto) = mosquitto_path() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut broker = Mosquitto::start(&mosquitto, dir.path());
    let server = TestServer::start(broker.port, Policy::default());
    let config = write_config(dir.path(), &broker.url());
    let all = codes(600);

    let mut agent = Agent::start(&["--config", config.to_str().expect("utf-8")]);
    agent.wait_for("online", |l| l == "online");
    agent.feed(with_order(&all[..300]));
    agent.wait_for("first answers", |l| l.starts_with("accepted "));
    broker.kill();
    agent.wait_for("offline", |l| l.starts_with("offline "));
    // Scanning goes on while the broker is away; everything is journaled.
    agent.feed(all[300..].to_vec());
    agent.wait_for("all queued", |l| l.starts_with("queued seq=600 "));
    broker.restart();
    agent.wait_for("online again", |l| l == "online");
    let status = agent.wait_exit();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        agent.lines_of("accepted").len() + agent.lines_of("rejected").len(),
        600
    );
    assert_each_once(&server, &all);
    assert_eq!(journal_pending(&dir.path().join("journal")), 0);
}

#[test]
fn forged_acks_are_ignored_and_protocol_failures_kept() {
    let Some(mosquitto) = mosquitto_path() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&mosquitto, dir.path());
    let all = codes(5);
    let policy = Policy {
        // Every answer is a rejection, preceded by a forged "accepted".
        reject: all.iter().cloned().collect(),
        forge_first: true,
        protocol_failure: HashSet::from([3]),
    };
    let server = TestServer::start(broker.port, policy);
    let config = write_config(dir.path(), &broker.url());

    let mut agent = Agent::start(&["--config", config.to_str().expect("utf-8")]);
    agent.feed(with_order(&all));
    let status = agent.wait_exit();
    assert_eq!(
        status.code(),
        Some(3),
        "kept scans: exit 3\n{}",
        agent.seen.join("\n")
    );
    assert!(
        agent.lines_of("accepted").is_empty(),
        "a forged ack was believed"
    );
    assert_eq!(agent.lines_of("rejected").len(), 4);
    assert!(agent.lines_of("forged_ack").len() >= 4);
    assert_eq!(agent.lines_of("kept"), ["kept seq=3 reason=bad_mac"]);
    assert!(
        agent
            .lines_of("done")
            .first()
            .is_some_and(|l| l.starts_with("done kept=1"))
    );
    // The kept scan is still in the journal, for the next start.
    assert_eq!(journal_pending(&dir.path().join("journal")), 1);
    assert_eq!(server.applied().len(), 4);
}

#[test]
fn bad_config_is_refused_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), "mqtt://127.0.0.1:1");
    let text = std::fs::read_to_string(&config).expect("read");
    let bad = text.replace(
        r#"kind = "keyboard_wedge""#,
        "kind = \"serial\"\nport = \"/dev/ttyUSB0\"\nbaud = 9601",
    );
    std::fs::write(&config, bad).expect("write");
    let shown = config.display().to_string();
    for args in [
        vec!["--config", shown.as_str()],
        vec!["check-config", shown.as_str()],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_chainmark-scanner"))
            .args(&args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "{shown}:21: input.baud: 9601 is not a standard rate"
            )),
            "{stderr}"
        );
    }
}

#[test]
fn check_config_accepts_a_good_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), "mqtt://127.0.0.1:1");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chainmark-scanner"))
        .args(["check-config", config.to_str().expect("utf-8")])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok "));
}

#[test]
fn provisioned_from_one_scan_it_comes_up_working() {
    let Some(mosquitto) = mosquitto_path() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&mosquitto, dir.path());
    let server = TestServer::start(broker.port, Policy::default());
    let payload = provision::encode(&Provisioning {
        device_id: DEVICE.to_owned(),
        warehouse: "TEST-WH".to_owned(),
        broker_url: broker.url(),
        topic_prefix: PREFIX.to_owned(),
        username: DEVICE.to_owned(),
        secret: SECRET.to_owned(),
    });
    let data = dir.path().join("data");
    let config = dir.path().join("etc").join("handheld.toml");
    let all = codes(20);
    let mut lines = vec![
        all[0].clone(),                              // not a provisioning code
        payload.replacen("CMPROV1:", "CMPROV9:", 1), // a newer version
        payload,
        "@inspect".to_owned(),
    ];
    lines.extend(all.iter().cloned());

    let mut agent = Agent::start(&[
        "--provision",
        "--config",
        config.to_str().expect("utf-8"),
        "--data-dir",
        data.to_str().expect("utf-8"),
        "--language",
        "en",
    ]);
    agent.feed(lines);
    let status = agent.wait_exit();
    assert!(status.success(), "{status:?}\n{}", agent.seen.join("\n"));
    let refused: Vec<_> = agent
        .lines_of("provision_refused")
        .iter()
        .map(|l| field(l, "reason"))
        .collect();
    assert_eq!(refused, [Some("not_provisioning"), Some("unknown_version")]);
    assert_eq!(agent.lines_of("provisioned").len(), 1);
    assert_eq!(agent.lines_of("accepted").len(), 20);
    assert_each_once(&server, &all);
    // The written config is a normal one, readable by the agent and owner-only.
    let written = firmware_config::Config::load(&config).expect("config");
    assert_eq!(
        written.journal.path,
        data.join(firmware_config::provision::journal_file_name(DEVICE))
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&config)
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "config holds the secret: {mode:o}");
    // Provisioning again does not overwrite it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chainmark-scanner"))
        .args(["--provision", "--config", config.to_str().expect("utf-8")])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already there"));
}
