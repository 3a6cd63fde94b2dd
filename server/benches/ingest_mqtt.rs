//! Benchmark: sustained scans per second from devices through an MQTT broker to committed rows
//! and signed acks, and in the same run the broker's own ceiling (`mosquitto_pub` →
//! `mosquitto_sub`, same message size, QoS 1).
//!
//! ```sh
//! cargo bench -p chainmark-server --bench ingest_mqtt -- --scans 100000 --devices 4
//! cargo bench -p chainmark-server --bench ingest_mqtt -- --scans 100000 --broker mosquitto
//! cargo bench -p chainmark-server --bench ingest_mqtt -- --scans 100000 \
//!     --database-url postgres://postgres@127.0.0.1:54560/postgres
//! ```
//!
//! `--database-url` (a PostgreSQL server) has the run create a fresh database `cm_ingest_bench`
//! there instead of a SQLite file. `--instances N` (with `--broker mosquitto` and PostgreSQL)
//! consumes with N server processes (this program run again with `--serve`) sharing the scans
//! through the broker's shared subscription, as several `chainmark serve` would.
//!
//! It generates `--scans` codes with codegen and imports them (all in HQ custody), registers
//! `--devices` handhelds, starts the server's ingest (embedded rumqttd, or the consumer on a
//! mosquitto it starts with `--broker mosquitto`), and has each device publish signed `sell`
//! scans of its share of the items, QoS 1, with at most `--window` scans awaiting their ack (as
//! the scanner agent does). A scan counts when its ack arrives and verifies. Every sell moves an
//! item's custody and writes its custody event and scan record. Then `mosquitto_pub --repeat` publishes
//! the same number of messages of the same size to a `mosquitto_sub -C`. Prints Markdown rows for
//! BENCHMARKS.md.

#[path = "support/pg.rs"]
mod pg;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chainmark_server::app::App;
use chainmark_server::config::Settings;
use chainmark_server::devices::{self, Registration};
use chainmark_server::ingest::device_key::DeviceKey;
use chainmark_server::registry::{self, ImportOptions};
use chainmark_server::store::{Db, devices as device_store};
use chainmark_wire::{self as wire, Scan, ScanEvent, ScanKind};
use codegen::batch::{BatchSpec, write_batch};
use codegen::keys::MasterKey;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::sync::Semaphore;

const PREFIX: &str = "chainmark";

struct Options {
    scans: u64,
    devices: usize,
    window: usize,
    broker: String,
    database_url: Option<String>,
    instances: u32,
}

fn parse_args() -> anyhow::Result<Options> {
    let mut o = Options {
        scans: 100_000,
        devices: 4,
        window: 1000,
        broker: "embedded".into(),
        database_url: None,
        instances: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--scans" => o.scans = value()?.parse()?,
            "--devices" => o.devices = value()?.parse()?,
            "--window" => o.window = value()?.parse()?,
            "--broker" => o.broker = value()?,
            "--database-url" => o.database_url = Some(value()?),
            "--instances" => o.instances = value()?.parse()?,
            "--bench" => {}
            other => bail!("unknown option {other} (see the file's doc comment)"),
        }
    }
    if !matches!(o.broker.as_str(), "embedded" | "mosquitto") {
        bail!("--broker is embedded or mosquitto");
    }
    if o.instances > 0 && (o.broker != "mosquitto" || o.database_url.is_none()) {
        bail!("--instances needs --broker mosquitto and --database-url postgres://…");
    }
    Ok(o)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A mosquitto that lets anyone in (the benchmark measures throughput, not access control).
struct Mosquitto(Child);

impl Mosquitto {
    fn start(dir: &Path, port: u16) -> anyhow::Result<Mosquitto> {
        let conf = dir.join(format!("mosquitto-{port}.conf"));
        std::fs::write(
            &conf,
            format!(
                // No queue limits: mosquitto drops QoS 1 messages beyond them, and a subscriber
                // waiting for a count it can never reach hangs the run. The packet limit of
                // docs/operations.md, as in production.
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 max_inflight_messages 1000\nmax_queued_messages 0\nmax_queued_bytes 0\n\
                 max_packet_size {}\n",
                chainmark_wire::BROKER_MAX_PACKET_BYTES
            ),
        )?;
        let bin = std::env::var("CHAINMARK_MOSQUITTO").unwrap_or_else(|_| "mosquitto".into());
        let child = Command::new(&bin)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {bin} (apt-get install mosquitto)"))?;
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Mosquitto(child));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("mosquitto did not listen on {port}")
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).is_some_and(|a| a == "--serve") {
        return serve_instance(&args[2..]);
    }
    let o = parse_args()?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,rumqttd=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let url = match &o.database_url {
        Some(admin) => pg::fresh_database(admin, "cm_ingest_bench")?,
        None => format!("sqlite://{}", dir.join("bench.db").display()),
    };
    let key_path = dir.join("master.key");
    let key = MasterKey::generate_to(&key_path)?;
    let device_key_path = dir.join("device.key");
    let device_key = DeviceKey::load_or_create(&device_key_path)?;

    let broker_port = free_port()?;
    let mosquitto = if o.broker == "mosquitto" {
        Some(Mosquitto::start(dir, broker_port)?)
    } else {
        None
    };
    let mut settings = Settings {
        database_url: url.clone(),
        key_files: vec![key_path.clone()],
        ..Settings::default()
    };
    settings.mqtt.device_key_file = Some(device_key_path.clone());
    settings.mqtt.listen = format!("127.0.0.1:{broker_port}").parse()?;
    if mosquitto.is_some() {
        settings.mqtt.embedded = false;
        settings.mqtt.broker_url = Some(format!("mqtt://127.0.0.1:{broker_port}"));
        settings.mqtt.password = Some("unused".into());
    }

    let serials = populate(&url, &key, &key_path, dir, o.scans)?;
    let secrets = register_devices(&url, &device_key, &settings, o.devices)?;

    let runtime = tokio::runtime::Runtime::new()?;
    // Kept until the measurement is over: dropping them stops the instances.
    let mut _instances = Vec::new();
    let db = if o.instances == 0 {
        let app = App::open(settings)?;
        runtime.block_on(async { app.start_ingest() })?;
        app.db.clone()
    } else {
        for _ in 0..o.instances {
            _instances.push(Instance(
                Command::new(std::env::current_exe()?)
                    .arg("--serve")
                    .arg(&url)
                    .arg(&key_path)
                    .arg(&device_key_path)
                    .arg(broker_port.to_string())
                    .spawn()?,
            ));
        }
        // Until every instance has subscribed: a scan published before reaches no one.
        std::thread::sleep(Duration::from_secs(3));
        Db::open(&url, 2)?
    };

    let message_size = sample_message_size(&serials, &secrets);
    let (elapsed, latencies) =
        runtime.block_on(run_devices(&o, broker_port, &serials, &secrets))?;
    let applied =
        runtime.block_on(db.run(|c| Ok(device_store::count_scans(c, Some("accepted"))?)))?;
    let rate = o.scans as f64 / elapsed.as_secs_f64();
    let (p50, p99) = percentiles(latencies);
    eprintln!(
        "ingest: {} scans in {elapsed:.2?}; {applied} accepted rows",
        o.scans
    );
    // Each device's warm-up inspect is accepted too.
    let expected = o.scans as i64 + o.devices as i64;
    if applied != expected {
        bail!("{applied} accepted scans recorded, expected {expected}");
    }

    let ceiling = broker_ceiling(dir, o.scans, message_size)?;
    println!();
    println!(
        "| broker | devices | scans | scans/s (committed + acked) | ack p50 | ack p99 | mosquitto_pub→sub msg/s | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {rate:.0} | {p50:.1?} | {p99:.1?} | {ceiling:.0} | {:.2} |",
        o.broker,
        o.devices,
        o.scans,
        rate / ceiling
    );
    drop(mosquitto);
    Ok(())
}

/// `--serve URL KEYFILE DEVICEKEYFILE BROKERPORT`: one consuming instance for `--instances`, on
/// the benchmark's mosquitto; runs until killed.
fn serve_instance(args: &[String]) -> anyhow::Result<()> {
    let [url, key_file, device_key_file, port] = args else {
        bail!("--serve URL KEYFILE DEVICEKEYFILE BROKERPORT");
    };
    let mut settings = Settings {
        database_url: url.clone(),
        key_files: vec![key_file.into()],
        ..Settings::default()
    };
    settings.mqtt.device_key_file = Some(device_key_file.into());
    settings.mqtt.embedded = false;
    settings.mqtt.broker_url = Some(format!("mqtt://127.0.0.1:{port}"));
    settings.mqtt.password = Some("unused".into());
    let app = App::open(settings)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        app.start_ingest()?;
        std::future::pending::<anyhow::Result<()>>().await
    })
}

/// A consuming instance, killed when dropped.
struct Instance(Child);

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Generates and imports `n` codes (kept in HQ custody); returns their serials.
fn populate(
    url: &str,
    key: &MasterKey,
    key_path: &Path,
    dir: &Path,
    n: u64,
) -> anyhow::Result<Vec<String>> {
    let db = Db::open(url, 1)?;
    db.migrate()?;
    let mut conn = db.get_writer()?;
    let out = dir.join("batch");
    let mut spec = BatchSpec::new("BENCH-1", n, "https://brand.example", &out);
    spec.case_size = 72;
    write_batch(&spec, key, &mut |_| {})?;
    let mut keys = chainmark_server::keys::KeyRing::default();
    keys.insert(key.clone());
    let t = Instant::now();
    registry::import_batch(
        &mut conn,
        &keys,
        &[key_path.to_path_buf()],
        &out,
        ImportOptions {
            create_product: true,
            actor: None,
        },
        &mut |_, _| {},
    )?;
    eprintln!("{n} codes generated and imported in {:.1?}", t.elapsed());
    let mut reader = csv::Reader::from_path(out.join("print.csv"))?;
    let mut serials = Vec::with_capacity(n as usize);
    for record in reader.records() {
        serials.push(record?[0].to_string());
    }
    Ok(serials)
}

fn register_devices(
    url: &str,
    device_key: &DeviceKey,
    settings: &Settings,
    n: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    let db = Db::open(url, 1)?;
    let mut conn = db.get_writer()?;
    let directory = chainmark_server::ingest::directory::DeviceDirectory::new(device_key.clone());
    (0..n)
        .map(|i| {
            let id = format!("bench-hh-{i:02}");
            devices::register(
                &mut conn,
                &directory,
                &settings.mqtt,
                None,
                &Registration {
                    id: id.clone(),
                    warehouse: "BENCH".into(),
                    owner_agent: None,
                },
            )?;
            Ok((id.clone(), device_key.device_secret(&id, 1)))
        })
        .collect()
}

fn event(device: &str, secret: &str, seq: u64, serial: &str) -> Vec<u8> {
    event_of(ScanKind::Sell, device, secret, seq, serial)
}

fn event_of(kind: ScanKind, device: &str, secret: &str, seq: u64, serial: &str) -> Vec<u8> {
    let scan = Scan {
        kind,
        code: serial.to_owned(),
        context: None,
        scanned_at: "2026-11-24T09:00:00+08:00".into(),
    };
    ScanEvent::signed(device, seq, &scan, secret.as_bytes()).to_json()
}

fn sample_message_size(serials: &[String], secrets: &[(String, String)]) -> usize {
    let (device, secret) = &secrets[0];
    event(device, secret, 1, &serials[0]).len()
}

/// Every device publishes its share with at most `window` unacknowledged; returns the time from
/// the first publish to the last verified ack, and every scan's publish→ack latency.
async fn run_devices(
    o: &Options,
    port: u16,
    serials: &[String],
    secrets: &[(String, String)],
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let mut tasks = Vec::new();
    for (i, (device, secret)) in secrets.iter().enumerate() {
        let share: Vec<String> = serials
            .iter()
            .skip(i)
            .step_by(secrets.len())
            .cloned()
            .collect();
        tasks.push(tokio::spawn(device_task(
            device.clone(),
            secret.clone(),
            port,
            share,
            o.window,
        )));
    }
    let mut latencies = Vec::new();
    let mut span: Option<(Instant, Instant)> = None;
    for t in tasks {
        let timed = t.await??;
        span = Some(match span {
            None => (timed.started, timed.finished),
            Some((a, b)) => (a.min(timed.started), b.max(timed.finished)),
        });
        latencies.extend(timed.latencies);
    }
    let (first, last) = span.context("no devices")?;
    Ok((last - first, latencies))
}

async fn device_task(
    device: String,
    secret: String,
    port: u16,
    serials: Vec<String>,
    window: usize,
) -> anyhow::Result<Timed> {
    let mut options = MqttOptions::new(device.clone(), "127.0.0.1", port);
    options
        .set_credentials(device.clone(), secret.clone())
        .set_keep_alive(Duration::from_secs(30))
        .set_inflight(u16::try_from(window.min(65_000))?)
        .set_max_packet_size(64 * 1024, 64 * 1024);
    let (client, mut eventloop) = AsyncClient::new(options, window * 2);
    let acks_topic = wire::acks_topic(PREFIX, &device);
    let total = serials.len();
    let slots = Arc::new(Semaphore::new(window));
    let sent_at: Arc<std::sync::Mutex<HashMap<u64, Instant>>> = Arc::default();
    let (subscribed_tx, subscribed_rx) = tokio::sync::oneshot::channel::<()>();
    let warm = Arc::new(tokio::sync::Notify::new());
    let publisher = {
        let (client, slots, sent_at) = (client.clone(), slots.clone(), sent_at.clone());
        let warm = warm.clone();
        let (device, secret) = (device.clone(), secret.clone());
        tokio::spawn(async move {
            let _ = subscribed_rx.await;
            // Warm-up: an inspect scan (seq 1), sent again until answered, so the timed part
            // starts only once the server's consumer is subscribed (a scan published before that
            // reaches no one; the real agent resends it after 10 s).
            let topic = wire::scans_topic(PREFIX, &device);
            let probe = event_of(ScanKind::Inspect, &device, &secret, 1, &serials[0]);
            loop {
                client
                    .publish(topic.clone(), QoS::AtLeastOnce, false, probe.clone())
                    .await?;
                if tokio::time::timeout(Duration::from_millis(300), warm.notified())
                    .await
                    .is_ok()
                {
                    break;
                }
            }
            let started = Instant::now();
            for (i, serial) in serials.iter().enumerate() {
                let permit = slots.acquire().await?;
                permit.forget();
                let seq = i as u64 + 2;
                sent_at
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))?
                    .insert(seq, Instant::now());
                let topic = wire::scans_topic(PREFIX, &device);
                client
                    .publish(
                        topic,
                        QoS::AtLeastOnce,
                        false,
                        event(&device, &secret, seq, serial),
                    )
                    .await?;
            }
            anyhow::Ok(started)
        })
    };
    let mut latencies = Vec::with_capacity(total);
    let mut subscribed_tx = Some(subscribed_tx);
    while latencies.len() < total {
        let event = match eventloop.poll().await {
            Ok(event) => event,
            // The embedded broker starts on its own thread: retry until it listens.
            // (Before the warm-up scan is answered nothing else is in flight.)
            Err(_) if latencies.is_empty() => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        match event {
            Event::Incoming(Packet::ConnAck(_)) => {
                client
                    .subscribe(acks_topic.clone(), QoS::AtLeastOnce)
                    .await?;
            }
            Event::Incoming(Packet::SubAck(_)) => {
                if let Some(tx) = subscribed_tx.take() {
                    let _ = tx.send(());
                }
            }
            Event::Incoming(Packet::Publish(p)) => {
                let ack = wire::decode_ack(&p.payload, &device, secret.as_bytes())?;
                if ack.seq == 1 {
                    warm.notify_one();
                    continue;
                }
                if !ack.result.is_final() {
                    bail!(
                        "device {device}: scan {} answered {:?}",
                        ack.seq,
                        ack.result
                    );
                }
                let sent = sent_at
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))?
                    .remove(&ack.seq);
                if let Some(sent) = sent {
                    latencies.push(sent.elapsed());
                    slots.add_permits(1);
                }
            }
            _ => {}
        }
    }
    let started = publisher.await??;
    Ok(Timed {
        started,
        finished: Instant::now(),
        latencies,
    })
}

/// One device's run: from its first timed publish to its last ack.
struct Timed {
    started: Instant,
    finished: Instant,
    latencies: Vec<Duration>,
}

fn percentiles(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let at = |q: f64| v.get(((v.len() as f64 * q) as usize).min(v.len().saturating_sub(1)));
    (
        at(0.50).copied().unwrap_or_default(),
        at(0.99).copied().unwrap_or_default(),
    )
}

/// `mosquitto_pub --repeat n` → `mosquitto_sub -C n`, QoS 1, messages of `size` bytes: messages/s.
fn broker_ceiling(dir: &Path, n: u64, size: usize) -> anyhow::Result<f64> {
    let port = free_port()?;
    let _broker = Mosquitto::start(dir, port)?;
    let body = "x".repeat(size);
    let port_s = port.to_string();
    let mut sub = Command::new("mosquitto_sub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port_s,
            "-q",
            "1",
            "-t",
            "ceiling/#",
        ])
        .args(["-C", &n.to_string()])
        // Give up rather than hang if messages were lost: a second per 1,000, at least a minute.
        .args(["-W", &(60 + n / 1000).to_string()])
        .stdout(Stdio::null())
        .spawn()
        .context("cannot start mosquitto_sub (apt-get install mosquitto-clients)")?;
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    let publish = Command::new("mosquitto_pub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port_s,
            "-q",
            "1",
            "-t",
            "ceiling/x",
            "-m",
            &body,
            // `--repeat` waits for each QoS 1 acknowledgement; `-l` (lines from stdin) hung up at
            // the end of its input with a third of 100,000 messages still unsent.
            "--repeat",
            &n.to_string(),
        ])
        .status()
        .context("cannot run mosquitto_pub")?;
    if !publish.success() {
        bail!("mosquitto_pub failed: {publish}");
    }
    let status = sub.wait()?;
    if !status.success() {
        bail!("mosquitto_sub did not receive all {n} messages ({status}): the broker dropped some");
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}
