//! Registering and provisioning warehouse handhelds (issue 5). HQ registers a device; the answer
//! carries its configuration file and the provisioning code (the text of the QR a fresh
//! `chainmark-scanner --provision` reads). The device's secret is derived, never stored: showing
//! the provisioning again gives the same secret until the device is re-keyed.

use firmware_config::provision::{self, Provisioning};

use crate::domain::network::PartyKind;
use crate::error::{Error, Result};
use crate::ingest::MqttSettings;
use crate::ingest::directory::DeviceDirectory;
use crate::store::devices::{self, DeviceRow, NewDevice};
use crate::store::in_transaction;
use crate::store::{DbConnection, audit};

/// A registration as asked for, before checks.
#[derive(Debug, Clone)]
pub struct Registration {
    pub id: String,
    pub warehouse: String,
    /// The agent whose warehouse it scans for; `None`: HQ's.
    pub owner_agent: Option<i64>,
}

/// A device with what it needs to come up: the provisioning code and its config file.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub device: DeviceRow,
    pub provisioning: String,
    pub config_toml: String,
}

pub fn check(reg: &Registration) -> Result<()> {
    if !chainmark_wire::valid_device_id(&reg.id) {
        return Err(Error::BadRequest(format!(
            "device id {:?} is invalid: use 1 to 64 of A-Z a-z 0-9 _ . - (e.g. sh-wh01-hh-001)",
            reg.id
        )));
    }
    let w = reg.warehouse.trim();
    if w.is_empty() || w.chars().count() > 64 || w.chars().any(char::is_control) {
        return Err(Error::BadRequest(format!(
            "warehouse {:?} is invalid: give 1 to 64 printable characters",
            reg.warehouse
        )));
    }
    Ok(())
}

pub fn register(
    conn: &mut DbConnection,
    directory: &DeviceDirectory,
    mqtt: &MqttSettings,
    actor: Option<i64>,
    reg: &Registration,
) -> Result<Provisioned> {
    check(reg)?;
    // Before anything is written: a device registered without a usable config is no use.
    let broker_url = mqtt.device_url()?;
    let device = in_transaction(conn, |conn| {
        if let Some(agent) = reg.owner_agent {
            agent_exists(conn, agent)?;
        }
        let device = devices::insert(
            conn,
            &NewDevice {
                id: &reg.id,
                warehouse: reg.warehouse.trim(),
                owner_kind: if reg.owner_agent.is_some() {
                    PartyKind::Agent
                } else {
                    PartyKind::Hq
                },
                owner_id: reg.owner_agent,
                created_by: actor,
            },
        )?;
        audit::record(
            conn,
            actor,
            "device.register",
            &reg.id,
            &serde_json::json!({"warehouse": device.warehouse, "owner_agent": reg.owner_agent}),
        )?;
        Ok::<_, Error>(device)
    })?;
    directory.forget(&device.id);
    provisioned(directory, mqtt, broker_url, device)
}

fn agent_exists(conn: &mut DbConnection, agent: i64) -> Result<()> {
    if !crate::store::network::agents::exists(conn, agent)? {
        return Err(Error::BadRequest(format!(
            "agent {agent} does not exist: give the id of a registered agent, or none for an HQ warehouse"
        )));
    }
    Ok(())
}

/// The provisioning of an existing device (its current secret).
pub fn provisioning(
    conn: &mut DbConnection,
    directory: &DeviceDirectory,
    mqtt: &MqttSettings,
    id: &str,
) -> Result<Provisioned> {
    let broker_url = mqtt.device_url()?;
    let device = devices::find(conn, id)?.ok_or(Error::NotFound { what: "device" })?;
    if device.revoked {
        return Err(Error::refuse(
            "device_revoked",
            format!("device {id} is revoked: reinstate or re-key it before provisioning it again"),
        ));
    }
    provisioned(directory, mqtt, broker_url, device)
}

/// A new secret; the old one stops working at once (a lost or stolen handheld).
pub fn rekey(
    conn: &mut DbConnection,
    directory: &DeviceDirectory,
    mqtt: &MqttSettings,
    actor: Option<i64>,
    id: &str,
) -> Result<Provisioned> {
    // Before the old secret is made useless.
    let broker_url = mqtt.device_url()?;
    let device = in_transaction(conn, |conn| {
        let device = devices::rekey(conn, id)?;
        devices::set_revoked(conn, id, false)?;
        audit::record(
            conn,
            actor,
            "device.rekey",
            id,
            &serde_json::json!({"generation": device.secret_generation}),
        )?;
        devices::find(conn, id)?.ok_or(Error::NotFound { what: "device" })
    })?;
    directory.forget(id);
    provisioned(directory, mqtt, broker_url, device)
}

/// Revokes (or reinstates) a device: the broker refuses it and its scans are not applied.
pub fn set_revoked(
    conn: &mut DbConnection,
    directory: &DeviceDirectory,
    actor: Option<i64>,
    id: &str,
    revoked: bool,
) -> Result<DeviceRow> {
    let device = in_transaction(conn, |conn| {
        let device = devices::set_revoked(conn, id, revoked)?;
        let action = if revoked {
            "device.revoke"
        } else {
            "device.reinstate"
        };
        audit::record(conn, actor, action, id, &serde_json::json!({}))?;
        Ok::<_, Error>(device)
    })?;
    directory.forget(id);
    Ok(device)
}

fn provisioned(
    directory: &DeviceDirectory,
    mqtt: &MqttSettings,
    broker_url: String,
    device: DeviceRow,
) -> Result<Provisioned> {
    let p = Provisioning {
        device_id: device.id.clone(),
        warehouse: device.warehouse.clone(),
        broker_url,
        topic_prefix: mqtt.topic_prefix.clone(),
        username: device.id.clone(),
        secret: directory
            .key()
            .device_secret(&device.id, device.secret_generation),
    };
    let config_toml = p
        .to_config_toml(
            std::path::Path::new("/var/lib/chainmark-scanner"),
            firmware_config::Language::ZhCn,
        )
        .map_err(|e| Error::Internal(format!("device config: {e}")))?;
    Ok(Provisioned {
        provisioning: provision::encode(&p),
        config_toml,
        device,
    })
}

/// The provisioning code as a QR image (PNG), for a phone or a printed sheet.
pub fn provisioning_png(code: &str, caption: &str) -> Result<Vec<u8>> {
    let options = codegen::label::LabelOptions::default();
    codegen::label::png::render_png(code, caption, &options)
        .map_err(|e| Error::Internal(format!("provisioning QR: {e}")))
}
