//! HQ's batches (`/hq/batches`, issues 18 and 20): the batch list searched, filtered by status
//! and paged; a new batch made in the background with its progress (`/hq/batches/jobs/{id}`,
//! refreshing itself every 2 s without JavaScript); a batch's page with its tally, the void,
//! recall and release forms (`hq_batches`, with their confirmation step), label sheets to
//! download (PDF, ZPL) and the code pack for the printing house, whose password is shown once.
//! Everything here asks `ManageRegistry`, as the API's registry routes do.

use std::collections::BTreeMap;

use axum::Form;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use maud::{Markup, html};

use super::form_key::{self, FormTarget};
use super::hq_batches;
use super::hq_desk::{self, PER_PAGE, param};
use super::hq_i18n::{batch_status, tr};
use super::i18n::Lang;
use super::staff;
use crate::app::AppState;
use crate::auth::{Caller, MaybeCaller};
use crate::batch_desk::{self as cases, LabelFile, MAX_DESK_ITEMS, NewBatch};
use crate::domain::Permission;
use crate::domain::custody::{CustodianKind, ItemStatus};
use crate::error::Error;
use crate::registry;
use crate::store::batch_desk::{self as store, JobPhase, JobRow, PackRow};
use crate::store::batches::BatchRow;
use crate::store::products::{self, Product};

pub const HERE: &str = "/hq/batches";
const NEEDS: Permission = Permission::ManageRegistry;
/// Products offered in the new batch form.
const PRODUCTS_LISTED: i64 = 500;
/// Jobs listed above the batches.
const JOBS_LISTED: i64 = 10;

/// The new batch form's fields, as typed (kept when the form comes back with a problem).
#[derive(Debug, Clone, Default)]
struct Fields {
    product: String,
    items: String,
    case_size: String,
    production_date: String,
    note: String,
}

impl Fields {
    fn of(form: &BTreeMap<String, String>) -> Fields {
        let get = |k: &str| {
            form.get(k)
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        Fields {
            product: get("product"),
            items: get("items"),
            case_size: get("case_size"),
            production_date: get("production_date"),
            note: get("note"),
        }
    }

    /// The batch asked for, or the first problem in words.
    fn check(&self, lang: Lang, products: &[Product]) -> Result<NewBatch, String> {
        let product = self
            .product
            .parse::<i64>()
            .ok()
            .and_then(|id| products.iter().find(|p| p.id == id))
            .ok_or_else(|| tr(lang, "请选择商品。", "Choose a product.").to_string())?;
        let items: u64 = self
            .items
            .replace([',', ' ', '，'], "")
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                tr(
                    lang,
                    "码的数量须为 1 到 1,000,000 之间的整数。",
                    "The number of codes must be a whole number from 1 to 1,000,000.",
                )
                .to_string()
            })?;
        if items > MAX_DESK_ITEMS {
            return Err(tr(
                lang,
                "在网页上一批最多生成 1,000,000 个码。更大的批次请分成几批，或用命令行 chainmark-codegen 生成后用 chainmark import 导入。",
                "A batch made here has at most 1,000,000 codes. Split a bigger one into several batches, or make it with chainmark-codegen on the command line and bring it in with chainmark import.",
            )
            .to_string());
        }
        let case_size: u32 = if self.case_size.is_empty() {
            product.case_size.max(1) as u32
        } else {
            self.case_size
                .parse()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| {
                    tr(
                        lang,
                        "每箱件数须为 1 到 100,000 之间的整数。",
                        "Items per case must be a whole number from 1 to 100,000.",
                    )
                    .to_string()
                })?
        };
        let production_date = if self.production_date.is_empty() {
            None
        } else {
            Some(
                NaiveDate::parse_from_str(&self.production_date, "%Y-%m-%d").map_err(|_| {
                    tr(
                        lang,
                        "生产日期的格式应为 年-月-日，例如 2026-12-01。",
                        "Give the production date as year-month-day, e.g. 2026-12-01.",
                    )
                    .to_string()
                })?,
            )
        };
        if self.note.chars().count() > 200 || self.note.chars().any(char::is_control) {
            return Err(tr(
                lang,
                "备注最多 200 个字，且只有一行。",
                "The note is one line of at most 200 characters.",
            )
            .to_string());
        }
        Ok(NewBatch {
            product_id: product.id,
            items,
            case_size,
            production_date,
            note: Some(self.note.clone()).filter(|n| !n.is_empty()),
        })
    }
}

/// `GET /hq/batches`.
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
    render_list(&state, lang, &caller, &q, None).await
}

/// The list page; `problem` is a refused new batch form with its fields.
async fn render_list(
    state: &AppState,
    lang: Lang,
    caller: &Caller,
    q: &BTreeMap<String, String>,
    problem: Option<(String, Fields)>,
) -> Response {
    let search = param(q, "q").unwrap_or("").to_string();
    let wanted = param(q, "status").and_then(ItemStatus::parse);
    let status = wanted.map_or("", ItemStatus::as_str).to_string();
    let page = hq_desk::page_number(q);
    let s2 = search.clone();
    let loaded = state
        .db
        .run(move |c| {
            let list = store::page(
                c,
                Some(s2.as_str()).filter(|s| !s.is_empty()),
                wanted,
                hq_desk::offset(page),
                PER_PAGE,
            )?;
            let products = products::page(c, None, 0, PRODUCTS_LISTED)?.rows;
            let jobs = store::recent_jobs(c, JOBS_LISTED)?;
            Ok((list, products, jobs))
        })
        .await;
    let (list, product_rows, jobs) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let refused = problem.is_some();
    let (problem, fields) = match problem {
        Some((p, f)) => (Some(p), f),
        None => (None, Fields::default()),
    };
    let keep = [("q", search.as_str()), ("status", status.as_str())];
    let body = html! {
        @if let Some(n) = param(q, "notice") { div.card.verdict.ok id="notice" { (n) } }
        (new_form(lang, caller, &product_rows, &fields, problem.as_deref()))
        @if !jobs.is_empty() { (jobs_card(lang, &jobs)) }
        div.card id="batch-list" {
            h2 { (tr(lang, "批次", "Batches")) }
            form.inline method="get" action=(HERE) {
                input type="text" name="q" id="batch-search" value=(search)
                    placeholder=(tr(lang, "批次号、SKU 或商品名称", "Batch id, SKU or product name"));
                @if !status.is_empty() { input type="hidden" name="status" value=(status); }
                button type="submit" { (tr(lang, "搜索", "Search")) }
            }
            (hq_desk::tabs(HERE, "status", &status, &[
                ("", tr(lang, "全部", "All")),
                (ItemStatus::Active.as_str(), batch_status(lang, ItemStatus::Active)),
                (ItemStatus::Voided.as_str(), batch_status(lang, ItemStatus::Voided)),
                (ItemStatus::Recalled.as_str(), batch_status(lang, ItemStatus::Recalled)),
            ], &[("q", &search)]))
            @if list.rows.is_empty() {
                p.muted { (tr(lang, "没有符合条件的批次", "No batches match")) }
            } @else {
                table id="batches" {
                    thead { tr {
                        th { (tr(lang, "批次", "Batch")) } th { (tr(lang, "商品", "Product")) }
                        th.num { (tr(lang, "码数", "Codes")) } th.num { (tr(lang, "箱数", "Cases")) }
                        th { (tr(lang, "生产日期", "Production date")) } th { (tr(lang, "导入时间", "Imported")) }
                        th { (tr(lang, "状态", "Status")) }
                    } }
                    tbody { @for b in &list.rows {
                        tr data-batch=(b.id) {
                            td { a href=(format!("{HERE}/{}", b.id)) { code { (b.id) } } }
                            td { (b.product_name) br; span.muted { (b.sku) } }
                            td.num { (b.item_count) } td.num { (b.case_count) }
                            td { (b.production_date) }
                            td { (b.imported_at.format("%Y-%m-%d %H:%M")) }
                            td { (batch_status(lang, b.status)) }
                        }
                    } }
                }
            }
            (hq_desk::pager(lang, HERE, &keep, page, list.more))
        }
    };
    let switch = hq_desk::href(
        HERE,
        &[
            ("q", &search),
            ("status", &status),
            ("lang", lang.other().param()),
        ],
    );
    let response = hq_desk::respond(
        lang,
        caller,
        HERE,
        tr(lang, "批次与标签", "Batches and labels"),
        &switch,
        q.contains_key("lang"),
        body,
    );
    if refused {
        (StatusCode::UNPROCESSABLE_ENTITY, response).into_response()
    } else {
        response
    }
}

fn new_form(
    lang: Lang,
    caller: &Caller,
    products: &[Product],
    f: &Fields,
    problem: Option<&str>,
) -> Markup {
    html! {
        div.card id="new-batch" {
            h2 { (tr(lang, "新建批次", "New batch")) }
            @if let Some(p) = problem {
                p.verdict.bad id="new-batch-problem" role="alert" { (p) }
            }
            @if products.is_empty() {
                p.muted { (tr(lang, "还没有商品：请先在“商品”页新建。", "There is no product yet: create one on the Products page first.")) }
            } @else {
                form method="post" action=(format!("{HERE}/new")) {
                    input type="hidden" name="csrf" value=(caller.csrf());
                    (form_key::field())
                    label { (tr(lang, "商品", "Product")) " "
                        select name="product" id="new-product" required {
                            option value="" { (tr(lang, "请选择", "Choose")) }
                            @for p in products {
                                @let words = match (lang, &p.name_en) {
                                    (Lang::En, Some(en)) => format!("{en} ({})", p.sku),
                                    _ => format!("{} ({})", p.name, p.sku),
                                };
                                option value=(p.id) selected[f.product == p.id.to_string()] { (words) }
                            }
                        }
                    } " "
                    label { (tr(lang, "码的数量", "Codes")) " "
                        input type="text" name="items" id="new-items" inputmode="numeric" required maxlength="9" value=(f.items) style="width:8rem";
                    } " "
                    label { (tr(lang, "每箱件数", "Items per case")) " "
                        input type="text" name="case_size" id="new-case-size" inputmode="numeric" maxlength="6" value=(f.case_size) placeholder=(tr(lang, "按商品", "as the product")) style="width:6rem";
                    } " "
                    label { (tr(lang, "生产日期", "Production date")) " "
                        input type="date" name="production_date" id="new-date" value=(f.production_date);
                    } " "
                    label { (tr(lang, "备注", "Note")) " "
                        input type="text" name="note" id="new-note" maxlength="200" value=(f.note);
                    } " "
                    button type="submit" id="create-batch" { (tr(lang, "生成", "Generate")) }
                }
                p.muted { (tr(lang,
                    "一批最多 1,000,000 个码，在后台生成并导入，页面会显示进度。更大的批次请用命令行生成。",
                    "Up to 1,000,000 codes a batch, generated and imported in the background while the page shows the progress. Make bigger batches on the command line.")) }
            }
        }
    }
}

fn phase_words(lang: Lang, job: &JobRow) -> &'static str {
    if cases::is_stale(job) {
        return tr(
            lang,
            "已中断（服务器停止）",
            "Interrupted (the server stopped)",
        );
    }
    match job.phase() {
        JobPhase::Queued => tr(lang, "排队中", "Waiting"),
        JobPhase::Writing => tr(lang, "正在生成码", "Generating the codes"),
        JobPhase::Importing => tr(lang, "正在导入码库", "Importing into the registry"),
        JobPhase::Done => tr(lang, "已完成", "Done"),
        JobPhase::Failed => tr(lang, "失败", "Failed"),
    }
}

fn bar(percent: i64) -> Markup {
    html! {
        div.progress role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=(percent)
            style="background:#e6e8eb;border-radius:4px;height:1rem;width:100%;max-width:32rem;overflow:hidden" {
            div style=(format!("background:#1f6feb;height:100%;width:{percent}%")) {}
        }
    }
}

fn jobs_card(lang: Lang, jobs: &[JobRow]) -> Markup {
    html! {
        div.card id="jobs" {
            h2 { (tr(lang, "生成任务", "Generation jobs")) }
            table {
                thead { tr {
                    th { (tr(lang, "任务", "Job")) } th { (tr(lang, "商品", "Product")) }
                    th.num { (tr(lang, "码数", "Codes")) } th { (tr(lang, "进度", "Progress")) }
                    th { (tr(lang, "批次", "Batch")) }
                } }
                tbody { @for j in jobs {
                    @let j = cases::job_with_progress(j.clone());
                    tr data-job=(j.id) {
                        td { a href=(format!("{HERE}/jobs/{}", j.id)) { "#" (j.id) } }
                        td { (j.product_name) }
                        td.num { (j.items) }
                        td { (phase_words(lang, &j)) " · " (j.percent()) "%" }
                        td { @if let Some(b) = &j.batch_id { a href=(format!("{HERE}/{b}")) { code { (b) } } } }
                    }
                } }
            }
        }
    }
}

/// `POST /hq/batches/new`: records the job once per form key and starts it; a resubmitted form
/// comes to the same job's page and starts nothing.
pub async fn create(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, _) = match hq_desk::form_gate(&state, lang, caller, HERE, NEEDS, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let fields = Fields::of(&form);
    let products = match state
        .db
        .run(|c| Ok(products::page(c, None, 0, PRODUCTS_LISTED)?.rows))
        .await
    {
        Ok(p) => p,
        Err(e) => return staff::error_page(lang, e),
    };
    let new = match fields.check(lang, &products) {
        Ok(n) => n,
        Err(words) => {
            return render_list(
                &state,
                lang,
                &caller,
                &BTreeMap::new(),
                Some((words, fields)),
            )
            .await;
        }
    };
    if state.keys.current().is_none() || state.settings.data_folder().is_none() {
        return render_list(
            &state,
            lang,
            &caller,
            &BTreeMap::new(),
            Some((
                tr(
                    lang,
                    "服务器没有配置主密钥文件（key_files），不能生成批次。",
                    "The server has no master key file (key_files): it cannot make batches.",
                )
                .to_string(),
                fields,
            )),
        )
        .await;
    }
    let job = new.job(caller.user_id);
    let done = form_key::write_once(&state.db, caller.user_id, target, &form, move |c| {
        let id = store::create_job(c, &job)?;
        Ok(format!("{HERE}/jobs/{id}"))
    })
    .await;
    match done {
        Ok(out) => {
            if !out.replayed {
                if let Some(id) = out
                    .location
                    .rsplit('/')
                    .next()
                    .and_then(|n| n.parse::<i64>().ok())
                {
                    tracing::info!(by = %caller.username, job = id, items = new.items, "batch job started");
                    cases::start(state.clone(), id);
                }
            }
            form_key::redirect(&out)
        }
        Err(e) => staff::error_page(lang, e),
    }
}

/// `GET /hq/batches/jobs/{id}`: the job's progress; refreshes itself every 2 s until it ends.
pub async fn job(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let here = format!("{HERE}/jobs/{id}");
    let (caller, _) = match hq_desk::gate(&state, lang, caller, &here, NEEDS).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let job = match state.db.run(move |c| Ok(store::find_job(c, id)?)).await {
        Ok(Some(j)) => cases::job_with_progress(j),
        Ok(None) => return staff::error_page(lang, Error::not_found("batch job")),
        Err(e) => return staff::error_page(lang, e),
    };
    let running = !job.phase().ended() && !cases::is_stale(&job);
    let percent = job.percent();
    let body = html! {
        @if running {
            // Refreshes the page without JavaScript; processed wherever the element stands.
            meta http-equiv="refresh" content="2";
        }
        div.card id="job" data-phase=(job.phase) data-percent=(percent) {
            h2 { (tr(lang, "生成批次", "Making a batch")) " #" (job.id) }
            dl {
                dt { (tr(lang, "商品", "Product")) } dd { (job.product_name) " (" (job.sku) ")" }
                dt { (tr(lang, "码的数量", "Codes")) } dd { (job.items) }
                dt { (tr(lang, "每箱件数", "Items per case")) } dd { (job.case_size) }
                @if let Some(d) = &job.production_date { dt { (tr(lang, "生产日期", "Production date")) } dd { (d) } }
                @if let Some(n) = &job.note { dt { (tr(lang, "备注", "Note")) } dd { (n) } }
                dt { (tr(lang, "状态", "State")) } dd id="job-phase" { (phase_words(lang, &job)) }
            }
            (bar(percent))
            p id="job-percent" { (percent) "% · "
                (tr(lang, "已生成 ", "generated ")) (job.written) " / " (job.items) " · "
                (tr(lang, "已导入 ", "imported ")) (job.imported) " / " (job.items) }
            @if running {
                p.muted { (tr(lang, "本页每 2 秒自动刷新。可以离开本页，任务会在后台继续。",
                    "This page refreshes itself every 2 seconds. You may leave it: the job goes on in the background.")) }
            }
            @if let Some(p) = &job.problem {
                p.verdict.bad id="job-problem" { (tr(lang, "未能完成：", "Not done: ")) (p) }
            }
            @if let Some(b) = &job.batch_id {
                p { a href=(format!("{HERE}/{b}")) id="job-batch" { (tr(lang, "查看批次 ", "Open batch ")) code { (b) } " →" } }
            }
            p { a href=(HERE) { "← " (tr(lang, "批次与标签", "Batches and labels")) } }
        }
    };
    let switch = format!("{here}?lang={}", lang.other().param());
    hq_desk::respond(
        lang,
        &caller,
        &here,
        tr(lang, "生成批次", "Making a batch"),
        &switch,
        q.contains_key("lang"),
        body,
    )
}

/// `GET /hq/batches/{id}`: the batch, its tally, its forms and downloads.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let (caller, _) = match hq_desk::gate(&state, lang, caller, HERE, NEEDS).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let loaded = state
        .db
        .run(move |c| {
            let batch = registry::find_batch(c, &id)?;
            let tally = crate::store::batches::item_counts(c, &batch.id)?;
            let job = store::job_of_batch(c, &batch.id)?;
            let packs = store::packs(c, &batch.id)?;
            Ok((batch, tally, job, packs))
        })
        .await;
    let (batch, tally, job, packs) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let here = format!("{HERE}/{}", batch.id);
    let has_print_file = cases::batch_dir(&state, &batch.id)
        .map(|d| d.join("print.csv").is_file())
        .unwrap_or(false);
    let body = html! {
        @if let Some(n) = param(&q, "notice") { div.card.verdict.ok id="notice" { (n) } }
        (batch_card(lang, &batch, &tally, job.as_ref()))
        div.card id="batch-actions" {
            h2 { (tr(lang, "作废、召回与放行", "Void, recall and release")) }
            (hq_batches::forms(lang, &caller, &batch, &here))
            p.muted { (tr(lang, "作废或召回前会先显示确认页。序列号留空表示整批；放行须填起止序列号。",
                "Voiding or recalling asks for confirmation first. Leave the serials empty for the whole batch; releasing needs both serials.")) }
        }
        (labels_card(lang, &batch))
        (packs_card(lang, &caller, &batch, &packs, has_print_file))
        p { a href=(HERE) { "← " (tr(lang, "批次与标签", "Batches and labels")) } }
    };
    let switch = format!("{here}?lang={}", lang.other().param());
    hq_desk::respond(
        lang,
        &caller,
        &here,
        &format!("{} {}", tr(lang, "批次", "Batch"), batch.id),
        &switch,
        q.contains_key("lang"),
        body,
    )
}

fn batch_card(
    lang: Lang,
    b: &BatchRow,
    tally: &[(ItemStatus, CustodianKind, i64)],
    job: Option<&JobRow>,
) -> Markup {
    let count = |f: &dyn Fn(ItemStatus, CustodianKind) -> bool| -> i64 {
        tally
            .iter()
            .filter(|(s, k, _)| f(*s, *k))
            .map(|(_, _, n)| n)
            .sum()
    };
    let at_hq = count(&|s, k| s == ItemStatus::Active && k == CustodianKind::Hq);
    let released = count(&|s, k| s == ItemStatus::Active && k != CustodianKind::Hq);
    let voided = count(&|s, _| s == ItemStatus::Voided);
    let recalled = count(&|s, _| s == ItemStatus::Recalled);
    html! {
        div.card id="batch" data-batch=(b.id) {
            dl {
                dt { (tr(lang, "批次", "Batch")) } dd { code { (b.id) } }
                dt { (tr(lang, "商品", "Product")) } dd { (b.product_name) " (" (b.sku) ")" }
                dt { (tr(lang, "码数", "Codes")) } dd { (b.item_count) }
                dt { (tr(lang, "箱数", "Cases")) } dd { (b.case_count) " × " (b.case_size) }
                dt { (tr(lang, "生产日期", "Production date")) } dd { (b.production_date) }
                dt { (tr(lang, "状态", "Status")) } dd { (batch_status(lang, b.status)) }
                @if let Some(n) = job.and_then(|j| j.note.as_deref()) { dt { (tr(lang, "备注", "Note")) } dd { (n) } }
            }
            table id="tally" {
                thead { tr {
                    th.num { (tr(lang, "在总部", "At HQ")) } th.num { (tr(lang, "已放行", "Released")) }
                    th.num { (tr(lang, "已作废", "Void")) } th.num { (tr(lang, "已召回", "Recalled")) }
                } }
                tbody { tr {
                    td.num data-count="hq" { (at_hq) } td.num data-count="released" { (released) }
                    td.num data-count="voided" { (voided) } td.num data-count="recalled" { (recalled) }
                } }
            }
        }
    }
}

fn labels_card(lang: Lang, b: &BatchRow) -> Markup {
    let base = format!("{HERE}/{}/labels", b.id);
    html! {
        div.card id="labels" {
            h2 { (tr(lang, "标签", "Labels")) }
            p {
                a href=(format!("{base}.pdf")) id="labels-pdf" download { (tr(lang, "整批标签 PDF（A4，每页 24 个）", "Whole batch as PDF (A4, 24 a page)")) }
                " · "
                a href=(format!("{base}.zpl")) id="labels-zpl" download { (tr(lang, "整批标签 ZPL（标签打印机）", "Whole batch as ZPL (label printers)")) }
            }
            form.inline method="get" action=(format!("{base}.pdf")) id="labels-range" {
                input type="text" name="from" maxlength="40" placeholder=(tr(lang, "起始序列号", "From serial")) style="width:11rem";
                input type="text" name="to" maxlength="40" placeholder=(tr(lang, "结束序列号", "To serial")) style="width:11rem";
                button type="submit" formaction=(format!("{base}.pdf")) { "PDF" }
                button type="submit" formaction=(format!("{base}.zpl")) { "ZPL" }
            }
            p.muted { (tr(lang,
                "每个标签是一个防伪二维码和序列号（不含暗码）。一个 PDF 最多 20,000 个标签，一个 ZPL 最多 200,000 个；更多请按序列号分段下载。每次下载都记入审计日志。",
                "Each label is an anti-counterfeit QR with its serial (no security code). One PDF holds at most 20,000 labels, one ZPL at most 200,000: download bigger batches by serial range. Every download is in the audit log.")) }
        }
    }
}

fn packs_card(
    lang: Lang,
    caller: &Caller,
    b: &BatchRow,
    packs: &[PackRow],
    has_print_file: bool,
) -> Markup {
    html! {
        div.card id="code-packs" {
            h2 { (tr(lang, "印刷码包", "Code pack for the printing house")) }
            p { (tr(lang,
                "码包是加密的印刷文件（序列号、暗码、防伪网址、物流网址、箱码）。密码只在制作时显示一次，服务器不保存；请通过另一渠道（电话、短信）告诉印刷厂。",
                "A code pack is the print file (serials, security codes, verification and logistics URLs, case codes), encrypted. Its password is shown once, when it is made, and kept nowhere: give it to the printing house another way (phone, text message).")) }
            @if has_print_file {
                form method="post" action=(format!("{HERE}/{}/packs", b.id)) {
                    input type="hidden" name="csrf" value=(caller.csrf());
                    (form_key::field())
                    button type="submit" id="make-pack" { (tr(lang, "制作码包", "Make a code pack")) }
                }
            } @else {
                p.muted id="no-print-file" { (tr(lang,
                    "这个批次的印刷文件不在服务器上（只有在本页生成的批次才有）。",
                    "This batch's print file is not on the server (only batches made on this page keep theirs).")) }
            }
            @if !packs.is_empty() {
                table id="packs" {
                    thead { tr {
                        th { (tr(lang, "码包", "Pack")) } th { (tr(lang, "制作时间", "Made")) }
                        th.num { (tr(lang, "大小", "Size")) } th { "SHA-256" }
                    } }
                    tbody { @for p in packs {
                        tr data-pack=(p.id) {
                            td { a href=(format!("{HERE}/{}/packs/{}", b.id, p.id)) download { (p.file_name) } }
                            td { (p.created_at.format("%Y-%m-%d %H:%M")) }
                            td.num { (p.bytes) }
                            td { code style="font-size:.75rem" { (&p.sha256[..16.min(p.sha256.len())]) "…" } }
                        }
                    } }
                }
            }
            p.muted { (tr(lang,
                "印刷厂解密：安装 age（Debian/Ubuntu：apt-get install age），运行 age -d -o print.csv 码包文件名，按提示输入密码。",
                "The printing house decrypts it with age (Debian/Ubuntu: apt-get install age): age -d -o print.csv PACK-FILE, then types the password.")) }
        }
    }
}

/// `GET /hq/batches/{id}/labels.pdf` and `.zpl` (`?from=&to=` serials): item labels rendered
/// from the registry and streamed; audited.
pub async fn labels(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(file): Path<(String, String)>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let (caller, _) = match hq_desk::gate(&state, lang, caller, HERE, NEEDS).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (id, name) = file;
    let kind = match name.as_str() {
        "labels.pdf" => LabelFile::Pdf,
        "labels.zpl" => LabelFile::Zpl,
        _ => return staff::error_page(lang, Error::not_found("label file")),
    };
    let from = param(&q, "from").map(str::to_string);
    let to = param(&q, "to").map(str::to_string);
    let actor = caller.user_id;
    let found = state
        .db
        .write(move |c| {
            let batch = registry::find_batch(c, &id)?;
            let range = registry::range_of(&batch, from.as_deref(), to.as_deref())?;
            let count = range.to - range.from + 1;
            if count > kind.limit() {
                return Ok(Err((batch, count)));
            }
            cases::audit_download(
                c,
                actor,
                &batch.id,
                "labels.download",
                serde_json::json!({
                    "format": if kind == LabelFile::Pdf { "pdf" } else { "zpl" },
                    "from": range.from, "to": range.to,
                }),
            )?;
            Ok(Ok((batch, range)))
        })
        .await;
    let (batch, range) = match found {
        Ok(Ok(v)) => v,
        Ok(Err((batch, count))) => {
            let words = match (kind, lang) {
                (LabelFile::Pdf, Lang::Zh) => format!(
                    "所选范围有 {count} 个码，一个 PDF 最多 20,000 个标签。请填起止序列号分段下载，或下载 ZPL。"
                ),
                (LabelFile::Pdf, Lang::En) => format!(
                    "The range has {count} codes; one PDF holds at most 20,000 labels. Give a serial range to download it in parts, or take the ZPL file."
                ),
                (LabelFile::Zpl, Lang::Zh) => format!(
                    "所选范围有 {count} 个码，一个 ZPL 文件最多 200,000 个标签。请填起止序列号分段下载。"
                ),
                (LabelFile::Zpl, Lang::En) => format!(
                    "The range has {count} codes; one ZPL file holds at most 200,000 labels. Give a serial range to download it in parts."
                ),
            };
            return super::agent_i18n::error_page(
                lang,
                Error::BadRequest(words),
                &format!("{HERE}/{}", batch.id),
            );
        }
        Err(e) => {
            return super::agent_i18n::error_page(lang, e, HERE);
        }
    };
    let (ext, mime) = match kind {
        LabelFile::Pdf => ("pdf", "application/pdf"),
        LabelFile::Zpl => ("zpl", "application/octet-stream"),
    };
    let file_name = if range.whole {
        format!("{}-labels.{ext}", batch.id)
    } else {
        format!("{}-labels-{}-{}.{ext}", batch.id, range.from, range.to)
    };
    let rx = cases::stream_labels(state.clone(), batch, range, kind);
    download(
        Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })),
        mime,
        &file_name,
    )
}

/// A file answer: not cached, saved under `name`.
fn download(body: Body, mime: &'static str, name: &str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// `POST /hq/batches/{id}/packs`: makes a code pack and shows its password, once. A resubmitted
/// form (same key) makes nothing and shows no password.
pub async fn make_pack(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<String>,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let here = format!("{HERE}/{id}");
    let (caller, _) = match hq_desk::form_gate(&state, lang, caller, &here, NEEDS, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    // The form's key is claimed first: a second click of the same form finds it taken and
    // goes back to the batch, where the pack made by the first is listed.
    let claimed = form_key::write_once(&state.db, caller.user_id, target, &form, {
        let here = here.clone();
        move |_| Ok(here)
    })
    .await;
    match claimed {
        Ok(out) if out.replayed => return form_key::redirect(&out),
        Ok(_) => {}
        Err(e) => return super::agent_i18n::error_page(lang, e, &here),
    }
    let (st, batch, user) = (state.clone(), id.clone(), caller.user_id);
    let handle = tokio::runtime::Handle::current();
    let made = tokio::task::spawn_blocking(move || cases::make_pack(&st, &handle, &batch, user))
        .await
        .map_err(|e| Error::Internal(format!("code pack task: {e}")))
        .and_then(|r| r);
    let (pack, password) = match made {
        Ok(v) => v,
        Err(e) => return super::agent_i18n::error_page(lang, e, &here),
    };
    tracing::info!(by = %caller.username, batch = %pack.batch_id, pack = pack.id, "code pack made");
    let link = format!("{HERE}/{}/packs/{}", pack.batch_id, pack.id);
    let body = html! {
        div.card.verdict.warn id="pack-made" data-pack=(pack.id) {
            h2 { (tr(lang, "码包已制作", "The code pack is made")) }
            p { (tr(lang, "密码（只显示这一次，请现在抄下或交给印刷厂）：",
                "Its password (shown this once: write it down or give it to the printing house now):")) }
            p { code id="pack-password" style="font-size:1.4rem;letter-spacing:.05em" { (password) } }
            p { a href=(link) id="pack-download" download { (tr(lang, "下载码包 ", "Download the pack ")) (pack.file_name) } }
            p.muted { "SHA-256: " code { (pack.sha256) } }
            p.muted { (tr(lang,
                "印刷厂解密：age -d -o print.csv 码包文件名（Debian/Ubuntu：apt-get install age），再输入上面的密码。",
                "The printing house decrypts it with: age -d -o print.csv PACK-FILE (Debian/Ubuntu: apt-get install age), then the password above.")) }
            p { a href=(here) id="back" { "← " (tr(lang, "返回批次", "Back to the batch")) } }
        }
    };
    let page = super::shell::page(
        lang,
        &caller,
        &here,
        tr(lang, "码包已制作", "The code pack is made"),
        None,
        body,
    );
    let mut r = page.into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `GET /hq/batches/{id}/packs/{pack}`: the encrypted pack, streamed from its 0600 file;
/// audited.
pub async fn pack(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((id, pack_id)): Path<(String, i64)>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let here = format!("{HERE}/{id}");
    let (caller, _) = match hq_desk::gate(&state, lang, caller, &here, NEEDS).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let actor = caller.user_id;
    let id2 = id.trim().to_uppercase();
    let found = state
        .db
        .write(move |c| {
            let pack = store::find_pack(c, &id2, pack_id)?
                .filter(|p| p.bytes > 0)
                .ok_or_else(|| Error::not_found("code pack"))?;
            cases::audit_download(
                c,
                actor,
                &pack.batch_id,
                "code_pack.download",
                serde_json::json!({"pack": pack.id, "sha256": pack.sha256}),
            )?;
            Ok(pack)
        })
        .await;
    let pack = match found {
        Ok(p) => p,
        Err(e) => return super::agent_i18n::error_page(lang, e, &here),
    };
    let path = match cases::batch_dir(&state, &pack.batch_id) {
        Ok(d) => d.join("packs").join(&pack.file_name),
        Err(e) => return super::agent_i18n::error_page(lang, e, &here),
    };
    match tokio::fs::File::open(&path).await {
        Ok(file) => download(
            Body::from_stream(tokio_util::io::ReaderStream::new(file)),
            "application/octet-stream",
            &pack.file_name,
        ),
        Err(e) => super::agent_i18n::error_page(
            lang,
            Error::Internal(format!("code pack file {}: {e}", path.display())),
            &here,
        ),
    }
}
