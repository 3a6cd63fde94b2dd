//! Settings of the device side: the broker, the topics, the device key (`[mqtt]` in the settings
//! file, `CHAINMARK_MQTT_*` in the environment).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MqttSettings {
    /// Take scans from devices (`CHAINMARK_MQTT_ENABLED`). Needs `device_key_file`.
    pub enabled: bool,
    /// Run the embedded broker in this process (`CHAINMARK_MQTT_EMBEDDED`); when false, consume
    /// from the external broker at `broker_url`.
    pub embedded: bool,
    /// Where the embedded broker listens (`CHAINMARK_MQTT_LISTEN`).
    pub listen: SocketAddr,
    /// The broker to consume from, `mqtt://host:port` (`CHAINMARK_MQTT_URL`); defaults to the
    /// embedded broker's address.
    pub broker_url: Option<String>,
    /// The broker URL written into devices' configuration (`CHAINMARK_MQTT_PUBLIC_URL`); defaults
    /// to `broker_url`. Set it when devices reach the broker under another name.
    pub public_url: Option<String>,
    /// The server's user name on the broker (`CHAINMARK_MQTT_USERNAME`).
    pub username: String,
    /// The server's password on an external broker (`CHAINMARK_MQTT_PASSWORD`); on the embedded
    /// broker it is derived from the device key.
    pub password: Option<String>,
    /// First topic level (`CHAINMARK_MQTT_TOPIC_PREFIX`).
    pub topic_prefix: String,
    /// Shared-subscription group: server instances in one group split the devices' scans
    /// (`CHAINMARK_MQTT_SHARE_GROUP`).
    pub share_group: String,
    /// The device key file (`CHAINMARK_DEVICE_KEY_FILE`); every device secret derives from it.
    pub device_key_file: Option<PathBuf>,
    /// Most scans applied in one transaction (`CHAINMARK_MQTT_BATCH_MAX`).
    pub batch_max: usize,
}

impl Default for MqttSettings {
    fn default() -> Self {
        MqttSettings {
            enabled: true,
            embedded: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 1883)),
            broker_url: None,
            public_url: None,
            username: "chainmark-server".into(),
            password: None,
            topic_prefix: firmware_config::DEFAULT_TOPIC_PREFIX.into(),
            share_group: "chainmark-server".into(),
            device_key_file: None,
            batch_max: 512,
        }
    }
}

impl MqttSettings {
    /// The broker the server itself connects to.
    pub fn consume_url(&self) -> String {
        self.broker_url
            .clone()
            .unwrap_or_else(|| format!("mqtt://{}", self.listen))
    }

    /// The broker URL handed to devices: `public_url`, else `broker_url`, else the embedded
    /// broker's `listen` address. An unspecified listen address (`0.0.0.0`, `[::]`) says where the
    /// broker listens, not where a handheld reaches it, so it needs `public_url`: a config with
    /// `mqtt://0.0.0.0:1883` in it would leave the device unable to connect.
    pub fn device_url(&self) -> Result<String> {
        if let Some(url) = self.public_url.as_ref().or(self.broker_url.as_ref()) {
            return Ok(url.clone());
        }
        if self.listen.ip().is_unspecified() {
            return Err(Error::Config(format!(
                "mqtt.listen is {}, every interface of this machine, which is no address a \
                 handheld can connect to: set mqtt.public_url (CHAINMARK_MQTT_PUBLIC_URL) to the \
                 broker as the handhelds reach it, e.g. mqtt://192.168.1.10:{}",
                self.listen,
                self.listen.port()
            )));
        }
        Ok(self.consume_url())
    }

    pub fn apply_env(&mut self, get: &impl Fn(&str) -> Option<String>) -> Result<()> {
        fn parse<T: std::str::FromStr>(name: &str, value: String) -> Result<T> {
            value
                .trim()
                .parse()
                .map_err(|_| Error::Config(format!("{name}={value:?} is not a valid value")))
        }
        if let Some(v) = get("CHAINMARK_MQTT_ENABLED") {
            self.enabled = parse("CHAINMARK_MQTT_ENABLED", v)?;
        }
        if let Some(v) = get("CHAINMARK_MQTT_EMBEDDED") {
            self.embedded = parse("CHAINMARK_MQTT_EMBEDDED", v)?;
        }
        if let Some(v) = get("CHAINMARK_MQTT_LISTEN") {
            self.listen = parse("CHAINMARK_MQTT_LISTEN", v)?;
        }
        if let Some(v) = get("CHAINMARK_MQTT_URL") {
            self.broker_url = Some(v);
        }
        if let Some(v) = get("CHAINMARK_MQTT_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = get("CHAINMARK_MQTT_USERNAME") {
            self.username = v;
        }
        if let Some(v) = get("CHAINMARK_MQTT_PASSWORD") {
            self.password = Some(v);
        }
        if let Some(v) = get("CHAINMARK_MQTT_TOPIC_PREFIX") {
            self.topic_prefix = v;
        }
        if let Some(v) = get("CHAINMARK_MQTT_SHARE_GROUP") {
            self.share_group = v;
        }
        if let Some(v) = get("CHAINMARK_DEVICE_KEY_FILE") {
            self.device_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = get("CHAINMARK_MQTT_BATCH_MAX") {
            self.batch_max = parse("CHAINMARK_MQTT_BATCH_MAX", v)?;
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<()> {
        let simple = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !simple(&self.topic_prefix) {
            return Err(Error::Config(format!(
                "mqtt.topic_prefix {:?} must be one topic level of A-Z a-z 0-9 - _ .",
                self.topic_prefix
            )));
        }
        if !simple(&self.share_group) {
            return Err(Error::Config(format!(
                "mqtt.share_group {:?} must be A-Z a-z 0-9 - _ .",
                self.share_group
            )));
        }
        if self.batch_max == 0 {
            return Err(Error::Config("mqtt.batch_max must be at least 1".into()));
        }
        for url in [&self.broker_url, &self.public_url].into_iter().flatten() {
            if !(url.starts_with("mqtt://") || url.starts_with("mqtts://")) {
                return Err(Error::Config(format!(
                    "MQTT URL {url:?} must start with mqtt:// or mqtts://"
                )));
            }
        }
        Ok(())
    }
}
