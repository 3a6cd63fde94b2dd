//! Warehouse handhelds: `/api/v1/devices` — register (answers the provisioning code and config
//! file), list, show the provisioning again (JSON or a QR PNG), re-key, revoke, reinstate.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::json::Json;
use crate::app::AppState;
use crate::auth::Caller;
use crate::devices::{self, Provisioned, Registration};
use crate::domain::Permission;
use crate::error::{Error, Result};
use crate::ingest::directory::DeviceDirectory;
use crate::store::devices::DeviceRow;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeviceBody {
    /// 1-64 of A-Z a-z 0-9 _ . - ; also the device's MQTT user name.
    pub id: String,
    /// The warehouse it scans in (shown on the warehouse page).
    pub warehouse: String,
    /// The agent whose stock it scans; absent for an HQ warehouse.
    pub owner_agent: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    pub id: String,
    pub warehouse: String,
    /// `hq` or `agent`.
    pub owner_kind: String,
    pub owner_id: Option<i64>,
    pub revoked: bool,
    /// From the device's retained state topic.
    pub online: bool,
    pub last_seen_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl From<DeviceRow> for DeviceView {
    fn from(d: DeviceRow) -> Self {
        DeviceView {
            id: d.id,
            warehouse: d.warehouse,
            owner_kind: d.owner_kind.as_str().to_string(),
            owner_id: d.owner_id,
            revoked: d.revoked,
            online: d.online,
            last_seen_at: d.last_seen_at,
            created_at: d.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProvisionedView {
    pub device: DeviceView,
    /// The provisioning code: scan it (as a QR) on a fresh `chainmark-scanner --provision`.
    /// Contains the device's secret: show it only to who sets the device up.
    pub provisioning: String,
    /// The device's configuration file (TOML), for set-ups without a camera.
    pub config_toml: String,
}

impl From<Provisioned> for ProvisionedView {
    fn from(p: Provisioned) -> Self {
        ProvisionedView {
            device: p.device.into(),
            provisioning: p.provisioning,
            config_toml: p.config_toml,
        }
    }
}

fn directory(state: &AppState) -> Result<std::sync::Arc<DeviceDirectory>> {
    state.devices.clone().ok_or_else(|| {
        Error::Unavailable(
            "devices are not set up on this server: configure mqtt.device_key_file".into(),
        )
    })
}

/// Register a handheld (HQ admin).
#[utoipa::path(
    post,
    path = "/api/v1/devices",
    tag = "devices",
    security(("bearer" = [])),
    request_body = NewDeviceBody,
    responses(
        (status = 201, body = ProvisionedView),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "Id taken", body = ErrorBody),
        (status = 503, description = "No device key configured", body = ErrorBody),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewDeviceBody>,
) -> Result<(StatusCode, axum::Json<ProvisionedView>)> {
    caller.require(Permission::ManageDevices)?;
    let dir = directory(&state)?;
    let mqtt = state.settings.mqtt.clone();
    let actor = Some(caller.user_id);
    let reg = Registration {
        id: body.id,
        warehouse: body.warehouse,
        owner_agent: body.owner_agent,
    };
    let done = state
        .db
        .write(move |c| devices::register(c, &dir, &mqtt, actor, &reg))
        .await?;
    tracing::info!(by = %caller.username, device = %done.device.id, "device registered");
    Ok((StatusCode::CREATED, axum::Json(done.into())))
}

/// List handhelds with their status.
#[utoipa::path(
    get,
    path = "/api/v1/devices",
    tag = "devices",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<DeviceView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<DeviceView>>> {
    caller.require(Permission::ReadDevices)?;
    let all = state
        .db
        .run(|c| Ok(crate::store::devices::list(c)?))
        .await?;
    Ok(axum::Json(all.into_iter().map(DeviceView::from).collect()))
}

/// The provisioning code and config file of a handheld (HQ admin).
#[utoipa::path(
    get,
    path = "/api/v1/devices/{id}/provisioning",
    tag = "devices",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    responses(
        (status = 200, body = ProvisionedView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Revoked", body = ErrorBody),
    )
)]
pub async fn provisioning(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ProvisionedView>> {
    caller.require(Permission::ManageDevices)?;
    let p = load_provisioning(&state, id).await?;
    Ok(axum::Json(p.into()))
}

/// The provisioning code as a QR image (PNG) to scan with the handheld (HQ admin).
#[utoipa::path(
    get,
    path = "/api/v1/devices/{id}/provisioning.png",
    tag = "devices",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    responses(
        (status = 200, content_type = "image/png", description = "QR code"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn provisioning_png(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response> {
    caller.require(Permission::ManageDevices)?;
    let p = load_provisioning(&state, id).await?;
    let caption = format!("{} {}", p.device.id, p.device.warehouse);
    let png = devices::provisioning_png(&p.provisioning, &caption)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            // It holds the device's secret.
            (header::CACHE_CONTROL, "no-store"),
        ],
        png,
    )
        .into_response())
}

async fn load_provisioning(state: &AppState, id: String) -> Result<Provisioned> {
    let dir = directory(state)?;
    let mqtt = state.settings.mqtt.clone();
    state
        .db
        .run(move |c| devices::provisioning(c, &dir, &mqtt, &id))
        .await
}

/// Give a handheld a new secret; the old one stops working at once (HQ admin).
#[utoipa::path(
    post,
    path = "/api/v1/devices/{id}/rekey",
    tag = "devices",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    responses(
        (status = 200, body = ProvisionedView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn rekey(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ProvisionedView>> {
    caller.require(Permission::ManageDevices)?;
    let dir = directory(&state)?;
    let mqtt = state.settings.mqtt.clone();
    let actor = Some(caller.user_id);
    let p = state
        .db
        .write(move |c| devices::rekey(c, &dir, &mqtt, actor, &id))
        .await?;
    tracing::info!(by = %caller.username, device = %p.device.id, "device re-keyed");
    Ok(axum::Json(p.into()))
}

/// Revoke a handheld: the broker refuses it and its scans are not applied (HQ admin).
#[utoipa::path(
    post,
    path = "/api/v1/devices/{id}/revoke",
    tag = "devices",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    responses(
        (status = 200, body = DeviceView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<DeviceView>> {
    set_revoked(state, caller, id, true).await
}

/// Reinstate a revoked handheld with its current secret (HQ admin).
#[utoipa::path(
    post,
    path = "/api/v1/devices/{id}/reinstate",
    tag = "devices",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    responses(
        (status = 200, body = DeviceView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn reinstate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<DeviceView>> {
    set_revoked(state, caller, id, false).await
}

async fn set_revoked(
    state: AppState,
    caller: Caller,
    id: String,
    revoked: bool,
) -> Result<axum::Json<DeviceView>> {
    caller.require(Permission::ManageDevices)?;
    let dir = directory(&state)?;
    let actor = Some(caller.user_id);
    let device = state
        .db
        .write(move |c| devices::set_revoked(c, &dir, actor, &id, revoked))
        .await?;
    tracing::info!(by = %caller.username, device = %device.id, revoked, "device status changed");
    Ok(axum::Json(device.into()))
}
