//! HQ finance's money desk (`/hq/money`, finance's home): HQ's accounts in words, its books by
//! month (what each account moved, the lines paged, the month as CSV), the withdrawals
//! by status (approve, reject, mark paid with the bank reference), the monthly statements
//! (generate, download each agent's as CSV) and the settlement run. Each part runs the same use
//! case as its API route; the forms that move money carry a form key (`form_key`).

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::form_key::{self, FormTarget};
use super::hq_desk::{self, PER_PAGE, param};
use super::hq_i18n::{self as words, tr, yuan};
use super::i18n::Lang;
use super::staff::{self, see_other};
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::domain::Permission;
use crate::domain::network::WithdrawalStatus;
use crate::network::statements::{self, Month};
use crate::network::{settlement, withdrawals};
use crate::store::desk::{self, Page};
use crate::store::network::ledger::{self, AccountRow};
use crate::store::network::statements::StatementRow;
use crate::store::network::withdrawals::WithdrawalRow;
use crate::store::users::now;

pub const HERE: &str = "/hq/money";
const NEEDS: Permission = Permission::MoneyDesk;
const TABS: [WithdrawalStatus; 4] = [
    WithdrawalStatus::Requested,
    WithdrawalStatus::Approved,
    WithdrawalStatus::Paid,
    WithdrawalStatus::Rejected,
];

/// `GET /hq/money`.
pub async fn show(
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
    let tab = param(&q, "status")
        .and_then(WithdrawalStatus::parse)
        .unwrap_or(WithdrawalStatus::Requested);
    let page = hq_desk::page_number(&q);
    let month = match param(&q, "month") {
        Some(m) => match Month::parse(m) {
            Ok(m) => m,
            Err(e) => return staff::error_page(lang, e),
        },
        None => match Month::of(now()).and_then(|m| m.previous()) {
            Ok(m) => m,
            Err(e) => return staff::error_page(lang, e),
        },
    };
    let spage = param(&q, "spage")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 400);
    let month_name = month.name.clone();
    let (from, to) = (month.from, month.to);
    let after = param(&q, "lafter")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(0)
        .max(0);
    let book = state
        .db
        .run(move |c| {
            Ok((
                ledger::moved_by_account(c, None, from, to)?,
                ledger::lines(c, None, from, to, after, PER_PAGE + 1)?,
            ))
        })
        .await;
    let (moved, mut lines) = match book {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let more_lines = lines.len() as i64 > PER_PAGE;
    lines.truncate(PER_PAGE as usize);
    let loaded = state
        .db
        .run(move |c| {
            let accounts = ledger::accounts_of(c, None)?;
            let list = desk::withdrawals(c, Some(tab), None, hq_desk::offset(page), PER_PAGE)?;
            let stmts =
                desk::statements_of_month(c, &month_name, hq_desk::offset(spage), PER_PAGE)?;
            let mut ids: Vec<i64> = list.rows.iter().map(|w| w.agent_id).collect();
            ids.extend(stmts.rows.iter().map(|s| s.agent_id));
            let names = desk::agent_names(c, &ids)?;
            let todo = desk::to_do(c)?;
            Ok((accounts, list, stmts, names, todo))
        })
        .await;
    let (accounts, list, stmts, names, todo) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let name_of = |id: i64| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
    let csrf = caller.csrf().to_string();
    let body = html! {
        @if let Some(n) = param(&q, "notice") { div.card.verdict.ok id="notice" { (n) } }
        div.todo {
            a href=(hq_desk::href(HERE, &[("status", "requested")])) id="todo-requested" {
                b { (todo.withdrawals_requested) } (tr(lang, "笔提现待审批", "withdrawals to decide"))
            }
            a href=(hq_desk::href(HERE, &[("status", "approved")])) id="todo-approved" {
                b { (todo.withdrawals_approved) } (tr(lang, "笔提现待付款", "withdrawals to pay"))
            }
        }
        (accounts_card(lang, &accounts))
        (withdrawals_card(lang, &csrf, tab, page, &list, &name_of))
        (statements_card(lang, &csrf, &month, spage, &stmts, &name_of))
        (ledger_card(lang, &month, &moved, &lines, after, more_lines))
        div.card id="settlement" {
            h2 { (tr(lang, "结算", "Settlement")) }
            p.muted { (tr(lang,
                "系统每隔几分钟自动结算：发货满期自动确认收货，售后期满的订单完成并解冻返利。也可以现在运行一次。",
                "The server settles every few minutes: shipped orders are received when due, orders past the return window complete and their earnings are released. You can also run it now.")) }
            form method="post" action=(format!("{HERE}/settle")) {
                input type="hidden" name="csrf" value=(csrf);
                (form_key::field())
                button type="submit" id="settle" { (tr(lang, "立即结算", "Run settlement now")) }
            }
        }
    };
    let switch = hq_desk::href(
        HERE,
        &[("status", tab.as_str()), ("lang", lang.other().param())],
    );
    hq_desk::respond(
        lang,
        &caller,
        HERE,
        tr(lang, "资金", "Money"),
        &switch,
        q.contains_key("lang"),
        body,
    )
}

fn accounts_card(lang: Lang, accounts: &[AccountRow]) -> Markup {
    html! {
        div.card id="accounts" {
            h2 { (tr(lang, "总部账户", "HQ's accounts")) }
            table {
                thead { tr {
                    th { (tr(lang, "账户", "Account")) } th.num { (tr(lang, "余额", "Balance")) }
                    th { (tr(lang, "说明", "What it means")) }
                } }
                tbody {
                    @for a in accounts {
                        @let (name, why) = words::account(lang, &a.code);
                        tr data-account=(a.id) {
                            td { b { (name) } }
                            td.num { (yuan(a.balance_cents)) }
                            td.wrap.muted { (why) }
                        }
                    }
                }
            }
        }
    }
}

/// HQ's books for the month: how much each account moved, and the lines, paged by line.
fn ledger_card(
    lang: Lang,
    month: &Month,
    moved: &[(String, i64)],
    lines: &[ledger::LineRow],
    after: i64,
    more: bool,
) -> Markup {
    html! {
        div.card id="hq-ledger" {
            h2 { (tr(lang, "总部账目（按月）", "HQ's books by month")) " · " (month.name) }
            form.inline method="get" action=(HERE) {
                label { (tr(lang, "月份", "Month")) " " input type="month" name="month" value=(month.name); }
                button type="submit" { (tr(lang, "查看", "Show")) }
            }
            " "
            a href=(hq_desk::href(&format!("{HERE}/ledger.csv"), &[("month", &month.name), ("lang", lang.param())])) id="ledger-csv" {
                (tr(lang, "下载本月明细（CSV）", "Download the month's lines (CSV)"))
            }
            @if moved.is_empty() { p.muted { (tr(lang, "本月没有总部账目。", "No lines on HQ's accounts this month.")) } }
            @else {
                table id="hq-moved" {
                    thead { tr { th { (tr(lang, "账户", "Account")) } th.num { (tr(lang, "本月变动", "Moved this month")) } } }
                    tbody {
                        @for (code, cents) in moved {
                            tr data-moved=(code) { td { (words::account(lang, code).0) } td.num { (yuan(*cents)) } }
                        }
                    }
                }
                table id="hq-lines" {
                    thead { tr {
                        th { (tr(lang, "时间", "When")) } th { (tr(lang, "事项", "What")) }
                        th { (tr(lang, "账户", "Account")) } th.num { (tr(lang, "金额", "Amount")) }
                        th { (tr(lang, "订单", "Order")) }
                    } }
                    tbody {
                        @for l in lines {
                            tr data-line=(l.id) {
                                td { (super::agent_i18n::when(lang, l.created_at)) }
                                td { (super::agent_i18n::posting_kind(lang, l.kind)) }
                                td { (words::account(lang, &l.code).0) }
                                td.num { (yuan(l.amount_cents)) }
                                td { @if let Some(o) = l.order_id { a href=(format!("/hq/orders/{o}")) { "#" (o) } } }
                            }
                        }
                    }
                }
                div.pager {
                    @if after > 0 {
                        a href=(hq_desk::href(HERE, &[("month", &month.name)])) { (tr(lang, "← 本月开头", "← Start of the month")) }
                    }
                    @if more {
                        @if let Some(last) = lines.last() {
                            a id="ledger-next" href=(hq_desk::href(HERE, &[("month", &month.name), ("lafter", &last.id.to_string())])) {
                                (tr(lang, "后面的明细 →", "Later lines →"))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /hq/money/ledger.csv?month=YYYY-MM`: every line of HQ's accounts in the month, in the
/// page's language, read in pages so a busy month never sits in memory twice.
pub async fn ledger_csv(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    if let Err(r) = hq_desk::gate(&state, lang, caller, HERE, NEEDS).await {
        return r;
    }
    let month = match Month::parse(param(&q, "month").unwrap_or("")) {
        Ok(m) => m,
        Err(e) => return staff::error_page(lang, e),
    };
    let name = month.name.clone();
    let (from, to) = (month.from, month.to);
    let lines = state
        .db
        .run(move |c| {
            let mut all = Vec::new();
            let mut after = 0;
            loop {
                let page = ledger::lines(c, None, from, to, after, 5000)?;
                let Some(last) = page.last() else { break };
                after = last.id;
                all.extend(page);
            }
            Ok(all)
        })
        .await;
    let lines = match lines {
        Ok(l) => l,
        Err(e) => return staff::error_page(lang, e),
    };
    let mut out = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let head = [
        tr(lang, "时间", "When"),
        tr(lang, "事项", "What"),
        tr(lang, "账户", "Account"),
        tr(lang, "金额（元）", "Amount (yuan)"),
        tr(lang, "订单", "Order"),
        tr(lang, "提现", "Withdrawal"),
    ];
    let mut failed = out.write_record(head).is_err();
    for l in &lines {
        failed |= out
            .write_record([
                super::agent_i18n::when(lang, l.created_at),
                super::agent_i18n::posting_kind(lang, l.kind).to_string(),
                words::account(lang, &l.code).0.to_string(),
                crate::store::network::money(l.amount_cents).to_string(),
                l.order_id.map(|o| o.to_string()).unwrap_or_default(),
                l.withdrawal_id.map(|w| w.to_string()).unwrap_or_default(),
            ])
            .is_err();
    }
    let body = match out.into_inner() {
        Ok(b) if !failed => b,
        _ => {
            return staff::error_page(
                lang,
                crate::error::Error::Internal("ledger CSV could not be written".into()),
            );
        }
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"hq-ledger-{name}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

fn withdrawals_card(
    lang: Lang,
    csrf: &str,
    tab: WithdrawalStatus,
    page: i64,
    list: &Page<WithdrawalRow>,
    name_of: &dyn Fn(i64) -> String,
) -> Markup {
    let options: Vec<(&str, &str)> = TABS
        .iter()
        .map(|s| (s.as_str(), words::withdrawal_status(lang, *s)))
        .collect();
    html! {
        div.card id="withdrawals" {
            h2 { (tr(lang, "提现", "Withdrawals")) }
            (hq_desk::tabs(HERE, "status", tab.as_str(), &options, &[]))
            @if list.rows.is_empty() {
                p.muted { (tr(lang, "没有这类提现。", "No withdrawals here.")) }
            } @else {
                table {
                    thead { tr {
                        th { (tr(lang, "编号", "No.")) } th { (tr(lang, "代理", "Agent")) }
                        th.num { (tr(lang, "金额", "Amount")) } th { (tr(lang, "申请时间", "Requested")) }
                        th { (tr(lang, "状态", "Status")) } th { (tr(lang, "付款凭证", "Reference")) }
                        th { (tr(lang, "操作", "Actions")) }
                    } }
                    tbody {
                        @for w in &list.rows {
                            tr data-withdrawal=(w.id) {
                                td { (w.id) }
                                td { a href=(format!("/hq/agents/{}", w.agent_id)) { (name_of(w.agent_id)) } }
                                td.num { (yuan(w.amount_cents)) }
                                td { (w.requested_at.format("%Y-%m-%d %H:%M")) }
                                td { (words::withdrawal_status(lang, w.status)) }
                                td { (w.reference.as_deref().unwrap_or("")) }
                                td { (withdrawal_actions(lang, csrf, w)) }
                            }
                        }
                    }
                }
            }
            (hq_desk::pager(lang, HERE, &[("status", tab.as_str())], page, list.more))
        }
    }
}

fn withdrawal_actions(lang: Lang, csrf: &str, w: &WithdrawalRow) -> Markup {
    let base = format!("{HERE}/withdrawals/{}", w.id);
    html! {
        @match w.status {
            WithdrawalStatus::Requested => {
                form.inline method="post" action=(format!("{base}/approve")) {
                    input type="hidden" name="csrf" value=(csrf);
                    (form_key::field())
                    button type="submit" data-action="approve" { (tr(lang, "批准", "Approve")) }
                }
                form.inline method="post" action=(format!("{base}/reject")) {
                    input type="hidden" name="csrf" value=(csrf);
                    (form_key::field())
                    input type="text" name="note" placeholder=(tr(lang, "拒绝原因", "Reason")) maxlength="200";
                    button type="submit" data-action="reject" { (tr(lang, "拒绝", "Reject")) }
                }
            }
            WithdrawalStatus::Approved => {
                form.inline method="post" action=(format!("{base}/paid")) {
                    input type="hidden" name="csrf" value=(csrf);
                    (form_key::field())
                    input type="text" name="reference" required maxlength="200"
                        placeholder=(tr(lang, "银行转账流水号", "Bank transfer reference"));
                    button type="submit" data-action="paid" { (tr(lang, "标记已付款", "Mark paid")) }
                }
            }
            _ => {}
        }
    }
}

fn statements_card(
    lang: Lang,
    csrf: &str,
    month: &Month,
    page: i64,
    list: &Page<StatementRow>,
    name_of: &dyn Fn(i64) -> String,
) -> Markup {
    html! {
        div.card id="statements" {
            h2 { (tr(lang, "月结单", "Monthly statements")) }
            form.inline method="get" action=(HERE) {
                label { (tr(lang, "月份", "Month")) " "
                    input type="month" name="month" value=(month.name); }
                button type="submit" { (tr(lang, "查看", "Show")) }
            }
            form.inline method="post" action=(format!("{HERE}/statements")) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="month" value=(month.name);
                button type="submit" id="generate" { (tr(lang, "生成本月结单", "Generate this month's statements")) }
            }
            @if list.rows.is_empty() {
                p.muted { (tr(lang, "这个月还没有生成结单。", "No statements generated for this month yet.")) }
            } @else {
                table {
                    thead { tr {
                        th { (tr(lang, "代理", "Agent")) }
                        th.num { (tr(lang, "期初可提现", "Opening available")) }
                        th.num { (tr(lang, "本月收益", "Earned")) }
                        th.num { (tr(lang, "结算", "Settled")) }
                        th.num { (tr(lang, "提现", "Withdrawn")) }
                        th.num { (tr(lang, "期末可提现", "Closing available")) }
                        th.num { (tr(lang, "期末冻结", "Closing frozen")) }
                        th { (tr(lang, "下载", "Download")) }
                    } }
                    tbody {
                        @for s in &list.rows {
                            tr data-statement=(s.agent_id) {
                                td { (name_of(s.agent_id)) }
                                td.num { (yuan(s.opening_available_cents)) }
                                td.num { (yuan(s.earned_cents)) }
                                td.num { (yuan(s.settled_cents)) }
                                td.num { (yuan(s.withdrawals_cents)) }
                                td.num { (yuan(s.closing_available_cents)) }
                                td.num { (yuan(s.closing_frozen_cents)) }
                                td { a href=(format!("{HERE}/statements/{}/{}", urlencode(&month.name), s.agent_id))
                                    data-download=(s.agent_id) download { "CSV" } }
                            }
                        }
                    }
                }
            }
            (hq_desk::pager(lang, HERE, &[("month", &month.name)], page, list.more))
        }
    }
}

fn back(pairs: &[(&str, &str)]) -> Response {
    see_other(&hq_desk::href(HERE, pairs))
}

/// `POST /hq/money/withdrawals/{id}/{approve|reject|paid}`: once per form key.
pub async fn withdrawal(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((id, action)): Path<(i64, String)>,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, actor) = match hq_desk::form_gate(&state, lang, caller, HERE, NEEDS, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let note = param(&form, "note").map(str::to_string);
    let reference = form.get("reference").cloned().unwrap_or_default();
    let done = form_key::write_once(&state.db, caller.user_id, target, &form, move |c| {
        let (w, tab) = match action.as_str() {
            "approve" => (withdrawals::decide(c, id, true, None, actor)?, "approved"),
            "reject" => (
                withdrawals::decide(c, id, false, note.as_deref(), actor)?,
                "rejected",
            ),
            "paid" => (withdrawals::mark_paid(c, id, &reference, actor)?, "paid"),
            _ => return Err(crate::error::Error::not_found("action")),
        };
        let notice = format!(
            "{} {} · {}",
            tr(lang, "提现", "Withdrawal"),
            w.id,
            words::withdrawal_status(lang, w.status)
        );
        Ok(hq_desk::href(HERE, &[("status", tab), ("notice", &notice)]))
    })
    .await;
    match done {
        Ok(out) => form_key::redirect(&out),
        Err(e) => staff::error_page(lang, e),
    }
}

/// `POST /hq/money/statements`: generates every agent's statement of the month.
pub async fn generate(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    if let Err(r) = hq_desk::form_gate(&state, lang, caller, HERE, NEEDS, &form).await {
        return r;
    }
    let month = match Month::parse(form.get("month").map_or("", String::as_str)) {
        Ok(m) => m,
        Err(e) => return staff::error_page(lang, e),
    };
    let name = month.name.clone();
    match state
        .db
        .write(move |c| statements::generate(c, &month))
        .await
    {
        Ok(n) => {
            let notice = format!(
                "{name} · {n} {}",
                tr(lang, "份结单已生成", "statements generated")
            );
            back(&[("month", &name), ("notice", &notice)])
        }
        Err(e) => staff::error_page(lang, e),
    }
}

/// `GET /hq/money/statements/{month}/{agent}`: one agent's statement lines as CSV.
pub async fn statement_csv(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((month, agent)): Path<(String, i64)>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    if let Err(r) = hq_desk::gate(&state, lang, caller, HERE, NEEDS).await {
        return r;
    }
    let month = match Month::parse(&month) {
        Ok(m) => m,
        Err(e) => return staff::error_page(lang, e),
    };
    let name = month.name.clone();
    match state
        .db
        .run(move |c| statements::csv(c, agent, &month))
        .await
    {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"statement-{agent}-{name}.csv\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            body,
        )
            .into_response(),
        Err(e) => staff::error_page(lang, e),
    }
}

/// `POST /hq/money/settle`: one settlement pass now.
pub async fn settle(
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
        actor.require(NEEDS, "run settlement")?;
        let s = settlement::tick(c, now())?;
        let notice = format!(
            "{} {} · {} {}",
            tr(lang, "确认收货", "received"),
            s.received,
            tr(lang, "完成", "completed"),
            s.completed
        );
        Ok(hq_desk::href(HERE, &[("notice", &notice)]))
    })
    .await;
    match done {
        Ok(out) => form_key::redirect(&out),
        Err(e) => staff::error_page(lang, e),
    }
}
