//! Server-rendered pages: the consumer verification page and, for staff, sign-in and the HQ
//! console. Mobile first, zh-CN and English, no external assets.

pub mod i18n;
pub mod layout;
mod verify;

use axum::Router;
use axum::routing::get;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v/{serial}", get(verify::show).post(verify::submit))
}
