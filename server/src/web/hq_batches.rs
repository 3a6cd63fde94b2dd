//! The batches table of the HQ console and its void (作废) / recall (召回) forms:
//! `POST /hq/batches/{id}/void|recall`, CSRF-checked, for `Permission::ManageRegistry`, over the
//! registry's use case (the same one as the API's).

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::i18n::{Lang, Text};
use super::staff::{self, see_other};
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::{Caller, MaybeCaller};
use crate::domain::Permission;
use crate::registry;
use crate::store::batches::{BatchRow, StatusChange};

/// How many batches the console lists, newest first.
pub const LISTED: i64 = 50;

#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// The table; the forms only for callers who may change the registry.
pub fn table(lang: Lang, caller: &Caller, rows: &[BatchRow]) -> Markup {
    let manage = caller.require(Permission::ManageRegistry).is_ok();
    html! {
        div.card id="batches" {
            h2 { (lang.t(Text::Batches)) }
            @if rows.is_empty() {
                p.muted { (lang.t(Text::NoSightings)) }
            } @else {
                div style="overflow-x:auto" {
                    table {
                        thead { tr {
                            th { (lang.t(Text::Batch)) } th { (lang.t(Text::Product)) }
                            th { (lang.t(Text::Items)) } th { (lang.t(Text::ProductionDate)) }
                            th { (lang.t(Text::Status)) }
                            @if manage { th { (lang.t(Text::Actions)) } }
                        } }
                        tbody {
                            @for b in rows {
                                tr data-batch=(b.id) data-status=(b.status) {
                                    td { code { (b.id) } }
                                    td { (b.sku) }
                                    td { (b.item_count) }
                                    td { (b.production_date) }
                                    td { (b.status) }
                                    @if manage { td { (forms(lang, caller, b)) } }
                                }
                            }
                        }
                    }
                }
                @if manage {
                    p.muted { (lang.t(Text::ConfirmVoid)) " " (lang.t(Text::ConfirmRecall)) }
                }
            }
        }
    }
}

fn forms(lang: Lang, caller: &Caller, b: &BatchRow) -> Markup {
    let id = urlencode(&b.id);
    html! {
        @for (action, label) in [("void", Text::Void), ("recall", Text::Recall)] {
            form method="post" action=(format!("/hq/batches/{id}/{action}")) style="margin:.25rem 0" {
                input type="hidden" name="csrf" value=(caller.csrf());
                input type="text" name="reason" required maxlength="500"
                    placeholder=(lang.t(Text::Reason)) style="font-size:.9rem;padding:.3rem";
                button type="submit" style="font-size:.9rem;padding:.3rem;margin-top:.25rem" { (lang.t(label)) }
            }
        }
    }
}

/// `POST /hq/batches/{id}/void`.
pub async fn void(
    state: State<AppState>,
    caller: MaybeCaller,
    id: Path<String>,
    headers: HeaderMap,
    form: Form<ChangeForm>,
) -> Response {
    change(state, caller, id, headers, form, StatusChange::Void).await
}

/// `POST /hq/batches/{id}/recall`.
pub async fn recall(
    state: State<AppState>,
    caller: MaybeCaller,
    id: Path<String>,
    headers: HeaderMap,
    form: Form<ChangeForm>,
) -> Response {
    change(state, caller, id, headers, form, StatusChange::Recall).await
}

async fn change(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ChangeForm>,
    change: StatusChange,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let caller = match staff::gate(&state, lang, caller, "/hq").await {
        Ok(c) => c,
        Err(redirect) => return redirect,
    };
    if caller.check_csrf(&form.csrf).is_err() {
        return staff::form_expired(lang);
    }
    if let Err(e) = caller.require(Permission::ManageRegistry) {
        return staff::error_page(lang, e);
    }
    let actor = caller.user_id;
    let done = state
        .db
        .write(move |c| {
            registry::change_status(c, &id, change, &form.reason, None, None, Some(actor))
        })
        .await;
    match done {
        Ok((range, changed)) => {
            tracing::info!(by = %caller.username, batch = %range.batch_id, action = change.event(),
                changed = changed.changed, "batch status changed from the console");
            see_other("/hq#batches")
        }
        Err(e) => staff::error_page(lang, e),
    }
}
