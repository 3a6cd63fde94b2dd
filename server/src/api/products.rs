//! Products (SKUs) of the brand: `GET/POST /api/v1/products`, `GET /api/v1/products/{sku}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::json::Json;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::Permission;
use crate::error::{Error, Result};
use crate::registry::{self, ProductInput};
use crate::store::products::{self, Product};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProductBody {
    /// Stock-keeping unit: what codegen's `--product` names; 1-200 printable characters.
    pub sku: String,
    /// Name shown to consumers (e.g. Chinese).
    pub name: String,
    /// English name, shown on English pages.
    pub name_en: Option<String>,
    /// GTIN-8/12/13/14; stored as GTIN-14.
    pub gtin: Option<String>,
    /// Items per case (default 72).
    pub case_size: Option<u32>,
    /// Product picture for the verification page: an http(s) URL or a path on this site.
    pub image_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub name_en: Option<String>,
    /// GTIN-14.
    pub gtin: Option<String>,
    pub case_size: i32,
    pub image_url: Option<String>,
    pub created_at: NaiveDateTime,
}

impl From<Product> for ProductView {
    fn from(p: Product) -> Self {
        ProductView {
            id: p.id,
            sku: p.sku,
            name: p.name,
            name_en: p.name_en,
            gtin: p.gtin,
            case_size: p.case_size,
            image_url: p.image_url,
            created_at: p.created_at,
        }
    }
}

/// Create a product (HQ admin).
#[utoipa::path(
    post,
    path = "/api/v1/products",
    tag = "registry",
    security(("bearer" = [])),
    request_body = NewProductBody,
    responses(
        (status = 201, body = ProductView),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "SKU or GTIN taken", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewProductBody>,
) -> Result<(StatusCode, axum::Json<ProductView>)> {
    caller.require(Permission::ManageRegistry)?;
    let input = ProductInput {
        sku: body.sku,
        name: body.name,
        name_en: body.name_en,
        gtin: body.gtin,
        case_size: body.case_size,
        image_url: body.image_url,
    };
    let product = state
        .db
        .write(move |c| registry::create_product(c, input))
        .await?;
    tracing::info!(by = %caller.username, sku = %product.sku, "product created");
    Ok((StatusCode::CREATED, axum::Json(product.into())))
}

/// List products, by SKU.
#[utoipa::path(
    get,
    path = "/api/v1/products",
    tag = "registry",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<ProductView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<ProductView>>> {
    caller.require(Permission::ReadRegistry)?;
    let all = state.db.run(|c| Ok(products::list(c)?)).await?;
    Ok(axum::Json(all.into_iter().map(ProductView::from).collect()))
}

/// One product.
#[utoipa::path(
    get,
    path = "/api/v1/products/{sku}",
    tag = "registry",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "The product's SKU")),
    responses(
        (status = 200, body = ProductView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
) -> Result<axum::Json<ProductView>> {
    caller.require(Permission::ReadRegistry)?;
    let product = state
        .db
        .run(move |c| Ok(products::find_by_sku(c, &sku)?))
        .await?
        .ok_or_else(|| Error::not_found("product"))?;
    Ok(axum::Json(product.into()))
}
