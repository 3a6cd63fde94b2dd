//! The broker connection: rumqttc options from the config (plain TCP or TLS through rustls with
//! the ring provider), and rumqttc's event loop on its own task. Running the event loop apart
//! means a scan arriving never cancels a connect or TLS handshake in progress, and the backoff
//! sleep never holds up scanning; the agent sees only [`Net`] events, in order.

use std::sync::Arc;
use std::time::Duration;

use firmware_config::{Config, Tls};
use rumqttc::{
    AsyncClient, ConnectionError, Event, LastWill, MqttOptions, Outgoing, Packet, QoS,
    TlsConfiguration, Transport,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::backoff::Backoff;
use crate::error::Error;
use crate::wire;

/// Payloads of the retained state topic.
pub const ONLINE: &str = "online";
pub const OFFLINE: &str = "offline";
/// Seconds between MQTT pings: a dead link is noticed within about one and a half of these.
const KEEP_ALIVE_SECS: u64 = 15;

/// What the event loop reports.
#[derive(Debug)]
pub enum Net {
    /// ConnAck: a new session (clean session, so nothing of the old one survives).
    Connected,
    /// The connection failed or dropped; the next attempt follows a backoff.
    Disconnected(String),
    /// A publish from the broker (on the acks topic, the only one subscribed).
    Message { topic: String, payload: Vec<u8> },
}

/// This device's topics.
#[derive(Debug, Clone)]
pub struct Topics {
    pub scans: String,
    pub acks: String,
    pub state: String,
}

impl Topics {
    pub fn new(prefix: &str, device_id: &str) -> Self {
        Topics {
            scans: wire::scans_topic(prefix, device_id),
            acks: wire::acks_topic(prefix, device_id),
            state: wire::state_topic(prefix, device_id),
        }
    }
}

/// rumqttc options for `config`: client id = device id, clean session, last will `offline`
/// (retained, QoS 1), and room in rumqttc's queues for `window` publishes plus control packets.
pub fn options(config: &Config, password: &str, window: usize) -> Result<MqttOptions, Error> {
    let (tls, host, port) = split_url(&config.broker.url)?;
    let topics = Topics::new(&config.broker.topic_prefix, &config.device.id);
    let mut opts = MqttOptions::new(&config.device.id, host, port);
    opts.set_clean_session(true)
        .set_keep_alive(Duration::from_secs(KEEP_ALIVE_SECS))
        .set_credentials(&config.credentials.username, password)
        .set_last_will(LastWill::new(topics.state, OFFLINE, QoS::AtLeastOnce, true))
        .set_inflight(u16::try_from(window + 8).unwrap_or(u16::MAX))
        .set_max_packet_size(16 * 1024, 16 * 1024);
    if tls {
        let client = tls_config(config.broker.tls.as_ref())?;
        opts.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            Arc::new(client),
        )));
    }
    Ok(opts)
}

/// `(tls, host, port)` of an `mqtt[s]://host:port` URL (already validated by firmware-config).
fn split_url(url: &str) -> Result<(bool, String, u16), Error> {
    let bad = || Error::Tls(format!("broker url {url:?} is not mqtt[s]://host:port"));
    let (tls, rest) = match url.strip_prefix("mqtts://") {
        Some(rest) => (true, rest),
        None => (false, url.strip_prefix("mqtt://").ok_or_else(bad)?),
    };
    let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((tls, host.to_owned(), port.parse().map_err(|_| bad())?))
}

fn tls_config(tls: Option<&Tls>) -> Result<rustls::ClientConfig, Error> {
    let e = |what: &str, err: &dyn std::fmt::Display| Error::Tls(format!("{what}: {err}"));
    let mut roots = rustls::RootCertStore::empty();
    match tls.and_then(|t| t.ca_file.as_ref()) {
        Some(ca) => {
            let what = format!("CA file {}", ca.display());
            for cert in CertificateDer::pem_file_iter(ca).map_err(|err| e(&what, &err))? {
                let cert = cert.map_err(|err| e(&what, &err))?;
                roots.add(cert).map_err(|err| e(&what, &err))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                // One unusable system certificate must not cost the others.
                let _ = roots.add(cert);
            }
        }
    }
    if roots.is_empty() {
        return Err(Error::Tls(
            "no CA certificate to trust: set [broker.tls] ca_file".to_owned(),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| e("protocol versions", &err))?
        .with_root_certificates(roots);
    match tls.and_then(|t| t.client_cert.as_ref().zip(t.client_key.as_ref())) {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let what = format!("client certificate {}", cert.display());
            let chain = CertificateDer::pem_file_iter(cert)
                .map_err(|err| e(&what, &err))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| e(&what, &err))?;
            let key_what = format!("client key {}", key.display());
            let key = PrivateKeyDer::from_pem_file(key).map_err(|err| e(&key_what, &err))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|err| e(&what, &err))
        }
    }
}

/// Starts the event loop task. `Disconnect` sent through the client ends it once flushed.
pub fn spawn(
    opts: MqttOptions,
    window: usize,
) -> (AsyncClient, mpsc::Receiver<Net>, JoinHandle<()>) {
    let (client, mut eventloop) = AsyncClient::new(opts, window + 32);
    let (tx, rx) = mpsc::channel(1024);
    let task = tokio::spawn(async move {
        let seed = u64::from(std::process::id()) ^ 0x9e37_79b9_7f4a_7c15;
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(30), seed);
        loop {
            let net = match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    backoff.reset();
                    Net::Connected
                }
                Ok(Event::Incoming(Packet::Publish(p))) => Net::Message {
                    topic: p.topic,
                    payload: p.payload.to_vec(),
                },
                Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
                Ok(_) => continue,
                Err(ConnectionError::RequestsDone) => return,
                Err(err) => {
                    let reason = err.to_string();
                    if tx.send(Net::Disconnected(reason)).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(backoff.next_delay()).await;
                    continue;
                }
            };
            if tx.send(net).await.is_err() {
                return;
            }
        }
    });
    (client, rx, task)
}

#[cfg(test)]
mod tests {
    use super::split_url;

    #[test]
    fn urls() {
        assert_eq!(
            split_url("mqtt://10.0.0.5:1883").ok(),
            Some((false, "10.0.0.5".to_owned(), 1883))
        );
        assert_eq!(
            split_url("mqtts://[::1]:8883").ok(),
            Some((true, "::1".to_owned(), 8883))
        );
        assert!(split_url("http://x:1").is_err());
    }
}
