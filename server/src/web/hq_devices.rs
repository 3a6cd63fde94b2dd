//! Handhelds (`/hq/devices`, HQ admin): the devices with their online state, paged; register one
//! (its provisioning QR shown on the page, to scan with the handheld), re-key (a new secret and
//! QR; the old one stops working), revoke and reinstate. The same use cases (`devices`) and
//! permission (`ManageDevices`) as `/api/v1/devices`.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};

use super::hq_desk::{self, PER_PAGE, param};
use super::hq_i18n::tr;
use super::i18n::Lang;
use super::staff::{self, see_other};
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::{Caller, MaybeCaller};
use crate::devices::{self, Provisioned, Registration};
use crate::domain::Permission;
use crate::error::Error;
use crate::store::devices::DeviceRow;

pub const HERE: &str = "/hq/devices";
const NEEDS: Permission = Permission::ManageDevices;

/// `GET /hq/devices`.
pub async fn list(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let (caller, _) = match hq_desk::gate(&state, lang, caller, HERE, NEEDS).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let search = param(&q, "q").map(str::to_lowercase);
    let page = hq_desk::page_number(&q);
    let all = match state.db.run(|c| Ok(crate::store::devices::list(c)?)).await {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    // A brand has tens of handhelds, not thousands: filtered and paged here.
    let matching: Vec<DeviceRow> = all
        .into_iter()
        .filter(|d| {
            search.as_deref().is_none_or(|s| {
                d.id.to_lowercase().contains(s) || d.warehouse.to_lowercase().contains(s)
            })
        })
        .collect();
    let start = usize::try_from(hq_desk::offset(page)).unwrap_or(0);
    let shown: Vec<&DeviceRow> = matching
        .iter()
        .skip(start)
        .take(PER_PAGE as usize)
        .collect();
    let more = matching.len() > start + shown.len();
    let csrf = caller.csrf().to_string();
    let search_text = search.unwrap_or_default();
    let body = html! {
        @if let Some(n) = param(&q, "notice") { div.card.verdict.ok id="notice" { (n) } }
        @if state.devices.is_none() {
            div.card.verdict.warn { (tr(lang, "此服务器未配置设备密钥（mqtt.device_key_file），不能登记终端。",
                "This server has no device key (mqtt.device_key_file): handhelds cannot be registered.")) }
        }
        div.card id="register" {
            h2 { (tr(lang, "登记手持终端", "Register a handheld")) }
            form method="post" action=(format!("{HERE}/new")) {
                input type="hidden" name="csrf" value=(csrf);
                label { (tr(lang, "终端编号", "Device id")) " "
                    input type="text" name="id" id="device-id" required maxlength="64" pattern="[A-Za-z0-9_.-]{1,64}"; } " "
                label { (tr(lang, "仓库", "Warehouse")) " "
                    input type="text" name="warehouse" id="device-warehouse" required maxlength="64"; } " "
                button type="submit" id="register-device" { (tr(lang, "登记", "Register")) }
            }
            p.muted { (tr(lang, "编号只用字母、数字、_ . -，也是终端的 MQTT 用户名。",
                "The id uses letters, digits, _ . - only; it is also the device's MQTT user name.")) }
        }
        div.card id="devices" {
            form.inline method="get" action=(HERE) {
                input type="text" name="q" value=(search_text) placeholder=(tr(lang, "编号或仓库", "Id or warehouse"));
                button type="submit" { (tr(lang, "搜索", "Search")) }
            }
            @if shown.is_empty() {
                p.muted { (tr(lang, "没有终端。", "No handhelds.")) }
            } @else {
                table {
                    thead { tr {
                        th { (tr(lang, "编号", "Id")) } th { (tr(lang, "仓库", "Warehouse")) }
                        th { (tr(lang, "状态", "Status")) } th { (tr(lang, "最后在线", "Last seen")) }
                        th { (tr(lang, "操作", "Actions")) }
                    } }
                    tbody {
                        @for d in &shown {
                            tr data-device=(d.id) {
                                td { (d.id) } td { (d.warehouse) }
                                td { (status(lang, d)) }
                                td { (d.last_seen_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                                td { (actions(lang, &csrf, d)) }
                            }
                        }
                    }
                }
            }
            (hq_desk::pager(lang, HERE, &[("q", &search_text)], page, more))
        }
    };
    let switch = hq_desk::href(HERE, &[("q", &search_text), ("lang", lang.other().param())]);
    hq_desk::respond(
        lang,
        &caller,
        HERE,
        tr(lang, "手持终端", "Handhelds"),
        &switch,
        q.contains_key("lang"),
        body,
    )
}

pub fn status(lang: Lang, d: &DeviceRow) -> Markup {
    let (text, color) = match (d.revoked, d.online) {
        (true, _) => (tr(lang, "已停用", "revoked"), "#57534e"),
        (false, true) => (tr(lang, "在线", "online"), "#15803d"),
        (false, false) => (tr(lang, "离线", "offline"), "#b91c1c"),
    };
    html! { span style=(format!("color:{color}")) { (PreEscaped("&#9679; ")) (text) } }
}

fn actions(lang: Lang, csrf: &str, d: &DeviceRow) -> Markup {
    let base = format!("{HERE}/{}", urlencode(&d.id));
    html! {
        @if !d.revoked {
            a href=(format!("{base}/provisioning")) data-action="qr" { (tr(lang, "配置二维码", "Set-up QR")) } " "
        }
        form.inline method="post" action=(format!("{base}/rekey")) {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" data-action="rekey" { (tr(lang, "更换密钥", "Re-key")) }
        }
        form.inline method="post" action=(format!("{base}/revoked")) {
            input type="hidden" name="csrf" value=(csrf);
            @if d.revoked {
                input type="hidden" name="revoked" value="false";
                button type="submit" data-action="reinstate" { (tr(lang, "恢复", "Reinstate")) }
            } @else {
                input type="hidden" name="revoked" value="true";
                button type="submit" data-action="revoke" { (tr(lang, "停用", "Revoke")) }
            }
        }
    }
}

/// The page with a device's provisioning QR (it holds the device's secret: never cached).
fn provisioning_page(lang: Lang, caller: &Caller, p: &Provisioned, heading: &str) -> Response {
    let id = urlencode(&p.device.id);
    let body = html! {
        div.card id="provisioning" data-device=(p.device.id) {
            h2 { (heading) }
            dl {
                dt { (tr(lang, "终端编号", "Device id")) } dd { (p.device.id) }
                dt { (tr(lang, "仓库", "Warehouse")) } dd { (p.device.warehouse) }
            }
            img id="provisioning-qr" src=(format!("{HERE}/{id}/provisioning.png")) width="320" height="320"
                alt=(tr(lang, "终端配置二维码", "The handheld's set-up QR"));
            p { (tr(lang, "在新终端上运行 chainmark-scanner --provision 并扫描此码。此码含终端密钥，只给安装终端的人看。",
                "Run chainmark-scanner --provision on the new handheld and scan this code. It holds the device's secret: show it only to whoever sets the device up.")) }
            details {
                summary { (tr(lang, "没有摄像头时：配置文件", "Without a camera: the configuration file")) }
                pre style="white-space:pre-wrap;font-size:.8rem" { (p.config_toml) }
            }
            p { a href=(HERE) { "← " (tr(lang, "手持终端", "Handhelds")) } }
        }
    };
    staff::with_cookies(
        super::shell::page(lang, caller, HERE, heading, None, body).into_response(),
        [],
    )
}

fn directory(
    state: &AppState,
) -> Result<std::sync::Arc<crate::ingest::directory::DeviceDirectory>, Error> {
    state.devices.clone().ok_or_else(|| {
        Error::Unavailable(
            "devices are not set up on this server: configure mqtt.device_key_file".into(),
        )
    })
}

/// `POST /hq/devices/new`.
pub async fn register(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, _) = match hq_desk::form_gate(&state, lang, caller, HERE, NEEDS, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let dir = match directory(&state) {
        Ok(d) => d,
        Err(e) => return staff::error_page(lang, e),
    };
    let mqtt = state.settings.mqtt.clone();
    let reg = Registration {
        id: form
            .get("id")
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        warehouse: form.get("warehouse").cloned().unwrap_or_default(),
        owner_agent: None,
    };
    let actor = Some(caller.user_id);
    match state
        .db
        .write(move |c| devices::register(c, &dir, &mqtt, actor, &reg))
        .await
    {
        Ok(p) => {
            tracing::info!(by = %caller.username, device = %p.device.id, "device registered on the page");
            provisioning_page(
                lang,
                &caller,
                &p,
                tr(lang, "终端已登记", "Handheld registered"),
            )
        }
        Err(e) => staff::error_page(lang, e),
    }
}

/// `GET /hq/devices/{id}/provisioning`.
pub async fn provisioning(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, _) = match hq_desk::gate(&state, lang, caller, HERE, NEEDS).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match load(&state, id).await {
        Ok(p) => provisioning_page(lang, &caller, &p, tr(lang, "终端配置", "Handheld set-up")),
        Err(e) => staff::error_page(lang, e),
    }
}

async fn load(state: &AppState, id: String) -> Result<Provisioned, Error> {
    let dir = directory(state)?;
    let mqtt = state.settings.mqtt.clone();
    state
        .db
        .run(move |c| devices::provisioning(c, &dir, &mqtt, &id))
        .await
}

/// `GET /hq/devices/{id}/provisioning.png`: the QR image of the page above.
pub async fn provisioning_png(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    if let Err(r) = hq_desk::gate(&state, lang, caller, HERE, NEEDS).await {
        return r;
    }
    let png = load(&state, id).await.and_then(|p| {
        let caption = format!("{} {}", p.device.id, p.device.warehouse);
        devices::provisioning_png(&p.provisioning, &caption)
    });
    match png {
        Ok(png) => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            png,
        )
            .into_response(),
        Err(e) => staff::error_page(lang, e),
    }
}

/// `POST /hq/devices/{id}/rekey`: a new secret, its QR shown.
pub async fn rekey(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, _) = match hq_desk::form_gate(&state, lang, caller, HERE, NEEDS, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let dir = match directory(&state) {
        Ok(d) => d,
        Err(e) => return staff::error_page(lang, e),
    };
    let mqtt = state.settings.mqtt.clone();
    let actor = Some(caller.user_id);
    match state
        .db
        .write(move |c| devices::rekey(c, &dir, &mqtt, actor, &id))
        .await
    {
        Ok(p) => provisioning_page(lang, &caller, &p, tr(lang, "已更换密钥", "Re-keyed")),
        Err(e) => staff::error_page(lang, e),
    }
}

/// `POST /hq/devices/{id}/revoked`: revoke or reinstate.
pub async fn set_revoked(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, _) = match hq_desk::form_gate(&state, lang, caller, HERE, NEEDS, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let dir = match directory(&state) {
        Ok(d) => d,
        Err(e) => return staff::error_page(lang, e),
    };
    let revoked = form.get("revoked").map(String::as_str) == Some("true");
    let actor = Some(caller.user_id);
    match state
        .db
        .write(move |c| devices::set_revoked(c, &dir, actor, &id, revoked))
        .await
    {
        Ok(d) => {
            let words = if d.revoked {
                tr(lang, "已停用", "revoked")
            } else {
                tr(lang, "已恢复", "reinstated")
            };
            see_other(&hq_desk::href(
                HERE,
                &[("notice", &format!("{} · {words}", d.id))],
            ))
        }
        Err(e) => staff::error_page(lang, e),
    }
}
