//! Real processes for the agent's end-to-end tests: a mosquitto broker on a free port, a tiny
//! "server" that answers scans with signed acks through `scanner_agent::wire` (the real server
//! ingest is tested by the `tests` crate), and the `chainmark-scanner` binary fed through stdin.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codegen::serial::{BatchId, Serial};
use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use scanner_agent::wire::{self, Ack, AckResult, RejectReason};

pub const DEVICE: &str = "hh-test-1";
pub const SECRET: &str = "test-device-secret";
pub const PREFIX: &str = "chainmark";
/// How long any wait may take before the test fails with what it saw (a hang guard, not a
/// performance threshold).
const PATIENCE: Duration = Duration::from_secs(180);

/// The broker binary, or `None` (with a message) when it is missing outside CI.
pub fn mosquitto_path() -> Option<PathBuf> {
    let path = std::env::var_os("CHAINMARK_MOSQUITTO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/mosquitto"));
    if path.exists() {
        return Some(path);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !ci,
        "mosquitto not found at {} (set CHAINMARK_MOSQUITTO); CI must run these tests",
        path.display()
    );
    eprintln!(
        "SKIPPED: mosquitto not found at {} (set CHAINMARK_MOSQUITTO)",
        path.display()
    );
    None
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A mosquitto process; killed on drop.
pub struct Mosquitto {
    path: PathBuf,
    pub port: u16,
    conf: PathBuf,
    child: Option<Child>,
}

impl Mosquitto {
    pub fn start(path: &Path, dir: &Path) -> Mosquitto {
        let port = free_port();
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            // The packet limit of docs/operations.md, as every broker for chainmark has.
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 max_packet_size {}\n",
                wire::BROKER_MAX_PACKET_BYTES
            ),
        )
        .expect("mosquitto.conf");
        let mut m = Mosquitto {
            path: path.to_owned(),
            port,
            conf,
            child: None,
        };
        m.restart();
        m
    }

    /// Starts it (again) on the same port, and waits until it accepts connections.
    pub fn restart(&mut self) {
        let child = Command::new(&self.path)
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto");
        self.child = Some(child);
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(start.elapsed() < PATIENCE, "mosquitto did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: the broker vanishes with everything it held (no persistence).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How the test server answers.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Codes answered `not_on_order` (final).
    pub reject: HashSet<String>,
    /// Before each real answer, publish a forged `accepted` (signed with the wrong secret).
    pub forge_first: bool,
    /// Answer these seqs with `bad_mac` (not final) every time.
    pub protocol_failure: HashSet<u64>,
}

/// What the server saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// seq → code, applied once each.
    pub applied: HashMap<u64, String>,
    /// Events received in total (with resends).
    pub received: u64,
    /// A seq that came back with a different code: the agent reused a seq.
    pub seq_reused: Vec<(u64, String, String)>,
}

/// The tiny server: subscribes to the scans, applies each (device, seq) at most once, and
/// answers on the device's acks topic with a signed ack.
pub struct TestServer {
    pub seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    client: Client,
}

impl TestServer {
    pub fn start(port: u16, policy: Policy) -> TestServer {
        let mut opts = MqttOptions::new(format!("test-server-{}", free_port()), "127.0.0.1", port);
        opts.set_keep_alive(Duration::from_secs(5));
        let (client, mut connection) = Client::new(opts, 100_000);
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2, client2) = (seen.clone(), stop.clone(), client.clone());
        std::thread::spawn(move || {
            let filter = wire::shared_scans_filter("test", PREFIX);
            for event in connection.iter() {
                if stop2.load(Ordering::Relaxed) {
                    return;
                }
                match event {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = client2.try_subscribe(&filter, QoS::AtLeastOnce);
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        answer(&client2, &seen2, &policy, &p.payload);
                    }
                    Ok(_) => {}
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        });
        TestServer { seen, stop, client }
    }

    pub fn applied(&self) -> HashMap<u64, String> {
        self.seen.lock().expect("lock").applied.clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.client.try_disconnect();
    }
}

fn answer(client: &Client, seen: &Mutex<Seen>, policy: &Policy, payload: &[u8]) {
    let event = match wire::decode_event(payload, |id| (id == DEVICE).then_some(SECRET)) {
        Ok(e) => e,
        Err(e) => panic!("the agent sent an event the server cannot verify: {e}"),
    };
    let result = {
        let mut seen = seen.lock().expect("lock");
        seen.received += 1;
        match seen.applied.get(&event.seq).cloned() {
            Some(code) if code != event.code => {
                seen.seq_reused.push((event.seq, code, event.code.clone()));
                rejected(RejectReason::Duplicate)
            }
            Some(_) => rejected(RejectReason::Duplicate),
            None if policy.protocol_failure.contains(&event.seq) => rejected(RejectReason::BadMac),
            None => {
                seen.applied.insert(event.seq, event.code.clone());
                if policy.reject.contains(&event.code) {
                    rejected(RejectReason::NotOnOrder)
                } else {
                    AckResult::Accepted
                }
            }
        }
    };
    let topic = wire::acks_topic(PREFIX, DEVICE);
    if policy.forge_first {
        let forged = Ack::signed(DEVICE, event.seq, AckResult::Accepted, b"forger");
        let _ = client.try_publish(&topic, QoS::AtLeastOnce, false, forged.to_json());
    }
    let ack = Ack::signed(DEVICE, event.seq, result, SECRET.as_bytes());
    let _ = client.try_publish(&topic, QoS::AtLeastOnce, false, ack.to_json());
}

fn rejected(reason: RejectReason) -> AckResult {
    AckResult::Rejected { reason }
}

/// `n` valid, distinct item serials.
pub fn codes(n: u64) -> Vec<String> {
    let batch = BatchId::random();
    (0..n)
        .map(|i| Serial::new(&batch, i).expect("serial").as_str().to_owned())
        .collect()
}

/// A config file for the test device.
pub fn write_config(dir: &Path, broker_url: &str) -> PathBuf {
    let path = dir.join("handheld.toml");
    let text = format!(
        r#"language = "en"

[device]
id = "{DEVICE}"
warehouse = "TEST-WH"

[broker]
url = "{broker_url}"
topic_prefix = "{PREFIX}"

[credentials]
username = "{DEVICE}"
password = "{SECRET}"

[journal]
path = "{}"

[input]
kind = "keyboard_wedge"

[feedback]
display = "none"
"#,
        dir.join("journal").display()
    );
    std::fs::write(&path, text).expect("config");
    path
}

/// A running `chainmark-scanner` with piped stdin and stdout.
pub struct Agent {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    /// Every stdout line so far.
    pub seen: Vec<String>,
    /// Every stderr line so far (the logs and the final error); also passed on to the test's
    /// stderr.
    errors: Arc<Mutex<Vec<String>>>,
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

impl Agent {
    pub fn start(args: &[&str]) -> Agent {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chainmark-scanner"))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chainmark-scanner");
        let stderr = child.stderr.take().expect("stderr");
        let errors = Arc::new(Mutex::new(Vec::new()));
        let collected = errors.clone();
        let stderr_reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                eprintln!("{line}");
                collected.lock().expect("lock").push(line);
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Agent {
            child,
            stdin,
            lines,
            seen: Vec::new(),
            errors,
            stderr_reader: Some(stderr_reader),
        }
    }

    /// What the agent wrote to stderr so far, one string.
    pub fn stderr(&self) -> String {
        self.errors.lock().expect("lock").join("\n")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes lines to the agent's stdin (from a thread: the pipe may fill while the agent is
    /// busy).
    pub fn feed(&mut self, lines: Vec<String>) {
        let mut stdin = self.stdin.take().expect("stdin open");
        let writer = std::thread::spawn(move || {
            for line in lines {
                if writeln!(stdin, "{line}").is_err() {
                    break;
                }
            }
            stdin
        });
        self.stdin = Some(writer.join().expect("writer"));
    }

    /// Closes stdin: the agent finishes what is pending and exits.
    pub fn close_input(&mut self) {
        self.stdin = None;
    }

    /// Reads output until a line satisfies `pred`; returns it.
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let left = PATIENCE.saturating_sub(start.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "waited for {what}; last output:\n{}",
                    self.seen[self.seen.len().saturating_sub(20)..].join("\n")
                ),
            }
        }
    }

    /// Waits for the process to exit, collecting the rest of its output.
    pub fn wait_exit(&mut self) -> ExitStatus {
        self.close_input();
        let start = Instant::now();
        loop {
            while let Ok(line) = self.lines.try_recv() {
                self.seen.push(line);
            }
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // The reader thread ends with the pipe; take what it still has.
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
                    self.seen.push(line);
                }
                if let Some(reader) = self.stderr_reader.take() {
                    let _ = reader.join();
                }
                return status;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "agent did not exit; last output:\n{}",
                self.seen[self.seen.len().saturating_sub(20)..].join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, as a power cut would.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Output lines starting with `word `.
    pub fn lines_of(&self, word: &str) -> Vec<&str> {
        let prefix = format!("{word} ");
        self.seen
            .iter()
            .filter(|l| l.starts_with(&prefix) || *l == word)
            .map(String::as_str)
            .collect()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of `key=` in an output line (up to the next space; `code=` is the rest).
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(&format!(" {key}="))? + key.len() + 2;
    let rest = &line[start..];
    if key == "code" {
        return Some(rest);
    }
    Some(rest.split(' ').next().unwrap_or(rest))
}

/// Pending scans left in the journal at `path`.
pub fn journal_pending(path: &Path) -> usize {
    scanner_agent::journal::Journal::open(path, 1 << 30)
        .expect("journal")
        .pending_len()
}
