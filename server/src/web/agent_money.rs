//! The agent's money on its phone (issue 17): what it may withdraw, what is frozen and when each
//! part unfreezes, the month's statement and lines (page and CSV, in the page's language), and
//! withdrawal requests with their history. Every amount comes from the ledger; nothing here
//! computes money.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::agent::agent_gate;
use super::agent_i18n::{self as w, tr};
use super::form_key::{self, FormTarget};
use super::i18n::Lang;
use super::staff::{self, with_cookies};
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::domain::network::Account;
use crate::error::{Error, Result};
use crate::network::statements::Month;
use crate::network::{statements, withdrawals};
use crate::store::DbConnection;
use crate::store::agent_pages::{self as pages_store, FrozenLine};
use crate::store::network::ledger::{self, LineRow};
use crate::store::network::statements::StatementRow;
use crate::store::network::withdrawals::{self as withdrawal_store, WithdrawalRow};
use crate::store::network::{agent_id, cents};
use crate::store::users::now;

#[derive(Debug, Deserialize)]
pub struct MoneyQuery {
    lang: Option<String>,
    month: Option<String>,
    notice: Option<String>,
}

struct Money {
    available: Decimal,
    frozen: Decimal,
    frozen_by_order: Vec<FrozenLine>,
    statement: StatementRow,
    lines: Vec<LineRow>,
    withdrawals: Vec<WithdrawalRow>,
    month: Month,
}

fn load(c: &mut DbConnection, agent: i64, month: Month) -> Result<Money> {
    let id = agent_id(agent);
    Ok(Money {
        available: ledger::balance(c, &Account::available(id))?,
        frozen: ledger::balance(c, &Account::frozen(id))?,
        frozen_by_order: pages_store::frozen_by_order(c, agent, 50)?,
        statement: statements::of_agent(c, agent, &month)?,
        lines: ledger::lines(c, Some(agent), month.from, month.to, 0, 200)?,
        withdrawals: withdrawal_store::list(c, Some(agent), None, 50)?,
        month,
    })
}

fn month_of(q: Option<&str>) -> Result<Month> {
    match q.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => Month::parse(m),
        None => Month::of(now()),
    }
}

/// `GET /agent/money`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<MoneyQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let (caller, _, agent) = match agent_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let month = match month_of(q.month.as_deref()) {
        Ok(m) => m,
        Err(e) => return w::error_page(lang, e, "/agent/money"),
    };
    let m = match state.db.run(move |c| load(c, agent, month)).await {
        Ok(m) => m,
        Err(e) => return w::error_page(lang, e, "/agent"),
    };
    let csrf = caller.csrf().to_string();
    let prev = m.month.previous().map(|p| p.name).unwrap_or_default();
    let s = &m.statement;
    let body = html! {
        @if let Some(n) = &q.notice { div.card.verdict.ok id="notice" { (n) } }
        div.card id="balances" {
            dl {
                dt { (tr(lang, "可提现", "Available")) } dd data-wallet="available" { "¥" (m.available) }
                dt { (tr(lang, "冻结中", "Frozen")) } dd data-wallet="frozen" { "¥" (m.frozen) }
            }
            p.muted { (tr(lang, "差价和奖励在订单完成（收货后维权期结束）后解冻，可以提现。",
                "Margins and awards unfreeze when their order completes (the return window after receipt has passed); then you may withdraw them.")) }
        }
        div.card id="frozen" {
            h2 { (tr(lang, "冻结明细", "Frozen, by order")) }
            @if m.frozen_by_order.is_empty() { p.muted { (tr(lang, "没有冻结的金额", "Nothing frozen")) } }
            @for f in &m.frozen_by_order {
                p data-order=(f.order_id) {
                    a href=(format!("/agent/orders/{}", f.order_id)) { "#" (f.order_id) } " · " strong { (w::yuan(f.cents)) } " · "
                    @match (f.state.as_str(), f.due_at) {
                        ("received", Some(due)) => { (tr(lang, "预计解冻：", "Unfreezes: ")) (w::day(lang, due)) }
                        _ => { (tr(lang, "收货并过维权期后解冻", "Unfreezes after receipt and the return window")) " · " (w::order_state(lang, f.state)) }
                    }
                }
            }
        }
        form.card method="post" action="/agent/money/withdraw" id="withdraw" {
            h2 { (tr(lang, "申请提现", "Request a withdrawal")) }
            input type="hidden" name="csrf" value=(csrf);
            (form_key::field())
            label for="amount" { (tr(lang, "金额（元）", "Amount (yuan)")) }
            input type="text" id="amount" name="amount" inputmode="decimal" required placeholder="0.00";
            button type="submit" { (tr(lang, "申请提现", "Request")) }
        }
        div.card id="withdrawals" {
            h2 { (tr(lang, "提现记录", "Withdrawals")) }
            @if m.withdrawals.is_empty() { p.muted { (tr(lang, "还没有提现", "None yet")) } }
            @for x in &m.withdrawals {
                p data-withdrawal=(x.id) data-status=(x.status.as_str()) {
                    (w::day(lang, x.requested_at)) " · " strong { (w::yuan(x.amount_cents)) } " · " (w::withdrawal_status(lang, x.status))
                }
            }
        }
        div.card id="statement" {
            h2 { (tr(lang, "月度对账单", "Monthly statement")) " " (m.month.name) }
            form method="get" action="/agent/money" {
                label for="month" { (tr(lang, "月份", "Month")) }
                input type="text" id="month" name="month" value=(m.month.name) placeholder="2026-11" inputmode="numeric";
                button type="submit" { (tr(lang, "查看", "Show")) }
            }
            p { a href=(format!("/agent/money?month={prev}")) { "← " (prev) } }
            dl {
                dt { (tr(lang, "期初可提现", "Opening available")) } dd { (w::yuan(s.opening_available_cents)) }
                dt { (tr(lang, "期初冻结", "Opening frozen")) } dd { (w::yuan(s.opening_frozen_cents)) }
                dt { (tr(lang, "本月收益", "Earned")) } dd { (w::yuan(s.earned_cents)) }
                dt { (tr(lang, "本月解冻", "Released")) } dd { (w::yuan(s.settled_cents)) }
                dt { (tr(lang, "退款", "Refunds")) } dd { (w::yuan(s.refunds_cents)) }
                dt { (tr(lang, "余额付款", "Paid from wallet")) } dd { (w::yuan(s.payments_cents)) }
                dt { (tr(lang, "提现", "Withdrawn")) } dd { (w::yuan(s.withdrawals_cents)) }
                dt { (tr(lang, "期末可提现", "Closing available")) } dd { (w::yuan(s.closing_available_cents)) }
                dt { (tr(lang, "期末冻结", "Closing frozen")) } dd { (w::yuan(s.closing_frozen_cents)) }
            }
            p { a id="csv" href=(format!("/agent/money/statement.csv?month={}&lang={}", m.month.name, lang.param())) { (tr(lang, "下载明细（CSV）", "Download the lines (CSV)")) } }
            @if m.lines.is_empty() { p.muted { (tr(lang, "本月没有流水", "No lines this month")) } }
            @for l in &m.lines {
                p.line { (w::when(lang, l.created_at)) " · " (w::posting_kind(lang, l.kind)) " · " (w::wallet(lang, &l.wallet)) " · " strong { (w::yuan(l.amount_cents)) }
                    @if let Some(o) = l.order_id { " · " a href=(format!("/agent/orders/{o}")) { "#" (o) } } }
            }
        }
    };
    let here = "/agent/money";
    let switch = format!(
        "{here}?month={}&lang={}",
        m.month.name,
        lang.other().param()
    );
    let response = super::shell::page(
        lang,
        &caller,
        here,
        tr(lang, "我的钱包", "My money"),
        Some(&switch),
        body,
    )
    .into_response();
    with_cookies(response, [staff::lang_cookie(lang, q.lang.is_some())])
}

/// `GET /agent/money/statement.csv?month=YYYY-MM`: the month's lines in the page's language.
pub async fn csv(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<MoneyQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let (_, _, agent) = match agent_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let month = match month_of(q.month.as_deref()) {
        Ok(m) => m,
        Err(e) => return w::error_page(lang, e, "/agent/money"),
    };
    let name = month.name.clone();
    let lines = state
        .db
        .run(move |c| {
            let mut all = Vec::new();
            let mut after = 0;
            loop {
                let page = ledger::lines(c, Some(agent), month.from, month.to, after, 5000)?;
                let Some(last) = page.last() else { break };
                after = last.id;
                all.extend(page);
            }
            Ok(all)
        })
        .await;
    let lines = match lines {
        Ok(l) => l,
        Err(e) => return w::error_page(lang, e, "/agent/money"),
    };
    let mut out = String::from('\u{feff}');
    out.push_str(&format!(
        "{},{},{},{},{}\n",
        tr(lang, "时间", "Time"),
        tr(lang, "类别", "Kind"),
        tr(lang, "钱包", "Wallet"),
        tr(lang, "金额", "Amount"),
        tr(lang, "订单号", "Order")
    ));
    for l in &lines {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            w::when(lang, l.created_at),
            w::posting_kind(lang, l.kind),
            w::wallet(lang, &l.wallet),
            crate::store::network::money(l.amount_cents),
            l.order_id.map(|o| o.to_string()).unwrap_or_default()
        ));
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"statement-{name}.csv\""),
            ),
        ],
        out,
    )
        .into_response()
}

/// `POST /agent/money/withdraw`: asks for part of the available balance.
pub async fn withdraw(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    super::agent::act_on(
        state,
        caller,
        target,
        headers,
        form,
        "/agent/money".to_string(),
        move |c, actor, _, lang, f| {
            let amount: Decimal = f
                .get("amount")
                .map_or("", String::as_str)
                .trim()
                .trim_start_matches('¥')
                .parse()
                .map_err(|_| Error::BadRequest("amount: a number of yuan, e.g. 100.00".into()))?;
            let row = withdrawals::request(c, actor, amount)?;
            let notice = format!(
                "{} {}",
                tr(lang, "已申请提现", "Withdrawal requested:"),
                w::yuan(cents(crate::store::network::money(row.amount_cents))?)
            );
            Ok((notice, true))
        },
    )
    .await
}
