//! Server-rendered pages: the consumer verification page and, for staff, sign-in and the HQ
//! console. Mobile first, zh-CN and English, no external assets.

mod account;
mod agent;
mod audit_i18n;
mod form_key;
mod hq;
mod hq_audit;
mod hq_audit_alerts;
mod hq_audit_trace;
mod hq_batches;
mod hq_network;
pub mod i18n;
mod joining;
pub mod layout;
mod level_applications;
mod levels;
pub mod login;
mod network_i18n;
mod region_picker;
pub mod shell;
mod staff;
mod svg_chart;
pub(crate) mod verify;
mod warehouse;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v/{serial}", get(verify::show).post(verify::submit))
        .route("/home", get(shell::go_home))
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::logout))
        .route(
            "/account/password",
            get(account::show).post(account::submit),
        )
        .route("/hq", get(hq::show))
        .route("/warehouse", get(warehouse::show))
        .route("/hq/batches/{id}/void", post(hq_batches::void))
        .route("/hq/batches/{id}/recall", post(hq_batches::recall))
        .merge(network_routes())
        .merge(audit_routes())
}

/// The diversion audit console (issue 7): HQ auditors and admins.
fn audit_routes() -> Router<AppState> {
    Router::new()
        .route("/hq/audit", get(hq_audit::dashboard))
        .route("/hq/audit/flows", get(hq_audit::flows))
        .route("/hq/audit/trace", get(hq_audit_trace::show))
        .route("/hq/audit/alerts", get(hq_audit_alerts::list))
        .route("/hq/audit/alerts/{id}", get(hq_audit_alerts::show))
        .route(
            "/hq/audit/alerts/{id}/decision",
            post(hq_audit_alerts::decide_form),
        )
}

/// The network's pages: joining and the certificate check (public), the agent portal, HQ's page.
fn network_routes() -> Router<AppState> {
    Router::new()
        .route("/join/{code}", get(joining::form).post(joining::submit))
        .route("/join/{code}/qr.png", get(joining::qr))
        .route("/a/{code}", get(joining::check))
        .route("/a/{code}/png", get(joining::certificate_png))
        .route("/agent", get(agent::show))
        .route("/agent/orders", post(agent::place))
        .route("/agent/orders/{id}/{action}", post(agent::order_action))
        .route("/agent/upgrade", post(agent::upgrade_form))
        .route("/agent/invitations", post(agent::invite))
        .route("/agent/certificate", post(agent::certificate))
        .route("/agent/applications/{id}/{action}", post(agent::decide))
        .route("/hq/network", get(hq_network::show))
        .route("/hq/levels", get(levels::show).post(levels::submit))
        .route(
            "/agent/levels",
            get(levels::agent_page).post(level_applications::agent_submit),
        )
        .route(
            "/hq/network/applications/{id}/{action}",
            post(hq_network::decide),
        )
        .route("/hq/network/policy", post(hq_network::policy_form))
        .route(
            "/hq/network/withdrawals/{id}/{action}",
            post(hq_network::withdrawal),
        )
}
