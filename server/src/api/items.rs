//! `GET /api/v1/items/{serial}`: one item with its batch, product, custody history and
//! verification counts.

use axum::extract::{Path, State};
use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ErrorBody;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::Permission;
use crate::error::{Error, Result};
use crate::registry;
use crate::store::items::{self, CustodyEvent};

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    pub serial: String,
    pub batch_id: String,
    /// 0-based index in the batch.
    pub item_index: i64,
    /// The case it was packed in by codegen.
    pub case_code: Option<String>,
    /// `active`, `voided` or `recalled`.
    pub status: String,
    pub batch_status: String,
    /// `hq`, `agent`, `transit` or `sold`.
    pub custodian_kind: String,
    pub custodian_id: Option<i64>,
    /// When it left HQ custody for sale.
    pub released_at: Option<NaiveDateTime>,
    pub sku: String,
    pub product_name: String,
    pub product_name_en: Option<String>,
    pub production_date: String,
    pub verification: VerificationCounts,
    /// Oldest first.
    pub custody_events: Vec<CustodyEventView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationCounts {
    /// Right security codes entered.
    pub verify_count: i32,
    /// Wrong security codes entered.
    pub mismatch_count: i32,
    pub first_verified_at: Option<NaiveDateTime>,
    pub first_verified_place: Option<String>,
    /// Every verification attempt naming this serial (see /api/v1/sightings).
    pub sightings: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustodyEventView {
    /// The custody event's id; `null` for the `import`, which is recorded once for the whole
    /// batch (when and by whom it was imported) and starts every item's history.
    pub id: Option<i64>,
    /// `import`, `release`, `void`, `recall`, later `ship`, `receive`, …
    pub kind: String,
    pub from_kind: Option<String>,
    pub from_id: Option<i64>,
    pub to_kind: Option<String>,
    pub to_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    /// The reason given, for void and recall.
    pub note: Option<String>,
    pub at: NaiveDateTime,
}

impl From<CustodyEvent> for CustodyEventView {
    fn from(e: CustodyEvent) -> Self {
        CustodyEventView {
            id: e.id,
            kind: e.kind.as_str().into(),
            from_kind: e.from_kind.map(|k| k.as_str().into()),
            from_id: e.from_id,
            to_kind: e.to_kind.map(|k| k.as_str().into()),
            to_id: e.to_id,
            actor_user_id: e.actor_user_id,
            note: e.note,
            at: e.at,
        }
    }
}

/// Look up one item by serial (any case; the check character is verified).
#[utoipa::path(
    get,
    path = "/api/v1/items/{serial}",
    tag = "registry",
    security(("bearer" = [])),
    params(("serial" = String, Path, description = "Item serial (明码), 16 characters")),
    responses(
        (status = 200, body = ItemView),
        (status = 400, description = "Not a valid serial", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
) -> Result<axum::Json<ItemView>> {
    caller.require(Permission::ReadRegistry)?;
    let serial = registry::parse_serial(&serial)?.to_string();
    let (item, events, sightings) = state
        .db
        .run(move |c| {
            let item = items::find(c, &serial)?.ok_or_else(|| Error::not_found("item"))?;
            let events = items::custody_events(c, &serial)?;
            let sightings = items::sighting_count(c, &serial)?;
            Ok((item, events, sightings))
        })
        .await?;
    Ok(axum::Json(ItemView {
        serial: item.serial,
        batch_id: item.batch_id,
        item_index: item.item_index,
        case_code: item.case_code,
        status: item.status.as_str().into(),
        batch_status: item.batch_status.as_str().into(),
        custodian_kind: item.custodian_kind.as_str().into(),
        custodian_id: item.custodian_id,
        released_at: item.released_at,
        sku: item.sku,
        product_name: item.product_name,
        product_name_en: item.product_name_en,
        production_date: item.production_date,
        verification: VerificationCounts {
            verify_count: item.verify_count,
            mismatch_count: item.mismatch_count,
            first_verified_at: item.first_verified_at,
            first_verified_place: item.first_verified_place,
            sightings,
        },
        custody_events: events.into_iter().map(CustodyEventView::from).collect(),
    }))
}
