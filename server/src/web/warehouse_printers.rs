//! The warehouse's label printers (`/warehouse/printers`, 打印机; HQ admin and warehouse): the
//! printers with their state, adding one, a test label, switching one off; the print queue
//! newest first, filtered by state and printer, paged, with cancel and reprint. And the
//! waybill-label form of an order's page (`POST /hq/orders/{id}/label`), its preview
//! (`GET /hq/orders/{id}/label.png`), PDF (`label.pdf`, 100 × 150 mm) and ZPL (`label.zpl`). Every form goes through
//! `hq_desk::act_on`; the rules are `crate::printing`'s.

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::agent_i18n::when;
use super::form_key::{self, FormTarget};
use super::hq_desk::{self, param};
use super::hq_i18n::tr;
use super::i18n::Lang;
use super::staff;
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::domain::Permission;
use crate::domain::printing::{JobKind, JobState};
use crate::error::Error;
use crate::network::Actor;
use crate::printing;
use crate::store::printing::{self as store, JobRow, PrinterRow};

pub const HERE: &str = "/warehouse/printers";
const NEEDS: Permission = Permission::Print;
const PER_PAGE: i64 = 30;

fn state_words(lang: Lang, row: &JobRow) -> &'static str {
    match row.state {
        JobState::Queued if row.attempts > 0 => tr(
            lang,
            "打印机未连接，等待重试",
            "Printer not answering: will retry",
        ),
        JobState::Queued => tr(lang, "排队中", "Queued"),
        JobState::Sending => tr(lang, "正在发送", "Sending"),
        JobState::Printed => tr(lang, "已打印", "Printed"),
        JobState::Uncertain => tr(
            lang,
            "发送中断：请查看打印机，如未出纸请重打",
            "Interrupted: look at the printer and reprint if nothing came out",
        ),
        JobState::Cancelled => tr(lang, "已取消", "Cancelled"),
    }
}

fn state_filter_words(lang: Lang, s: JobState) -> &'static str {
    match s {
        JobState::Queued => tr(lang, "排队中", "Queued"),
        JobState::Sending => tr(lang, "正在发送", "Sending"),
        JobState::Printed => tr(lang, "已打印", "Printed"),
        JobState::Uncertain => tr(lang, "发送中断", "Interrupted"),
        JobState::Cancelled => tr(lang, "已取消", "Cancelled"),
    }
}

fn kind_words(lang: Lang, k: JobKind) -> &'static str {
    match k {
        JobKind::WaybillLabel => tr(lang, "快递面单", "Waybill label"),
        JobKind::TestLabel => tr(lang, "测试页", "Test label"),
    }
}

/// A printer's warehouse, or words for the printers added before warehouses were named.
fn warehouse_words(lang: Lang, w: &str) -> &str {
    if w.is_empty() {
        tr(lang, "未指定仓库", "No warehouse named")
    } else {
        w
    }
}

fn printer_state(lang: Lang, p: &PrinterRow, waiting: bool) -> &'static str {
    let failing = match (p.last_error_at, p.last_ok_at) {
        (Some(e), Some(ok)) => e > ok,
        (Some(_), None) => true,
        _ => false,
    };
    if p.disabled {
        tr(lang, "已停用", "Switched off")
    } else if waiting || failing {
        tr(lang, "无法连接", "Not answering")
    } else if p.last_ok_at.is_some() {
        tr(lang, "正常", "Working")
    } else {
        tr(lang, "尚未使用", "Not used yet")
    }
}

/// `GET /warehouse/printers`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let (caller, actor) = match hq_desk::gate(&state, lang, caller, HERE, NEEDS).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let state_filter = param(&q, "state").and_then(JobState::parse);
    let printer_filter = param(&q, "printer").and_then(|p| p.parse::<i64>().ok());
    let warehouse_filter = param(&q, "warehouse").map(str::to_string);
    let wf = warehouse_filter.clone();
    let before = param(&q, "before").and_then(|p| p.parse::<i64>().ok());
    let loaded = state
        .db
        .run(move |c| {
            let printers = printing::printers(c, actor)?;
            let counts = store::counts(c)?;
            let mut jobs = store::jobs(
                c,
                wf.as_deref(),
                printer_filter,
                state_filter,
                None,
                before,
                PER_PAGE + 1,
            )?;
            let more = jobs.len() > usize::try_from(PER_PAGE).unwrap_or(30);
            jobs.truncate(usize::try_from(PER_PAGE).unwrap_or(30));
            Ok((printers, counts, jobs, more))
        })
        .await;
    let (printers, counts, jobs, more) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let count = |p: i64, s: JobState| {
        counts
            .iter()
            .find(|(pp, ss, _)| *pp == p && *ss == s)
            .map_or(0, |(_, _, n)| *n)
    };
    let names: HashMap<i64, &str> = printers.iter().map(|p| (p.id, p.name.as_str())).collect();
    let waiting: Vec<i64> = jobs
        .iter()
        .filter(|j| printing::waits_for_printer(j))
        .map(|j| j.printer_id)
        .collect();
    let busy = jobs
        .iter()
        .any(|j| matches!(j.state, JobState::Queued | JobState::Sending));
    let csrf = caller.csrf().to_string();
    let state_param = state_filter.map_or("", JobState::as_str).to_string();
    let printer_param = printer_filter.map(|p| p.to_string()).unwrap_or_default();
    let warehouse_param = warehouse_filter.clone().unwrap_or_default();
    let mut warehouses: Vec<&str> = printers.iter().map(|p| p.warehouse.as_str()).collect();
    warehouses.dedup();
    let body = html! {
        @if let Some(n) = param(&q, "notice") {
            @if q.contains_key("bad") { div.card.verdict.bad id="notice" data-ok="false" { (n) } }
            @else { div.card.verdict.ok id="notice" data-ok="true" { (n) } }
        }
        div.card id="printers" {
            h2 { (tr(lang, "标签打印机", "Label printers")) }
            @if printers.is_empty() {
                p.muted { (tr(lang, "还没有打印机。添加仓库的热敏标签打印机（网络打印，端口通常为 9100）。",
                    "No printers yet. Add the warehouse's thermal label printers (network printing, usually port 9100).")) }
            } @else {
                table {
                    thead { tr {
                        th { (tr(lang, "仓库", "Warehouse")) }
                        th { (tr(lang, "名称", "Name")) } th { (tr(lang, "地址", "Address")) }
                        th { (tr(lang, "状态", "State")) } th.num { (tr(lang, "排队", "Queued")) }
                        th.num { (tr(lang, "已打印", "Printed")) } th { (tr(lang, "最近出错", "Last problem")) }
                        th { (tr(lang, "操作", "Actions")) }
                    } }
                    tbody {
                        @for p in &printers {
                            tr data-printer=(p.id) {
                                td { (warehouse_words(lang, &p.warehouse)) }
                                td { (p.name) } td { code { (p.address) } }
                                td.pstate { (printer_state(lang, p, waiting.contains(&p.id))) }
                                td.num { (count(p.id, JobState::Queued)) }
                                td.num { (count(p.id, JobState::Printed)) }
                                td { @if let Some(at) = p.last_error_at { (when(lang, at)) " · " (tr(lang, "无法连接或连接中断", "could not connect, or the connection broke")) } @else { "—" } }
                                td {
                                    form.inline method="post" action=(format!("{HERE}/{}/test", p.id)) {
                                        input type="hidden" name="csrf" value=(csrf);
                                        (form_key::field())
                                        button type="submit" data-action="test" disabled[p.disabled] { (tr(lang, "打印测试页", "Print a test label")) }
                                    }
                                    " "
                                    form.inline method="post" action=(format!("{HERE}/{}/{}", p.id, if p.disabled { "on" } else { "off" })) {
                                        input type="hidden" name="csrf" value=(csrf);
                                        (form_key::field())
                                        @if p.disabled {
                                            button type="submit" data-action="on" { (tr(lang, "启用", "Switch on")) }
                                        } @else {
                                            button type="submit" data-action="off" { (tr(lang, "停用", "Switch off")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form method="post" action=(format!("{HERE}/new")) id="new-printer" {
                input type="hidden" name="csrf" value=(csrf);
                (form_key::field())
                label { (tr(lang, "仓库", "Warehouse")) " " input type="text" name="warehouse" id="printer-warehouse" required maxlength="40" list="warehouses" placeholder=(tr(lang, "如：杭州总仓", "e.g. Hangzhou main")); }
                datalist id="warehouses" { @for w in &warehouses { @if !w.is_empty() { option value=(w) {} } } }
                " "
                label { (tr(lang, "名称", "Name")) " " input type="text" name="name" id="printer-name" required maxlength="40" placeholder=(tr(lang, "如：发货台一号", "e.g. Packing desk 1")); }
                " "
                label { (tr(lang, "网络地址", "Network address")) " " input type="text" name="address" id="printer-address" required maxlength="100" placeholder="192.168.1.50:9100"; }
                " "
                button type="submit" id="add-printer" { (tr(lang, "添加打印机", "Add printer")) }
            }
        }
        div.card id="jobs" {
            h2 { (tr(lang, "打印队列", "Print queue")) }
            form.inline method="get" action=(HERE) id="job-filters" {
                label { (tr(lang, "状态", "State")) " "
                    select name="state" {
                        option value="" { (tr(lang, "全部", "All")) }
                        @for s in JobState::ALL {
                            option value=(s.as_str()) selected[state_filter == Some(s)] { (state_filter_words(lang, s)) }
                        }
                    }
                }
                " "
                label { (tr(lang, "仓库", "Warehouse")) " "
                    select name="warehouse" {
                        option value="" { (tr(lang, "全部", "All")) }
                        @for w in &warehouses {
                            @if !w.is_empty() {
                                option value=(w) selected[warehouse_filter.as_deref() == Some(*w)] { (w) }
                            }
                        }
                    }
                }
                " "
                label { (tr(lang, "打印机", "Printer")) " "
                    select name="printer" {
                        option value="" { (tr(lang, "全部", "All")) }
                        @for p in &printers {
                            option value=(p.id) selected[printer_filter == Some(p.id)] { (p.name) }
                        }
                    }
                }
                " "
                button type="submit" { (tr(lang, "筛选", "Filter")) }
            }
            @if jobs.is_empty() {
                p.muted id="no-jobs" { (tr(lang, "没有打印任务。", "No print jobs.")) }
            } @else {
                table {
                    thead { tr {
                        th { (tr(lang, "编号", "No.")) } th { (tr(lang, "内容", "What")) }
                        th { (tr(lang, "打印机", "Printer")) } th { (tr(lang, "状态", "State")) }
                        th { (tr(lang, "提交时间", "Queued at")) } th { (tr(lang, "打印时间", "Printed at")) }
                        th { (tr(lang, "操作", "Actions")) }
                    } }
                    tbody {
                        @for j in &jobs {
                            tr data-job=(j.id) data-state=(j.state.as_str()) {
                                td { (j.id) }
                                td {
                                    (kind_words(lang, j.kind)) " "
                                    @if let Some(o) = j.order_id { a href=(format!("/hq/orders/{o}")) { (j.title) } } @else { (j.title) }
                                }
                                td { (names.get(&j.printer_id).copied().unwrap_or("—")) }
                                td.jstate { (state_words(lang, j)) }
                                td { (when(lang, j.created_at)) }
                                td { @if let Some(t) = j.printed_at { (when(lang, t)) } @else { "—" } }
                                td {
                                    @if j.state == JobState::Queued {
                                        form.inline method="post" action=(format!("/warehouse/print-jobs/{}/cancel", j.id)) {
                                            input type="hidden" name="csrf" value=(csrf);
                                            (form_key::field())
                                            button type="submit" data-action="cancel" { (tr(lang, "取消", "Cancel")) }
                                        }
                                    }
                                    @if matches!(j.state, JobState::Printed | JobState::Uncertain | JobState::Cancelled) {
                                        form.inline method="post" action=(format!("/warehouse/print-jobs/{}/reprint", j.id)) {
                                            input type="hidden" name="csrf" value=(csrf);
                                            (form_key::field())
                                            button type="submit" data-action="reprint" { (tr(lang, "重打", "Reprint")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if more {
                    @if let Some(last) = jobs.last() {
                        p { a id="older" href=(hq_desk::href(HERE, &[("state", &state_param), ("warehouse", &warehouse_param), ("printer", &printer_param), ("before", &last.id.to_string())])) {
                            (tr(lang, "更早的任务 →", "Older jobs →")) } }
                    }
                }
            }
            @if busy {
                p.muted { (tr(lang, "本页每 5 秒自动刷新。", "This page refreshes every 5 seconds.")) }
            }
        }
    };
    let switch = hq_desk::href(
        HERE,
        &[
            ("state", &state_param),
            ("warehouse", &warehouse_param),
            ("printer", &printer_param),
            ("lang", lang.other().param()),
        ],
    );
    let mut response = hq_desk::respond(
        lang,
        &caller,
        HERE,
        tr(lang, "打印机", "Printers"),
        &switch,
        q.contains_key("lang"),
        body,
    );
    if busy {
        // Progress without JavaScript: the browser reloads while jobs are moving.
        response
            .headers_mut()
            .insert(header::REFRESH, HeaderValue::from_static("5"));
    }
    response
}

/// `POST /warehouse/printers/new`.
pub async fn add(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
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
        HERE.to_string(),
        |c, actor, lang, f| {
            let text = |k: &str| f.get(k).map_or("", String::as_str);
            let p =
                printing::add_printer(c, actor, text("warehouse"), text("name"), text("address"))?;
            Ok((
                format!("{} · {}", tr(lang, "已添加打印机", "Printer added"), p.name),
                true,
            ))
        },
    )
    .await
}

/// `POST /warehouse/printers/{id}/{test|off|on}`.
pub async fn printer_action(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((id, action)): Path<(i64, String)>,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let app = state.clone();
    hq_desk::act_on(
        state,
        caller,
        target,
        headers,
        form,
        NEEDS,
        HERE.to_string(),
        move |c, actor, lang, _| {
            let words = match action.as_str() {
                "test" => {
                    let base = app.settings.base_url.clone();
                    printing::queue_test(c, actor, id, &base, app.fonts())?;
                    tr(lang, "测试页已加入打印队列", "Test label queued")
                }
                "off" => {
                    printing::set_disabled(c, actor, id, true)?;
                    tr(lang, "打印机已停用", "Printer switched off")
                }
                "on" => {
                    printing::set_disabled(c, actor, id, false)?;
                    tr(lang, "打印机已启用", "Printer switched on")
                }
                _ => return Err(Error::not_found("action")),
            };
            Ok((words.to_string(), true))
        },
    )
    .await
}

/// `POST /warehouse/print-jobs/{id}/{cancel|reprint}`.
pub async fn job_action(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((id, action)): Path<(i64, String)>,
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
        HERE.to_string(),
        move |c, actor, lang, _| {
            let words = match action.as_str() {
                "cancel" => {
                    printing::cancel(c, actor, id)?;
                    tr(lang, "已取消打印任务", "Print job cancelled")
                }
                "reprint" => {
                    printing::reprint(c, actor, id)?;
                    tr(lang, "已重新加入打印队列", "Queued again")
                }
                _ => return Err(Error::not_found("action")),
            };
            Ok((words.to_string(), true))
        },
    )
    .await
}

/// The waybill-label card of an order's page: preview, ZPL, and printing to a printer. Shown to
/// the order's shipper's staff (HQ admin, warehouse) once it has a waybill number.
pub fn label_card(lang: Lang, csrf: &str, order: i64, printers: &[PrinterRow]) -> Markup {
    let usable: Vec<&PrinterRow> = printers.iter().filter(|p| !p.disabled).collect();
    html! {
        div.card id="label" {
            h2 { (tr(lang, "快递面单", "Waybill label")) }
            p {
                a href=(format!("/hq/orders/{order}/label.png")) target="_blank" { (tr(lang, "预览面单", "Preview the label")) }
                " · "
                a href=(format!("/hq/orders/{order}/label.pdf")) { (tr(lang, "下载 PDF（100×150 毫米）", "Download the PDF (100 × 150 mm)")) }
                " · "
                a href=(format!("/hq/orders/{order}/label.zpl")) { (tr(lang, "下载 ZPL 文件", "Download the ZPL file")) }
            }
            @if usable.is_empty() {
                p.muted { (tr(lang, "还没有可用的打印机：", "No printer to print on yet: ")) a href=(HERE) { (tr(lang, "添加打印机", "add a printer")) } }
            } @else {
                form.inline method="post" action=(format!("/hq/orders/{order}/label")) id="print-label" {
                    input type="hidden" name="csrf" value=(csrf);
                    (form_key::field())
                    label { (tr(lang, "打印机", "Printer")) " "
                        select name="printer" id="label-printer" {
                            @for p in &usable { option value=(p.id) { (warehouse_words(lang, &p.warehouse)) " · " (p.name) } }
                        }
                    }
                    " "
                    button type="submit" { (tr(lang, "打印面单", "Print the label")) }
                }
            }
        }
    }
}

/// The printers for an order page's label card: none for people who may not print.
pub fn printers_for(
    c: &mut crate::store::DbConnection,
    actor: Actor,
) -> crate::error::Result<Option<Vec<PrinterRow>>> {
    if actor.require(NEEDS, "").is_err() {
        return Ok(None);
    }
    Ok(Some(store::printers(c)?))
}

/// `POST /hq/orders/{id}/label`: queue the order's waybill label on the chosen printer.
pub async fn print_label(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let app = state.clone();
    hq_desk::act_on(
        state,
        caller,
        target,
        headers,
        form,
        NEEDS,
        format!("/hq/orders/{id}"),
        move |c, actor, lang, f| {
            let printer = f
                .get("printer")
                .and_then(|p| p.trim().parse::<i64>().ok())
                .ok_or_else(|| Error::not_found("printer"))?;
            let label = printing::waybill_label(
                c,
                actor,
                id,
                &app.settings.brand(),
                &app.settings.base_url,
            )?;
            printing::queue_waybill_label(c, actor, id, printer, &label, app.fonts())?;
            Ok((
                tr(lang, "面单已加入打印队列", "Label queued for printing").to_string(),
                true,
            ))
        },
    )
    .await
}

/// `GET /hq/orders/{id}/label.png` and `label.zpl`.
pub async fn label_file(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((id, file)): Path<(i64, String)>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let here = format!("/hq/orders/{id}/{file}");
    let (_, actor) = match hq_desk::gate(&state, lang, caller, &here, NEEDS).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let app = state.clone();
    let made = state
        .db
        .run(move |c| {
            let label = printing::waybill_label(
                c,
                actor,
                id,
                &app.settings.brand(),
                &app.settings.base_url,
            )?;
            let card = printing::waybill_card(&label)?;
            let fonts = app.fonts().ok_or_else(|| {
                Error::refuse(
                    "no_label_font",
                    "the server has no CJK font to draw labels with",
                )
            })?;
            let draw = |e: codegen::Error| Error::Internal(format!("drawing a label: {e}"));
            Ok(match file.as_str() {
                "label.png" => ("image/png", card.to_png(fonts).map_err(draw)?),
                "label.zpl" => (
                    "application/octet-stream",
                    card.to_zpl(fonts).map_err(draw)?.into_bytes(),
                ),
                // 100 × 150 mm, for an office printer or a PDF-driven label printer.
                "label.pdf" => (
                    "application/pdf",
                    card.to_pdf(fonts, 100.0, 150.0).map_err(draw)?,
                ),
                _ => return Err(Error::not_found("label file")),
            })
        })
        .await;
    match made {
        Ok((kind, bytes)) => {
            let disposition = match kind {
                "image/png" => format!("inline; filename=\"waybill-{id}.png\""),
                "application/pdf" => format!("inline; filename=\"waybill-{id}.pdf\""),
                _ => format!("attachment; filename=\"waybill-{id}.zpl\""),
            };
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, kind.to_string()),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => staff::error_page(lang, e),
    }
}
