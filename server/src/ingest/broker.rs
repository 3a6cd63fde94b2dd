//! The embedded MQTT broker (rumqttd) for the single-machine set-up: listens on loopback by
//! default and lets in only the server and registered, unrevoked devices with their current
//! secret. rumqttd has no per-topic ACLs and keeps nothing across restarts; docs/protocol.md says
//! why the protocol does not need either (signed events and acks, the device's own journal).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

use crate::error::{Error, Result};
use crate::ingest::directory::DeviceDirectory;
use crate::store::Db;

/// Starts the broker on its own threads and waits until it accepts connections.
pub fn start(listen: SocketAddr, directory: Arc<DeviceDirectory>, db: Db) -> Result<()> {
    // rumqttd only logs a failed bind, and a probe connection would also reach some other
    // broker on the port: find out first whether the address is free.
    drop(std::net::TcpListener::bind(listen).map_err(|e| {
        Error::Config(format!(
            "the embedded MQTT broker cannot listen on {listen}: {e} (is another broker \
             running? set mqtt.listen / CHAINMARK_MQTT_LISTEN, or mqtt.embedded = false and \
             mqtt.broker_url to use that one)"
        ))
    })?);
    let mut connections = ConnectionSettings {
        connection_timeout_ms: 10_000,
        // rumqttd compares this with each incoming packet's remaining length and disconnects a
        // client that sends more. The same limit as mosquitto's in docs/operations.md, well
        // under what the consumer reads (`consumer::MAX_INCOMING_PACKET_BYTES`).
        max_payload_size: chainmark_wire::BROKER_MAX_PACKET_BYTES,
        max_inflight_count: 500,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let handle = tokio::runtime::Handle::try_current().ok();
    connections.set_auth_handler(move |_client_id, user, password| {
        let directory = directory.clone();
        let db = db.clone();
        let handle = handle.clone();
        async move {
            let check = async move { directory.authenticate(&db, &user, &password).await };
            // The broker runs its own single-threaded runtimes; the database pool's blocking
            // work belongs on the server's runtime.
            match handle {
                Some(h) => h.spawn(check).await.unwrap_or(false),
                None => check.await,
            }
        }
    });
    let server = ServerSettings {
        name: "chainmark-v4".into(),
        listen,
        tls: None,
        next_connection_delay_ms: 1,
        connections,
    };
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 10_010,
            max_outgoing_packet_count: 200,
            max_segment_size: 16 * 1024 * 1024,
            max_segment_count: 4,
            ..RouterConfig::default()
        },
        v4: Some(HashMap::from([("1".to_owned(), server)])),
        ..Config::default()
    };
    let mut broker = Broker::new(config);
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, "embedded MQTT broker stopped");
            }
        })
        .map_err(|e| Error::Internal(format!("cannot start the MQTT broker thread: {e}")))?;
    // No probe connection to see it listening: rumqttd logs every connection that closes
    // without a CONNECT as an error. The address was free a moment ago, and the consumer and the
    // devices connect with retries.
    tracing::info!(%listen, "embedded MQTT broker started");
    Ok(())
}
