//! Batches of codes: list, look at one, and void (作废), recall (召回) or release for sale a
//! batch or a serial range of it. Importing is `chainmark import` (the folder lives beside the
//! server, not in a request body).

use axum::extract::{Path, State};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::json::Json;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::Permission;
use crate::domain::custody::{CustodianKind, ItemStatus};
use crate::error::Result;
use crate::registry;
use crate::store::batches::{self, BatchRow, Changed, IndexRange, StatusChange};

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchView {
    /// Batch id: the first 8 characters of its serials.
    pub id: String,
    /// Id of the master key the batch was issued under.
    pub key_id: String,
    pub sku: String,
    pub product_name: String,
    pub item_count: i64,
    pub case_count: i64,
    pub case_size: i32,
    /// `YYYY-MM-DD`, or empty when the batch was printed without one.
    pub production_date: String,
    /// When codegen generated it (UTC).
    pub created_at: NaiveDateTime,
    pub imported_at: NaiveDateTime,
    pub import_sha256: String,
    /// `active`, `voided` or `recalled` (the whole batch).
    pub status: String,
}

impl From<BatchRow> for BatchView {
    fn from(b: BatchRow) -> Self {
        BatchView {
            id: b.id,
            key_id: b.key_id,
            sku: b.sku,
            product_name: b.product_name,
            item_count: b.item_count,
            case_count: b.case_count,
            case_size: b.case_size,
            production_date: b.production_date,
            created_at: b.created_at,
            imported_at: b.imported_at,
            import_sha256: b.import_sha256,
            status: b.status.as_str().into(),
        }
    }
}

/// A batch with how many of its items are in each state.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchDetail {
    #[serde(flatten)]
    pub batch: BatchView,
    pub items: ItemTally,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ItemTally {
    /// Active and still in HQ custody (not released).
    pub at_hq: i64,
    /// Active and out of HQ: with agents, in transit or sold.
    pub released: i64,
    pub voided: i64,
    pub recalled: i64,
}

/// Void or recall: why, and optionally which serials (both ends, inclusive).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChangeBody {
    /// Why (kept in the custody events and the audit log); 1-500 characters.
    pub reason: String,
    /// First serial of the range; omit both ends for the whole batch.
    pub from_serial: Option<String>,
    /// Last serial of the range, inclusive.
    pub to_serial: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseBody {
    /// First serial to release.
    pub from_serial: String,
    /// Last serial to release, inclusive.
    pub to_serial: String,
}

/// What a change did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RangeOutcome {
    pub batch_id: String,
    /// 0-based index of the first item of the range.
    pub from_index: i64,
    /// 0-based index of the last item of the range.
    pub to_index: i64,
    /// The whole batch was changed (its own status too).
    pub whole_batch: bool,
    /// Items changed.
    pub changed: i64,
    /// Items of the range left as they were (already voided or recalled).
    pub unchanged: i64,
}

fn outcome(range: IndexRange, changed: Changed) -> RangeOutcome {
    RangeOutcome {
        batch_id: range.batch_id,
        from_index: range.from,
        to_index: range.to,
        whole_batch: range.whole,
        changed: changed.changed,
        unchanged: changed.unchanged,
    }
}

/// List batches, newest first (at most 500).
#[utoipa::path(
    get,
    path = "/api/v1/batches",
    tag = "registry",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<BatchView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<BatchView>>> {
    caller.require(Permission::ReadRegistry)?;
    let all = state.db.run(|c| Ok(batches::list(c, 500)?)).await?;
    Ok(axum::Json(all.into_iter().map(BatchView::from).collect()))
}

/// One batch, with a tally of its items.
#[utoipa::path(
    get,
    path = "/api/v1/batches/{id}",
    tag = "registry",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Batch id (8 characters)")),
    responses(
        (status = 200, body = BatchDetail),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<BatchDetail>> {
    caller.require(Permission::ReadRegistry)?;
    let (batch, counts) = state
        .db
        .run(move |c| {
            let batch = registry::find_batch(c, &id)?;
            let counts = batches::item_counts(c, &batch.id)?;
            Ok((batch, counts))
        })
        .await?;
    let mut items = ItemTally::default();
    for (status, custodian, n) in counts {
        match (status, custodian) {
            (ItemStatus::Voided, _) => items.voided += n,
            (ItemStatus::Recalled, _) => items.recalled += n,
            (ItemStatus::Active, CustodianKind::Hq) => items.at_hq += n,
            (ItemStatus::Active, _) => items.released += n,
        }
    }
    Ok(axum::Json(BatchDetail {
        batch: batch.into(),
        items,
    }))
}

async fn change(
    state: AppState,
    caller: Caller,
    id: String,
    body: StatusChangeBody,
    change: StatusChange,
) -> Result<axum::Json<RangeOutcome>> {
    caller.require(Permission::ManageRegistry)?;
    let actor = caller.user_id;
    let (range, changed) = state
        .db
        .write(move |c| {
            registry::change_status(
                c,
                &id,
                change,
                &body.reason,
                body.from_serial.as_deref(),
                body.to_serial.as_deref(),
                Some(actor),
            )
        })
        .await?;
    tracing::info!(by = %caller.username, batch = %range.batch_id, action = change.event().as_str(),
        changed = changed.changed, "batch status changed");
    Ok(axum::Json(outcome(range, changed)))
}

/// Void (作废) a batch or a serial range: its codes verify as void from now on.
#[utoipa::path(
    post,
    path = "/api/v1/batches/{id}/void",
    tag = "registry",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Batch id")),
    request_body = StatusChangeBody,
    responses(
        (status = 200, body = RangeOutcome),
        (status = 400, description = "Bad range or missing reason", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Nothing left to void", body = ErrorBody),
    )
)]
pub async fn void(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<StatusChangeBody>,
) -> Result<axum::Json<RangeOutcome>> {
    change(state, caller, id, body, StatusChange::Void).await
}

/// Recall (召回) a batch or a serial range: its codes verify as recalled from now on.
#[utoipa::path(
    post,
    path = "/api/v1/batches/{id}/recall",
    tag = "registry",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Batch id")),
    request_body = StatusChangeBody,
    responses(
        (status = 200, body = RangeOutcome),
        (status = 400, description = "Bad range or missing reason", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Nothing left to recall", body = ErrorBody),
    )
)]
pub async fn recall(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<StatusChangeBody>,
) -> Result<axum::Json<RangeOutcome>> {
    change(state, caller, id, body, StatusChange::Recall).await
}

/// Release a serial range for sale: out of HQ custody, verifying as genuine. All or nothing.
#[utoipa::path(
    post,
    path = "/api/v1/batches/{id}/release",
    tag = "registry",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Batch id")),
    request_body = ReleaseBody,
    responses(
        (status = 200, body = RangeOutcome),
        (status = 400, description = "Bad range", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "An item of the range is not active in HQ custody", body = ErrorBody),
    )
)]
pub async fn release(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ReleaseBody>,
) -> Result<axum::Json<RangeOutcome>> {
    caller.require(Permission::MoveStock)?;
    let actor = caller.user_id;
    let (range, changed) = state
        .db
        .write(move |c| registry::release(c, &id, &body.from_serial, &body.to_serial, Some(actor)))
        .await?;
    tracing::info!(by = %caller.username, batch = %range.batch_id, released = changed.changed,
        "items released");
    Ok(axum::Json(outcome(range, changed)))
}
