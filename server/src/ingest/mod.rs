//! Device ingest (issue 5): the embedded broker, the MQTT consumer, and applying scans to custody
//! (DOMAIN §6). See docs/protocol.md for the wire protocol and its guarantees.

pub mod apply;
pub mod broker;
pub mod consumer;
pub mod device_key;
pub mod directory;
pub mod fleet;
pub mod handle;
pub mod settings;
pub mod ship;

use std::sync::Arc;

pub use settings::MqttSettings;

use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::store::Db;
use directory::DeviceDirectory;

/// The server's own user name on the embedded broker.
pub const SERVER_USER: &str = "chainmark-server";

/// Starts what the settings ask for: the embedded broker, then the consumer (on the current
/// tokio runtime).
pub fn start(
    settings: &MqttSettings,
    db: &Db,
    keys: Arc<KeyRing>,
    directory: Arc<DeviceDirectory>,
    parts: &crate::supervise::Parts,
) -> Result<()> {
    if !settings.enabled {
        tracing::info!("device ingest is off (mqtt.enabled = false)");
        return Ok(());
    }
    let password = if settings.embedded {
        broker::start(settings.listen, directory.clone(), db.clone())?;
        directory.key().server_password()
    } else {
        settings.password.clone().ok_or_else(|| {
            Error::Config(
                "mqtt.password (CHAINMARK_MQTT_PASSWORD) is needed to consume from an external broker"
                    .into(),
            )
        })?
    };
    let username = if settings.embedded {
        SERVER_USER.to_owned()
    } else {
        settings.username.clone()
    };
    // Instances behind one external broker share its scans: they check each other's identity.
    // The embedded broker serves this process alone.
    let fleet = if settings.embedded {
        None
    } else {
        let database = db.get().and_then(|mut c| {
            Ok(crate::store::facts::get_or_init(
                &mut c,
                "database_id",
                || {
                    use rand::Rng;
                    format!("{:032x}", rand::thread_rng().r#gen::<u128>())
                },
            )?)
        })?;
        Some(fleet::Identity {
            database,
            device_key: directory.key().fingerprint(),
        })
    };
    consumer::spawn(
        consumer::Ingest {
            fleet,
            db: db.clone(),
            keys,
            directory,
            settings: MqttSettings {
                username,
                ..settings.clone()
            },
            password,
        },
        parts,
    )
}
