//! The OpenAPI 3.1 document and a plain page to browse it (no scripts from elsewhere).

use std::sync::Arc;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use maud::{DOCTYPE, PreEscaped, html};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, PathItem};
use utoipa::{Modify, OpenApi as _};

use crate::app::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "chainmark API",
        description = "Anti-counterfeit channel ordering: codes, verification, agents, orders.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    components(schemas(super::error::ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn base() -> OpenApi {
    ApiDoc::openapi()
}

pub fn router(doc: OpenApi) -> Router<AppState> {
    let doc = Arc::new(doc);
    let json = doc.clone();
    Router::new()
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = json.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route(
            "/api/docs",
            get(move || {
                let doc = doc.clone();
                async move { Html(render(&doc).into_string()) }
            }),
        )
}

fn operations(item: &PathItem) -> Vec<(&'static str, &utoipa::openapi::path::Operation)> {
    [
        ("GET", item.get.as_ref()),
        ("POST", item.post.as_ref()),
        ("PUT", item.put.as_ref()),
        ("PATCH", item.patch.as_ref()),
        ("DELETE", item.delete.as_ref()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

/// The docs page's style sheet, inline; `headers.rs` allows it by its hash.
pub(crate) const DOCS_STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:auto;padding:1rem}code{background:#f3f3f3;padding:0 .25rem}.m{display:inline-block;width:4.5rem;font-weight:bold}section{border-bottom:1px solid #ddd;padding:.5rem 0}";

fn render(doc: &OpenApi) -> maud::Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "chainmark API" }
                style { (PreEscaped(DOCS_STYLE)) }
            }
            body {
                h1 { "chainmark API " small { (doc.info.version) } }
                p { "The machine-readable document: " a href="/api/openapi.json" { code { "/api/openapi.json" } } " (OpenAPI 3.1). Authenticate with " code { "Authorization: Bearer <token>" } " from " code { "POST /api/v1/auth/token" } "." }
                @for (path, item) in &doc.paths.paths {
                    @for (method, op) in operations(item) {
                        section {
                            span.m { (method) } code { (path) }
                            @if let Some(summary) = &op.summary { p { (summary) } }
                            @if let Some(desc) = &op.description { p { (desc) } }
                        }
                    }
                }
            }
        }
    }
}
