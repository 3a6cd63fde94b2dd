//! Cash rewards paid out (`/hq/marketing/payouts`, 红包发放, issue 21): the cash owed to
//! consumers, exported as a batch for the bank's bulk transfer (a CSV, one line per consumer),
//! and a batch marked paid with the bank's reference. Everything here asks `PayRewards` (HQ
//! finance and admin), as the API's payout routes do.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::form_key::{self, FormTarget};
use super::hq_desk::{self, PER_PAGE, param};
use super::hq_i18n::tr;
use super::i18n::Lang;
use super::staff;
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::campaign_desk::{self as cases, yuan};
use crate::domain::Permission;
use crate::store::payouts::{self as store, BatchRow, MAX_REFERENCE};

pub const HERE: &str = "/hq/marketing/payouts";
const NEEDS: Permission = Permission::PayRewards;

fn state_words(lang: Lang, b: &BatchRow) -> &'static str {
    if b.is_paid() {
        tr(lang, "已付款", "Paid")
    } else {
        tr(lang, "已导出，待付款", "Exported, not paid yet")
    }
}

fn masked(phone: &str) -> String {
    // The whole number is in the CSV for the bank; the page shows enough to recognise it.
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() == 11 {
        format!(
            "{}****{}",
            chars[..3].iter().collect::<String>(),
            chars[7..].iter().collect::<String>()
        )
    } else {
        phone.to_string()
    }
}

/// `GET /hq/marketing/payouts`.
pub async fn list(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let (caller, _) = match hq_desk::gate(&state, lang, caller, HERE, NEEDS).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let filter = match param(&q, "state") {
        Some(s @ (store::EXPORTED | store::PAID)) => s.to_string(),
        _ => String::new(),
    };
    let page = hq_desk::page_number(&q);
    let f2 = filter.clone();
    let loaded = state
        .db
        .run(move |c| {
            let owed = store::owed_totals(c)?;
            let lines = store::lines(c, None, 0, PER_PAGE)?;
            let batches = store::page(
                c,
                Some(f2.as_str()).filter(|s| !s.is_empty()),
                hq_desk::offset(page),
                PER_PAGE,
            )?;
            Ok((owed, lines, batches))
        })
        .await;
    let ((consumers, owed_cents, rewards), lines, batches) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let states = [
        ("", tr(lang, "全部", "All")),
        (store::EXPORTED, tr(lang, "待付款", "Not paid")),
        (store::PAID, tr(lang, "已付款", "Paid")),
    ];
    let body = html! {
        p { a href="/hq/marketing" { "← " (tr(lang, "扫码营销", "Scan marketing")) } }
        @if let Some(n) = param(&q, "notice") {
            @if q.contains_key("bad") { div.card.verdict.bad id="notice" { (n) } }
            @else { div.card.verdict.ok id="notice" { (n) } }
        }
        div.card id="owed" {
            h2 { (tr(lang, "待发放的现金红包", "Cash owed to consumers")) }
            p id="owed-total" {
                (tr(lang, "消费者 ", "Consumers: ")) strong { (consumers) }
                (tr(lang, "，红包 ", "; rewards: ")) strong { (rewards) }
                (tr(lang, "，合计 ", "; total: ")) strong { "¥" (yuan(owed_cents)) }
            }
            @if lines.rows.is_empty() {
                p.muted { (tr(lang, "目前没有待发放的现金。", "No cash is owed now.")) }
            } @else {
                table {
                    thead { tr { th { (tr(lang, "收款手机号", "Phone")) } th.num { (tr(lang, "红包数", "Rewards")) } th.num { (tr(lang, "金额（元）", "Amount (yuan)")) } } }
                    tbody { @for l in &lines.rows {
                        tr { td { (masked(&l.phone)) } td.num { (l.rewards) } td.num { (yuan(l.cents)) } }
                    } }
                }
                @if lines.more { p.muted { (tr(lang, "只列出前 25 位；导出的批次包含全部。", "The first 25 are listed; the exported batch holds them all.")) } }
            }
            form method="post" action=(format!("{HERE}/export")) {
                input type="hidden" name="csrf" value=(caller.csrf());
                (form_key::field())
                button type="submit" id="export" { (tr(lang, "导出发放批次", "Export a payout batch")) }
                span.muted { " " (tr(lang, "所有待发放的红包进入一个新批次，供银行批量转账。", "Everything owed goes into one new batch for the bank's bulk transfer.")) }
            }
        }
        div.card id="batches" {
            h2 { (tr(lang, "发放批次", "Payout batches")) }
            (hq_desk::tabs(HERE, "state", &filter, &states, &[]))
            @if batches.rows.is_empty() { p.muted { (tr(lang, "没有批次", "No batches")) } }
            @else {
                table {
                    thead { tr {
                        th { (tr(lang, "批次号", "Batch")) } th { (tr(lang, "状态", "State")) }
                        th { (tr(lang, "导出时间（北京时间）", "Exported (China time)")) }
                        th.num { (tr(lang, "人数", "Consumers")) } th.num { (tr(lang, "金额（元）", "Amount (yuan)")) }
                        th { (tr(lang, "银行流水号", "Bank reference")) }
                    } }
                    tbody { @for b in &batches.rows {
                        tr data-batch=(b.id) {
                            td { a href=(format!("{HERE}/{}", b.id)) { (b.number()) } }
                            td { (state_words(lang, b)) }
                            td { (super::hq_marketing::china_time(b.created_at)) }
                            td.num { (b.line_count) } td.num { (yuan(b.total_cents)) }
                            td { (b.reference.as_deref().unwrap_or("–")) }
                        }
                    } }
                }
            }
            (hq_desk::pager(lang, HERE, &[("state", &filter)], page, batches.more))
        }
    };
    let switch = hq_desk::href(HERE, &[("state", &filter), ("lang", lang.other().param())]);
    hq_desk::respond(
        lang,
        &caller,
        HERE,
        tr(lang, "红包发放", "Cash payouts"),
        &switch,
        q.contains_key("lang"),
        body,
    )
}

/// `POST /hq/marketing/payouts/export`: the new batch's page, or the refusal in words.
pub async fn export(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, actor) = match hq_desk::form_gate(&state, lang, caller, HERE, NEEDS, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let done = form_key::write_once(&state.db, caller.user_id, target, &form, move |c| {
        let batch = cases::export(c, actor)?;
        let notice = format!(
            "{}{}",
            tr(lang, "已导出批次 ", "Batch exported: "),
            batch.number()
        );
        Ok(hq_desk::href(
            &format!("{HERE}/{}", batch.id),
            &[("notice", &notice)],
        ))
    })
    .await;
    match done {
        Ok(out) => form_key::redirect(&out),
        Err(e) => super::agent_i18n::error_page(lang, e, HERE),
    }
}

/// `GET /hq/marketing/payouts/{id}`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let here = format!("{HERE}/{id}");
    let (caller, _) = match hq_desk::gate(&state, lang, caller, &here, NEEDS).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let page = hq_desk::page_number(&q);
    let loaded = state
        .db
        .run(move |c| {
            let batch = store::get(c, id)?;
            let lines = store::lines(c, Some(id), hq_desk::offset(page), PER_PAGE)?;
            Ok((batch, lines))
        })
        .await;
    let (batch, lines) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let first = hq_desk::offset(page);
    let body = html! {
        p { a href=(HERE) { "← " (tr(lang, "红包发放", "Cash payouts")) } }
        @if let Some(n) = param(&q, "notice") {
            @if q.contains_key("bad") { div.card.verdict.bad id="notice" { (n) } }
            @else { div.card.verdict.ok id="notice" { (n) } }
        }
        div.card id="batch" data-state=(batch.state) {
            h2 { (tr(lang, "发放批次 ", "Payout batch ")) (batch.number()) }
            dl {
                dt { (tr(lang, "状态", "State")) } dd id="batch-state" { (state_words(lang, &batch)) }
                dt { (tr(lang, "人数", "Consumers")) } dd { (batch.line_count) }
                dt { (tr(lang, "金额", "Amount")) } dd id="batch-total" { "¥" (yuan(batch.total_cents)) }
                dt { (tr(lang, "导出时间（北京时间）", "Exported (China time)")) } dd { (super::hq_marketing::china_time(batch.created_at)) }
                @if let Some(r) = &batch.reference {
                    dt { (tr(lang, "银行流水号", "Bank reference")) } dd id="batch-reference" { (r) }
                }
                @if let Some(at) = batch.paid_at {
                    dt { (tr(lang, "付款时间", "Paid")) } dd { (super::hq_marketing::china_time(at)) }
                }
            }
            p { a href=(format!("{here}/csv")) id="csv" download=(format!("{}.csv", batch.number())) {
                (tr(lang, "下载 CSV（银行批量转账）", "Download the CSV (bank bulk transfer)")) } }
            @if !batch.is_paid() {
                form method="post" action=(format!("{here}/paid")) id="paid-form" {
                    input type="hidden" name="csrf" value=(caller.csrf());
                    (form_key::field())
                    label { (tr(lang, "银行流水号", "Bank reference")) " "
                        input type="text" name="reference" id="reference" maxlength=(MAX_REFERENCE) style="width:16rem"; }
                    " "
                    button type="submit" id="mark-paid" { (tr(lang, "标记已付", "Mark paid")) }
                }
                p.muted { (tr(lang, "银行转账完成后填写流水号；标记后记账，不能撤销。", "Once the bank has transferred, give its reference; marking books the payout and cannot be undone.")) }
            }
        }
        div.card id="lines" {
            table {
                thead { tr {
                    th.num { (tr(lang, "序号", "No.")) } th { (tr(lang, "收款手机号", "Phone")) }
                    th.num { (tr(lang, "金额（元）", "Amount (yuan)")) } th.num { (tr(lang, "奖励数", "Rewards")) }
                } }
                tbody { @for (i, l) in lines.rows.iter().enumerate() {
                    tr { td.num { (first + i as i64 + 1) } td { (l.phone) } td.num { (yuan(l.cents)) } td.num { (l.rewards) } }
                } }
            }
            (hq_desk::pager(lang, &here, &[], page, lines.more))
        }
    };
    let switch = hq_desk::href(&here, &[("lang", lang.other().param())]);
    hq_desk::respond(
        lang,
        &caller,
        &here,
        &batch.number(),
        &switch,
        q.contains_key("lang"),
        body,
    )
}

/// `GET /hq/marketing/payouts/{id}/csv`: the bank's file (UTF-8 with a byte-order mark, which
/// Excel and the banks' upload tools need to read Chinese headers).
pub async fn csv(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let here = format!("{HERE}/{id}");
    let (_, actor) = match hq_desk::gate(&state, lang, caller, &here, NEEDS).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let made = state
        .db
        .write(move |c| cases::payout_file(c, actor, id))
        .await;
    match made {
        Ok((number, bytes)) => {
            let mut body = "\u{feff}".as_bytes().to_vec();
            body.extend(bytes);
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{number}.csv\""),
                    ),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => staff::error_page(lang, e),
    }
}

/// `POST /hq/marketing/payouts/{id}/paid`.
pub async fn paid(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    hq_desk::act_on(
        state,
        caller,
        target,
        headers,
        form,
        NEEDS,
        format!("{HERE}/{id}"),
        move |c, actor, lang, fields| {
            let reference = fields.get("reference").map_or("", String::as_str);
            let batch = cases::mark_paid(c, actor, id, reference)?;
            Ok((
                format!(
                    "{}{}",
                    tr(lang, "已标记付款：", "Marked paid: "),
                    batch.number()
                ),
                true,
            ))
        },
    )
    .await
}
