//! One device must not be able to keep the server's consumer off the broker. A device may publish
//! anything on its own scans topic; a 1 MiB message there used to reach the consumer, whose MQTT
//! client refuses packets over its limit by dropping the connection (and the scans in flight
//! with it). The broker now refuses such packets (mosquitto's `max_packet_size` from
//! docs/operations.md, the embedded broker's own limit), and the consumer reads anything the
//! broker passes on. Each test runs the real consumer against a real broker, on both databases.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chainmark_server::ingest::MqttSettings;
use chainmark_server::ingest::device_key::DeviceKey;
use chainmark_server::ingest::directory::DeviceDirectory;
use chainmark_server::store::schema::device_scans;
use chainmark_test_support::mosquitto::mosquitto_binary;
use chainmark_test_support::net::free_port;
use chainmark_wire::{self as wire, AckResult, Scan, ScanEvent, ScanKind};
use diesel::prelude::*;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};

use crate::common::{Backend, BatchFixture, TestApp, backends, make_batch};

const PREFIX: &str = "chainmark";
const DEVICE: &str = "hh-big-01";
const SERVER_USER: &str = "chainmark-server";
const SERVER_PASSWORD: &str = "server-secret";
/// What the one misbehaving device publishes.
const HUGE: usize = 1024 * 1024;
/// A hang guard for waits on the network, not a performance threshold.
const PATIENCE: Duration = Duration::from_secs(120);

/// The mosquitto set-up of docs/operations.md, as printed there: (mosquitto.conf, acl) lines.
fn documented_mosquitto() -> (Vec<String>, Vec<String>) {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/operations.md"),
    )
    .expect("docs/operations.md");
    let start = doc
        .find("# mosquitto.conf\n")
        .expect("the mosquitto.conf block");
    let block = &doc[start..];
    let block = &block[..block.find("```").expect("end of the block")];
    let (conf, acl) = block
        .split_once("# acl:")
        .expect("the acl part of the block");
    let lines = |text: &str| -> Vec<String> {
        text.lines()
            .skip(1) // the comment line naming the part
            .map(|l| l.split(" #").next().unwrap_or(l).trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect()
    };
    (lines(conf), lines(acl))
}

/// mosquitto with the documented config, on a free loopback port without TLS (the test has no
/// certificate), the device and the server in its password file.
struct Mosquitto {
    child: Child,
    port: u16,
}

impl Mosquitto {
    fn start(binary: &Path, dir: &Path, device_secret: &str) -> Mosquitto {
        let port = free_port();
        let passwd = dir.join("passwd");
        std::fs::write(&passwd, "").expect("passwd");
        for (user, password) in [(DEVICE, device_secret), (SERVER_USER, SERVER_PASSWORD)] {
            let ok = Command::new("mosquitto_passwd")
                .arg("-b")
                .arg(&passwd)
                .args([user, password])
                .status()
                .expect("run mosquitto_passwd (package mosquitto)");
            assert!(ok.success(), "mosquitto_passwd {user}");
        }
        let (conf, acl) = documented_mosquitto();
        let acl_file = dir.join("acl");
        std::fs::write(&acl_file, acl.join("\n") + "\n").expect("acl");
        let conf: Vec<String> = conf
            .into_iter()
            .filter_map(|line| {
                let key = line.split_whitespace().next().unwrap_or("");
                match key {
                    "listener" => Some(format!("listener {port} 127.0.0.1")),
                    "certfile" | "keyfile" => None,
                    "password_file" => Some(format!("password_file {}", passwd.display())),
                    "acl_file" => Some(format!("acl_file {}", acl_file.display())),
                    _ => Some(line),
                }
            })
            .collect();
        let conf_file = dir.join("mosquitto.conf");
        std::fs::write(&conf_file, conf.join("\n") + "\n").expect("mosquitto.conf");
        let child = Command::new(binary)
            .arg("-c")
            .arg(&conf_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto");
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < PATIENCE, "mosquitto did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Mosquitto { child, port }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test app with a registered HQ device and a small batch.
struct Site {
    app: TestApp,
    directory: Arc<DeviceDirectory>,
    batch: BatchFixture,
    secret: String,
}

impl Site {
    fn new(backend: Backend) -> Site {
        let app = TestApp::new(backend);
        let directory = Arc::new(DeviceDirectory::new(DeviceKey::from_bytes([7; 32])));
        let batch = make_batch(&app, "TEA-1", 4, 4);
        let secret = crate::common::register_hq_device(&app, &directory, DEVICE);
        Site {
            app,
            directory,
            batch,
            secret,
        }
    }

    /// Starts the consumer (and, with `settings.embedded`, the embedded broker) on the current
    /// runtime.
    fn start_ingest(&self, settings: MqttSettings) {
        chainmark_server::ingest::start(
            &settings,
            &self.app.state.db,
            self.app.state.keys.clone(),
            self.directory.clone(),
            &self.app.state.parts,
        )
        .expect("ingest starts");
    }

    fn scans_recorded(&self) -> i64 {
        let mut conn = self.app.conn();
        device_scans::table
            .count()
            .get_result(&mut *conn)
            .expect("count")
    }

    fn event(&self, seq: u64) -> Vec<u8> {
        let scan = Scan {
            kind: ScanKind::Inspect,
            code: self.batch.rows[0].serial.clone(),
            context: None,
            scanned_at: "2026-12-06T09:00:00+08:00".into(),
        };
        ScanEvent::signed(DEVICE, seq, &scan, self.secret.as_bytes()).to_json()
    }
}

/// An MQTT connection with the device's broker login.
fn connect(port: u16, client_id: &str, secret: &str) -> (AsyncClient, EventLoop) {
    let mut options = MqttOptions::new(client_id, "127.0.0.1", port);
    options
        .set_credentials(DEVICE, secret)
        .set_keep_alive(Duration::from_secs(30))
        // Room to send the oversized message; what the brokers let through is the point.
        .set_max_packet_size(2 * HUGE, 2 * HUGE);
    AsyncClient::new(options, 16)
}

/// The device itself: subscribed to its acks, publishing signed scans.
struct Handheld {
    client: AsyncClient,
    events: EventLoop,
}

impl Handheld {
    async fn connect(port: u16, secret: &str) -> Handheld {
        let (client, mut events) = connect(port, DEVICE, secret);
        client
            .subscribe(wire::acks_topic(PREFIX, DEVICE), QoS::AtLeastOnce)
            .await
            .expect("queue subscribe");
        until(&mut events, "the acks subscription", |e| {
            matches!(e, Event::Incoming(Packet::SubAck(_)))
        })
        .await;
        Handheld { client, events }
    }

    async fn publish(&self, payload: Vec<u8>) {
        self.client
            .publish(
                wire::scans_topic(PREFIX, DEVICE),
                QoS::AtLeastOnce,
                false,
                payload,
            )
            .await
            .expect("queue publish");
    }

    /// The next ack for `seq`, checked under the device's secret; `None` if `resend_every`
    /// passes first.
    async fn ack(&mut self, seq: u64, secret: &str, resend_every: Duration) -> Option<AckResult> {
        let wait = async {
            loop {
                match self.events.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let ack = wire::decode_ack(&p.payload, DEVICE, secret.as_bytes())
                            .expect("a signed ack");
                        if ack.seq == seq {
                            return ack.result;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => panic!("the device lost its connection: {e}"),
                }
            }
        };
        tokio::time::timeout(resend_every, wait).await.ok()
    }

    /// Publishes `seq` until it is answered: the consumer may still be subscribing.
    async fn scan_until_answered(&mut self, site: &Site, seq: u64) -> AckResult {
        let started = std::time::Instant::now();
        loop {
            assert!(started.elapsed() < PATIENCE, "scan {seq} never answered");
            self.publish(site.event(seq)).await;
            if let Some(result) = self.ack(seq, &site.secret, Duration::from_secs(2)).await {
                return result;
            }
        }
    }
}

/// Polls until `pred` holds for an event. Connection errors are retried (the embedded broker
/// starts listening a moment after `ingest::start` returns), within the hang guard.
async fn until(events: &mut EventLoop, what: &str, pred: impl Fn(&Event) -> bool) {
    let wait = async {
        loop {
            match events.poll().await {
                Ok(e) if pred(&e) => return,
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .unwrap_or_else(|_| panic!("waited for {what}"));
}

/// Another connection with the device's login publishes `size` bytes on the device's scans
/// topic and waits until the broker either takes it (PUBACK) or refuses it by closing the
/// connection. Returns whether it was taken.
async fn publish_huge(port: u16, secret: &str, size: usize) -> bool {
    let (client, mut events) = connect(port, &format!("{DEVICE}-flood"), secret);
    client
        .publish(
            wire::scans_topic(PREFIX, DEVICE),
            QoS::AtLeastOnce,
            false,
            vec![b'x'; size],
        )
        .await
        .expect("queue the huge publish");
    let wait = async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    };
    let taken = tokio::time::timeout(PATIENCE, wait)
        .await
        .expect("the broker answered the huge publish");
    let _ = client.try_disconnect();
    taken
}

/// The consumer is up (a first scan answered), a flood connection publishes 1 MiB on the device's
/// topic, and the device's next scan, published once right after, is answered and applied.
async fn one_device_cannot_knock_the_consumer_off(site: &Site, port: u16) -> bool {
    let mut handheld = Handheld::connect(port, &site.secret).await;
    assert_eq!(
        handheld.scan_until_answered(site, 1).await,
        AckResult::Accepted
    );
    let taken = publish_huge(port, &site.secret, HUGE).await;
    // Published once: had the consumer been knocked off the broker, this scan would go with it
    // (the device would send it again only after its resend timer).
    handheld.publish(site.event(2)).await;
    assert_eq!(
        handheld.ack(2, &site.secret, PATIENCE).await,
        Some(AckResult::Accepted),
        "the scan after the huge message was not answered: the consumer lost its connection"
    );
    assert_eq!(site.scans_recorded(), 2);
    taken
}

#[test]
fn a_huge_message_on_a_device_topic_does_not_disconnect_the_consumer_from_mosquitto() {
    let Some(mosquitto) = mosquitto_binary() else {
        return;
    };
    for backend in backends() {
        let site = Site::new(backend);
        let dir = tempfile::tempdir().expect("tmp");
        let broker = Mosquitto::start(&mosquitto, dir.path(), &site.secret);
        let settings = MqttSettings {
            embedded: false,
            broker_url: Some(format!("mqtt://127.0.0.1:{}", broker.port)),
            username: SERVER_USER.into(),
            password: Some(SERVER_PASSWORD.into()),
            ..MqttSettings::default()
        };
        // Its own runtime per backend, dropped (with the consumer's tasks and their database
        // handles) before the test database is.
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let taken = runtime.block_on(async {
            site.start_ingest(settings);
            one_device_cannot_knock_the_consumer_off(&site, broker.port).await
        });
        drop(runtime);
        assert!(
            !taken,
            "mosquitto took a 1 MiB packet: max_packet_size is not set"
        );
    }
}

#[test]
fn the_documented_broker_limit_is_the_one_the_server_is_built_for() {
    let (conf, _) = documented_mosquitto();
    let limit: Vec<&String> = conf
        .iter()
        .filter(|l| l.starts_with("max_packet_size "))
        .collect();
    assert_eq!(
        limit,
        [&format!(
            "max_packet_size {}",
            wire::BROKER_MAX_PACKET_BYTES
        )],
        "docs/operations.md must set mosquitto's max_packet_size to wire::BROKER_MAX_PACKET_BYTES"
    );
}

#[test]
fn a_consumer_behind_a_broker_without_a_limit_skips_what_it_cannot_read_and_goes_on() {
    let Some(mosquitto) = mosquitto_binary() else {
        return;
    };
    for backend in backends() {
        let site = Site::new(backend);
        let dir = tempfile::tempdir().expect("tmp");
        // A broker set up without the documented limit.
        let port = free_port();
        let conf = dir.path().join("open.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
        )
        .expect("conf");
        let mut child = Command::new(&mosquitto)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto");
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            std::thread::sleep(Duration::from_millis(20));
        }
        let settings = MqttSettings {
            embedded: false,
            broker_url: Some(format!("mqtt://127.0.0.1:{port}")),
            password: Some("unused".into()),
            ..MqttSettings::default()
        };
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            site.start_ingest(settings);
            let mut handheld = Handheld::connect(port, &site.secret).await;
            assert_eq!(
                handheld.scan_until_answered(&site, 1).await,
                AckResult::Accepted
            );
            // Bigger than the consumer reads: the broker passes it on, the consumer drops the
            // connection, logs it and comes back without it (clean session).
            assert!(publish_huge(port, &site.secret, HUGE).await);
            // The device sends its scan again until answered, as the agent does.
            assert_eq!(
                handheld.scan_until_answered(&site, 2).await,
                AckResult::Accepted
            );
            // And the consumer stays: one more scan, published once, is answered.
            handheld.publish(site.event(3)).await;
            assert_eq!(
                handheld.ack(3, &site.secret, PATIENCE).await,
                Some(AckResult::Accepted)
            );
        });
        drop(runtime);
        assert_eq!(site.scans_recorded(), 3);
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[test]
fn a_huge_message_through_the_embedded_broker_does_not_disconnect_the_consumer() {
    for backend in backends() {
        let site = Site::new(backend);
        let port = free_port();
        let settings = MqttSettings {
            embedded: true,
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            ..MqttSettings::default()
        };
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let taken = runtime.block_on(async {
            site.start_ingest(settings);
            one_device_cannot_knock_the_consumer_off(&site, port).await
        });
        // The embedded broker's threads outlive the runtime; the port is not reused.
        drop(runtime);
        assert!(!taken, "the embedded broker took a 1 MiB packet");
    }
}
