//! The JSON API. Routes are gathered here; each handler is a thin `async fn` over a use case or a
//! store function, annotated for the OpenAPI document served at `/api/openapi.json`.

mod auth;
mod batches;
mod campaigns;
pub mod client;
mod devices;
mod diversion;
mod diversion_views;
mod epcis;
pub mod error;
mod health;
pub mod idempotency;
mod items;
mod joining;
pub mod json;
pub mod json_errors;
mod level_applications;
mod levels;
mod network;
pub(crate) mod openapi;
mod products;
mod sightings;
mod users;
mod verify;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;

/// The API routes and the OpenAPI document describing them, from the same code.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(verify::verify_json))
        .routes(routes!(auth::create_token, auth::revoke_token))
        .routes(routes!(auth::me))
        .routes(routes!(auth::change_password))
        .routes(routes!(users::create, users::list))
        .routes(routes!(users::reset_password))
        .routes(routes!(users::set_disabled))
        .routes(routes!(products::create, products::list))
        .routes(routes!(products::get))
        .routes(routes!(batches::list))
        .routes(routes!(batches::get))
        .routes(routes!(batches::void))
        .routes(routes!(batches::recall))
        .routes(routes!(batches::release))
        .routes(routes!(items::get))
        .routes(routes!(sightings::list))
        .routes(routes!(epcis::events))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(devices::register, devices::list))
        .routes(routes!(devices::provisioning))
        .routes(routes!(devices::provisioning_png))
        .routes(routes!(devices::rekey))
        .routes(routes!(devices::revoke))
        .routes(routes!(devices::reinstate))
        .routes(routes!(campaigns::list, campaigns::create))
        .routes(routes!(campaigns::get))
        .routes(routes!(campaigns::act))
        .routes(routes!(campaigns::payouts, campaigns::export))
        .routes(routes!(campaigns::paid))
        .merge(network::routes())
        .merge(joining::routes())
        .merge(levels::routes())
        .merge(diversion::routes())
}

pub fn router() -> Router<AppState> {
    let (router, doc) = routes().split_for_parts();
    router.merge(openapi::router(doc))
}

/// The generated document, for tests and `chainmark openapi`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}
