//! The agents (`/hq/agents`): search by name or phone, filters by region (province or city),
//! tier and status, paged, CSV export of the filtered list; and an agent's page
//! (`/hq/agents/{id}`) with its profile, tier, referrer and supplier chain, region, certificate,
//! accounts, orders, withdrawals and level history, and for HQ admins suspend / reinstate.
//! Actions run the network's use cases (`network::agents`), as `/api/v1/agents/{id}/…`.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::hq_desk::{self, PER_PAGE, param};
use super::hq_i18n::{self as words, tr, yuan};
use super::i18n::Lang;
use super::staff::{self, see_other};
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::diversion::regions;
use crate::diversion::views::region_name;
use crate::domain::Permission;
use crate::domain::diversion::Level;
use crate::domain::network::AgentStatus;
use crate::domain::network::Policy;
use crate::network::{agents as agent_cases, policy};
use crate::store::desk_agents::{self, AgentFilter};
use crate::store::network::agents::{self as agent_store, AgentRow};
use crate::store::network::orders::{self as order_store, Listing};

pub const HERE: &str = "/hq/agents";
const NEEDS: Permission = Permission::ReadAgents;

/// Rows of one CSV export at most (the filters narrow a bigger list).
const CSV_MAX: i64 = 10_000;

fn filter_of(q: &BTreeMap<String, String>) -> AgentFilter {
    AgentFilter {
        text: param(q, "q").map(str::to_string),
        region_prefix: param(q, "region").map(|r| {
            let mut p = r.to_string();
            while p.len() > 2 && p.ends_with("00") {
                p.truncate(p.len() - 2);
            }
            p
        }),
        tier_rank: param(q, "tier").and_then(|t| t.parse().ok()),
        status: param(q, "status").and_then(AgentStatus::parse),
    }
}

/// `GET /hq/agents`.
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
    let filter = filter_of(&q);
    let page = hq_desk::page_number(&q);
    let f2 = filter.clone();
    let loaded = state
        .db
        .run(move |c| {
            let list = desk_agents::agents(c, &f2, hq_desk::offset(page), PER_PAGE)?;
            let (_, policy) = policy::active(c)?;
            Ok((list, policy))
        })
        .await;
    let (list, policy) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let keep: Vec<(&str, &str)> = ["q", "region", "tier", "status"]
        .iter()
        .filter_map(|k| param(&q, k).map(|v| (*k, v)))
        .collect();
    let body = html! {
        div.card id="agents" {
            (filters(lang, &q, &policy))
            @if list.rows.is_empty() {
                p.muted { (tr(lang, "没有符合条件的代理。", "No agents match.")) }
            } @else {
                table {
                    thead { tr {
                        th { (tr(lang, "编号", "No.")) } th { (tr(lang, "姓名", "Name")) }
                        th { (tr(lang, "级别", "Tier")) } th { (tr(lang, "地区", "Region")) }
                        th { (tr(lang, "状态", "Status")) } th { (tr(lang, "加入时间", "Joined")) }
                    } }
                    tbody {
                        @for a in &list.rows {
                            tr data-agent=(a.id) {
                                td { (a.id) }
                                td { a href=(format!("{HERE}/{}", a.id)) { (a.name) } }
                                td { (words::tier_by_rank(lang, &policy, a.tier_rank)) }
                                td { (region_name(&a.region)) }
                                td { (words::agent_status(lang, a.status)) }
                                td { (a.joined_at.format("%Y-%m-%d")) }
                            }
                        }
                    }
                }
            }
            (hq_desk::pager(lang, HERE, &keep, page, list.more))
            p { a href=(hq_desk::href(&format!("{HERE}.csv"), &keep)) id="agents-csv" download {
                (tr(lang, "导出 CSV（当前筛选）", "Export CSV (these filters)")) } }
        }
    };
    let mut switch_pairs = keep.clone();
    switch_pairs.push(("lang", lang.other().param()));
    hq_desk::respond(
        lang,
        &caller,
        HERE,
        tr(lang, "代理", "Agents"),
        &hq_desk::href(HERE, &switch_pairs),
        q.contains_key("lang"),
        body,
    )
}

fn filters(lang: Lang, q: &BTreeMap<String, String>, policy: &Policy) -> Markup {
    let v = |k: &str| param(q, k).unwrap_or("").to_string();
    html! {
        form method="get" action=(HERE) id="agent-filters" {
            input type="text" name="q" value=(v("q")) placeholder=(tr(lang, "姓名或手机号", "Name or phone"));
            " "
            select name="region" aria-label=(tr(lang, "地区", "Region")) {
                option value="" { (tr(lang, "全部地区", "All regions")) }
                @for r in regions().provinces_and_cities() {
                    @let code = r.code.to_string();
                    @let indent = if r.code.level() == Level::Province { "" } else { "　" };
                    option value=(code) selected[v("region") == code] { (indent) (r.name) }
                }
            }
            " "
            select name="tier" aria-label=(tr(lang, "级别", "Tier")) {
                option value="" { (tr(lang, "全部级别", "All tiers")) }
                @for t in policy.tiers() {
                    @let rank = t.rank.0.to_string();
                    option value=(rank) selected[v("tier") == rank] {
                        (match lang { Lang::Zh => &t.name_zh, Lang::En => &t.name_en })
                    }
                }
            }
            " "
            select name="status" aria-label=(tr(lang, "状态", "Status")) {
                option value="" { (tr(lang, "全部状态", "Any status")) }
                @for s in AgentStatus::ALL {
                    option value=(s.as_str()) selected[v("status") == s.as_str()] { (words::agent_status(lang, s)) }
                }
            }
            " "
            button type="submit" { (tr(lang, "筛选", "Filter")) }
        }
    }
}

/// `GET /hq/agents.csv`: the filtered list (at most `CSV_MAX` rows), UTF-8 with a BOM so
/// spreadsheet programs read the Chinese names right.
pub async fn csv(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    if let Err(r) = hq_desk::gate(&state, lang, caller, HERE, NEEDS).await {
        return r;
    }
    let filter = filter_of(&q);
    let loaded = state
        .db
        .run(move |c| {
            let list = desk_agents::agents(c, &filter, 0, CSV_MAX)?;
            let (_, policy) = policy::active(c)?;
            Ok((list, policy))
        })
        .await;
    let (list, policy) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let field = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = String::from("\u{feff}");
    out.push_str(
        &[
            tr(lang, "编号", "No."),
            tr(lang, "姓名", "Name"),
            tr(lang, "级别", "Tier"),
            tr(lang, "地区", "Region"),
            tr(lang, "状态", "Status"),
            tr(lang, "加入时间", "Joined"),
        ]
        .join(","),
    );
    out.push('\n');
    for a in &list.rows {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            a.id,
            field(&a.name),
            field(&words::tier_by_rank(lang, &policy, a.tier_rank)),
            field(&region_name(&a.region)),
            field(words::agent_status(lang, a.status)),
            a.joined_at.format("%Y-%m-%d"),
        ));
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"agents.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        out,
    )
        .into_response()
}

/// `GET /hq/agents/{id}`.
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
    let sees_money = caller.role.allows(Permission::ReadHqLedger);
    let referrer_q = param(&q, "referrer_q").map(str::to_string);
    let rq = referrer_q.clone();
    let candidates = match state
        .db
        .run(move |c| match rq {
            Some(text) => {
                let filter = AgentFilter {
                    text: Some(text),
                    ..AgentFilter::default()
                };
                Ok(desk_agents::agents(c, &filter, 0, 10)?
                    .rows
                    .into_iter()
                    .filter(|r| r.id != id)
                    .collect())
            }
            None => Ok(Vec::new()),
        })
        .await
    {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let province = param(&q, "province").and_then(|p| regions().known(p));
    let loaded = state
        .db
        .run(move |c| {
            let agent = agent_store::get(c, id)?;
            let chain = agent_store::with_ancestors(c, id)?;
            let phone = desk_agents::phone_of(c, id)?;
            let certificate = crate::store::joining::latest_certificate(c, id)?;
            let orders = order_store::list(c, Listing::PlacedBy(id), None, 0, 20)?;
            let accounts = if sees_money {
                crate::store::network::ledger::accounts_of(c, Some(id))?
            } else {
                Vec::new()
            };
            let withdrawals = crate::store::desk::withdrawals(c, None, Some(id), 0, 10)?;
            let levels = crate::store::levels::changes::list(c, Some(id), None, 20)?;
            let (_, policy) = policy::active(c)?;
            Ok((
                agent,
                chain,
                phone,
                certificate,
                orders,
                accounts,
                withdrawals,
                levels,
                policy,
            ))
        })
        .await;
    let (a, chain, phone, certificate, orders, accounts, withdrawals, levels, policy) = match loaded
    {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let find = |id: Option<i64>| id.and_then(|i| chain.iter().find(|r| r.id == i));
    let link = |r: Option<&AgentRow>| match r {
        Some(r) => html! { a href=(format!("{HERE}/{}", r.id)) { (r.name) } },
        None => html! { (tr(lang, "总部", "HQ")) },
    };
    let manages = caller.role.allows(Permission::ManageAgents);
    let csrf = caller.csrf().to_string();
    let body = html! {
        @if let Some(n) = param(&q, "notice") { div.card.verdict.ok id="notice" { (n) } }
        div.card id="profile" data-agent=(a.id) data-status=(a.status) {
            h2 { (a.name) " · " (words::tier_by_rank(lang, &policy, a.tier_rank)) }
            dl {
                dt { (tr(lang, "状态", "Status")) } dd id="agent-status" { (words::agent_status(lang, a.status)) }
                dt { (tr(lang, "手机号", "Phone")) } dd { (phone.unwrap_or_default()) }
                dt { (tr(lang, "授权地区", "Region")) } dd { (region_name(&a.region)) }
                dt { (tr(lang, "推荐人", "Referrer")) } dd { (link(find(a.referrer_id))) }
                dt { (tr(lang, "上级（供货方）", "Supplier")) } dd { (link(find(a.supplier_id))) }
                dt { (tr(lang, "推荐链", "Referral chain")) } dd {
                    @for (i, r) in chain.iter().filter(|r| r.id != a.id).enumerate() {
                        @if i > 0 { " ← " }
                        a href=(format!("{HERE}/{}", r.id)) { (r.name) }
                    }
                }
                dt { (tr(lang, "加入时间", "Joined")) } dd { (a.joined_at.format("%Y-%m-%d")) }
                dt { (tr(lang, "激活时间", "Activated")) } dd { (a.activated_at.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()) }
                dt { (tr(lang, "授权证书", "Certificate")) } dd {
                    @if let Some(c) = &certificate {
                        a href=(format!("/a/{}", c.code)) { (c.code) } " · "
                        (tr(lang, "有效期至", "valid until")) " " (c.valid_until.format("%Y-%m-%d"))
                    } @else { (tr(lang, "未发放", "none issued")) }
                }
            }
            @if manages {
                @if a.status == AgentStatus::Active {
                    form.inline method="post" action=(format!("{HERE}/{}/suspend", a.id)) {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="text" name="reason" required maxlength="500" placeholder=(tr(lang, "暂停原因", "Reason"));
                        button type="submit" id="suspend" { (tr(lang, "暂停代理", "Suspend")) }
                    }
                } @else if a.status == AgentStatus::Suspended {
                    form.inline method="post" action=(format!("{HERE}/{}/reinstate", a.id)) {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" id="reinstate" { (tr(lang, "恢复代理", "Reinstate")) }
                    }
                }
            }
        }
        @if manages {
            (manage(lang, &csrf, &a, &policy, province, referrer_q.as_deref(), &candidates))
        }
        @if sees_money {
            div.card id="agent-accounts" {
                h2 { (tr(lang, "钱包", "Wallets")) }
                dl {
                    @for acc in &accounts {
                        dt { @if acc.wallet == "available" { (tr(lang, "可提现", "Available")) } @else { (tr(lang, "冻结中", "Frozen")) } }
                        dd { (yuan(acc.balance_cents)) }
                    }
                }
            }
        }
        div.card id="agent-orders" {
            h2 { (tr(lang, "最近订单", "Latest orders")) }
            table {
                thead { tr {
                    th { (tr(lang, "订单", "Order")) } th.num { (tr(lang, "数量", "Qty")) }
                    th.num { (tr(lang, "金额", "Amount")) } th { (tr(lang, "状态", "State")) }
                    th { (tr(lang, "下单时间", "Placed")) }
                } }
                tbody {
                    @for o in &orders {
                        tr data-order=(o.id) {
                            td { (o.id) } td.num { (o.quantity) } td.num { (yuan(o.goods_amount_cents)) }
                            td { (words::order_state(lang, o.state)) }
                            td { (o.created_at.format("%Y-%m-%d %H:%M")) }
                        }
                    }
                }
            }
        }
        div.card id="agent-withdrawals" {
            h2 { (tr(lang, "提现", "Withdrawals")) }
            @for w in &withdrawals.rows {
                div data-withdrawal=(w.id) { (w.requested_at.format("%Y-%m-%d")) " · " (yuan(w.amount_cents)) " · " (words::withdrawal_status(lang, w.status)) }
            }
        }
        div.card id="agent-levels" {
            h2 { (tr(lang, "等级变化", "Level history")) }
            @if levels.is_empty() { p.muted { (tr(lang, "没有等级变化。", "No level changes.")) } }
            @for l in &levels {
                div { (l.assessed_on) " · " (match lang { Lang::Zh => &l.summary_zh, Lang::En => &l.summary_en }) }
            }
        }
    };
    let switch = format!("{here}?lang={}", lang.other().param());
    hq_desk::respond(
        lang,
        &caller,
        &here,
        &a.name,
        &switch,
        q.contains_key("lang"),
        body,
    )
}

/// HQ admin's changes to an agent: its region (GB/T 2260, province first as a GET, then the
/// province, a city or a district), its referrer (a name or phone search, then one click on the
/// agent found) and a certificate with its validity. All without JavaScript.
fn manage(
    lang: Lang,
    csrf: &str,
    a: &AgentRow,
    policy: &Policy,
    province: Option<crate::domain::diversion::RegionCode>,
    referrer_q: Option<&str>,
    candidates: &[AgentRow],
) -> Markup {
    let here = format!("{HERE}/{}", a.id);
    let book = regions();
    // The agent's own province and region are picked until another province is asked for.
    let current = book.known(&a.region);
    let province = province.or_else(|| current.map(|c| c.province()));
    html! {
        div.card id="manage" {
            h2 { (tr(lang, "调整代理", "Change this agent")) }
            h3 { (tr(lang, "授权地区", "Region")) }
            form.inline method="get" action=(format!("{here}#manage")) id="region-province" {
                select name="province" id="province" aria-label=(tr(lang, "省份", "Province")) {
                    @for p in book.provinces() {
                        @if Some(p.code) == province { option value=(p.code) selected { (p.name) } }
                        @else { option value=(p.code) { (p.name) } }
                    }
                }
                button type="submit" id="pick-province" { (tr(lang, "选择省份", "Pick the province")) }
            }
            @if let Some(province) = province {
                form.inline method="post" action=(format!("{here}/region")) id="region-form" {
                    input type="hidden" name="csrf" value=(csrf);
                    select name="region" id="region" aria-label=(tr(lang, "地区", "Region")) {
                        option value=(province) selected[current == Some(province)] { (book.full_name(province)) " " (tr(lang, "（全省）", "(whole province)")) }
                        @for r in book.within(province) {
                            @if r.code.level() == Level::City {
                                option value=(r.code) selected[current == Some(r.code)] { (book.full_name(r.code)) " " (tr(lang, "（全市）", "(whole city)")) }
                            } @else {
                                option value=(r.code) selected[current == Some(r.code)] { (book.full_name(r.code)) }
                            }
                        }
                    }
                    button type="submit" id="set-region" { (tr(lang, "设为授权地区", "Set the region")) }
                }
            }
            h3 { (tr(lang, "推荐人", "Referrer")) }
            form.inline method="get" action=(format!("{here}#manage")) id="referrer-search" {
                input type="text" name="referrer_q" id="referrer-q" value=(referrer_q.unwrap_or("")) placeholder=(tr(lang, "姓名或手机号", "Name or phone"));
                button type="submit" { (tr(lang, "查找代理", "Find the agent")) }
            }
            @if referrer_q.is_some() && candidates.is_empty() { p.muted { (tr(lang, "没有找到代理", "No agent found")) } }
            @for r in candidates {
                form.inline method="post" action=(format!("{here}/referrer")) data-candidate=(r.id) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="referrer" value=(r.id);
                    (r.name) " · " (words::tier_by_rank(lang, policy, r.tier_rank)) " · " (region_name(&r.region)) " "
                    button type="submit" { (tr(lang, "设为推荐人", "Make the referrer")) }
                }
            }
            p.muted { (tr(lang, "改推荐人会重新计算其下级的供货方；已下的订单不变。",
                "A new referrer recomputes the suppliers below; orders already placed keep theirs.")) }
            @if a.is_active() {
                h3 { (tr(lang, "授权证书", "Certificate")) }
                form.inline method="post" action=(format!("{here}/certificate")) id="certificate-form" {
                    input type="hidden" name="csrf" value=(csrf);
                    label { (tr(lang, "有效天数", "Valid for days")) " " input type="text" inputmode="numeric" name="days" id="certificate-days" value="365" maxlength="4"; }
                    " "
                    button type="submit" id="issue-certificate" { (tr(lang, "发放证书", "Issue a certificate")) }
                }
            }
        }
    }
}

/// `POST /hq/agents/{id}/{suspend|reinstate|region|referrer|certificate}` (HQ admin).
pub async fn act(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((id, action)): Path<(i64, String)>,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let here = format!("{HERE}/{id}");
    let (_, actor) = match hq_desk::form_gate(
        &state,
        lang,
        caller,
        &here,
        Permission::ManageAgents,
        &form,
    )
    .await
    {
        Ok(v) => v,
        Err(r) => return r,
    };
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (reason, region, referrer, days) = (
        field("reason"),
        field("region"),
        field("referrer"),
        field("days"),
    );
    let done = state
        .db
        .write(move |c| {
            Ok(match action.as_str() {
                "suspend" => {
                    let a = agent_cases::suspend(c, id, &reason, actor.user())?;
                    format!("{} · {}", a.name, words::agent_status(lang, a.status))
                }
                "reinstate" => {
                    let a = agent_cases::reinstate(c, id, actor.user())?;
                    format!("{} · {}", a.name, words::agent_status(lang, a.status))
                }
                "region" => {
                    let a = agent_cases::set_region(c, id, &region, actor.user())?;
                    format!(
                        "{} · {} {}",
                        a.name,
                        tr(lang, "授权地区改为", "region set to"),
                        region_name(&a.region)
                    )
                }
                "referrer" => {
                    let to = referrer.trim().parse::<i64>().map_err(|_| {
                        crate::error::Error::BadRequest(
                            tr(
                                lang,
                                "请先查找并选择一位代理。",
                                "Find and pick an agent first.",
                            )
                            .into(),
                        )
                    })?;
                    let a = agent_cases::correct_referrer(c, id, to, actor.user())?;
                    let name = agent_store::get(c, to)?.name;
                    format!(
                        "{} · {} {name}",
                        a.name,
                        tr(lang, "推荐人改为", "referrer set to")
                    )
                }
                "certificate" => {
                    let days = days
                        .trim()
                        .parse::<u32>()
                        .ok()
                        .filter(|d| (1..=1095).contains(d));
                    let Some(days) = days else {
                        return Err(crate::error::Error::BadRequest(
                            tr(
                                lang,
                                "有效天数应为 1 到 1095。",
                                "Valid days must be 1 to 1095.",
                            )
                            .into(),
                        ));
                    };
                    let cert = crate::joining::certificates::issue(c, actor, id, Some(days))?;
                    format!(
                        "{} {} · {} {}",
                        tr(lang, "已发放授权证书", "Certificate issued:"),
                        cert.code,
                        tr(lang, "有效期至", "valid until"),
                        cert.valid_until.format("%Y-%m-%d")
                    )
                }
                _ => return Err(crate::error::Error::not_found("action")),
            })
        })
        .await;
    match done {
        Ok(notice) => see_other(&hq_desk::href(&here, &[("notice", &notice)])),
        Err(e) => staff::error_page(lang, e),
    }
}
