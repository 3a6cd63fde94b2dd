//! Server-rendered pages: the consumer verification page and, for staff, sign-in and the HQ
//! console. Mobile first, zh-CN and English, no external assets.

mod account;
mod hq;
mod hq_batches;
pub mod i18n;
pub mod layout;
pub mod login;
mod staff;
mod verify;
mod warehouse;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v/{serial}", get(verify::show).post(verify::submit))
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
}
