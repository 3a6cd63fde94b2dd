//! The server's MQTT client: a shared subscription on every device's scans, batches of messages
//! applied in one database write, the acks published after that write commits; plus the devices'
//! retained online/offline state.
//!
//! Three tasks in a pipeline: the event loop (rumqttc must be polled to make progress, also to
//! send the acks), which also checks each message (device, signature); the applier, which hands
//! batches of checked events to the database's single writer; and the answerer, which signs and
//! publishes the acks of a committed batch while the writer applies the next. The writer does
//! nothing but database work. Bounded channels between them mean a slow database slows reading
//! from the broker instead of piling messages up in memory.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chainmark_wire as wire;
use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, LastWill, MqttOptions, Packet, QoS, StateError,
};
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::ingest::apply::Applied;
use crate::ingest::directory::{DeviceDirectory, DeviceEntry};
use crate::ingest::fleet::{self, Action, Fleet};
use crate::ingest::handle::{self, Prepared, Reply};
use crate::ingest::settings::MqttSettings;
use crate::keys::KeyRing;
use crate::store::{Backend, Db, devices};
use crate::supervise::Parts;

/// A checked event waiting for the writer, or an answer that needs no writing.
type Incoming = Prepared;

/// Largest packet the consumer reads. rumqttc drops the whole connection on a bigger one, so
/// this must stay above anything the broker passes on: the broker's own limit
/// ([`wire::BROKER_MAX_PACKET_BYTES`], mosquitto's `max_packet_size`), plus room for a full
/// topic, because an MQTT 5 publisher may send its topic as a 3-byte alias that the broker
/// spells out when it forwards the message to us (MQTT 3.1.1).
pub const MAX_INCOMING_PACKET_BYTES: usize = wire::BROKER_MAX_PACKET_BYTES + 2 + u16::MAX as usize;
// Kept true whatever the formula above becomes: the consumer reads what the broker lets in.
const _: () = assert!(MAX_INCOMING_PACKET_BYTES > wire::BROKER_MAX_PACKET_BYTES);

/// The appliers' names. On SQLite one applier: every write goes through the one writer, and the
/// group commit already shares its commits. On PostgreSQL, where each statement is a round trip
/// spent waiting on another process, four appliers each apply their own batches at once. A
/// device's scans always go to the same applier ([`Lanes`]), so they apply in the order they
/// came; two devices moving the same item at the same moment meet on its row (the custody move
/// is conditional, so the later batch fails and applies its scans one by one).
const APPLIERS: [&str; 4] = [
    "scan applier",
    "scan applier 2",
    "scan applier 3",
    "scan applier 4",
];

/// The appliers' queues, and which one each device's scans go to: given in turn to each device
/// as it is first seen, so the devices spread evenly, and fixed from then on, so one device's
/// scans stay in order.
struct Lanes {
    senders: Vec<mpsc::Sender<Incoming>>,
    assigned: HashMap<String, usize>,
    next: usize,
}

impl Lanes {
    fn of(&mut self, incoming: &Incoming) -> &mpsc::Sender<Incoming> {
        let lane = match incoming {
            Prepared::Apply { device, .. } => match self.assigned.get(&device.id) {
                Some(&lane) => lane,
                None => {
                    let lane = self.next % self.senders.len();
                    self.next += 1;
                    self.assigned.insert(device.id.clone(), lane);
                    lane
                }
            },
            Prepared::Answer(_) => 0,
        };
        &self.senders[lane]
    }
}

/// The outcome of a committed batch, in order: each to be signed and published.
enum Outcome {
    Applied {
        device: DeviceEntry,
        seq: u64,
        applied: Applied,
    },
    Answer(Reply),
}

/// What the consumer needs from the app.
#[derive(Clone)]
pub struct Ingest {
    pub db: Db,
    pub keys: Arc<KeyRing>,
    pub directory: Arc<DeviceDirectory>,
    pub settings: MqttSettings,
    pub password: String,
    /// This instance's identity, announced to the other instances on an external broker.
    pub fleet: Option<fleet::Identity>,
}

/// Connects to the broker and runs until the runtime stops. The tasks (consumer, appliers, ack
/// publisher) are parts of the server (`supervise`): if one stops, `/readyz` says so.
pub fn spawn(ingest: Ingest, parts: &Parts) -> Result<()> {
    // One client id per process: several servers share the load through the shared
    // subscription, and a broker disconnects an older client that reuses an id (so the host
    // name too: two containers may both be process 1).
    let client_id = format!(
        "chainmark-{}",
        crate::supervise::instance_name().replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    let mut options = options(&ingest, &client_id)?;
    let fleet = ingest.fleet.clone().map(|own| {
        let topic = fleet::topic(&ingest.settings.topic_prefix, &client_id);
        // The broker clears our retained announcement when our connection drops.
        options.set_last_will(LastWill::new(topic, Vec::new(), QoS::AtLeastOnce, true));
        Fleet::new(client_id.clone(), own)
    });
    let (client, eventloop) = AsyncClient::new(options, 10_000);
    let (done_tx, done_rx) = mpsc::channel::<Vec<Outcome>>(4);
    let lanes = match ingest.db.backend() {
        Backend::Sqlite => &APPLIERS[..1],
        Backend::Postgres => &APPLIERS[..],
    };
    let mut senders = Vec::with_capacity(lanes.len());
    for &name in lanes {
        let (tx, rx) = mpsc::channel::<Incoming>(ingest.settings.batch_max * 4);
        senders.push(tx);
        parts.spawn(name, apply(rx, done_tx.clone(), ingest.clone()));
    }
    parts.spawn(
        "mqtt consumer",
        poll(
            eventloop,
            client.clone(),
            ingest.clone(),
            senders,
            fleet,
            parts.clone(),
        ),
    );
    parts.spawn(
        "ack publisher",
        answer(done_rx, client, ingest.settings.topic_prefix.clone()),
    );
    Ok(())
}

fn options(ingest: &Ingest, id: &str) -> Result<MqttOptions> {
    let url = ingest.settings.consume_url();
    let (host, port) = host_port(&url)?;
    let mut options = MqttOptions::new(id, host, port);
    options
        .set_keep_alive(Duration::from_secs(15))
        .set_clean_session(true)
        // Outgoing: acks are a few hundred bytes; anything over the broker's limit would get
        // this connection closed by the broker.
        .set_max_packet_size(MAX_INCOMING_PACKET_BYTES, wire::BROKER_MAX_PACKET_BYTES)
        .set_inflight(1000)
        .set_credentials(ingest.settings.username.clone(), ingest.password.clone());
    Ok(options)
}

/// `mqtt://host:port` → (host, port). The consumer speaks plain MQTT: run it next to the broker
/// or on a private network; devices use TLS (`mqtts://`) to a broker that terminates it.
pub fn host_port(url: &str) -> Result<(String, u16)> {
    let rest = url.strip_prefix("mqtt://").ok_or_else(|| {
        Error::Config(format!(
            "mqtt.broker_url {url:?}: the server connects with mqtt://host:port (TLS is for devices)"
        ))
    })?;
    let rest = rest.trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((host, port)) => {
            let port = port
                .parse()
                .map_err(|_| Error::Config(format!("mqtt.broker_url {url:?}: bad port")))?;
            Ok((host.trim_matches(['[', ']']).to_owned(), port))
        }
        None => Ok((rest.to_owned(), 1883)),
    }
}

async fn poll(
    mut eventloop: EventLoop,
    client: AsyncClient,
    ingest: Ingest,
    senders: Vec<mpsc::Sender<Incoming>>,
    fleet: Option<Fleet>,
    parts: Parts,
) {
    let prefix = ingest.settings.topic_prefix.clone();
    let scans = wire::shared_scans_filter(&ingest.settings.share_group, &prefix);
    let states = format!("{prefix}/devices/+/state");
    let mut fleet = fleet.map(|fleet| FleetLink {
        fleet,
        client: client.clone(),
        scans: scans.clone(),
        parts,
        echo_pending: Arc::default(),
        paused: Arc::default(),
    });
    let mut backoff = Duration::from_millis(200);
    let mut lanes = Lanes {
        senders,
        assigned: HashMap::new(),
        next: 0,
    };
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = Duration::from_millis(200);
                tracing::info!(filter = %scans, "connected to the MQTT broker");
                // Clean session: the broker forgot our subscriptions, so make them again.
                subscribe(&client, &states).await;
                match &fleet {
                    Some(link) => link.connected(&prefix).await,
                    None => subscribe(&client, &scans).await,
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let topic = p.topic.clone();
                if let Some(link) = fleet.as_mut()
                    && let Some(other) = fleet::client_of(&prefix, &topic)
                {
                    link.announced(other, &p.payload).await;
                    continue;
                }
                if let Some(device) = state_device(&prefix, &topic) {
                    let online = p.payload.as_ref() == b"online";
                    let (db, device) = (ingest.db.clone(), device.to_owned());
                    tokio::spawn(async move {
                        if let Err(e) = db
                            .write(move |c| Ok(devices::set_online(c, &device, online)?))
                            .await
                        {
                            tracing::warn!(error = %e, "cannot record device state");
                        }
                    });
                    continue;
                }
                // Scans already on their way when a pause began: unanswered, so the devices
                // send them again once an instance takes them.
                if fleet.as_ref().is_some_and(|link| link.fleet.paused()) {
                    continue;
                }
                let incoming = prepare(&ingest, &topic, &p.payload).await;
                if lanes.of(&incoming).send(incoming).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                if let Some(size) = oversized(&e) {
                    // rumqttc cannot skip a packet: it has closed the connection. The session is
                    // clean, so the broker forgets the message with it and the reconnect below
                    // goes on with the next one. Other devices' messages in flight are resent by
                    // their devices. Said loudly: the broker is letting through more than it
                    // should (docs/operations.md, max_packet_size).
                    tracing::error!(
                        size,
                        limit = MAX_INCOMING_PACKET_BYTES,
                        broker_limit = wire::BROKER_MAX_PACKET_BYTES,
                        "skipped an MQTT message too large to read (the broker should refuse \
                         packets over max_packet_size); reconnecting"
                    );
                    metrics::counter!(
                        "chainmark_scan_messages_refused_total",
                        "reason" => "oversized_packet"
                    )
                    .increment(1);
                    backoff = Duration::from_millis(200);
                } else {
                    tracing::warn!(error = %e, retry_in = ?backoff, "MQTT connection lost");
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// How long to wait for our own announcement to come back before taking scans without it.
const ECHO_PATIENCE: Duration = Duration::from_secs(5);

async fn subscribe(client: &AsyncClient, filter: &str) {
    if let Err(e) = client.subscribe(filter, QoS::AtLeastOnce).await {
        tracing::error!(error = %e, %filter, "cannot subscribe");
    }
}

/// The consumer's side of the fleet check (`fleet`): the decisions are [`Fleet`]'s, the MQTT
/// calls and the readiness report are made here.
struct FleetLink {
    fleet: Fleet,
    client: AsyncClient,
    scans: String,
    parts: Parts,
    /// Between a connection and our own announcement coming back; shared with the timer that
    /// gives up on the echo.
    echo_pending: Arc<AtomicBool>,
    /// `fleet.paused()`, for that timer (the fleet itself stays on the event loop).
    paused: Arc<AtomicBool>,
}

impl FleetLink {
    /// After a connection: the scans wait until we know every other instance. We subscribe to
    /// the announcements, then announce ourselves; the broker delivers our own announcement back
    /// after the retained ones it queued before it.
    async fn connected(&self, prefix: &str) {
        subscribe(&self.client, &fleet::filter(prefix)).await;
        self.echo_pending.store(true, Ordering::Release);
        tokio::spawn(give_up_on_echo(
            self.client.clone(),
            self.scans.clone(),
            self.echo_pending.clone(),
            self.paused.clone(),
        ));
        let own = fleet::topic(prefix, self.fleet.own_client());
        if let Err(e) = self
            .client
            .publish(own, QoS::AtLeastOnce, true, self.fleet.payload())
            .await
        {
            tracing::error!(error = %e, "cannot announce this instance");
        }
    }

    /// An instance's announcement (ours included) on `{prefix}/servers/{client}`.
    async fn announced(&mut self, client: &str, payload: &[u8]) {
        if client == self.fleet.own_client() {
            // Our own announcement back: every other one was read before it.
            if self.echo_pending.swap(false, Ordering::AcqRel) && !self.fleet.paused() {
                subscribe(&self.client, &self.scans).await;
            }
            return;
        }
        match self.fleet.announced(client, payload) {
            Action::Nothing => {}
            Action::Pause(why) => {
                tracing::error!(%why, "scans paused");
                metrics::gauge!("chainmark_ingest_paused").set(1.0);
                self.parts.report("device ingest", Some(why));
                self.paused.store(true, Ordering::Release);
                if let Err(e) = self.client.unsubscribe(self.scans.as_str()).await {
                    tracing::error!(error = %e, "cannot unsubscribe from the scans");
                }
            }
            Action::Resume => {
                tracing::info!("no conflicting server instance left: scans resume");
                metrics::gauge!("chainmark_ingest_paused").set(0.0);
                self.parts.report("device ingest", None);
                self.paused.store(false, Ordering::Release);
                // Before our echo, the echo (or its timer) subscribes.
                if !self.echo_pending.load(Ordering::Acquire) {
                    subscribe(&self.client, &self.scans).await;
                }
            }
        }
    }
}

/// The broker never delivered our announcement back: most likely the server user may not publish
/// or read `{prefix}/servers/#` (an ACL from before the fleet check). Scans are not held back for
/// that, but it is said loudly: the fleet check is off until the ACL is fixed.
async fn give_up_on_echo(
    client: AsyncClient,
    scans: String,
    pending: Arc<AtomicBool>,
    paused: Arc<AtomicBool>,
) {
    tokio::time::sleep(ECHO_PATIENCE).await;
    if !pending.swap(false, Ordering::AcqRel) {
        return;
    }
    tracing::error!(
        "this instance's announcement did not come back from the broker: give the server user \
         readwrite on <prefix>/servers/# (docs/operations.md); scans are taken without checking \
         the other instances"
    );
    metrics::counter!("chainmark_fleet_check_unavailable_total").increment(1);
    if !paused.load(Ordering::Acquire) {
        subscribe(&client, &scans).await;
    }
}

/// The size of an incoming packet rumqttc refused as too large, if that is what `e` is.
fn oversized(e: &ConnectionError) -> Option<usize> {
    match e {
        ConnectionError::MqttState(StateError::Deserialization(
            rumqttc::Error::PayloadSizeLimitExceeded(size),
        )) => Some(*size),
        _ => None,
    }
}

fn state_device<'a>(prefix: &str, topic: &'a str) -> Option<&'a str> {
    let rest = topic.strip_prefix(prefix)?.strip_prefix("/devices/")?;
    let device = rest.strip_suffix("/state")?;
    wire::valid_device_id(device).then_some(device)
}

/// Checks a message off the writer: its device (cached; a miss reads the database) and its
/// signature.
async fn prepare(ingest: &Ingest, topic: &str, payload: &[u8]) -> Prepared {
    let prefix = &ingest.settings.topic_prefix;
    let Some(id) = handle::device_of_topic(prefix, topic) else {
        return Prepared::Answer(None);
    };
    match ingest.directory.lookup_async(&ingest.db, id).await {
        Ok(device) => handle::prepare(device, prefix, topic, payload),
        Err(e) => {
            // Unanswered: the device sends it again.
            tracing::warn!(%topic, error = %e, "cannot look the device up");
            Prepared::Answer(None)
        }
    }
}

async fn apply(mut rx: mpsc::Receiver<Incoming>, done: mpsc::Sender<Vec<Outcome>>, ingest: Ingest) {
    let max = ingest.settings.batch_max;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < max {
            match rx.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let outcomes = apply_batch(&ingest, batch).await;
        // After the commit: an ack is a promise that the scan is stored.
        if done.send(outcomes).await.is_err() {
            return;
        }
    }
}

/// Signs and publishes the answers of committed batches, in commit order.
async fn answer(mut done: mpsc::Receiver<Vec<Outcome>>, client: AsyncClient, prefix: String) {
    while let Some(outcomes) = done.recv().await {
        for outcome in outcomes {
            let reply = match outcome {
                Outcome::Applied {
                    device,
                    seq,
                    applied,
                } => handle::answer(&device, &prefix, seq, applied.result, applied.order),
                Outcome::Answer(reply) => reply,
            };
            if let Err(e) = client
                .publish(reply.topic, QoS::AtLeastOnce, false, reply.payload)
                .await
            {
                tracing::warn!(error = %e, "cannot queue an ack (the device will resend)");
            }
        }
    }
}

/// Applies a batch in one write and returns the outcomes to answer once it committed.
///
/// No savepoint per message: inside a large SQLite transaction every savepoint costs more than
/// the message itself (measured: 16% of the whole pipeline's CPU in `sqlite3BtreeSavepoint`).
/// A storage failure (not a rejection: those are answers) rolls the whole batch back instead, and
/// the batch is applied again one message per write, so only the failing message goes unanswered
/// (its device sends it again).
async fn apply_batch(ingest: &Ingest, batch: Vec<Incoming>) -> Vec<Outcome> {
    let count = batch.len();
    let mut answers = Vec::new();
    let mut events = Vec::with_capacity(count);
    for prepared in batch {
        match prepared {
            Prepared::Answer(Some(reply)) => answers.push(Outcome::Answer(reply)),
            Prepared::Answer(None) => {}
            Prepared::Apply { device, event } => events.push((device, event)),
        }
    }
    let events = Arc::new(events);
    let db = ingest.db.clone();
    let together = {
        let (keys, events) = (ingest.keys.clone(), events.clone());
        db.write(move |conn| handle::apply_together(conn, &keys, &events))
    }
    .await;
    let results: Vec<Option<Applied>> = match together {
        Ok(results) => {
            metrics::histogram!("chainmark_scan_batch_size").record(count as f64);
            results.into_iter().map(Some).collect()
        }
        Err(e) => {
            tracing::warn!(error = %e, count, "scan batch failed; applying its messages one by one");
            let mut results = Vec::with_capacity(events.len());
            for i in 0..events.len() {
                let (keys, all) = (ingest.keys.clone(), events.clone());
                let one = db
                    .write(move |conn| {
                        let one = handle::apply_together(conn, &keys, &all[i..=i])?;
                        one.into_iter()
                            .next()
                            .ok_or_else(|| Error::Internal("a scan went unanswered".into()))
                    })
                    .await;
                results.push(
                    one.map_err(|e| {
                        tracing::warn!(
                            device = %events[i].0.id, seq = events[i].1.seq, error = %e,
                            "scan not applied; the device will send it again"
                        );
                    })
                    .ok(),
                );
            }
            results
        }
    };
    let applied = events
        .iter()
        .zip(results)
        .filter_map(|((device, event), result)| {
            result.map(|applied| Outcome::Applied {
                device: device.clone(),
                seq: event.seq,
                applied,
            })
        });
    answers.extend(applied);
    answers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        assert_eq!(
            host_port("mqtt://127.0.0.1:1884").expect("ok"),
            ("127.0.0.1".into(), 1884)
        );
        assert_eq!(
            host_port("mqtt://broker.local").expect("ok"),
            ("broker.local".into(), 1883)
        );
        assert_eq!(
            host_port("mqtt://[::1]:1883").expect("ok"),
            ("::1".into(), 1883)
        );
        assert!(host_port("mqtts://x:8883").is_err());
        assert!(host_port("mqtt://x:port").is_err());
    }

    #[test]
    fn state_topics() {
        assert_eq!(state_device("cm", "cm/devices/hh-1/state"), Some("hh-1"));
        assert_eq!(state_device("cm", "cm/devices/hh-1/scans"), None);
        assert_eq!(state_device("cm", "cm/devices/a/b/state"), None);
        assert_eq!(state_device("cm", "xx/devices/hh-1/state"), None);
    }
}
