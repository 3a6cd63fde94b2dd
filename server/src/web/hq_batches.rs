//! The batches table of the HQ console and its void (作废) / recall (召回) forms:
//! `POST /hq/batches/{id}/void|recall`, CSRF-checked, for `Permission::ManageRegistry`, over the
//! registry's use case (the same one as the API's).

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::form_key::{self, FormTarget};
use super::hq_i18n::tr;
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
    #[serde(default)]
    from_serial: String,
    #[serde(default)]
    to_serial: String,
    /// `yes` once the person confirmed on the confirmation page.
    #[serde(default)]
    confirm: String,
    /// The page to come back to (the batch's own page on `/hq/batches`); `/hq` without it.
    #[serde(default)]
    back: String,
}

/// Where a batch form comes back to: a page of HQ's console named by the form, else `/hq`.
pub(super) fn back_to(back: &str) -> String {
    let back = back.trim();
    let ok = back.starts_with("/hq")
        && !back.starts_with("//")
        && back
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_#?=&".contains(c));
    if ok {
        back.to_string()
    } else {
        "/hq#batches".to_string()
    }
}

fn given(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

/// The table; the forms only for callers who may change the registry.
pub fn table(lang: Lang, caller: &Caller, rows: &[BatchRow]) -> Markup {
    let manage = caller.require(Permission::ManageRegistry).is_ok();
    html! {
        div.card id="batches" {
            h2 { (lang.t(Text::Batches)) }
            @if manage {
                p { a href="/hq/batches" id="batches-desk" { (tr(lang, "新建批次、标签和印刷码包 →", "New batches, labels and code packs →")) } }
            }
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
                                tr data-batch=(b.id) data-status=(b.status.as_str()) {
                                    td { code { (b.id) } }
                                    td { (b.sku) }
                                    td { (b.item_count) }
                                    td { (b.production_date) }
                                    td { (super::hq_i18n::batch_status(lang, b.status)) }
                                    @if manage { td { (forms(lang, caller, b, "")) } }
                                }
                            }
                        }
                    }
                }
                @if manage {
                    p.muted { (tr(lang, "作废或召回前会先显示确认页。序列号留空表示整批。",
                        "Voiding or recalling asks for confirmation first. Leave the serials empty for the whole batch.")) }
                }
            }
        }
    }
}

/// The void, recall and release forms of a batch; `back` is the page they come back to.
pub(super) fn forms(lang: Lang, caller: &Caller, b: &BatchRow, back: &str) -> Markup {
    let id = urlencode(&b.id);
    let releases = caller.require(Permission::MoveStock).is_ok();
    let range = html! {
        input type="text" name="from_serial" maxlength="40" placeholder=(tr(lang, "起始序列号", "From serial")) style="width:11rem";
        input type="text" name="to_serial" maxlength="40" placeholder=(tr(lang, "结束序列号", "To serial")) style="width:11rem";
    };
    html! {
        @for (action, label) in [("void", Text::Void), ("recall", Text::Recall)] {
            form method="post" action=(format!("/hq/batches/{id}/{action}")) style="margin:.25rem 0" data-form=(action) {
                input type="hidden" name="csrf" value=(caller.csrf());
                @if !back.is_empty() { input type="hidden" name="back" value=(back); }
                (range)
                input type="text" name="reason" required maxlength="500"
                    placeholder=(lang.t(Text::Reason));
                button type="submit" { (lang.t(label)) "…" }
            }
        }
        @if releases {
            form method="post" action=(format!("/hq/batches/{id}/release")) style="margin:.25rem 0" data-form="release" {
                input type="hidden" name="csrf" value=(caller.csrf());
                @if !back.is_empty() {
                    input type="hidden" name="back" value=(back);
                    input type="hidden" name="confirm" value="ask";
                }
                (form_key::field())
                (range)
                button type="submit" { (tr(lang, "放行销售", "Release for sale")) @if !back.is_empty() { "…" } }
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
    let caller =
        match staff::gate_for(&state, lang, caller, "/hq", Permission::ManageRegistry).await {
            Ok(c) => c,
            Err(refused) => return refused,
        };
    if caller.check_csrf(&form.csrf).is_err() {
        return staff::form_expired(lang);
    }
    if form.confirm != "yes" {
        return confirm_page(&state, lang, &caller, &id, &form, Some(change), None).await;
    }
    let actor = caller.user_id;
    let back = form.back.clone();
    let done = state
        .db
        .write(move |c| {
            registry::change_status(
                c,
                &id,
                change,
                &form.reason,
                given(&form.from_serial),
                given(&form.to_serial),
                Some(actor),
            )
        })
        .await;
    match done {
        Ok((range, changed)) => {
            tracing::info!(by = %caller.username, batch = %range.batch_id, action = change.event().as_str(),
                changed = changed.changed, "batch status changed from the console");
            see_other(&back_to(&back))
        }
        Err(e) => staff::error_page(lang, e),
    }
}

/// The confirmation step of a void or recall (`Some(change)`) or of a release from a batch's
/// page (`None`): what it changes (batch, product, how many items, the reason), and one button
/// that sends the same form confirmed (a release keeps its form key). Nothing changes until then.
async fn confirm_page(
    state: &AppState,
    lang: Lang,
    caller: &Caller,
    id: &str,
    form: &ChangeForm,
    change: Option<StatusChange>,
    form_key: Option<&str>,
) -> Response {
    let (id2, from, to) = (
        id.to_string(),
        given(&form.from_serial).map(str::to_string),
        given(&form.to_serial).map(str::to_string),
    );
    let found = state
        .db
        .run(move |c| {
            let batch = registry::find_batch(c, &id2)?;
            let range = registry::range_of(&batch, from.as_deref(), to.as_deref())?;
            Ok((batch, range))
        })
        .await;
    let (batch, range) = match found {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    if change.is_some() && form.reason.trim().is_empty() {
        return staff::error_page(
            lang,
            crate::error::Error::BadRequest(tr(lang, "请填写原因。", "Give a reason.").into()),
        );
    }
    let (action, heading, warning) = match change {
        None => (
            "release",
            tr(lang, "确认放行销售", "Confirm the release for sale"),
            tr(
                lang,
                "放行后，这些码离开总部库存，消费者查询时显示为正品。",
                "Released codes leave HQ's stock and verify as genuine for consumers.",
            ),
        ),
        Some(StatusChange::Void) => (
            "void",
            tr(lang, "确认作废", "Confirm voiding"),
            tr(
                lang,
                "作废后，消费者查询这些码会被告知已作废。此操作不能撤销。",
                "Consumers verifying these codes will be told they are void. This cannot be undone.",
            ),
        ),
        Some(StatusChange::Recall) => (
            "recall",
            tr(lang, "确认召回", "Confirm the recall"),
            tr(
                lang,
                "召回后，消费者查询这些码会被告知产品已召回。此操作不能撤销。",
                "Consumers verifying these codes will be told the product is recalled. This cannot be undone.",
            ),
        ),
    };
    let count = range.to - range.from + 1;
    let body = html! {
        div.card.verdict.warn id="confirm" {
            h2 { (heading) }
            dl {
                dt { (lang.t(Text::Batch)) } dd { code { (batch.id) } }
                dt { (lang.t(Text::Product)) } dd { (batch.product_name) " (" (batch.sku) ")" }
                dt { (tr(lang, "码的数量", "Codes")) } dd id="confirm-count" { (count) }
                @if change.is_some() { dt { (lang.t(Text::Reason)) } dd { (form.reason.trim()) } }
                @if let (Some(f), Some(t)) = (given(&form.from_serial), given(&form.to_serial)) {
                    dt { (tr(lang, "序列号", "Serials")) } dd { code { (f.to_uppercase()) } " – " code { (t.to_uppercase()) } }
                }
            }
            p { (warning) }
            form method="post" action=(format!("/hq/batches/{}/{action}", urlencode(&batch.id))) {
                input type="hidden" name="csrf" value=(caller.csrf());
                @if let Some(k) = form_key { input type="hidden" name=(form_key::FIELD) value=(k); }
                @if change.is_some() { input type="hidden" name="reason" value=(form.reason.trim()); }
                input type="hidden" name="from_serial" value=(form.from_serial.trim());
                input type="hidden" name="to_serial" value=(form.to_serial.trim());
                input type="hidden" name="confirm" value="yes";
                input type="hidden" name="back" value=(back_to(&form.back));
                button type="submit" id="confirm-button" { (heading) }
            }
            p { a href=(back_to(&form.back)) { (tr(lang, "取消", "Cancel")) } }
        }
    };
    staff::with_cookies(
        super::shell::page(lang, caller, "/hq", heading, None, body).into_response(),
        [],
    )
}

/// `POST /hq/batches/{id}/release`: releases a serial range for sale (moves it out of HQ's
/// custody), once per form key.
pub async fn release(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<String>,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<std::collections::BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let caller = match staff::gate(&state, lang, caller, "/hq").await {
        Ok(c) => c,
        Err(redirect) => return redirect,
    };
    if caller
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .is_err()
    {
        return staff::form_expired(lang);
    }
    if let Err(e) = caller.require(Permission::MoveStock) {
        return staff::error_page(lang, e);
    }
    let from = form.get("from_serial").cloned().unwrap_or_default();
    let to = form.get("to_serial").cloned().unwrap_or_default();
    // The batch's page asks for confirmation first (`confirm=ask`); the console's table does not.
    if form.get("confirm").map(String::as_str) == Some("ask") {
        let asked = ChangeForm {
            csrf: String::new(),
            reason: String::new(),
            from_serial: from,
            to_serial: to,
            confirm: String::new(),
            back: form.get("back").cloned().unwrap_or_default(),
        };
        let key = form.get(form_key::FIELD).map(String::as_str);
        return confirm_page(&state, lang, &caller, &id, &asked, None, key).await;
    }
    let actor = caller.user_id;
    let back = back_to(form.get("back").map_or("", String::as_str));
    let done = form_key::write_once(&state.db, actor, target, &form, move |c| {
        let (range, changed) = registry::release(c, &id, &from, &to, Some(actor))?;
        let notice = format!(
            "{} · {} {}",
            range.batch_id,
            changed.changed,
            tr(lang, "个码已放行销售", "codes released for sale")
        );
        let (path, anchor) = back.split_once('#').unwrap_or((&back, ""));
        let sep = if path.contains('?') { '&' } else { '?' };
        let anchor = if anchor.is_empty() {
            String::new()
        } else {
            format!("#{anchor}")
        };
        Ok(format!("{path}{sep}notice={}{anchor}", urlencode(&notice)))
    })
    .await;
    match done {
        Ok(out) => form_key::redirect(&out),
        Err(e) => staff::error_page(lang, e),
    }
}
