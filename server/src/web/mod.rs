//! Server-rendered pages: the consumer verification page and, for staff, sign-in and the HQ
//! console. Mobile first, zh-CN and English, no external assets.

mod account;
mod agent;
mod agent_i18n;
pub mod agent_images;
mod agent_money;
mod agent_orders;
mod agent_retail;
mod audit_i18n;
mod consumer;
mod consumer_retail;
mod consumer_rewards;
pub mod consumer_sign_in;
mod form_key;
mod hq;
mod hq_agents;
mod hq_applications;
mod hq_audit;
mod hq_audit_alerts;
mod hq_audit_trace;
mod hq_batch_desk;
mod hq_batches;
mod hq_desk;
mod hq_devices;
mod hq_i18n;
pub mod hq_import;
mod hq_marketing;
mod hq_marketing_show;
mod hq_money;
mod hq_network;
mod hq_orders;
mod hq_payouts;
mod hq_policy;
mod hq_products;
mod hq_staff;
pub mod i18n;
mod joining;
pub mod layout;
mod level_applications;
mod level_form;
mod levels;
pub mod login;
mod network_i18n;
mod packing_slip;
mod region_picker;
mod reward;
pub mod shell;
mod staff;
mod svg_chart;
mod tracking;
mod verdict_link;
pub(crate) mod verify;
mod warehouse;
mod warehouse_printers;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

/// The upload of a network import: files far larger than other requests, so it is routed apart
/// with its own body limit (`hq_import::MAX_UPLOAD_BYTES`).
pub fn upload_router() -> Router<AppState> {
    Router::new()
        .route("/hq/import/preview", post(hq_import::preview))
        .layer(axum::extract::DefaultBodyLimit::max(
            hq_import::MAX_UPLOAD_BYTES,
        ))
        .merge(
            Router::new()
                .route("/hq/products/{id}/picture", post(hq_products::upload))
                .layer(axum::extract::DefaultBodyLimit::max(
                    hq_products::MAX_UPLOAD_BYTES,
                )),
        )
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v/{serial}", get(verify::show).post(verify::submit))
        .route("/v/{serial}/shown", get(verdict_link::shown))
        .route("/s/{serial}", get(consumer::serial))
        .route("/s/{serial}/reorder", post(consumer_retail::reorder))
        .route("/s/{serial}/member", post(consumer_retail::member))
        .route("/c/{code}", get(consumer::case))
        .route("/00/{sscc}", get(consumer::sscc))
        .route("/01/{gtin}/21/{serial}", get(consumer::digital_link))
        .route("/q", get(consumer::query_page).post(consumer::query_submit))
        .route("/me", get(consumer_rewards::show))
        .route(
            "/me/sign-in",
            get(consumer_sign_in::show).post(consumer_sign_in::send),
        )
        .route("/me/sign-in/code", post(consumer_sign_in::check))
        .route("/me/sign-out", post(consumer_sign_in::sign_out))
        .route("/me/claim/{token}", get(reward::show).post(reward::claim))
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
        .route("/hq/batches/{id}/release", post(hq_batches::release))
        .merge(network_routes())
        .merge(audit_routes())
        .merge(desk_routes())
}

/// HQ's desk (issue 18): money, applications, staff, handhelds, pick lists.
fn desk_routes() -> Router<AppState> {
    Router::new()
        .route("/hq/money", get(hq_money::show))
        .route("/hq/money/ledger.csv", get(hq_money::ledger_csv))
        .route(
            "/hq/money/withdrawals/{id}/{action}",
            post(hq_money::withdrawal),
        )
        .route("/hq/money/statements", post(hq_money::generate))
        .route(
            "/hq/money/statements/{month}/{agent}",
            get(hq_money::statement_csv),
        )
        .route("/hq/money/settle", post(hq_money::settle))
        .route("/hq/agents", get(hq_agents::list))
        .route("/hq/agents.csv", get(hq_agents::csv))
        .route("/hq/agents/{id}", get(hq_agents::show))
        .route("/hq/agents/{id}/{action}", post(hq_agents::act))
        .route("/hq/orders", get(hq_orders::list))
        .route("/hq/orders.csv", get(hq_orders::csv))
        .route("/hq/orders/{id}", get(hq_orders::show))
        .route(
            "/hq/orders/{id}/{action}",
            get(warehouse_printers::label_file).post(hq_orders::action),
        )
        .route("/hq/applications", get(hq_applications::list))
        .route(
            "/hq/applications/{id}/{action}",
            post(hq_applications::decide),
        )
        .route("/hq/products", get(hq_products::list))
        .route("/hq/products/new", post(hq_products::create))
        .route("/products/{id}/picture", get(hq_products::picture))
        .route("/hq/staff", get(hq_staff::list))
        .route("/hq/staff/new", post(hq_staff::create))
        .route("/hq/staff/{id}/password", post(hq_staff::reset))
        .route("/hq/staff/{id}/disabled", post(hq_staff::disable))
        .route("/hq/devices", get(hq_devices::list))
        .route("/hq/devices/new", post(hq_devices::register))
        .route(
            "/hq/devices/{id}/provisioning",
            get(hq_devices::provisioning),
        )
        .route(
            "/hq/devices/{id}/provisioning.png",
            get(hq_devices::provisioning_png),
        )
        .route("/hq/devices/{id}/rekey", post(hq_devices::rekey))
        .route("/hq/devices/{id}/revoked", post(hq_devices::set_revoked))
        .route("/warehouse/orders/{id}/pick", get(warehouse::pick_list))
        .route("/warehouse/printers", get(warehouse_printers::show))
        .route("/warehouse/printers/new", post(warehouse_printers::add))
        .route(
            "/warehouse/printers/{id}/{action}",
            post(warehouse_printers::printer_action),
        )
        .route(
            "/warehouse/print-jobs/{id}/{action}",
            post(warehouse_printers::job_action),
        )
        .route(
            "/hq/orders/{id}/label",
            post(warehouse_printers::print_label),
        )
        .merge(batch_routes())
        .merge(marketing_routes())
}

/// HQ's batches (issues 18 and 20): made in the background, labels and code packs.
fn batch_routes() -> Router<AppState> {
    Router::new()
        .route("/hq/orders/{id}/packing-slip.pdf", get(packing_slip::hq))
        .route(
            "/warehouse/orders/{id}/packing-slip.pdf",
            get(packing_slip::warehouse),
        )
        .route("/hq/batches", get(hq_batch_desk::list))
        .route("/hq/batches/new", post(hq_batch_desk::create))
        .route("/hq/batches/jobs/{id}", get(hq_batch_desk::job))
        .route("/hq/batches/{id}", get(hq_batch_desk::show))
        .route("/hq/batches/{id}/{file}", get(hq_batch_desk::labels))
        .route("/hq/batches/{id}/packs", post(hq_batch_desk::make_pack))
        .route("/hq/batches/{id}/packs/{pack}", get(hq_batch_desk::pack))
}

/// Scan marketing (issue 21): campaigns, their dashboards, cash payouts.
fn marketing_routes() -> Router<AppState> {
    Router::new()
        .route("/hq/marketing", get(hq_marketing::list))
        .route("/hq/marketing/new", post(hq_marketing::create))
        .route("/hq/marketing/payouts", get(hq_payouts::list))
        .route("/hq/marketing/payouts/export", post(hq_payouts::export))
        .route("/hq/marketing/payouts/{id}", get(hq_payouts::show))
        .route("/hq/marketing/payouts/{id}/csv", get(hq_payouts::csv))
        .route("/hq/marketing/payouts/{id}/paid", post(hq_payouts::paid))
        .route("/hq/marketing/{id}", get(hq_marketing_show::show))
        .route("/hq/marketing/{id}/{action}", post(hq_marketing_show::act))
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
        .route("/a/{code}/png", get(agent_images::certificate_png_moved))
        .route(
            "/a/{code}/certificate.png",
            get(agent_images::certificate_png),
        )
        .route("/agent", get(agent::show))
        .route("/agent/orders", get(agent_orders::list).post(agent::place))
        .route("/agent/orders/{id}", get(agent_orders::show))
        .route(
            "/agent/orders/{id}/ship",
            get(agent_orders::ship_page).post(agent_orders::scan),
        )
        .route("/agent/orders/{id}/{action}", post(agent_orders::action))
        .route("/agent/money", get(agent_money::show))
        .route("/agent/money/statement.csv", get(agent_money::csv))
        .route("/agent/money/withdraw", post(agent_money::withdraw))
        .route("/agent/team", get(agent::team))
        .route("/agent/retail", get(agent_retail::show))
        .route("/agent/retail/sell", post(agent_retail::sell))
        .route(
            "/agent/retail/orders/{id}/cancel",
            post(agent_retail::cancel),
        )
        .route("/agent/retail/sales/{id}", get(agent_retail::receipt))
        .route("/agent/customers", get(agent_retail::customers))
        .route("/agent/customers/{id}", get(agent_retail::customer))
        .route("/join/status/{token}", get(joining::status))
        .route("/join/{code}/poster.svg", get(agent_images::poster_svg))
        .route("/join/{code}/poster.png", get(agent_images::poster_png))
        .route(
            "/a/{code}/certificate.svg",
            get(agent_images::certificate_svg),
        )
        .route("/agent/upgrade", post(agent::upgrade_form))
        .route("/agent/invitations", post(agent::invite))
        .route("/agent/certificate", post(agent::certificate))
        .route("/agent/applications/{id}/{action}", post(agent::decide))
        .route("/hq/network", get(hq_network::show))
        .route("/hq/import", get(hq_import::show))
        .route("/hq/import/template.xlsx", get(hq_import::template_xlsx))
        .route("/hq/import/template/{file}", get(hq_import::template_csv))
        .route("/hq/import/confirm", post(hq_import::confirm))
        .route("/hq/import/{id}", get(hq_import::show_import))
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
        .route("/hq/policy", get(hq_policy::show).post(hq_policy::submit))
        .route("/hq/policy/activate", post(hq_policy::activate))
        .route(
            "/hq/network/withdrawals/{id}/{action}",
            post(hq_network::withdrawal),
        )
}
