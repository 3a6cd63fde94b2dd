//! Scan marketing (`/hq/marketing`, 扫码营销, issue 21): HQ's campaigns searched, filtered by
//! state and paged, with their budget used; and the new campaign form (products, batches,
//! regions, a window in China time, a budget, a daily limit per consumer, and the reward: points,
//! a coupon, fixed or random cash, or a lottery of up to eight prizes). Every field is checked by
//! the domain's `CampaignDraft::check` and a problem is shown next to its field, in the page's
//! language, with what was typed kept. Reading asks `ReadCampaigns`, creating `ManageCampaigns`:
//! the API's permissions.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDateTime, Timelike};
use maud::{Markup, html};
use rust_decimal::Decimal;

use super::agent_i18n::refusal_words;
use super::form_key::{self, FormTarget};
use super::hq_desk::{self, PER_PAGE, param};
use super::hq_i18n::tr;
use super::i18n::Lang;
use super::staff;
use crate::app::AppState;
use crate::auth::{Caller, MaybeCaller};
use crate::campaign_desk::{self as cases, PrizeInput, from_china, in_china, yuan};
use crate::diversion::views::region_name;
use crate::domain::Permission;
use crate::domain::Refusal;
use crate::domain::marketing::{
    ALL_ODDS, CampaignDraft, CampaignState, MAX_PRIZES, MarketingError, PrizeKind, Scope,
};
use crate::store::campaigns::{self as store, CampaignRow};
use crate::store::products::{self, Product};

pub const HERE: &str = "/hq/marketing";
pub const READ: Permission = Permission::ReadCampaigns;
pub const WRITE: Permission = Permission::ManageCampaigns;
/// Products offered in the form.
const PRODUCTS_LISTED: i64 = 500;
/// How a time is typed and shown (China time).
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M";

/// A campaign's state in words.
pub fn state_words(lang: Lang, s: CampaignState) -> &'static str {
    match s {
        CampaignState::Draft => tr(lang, "草稿", "Draft"),
        CampaignState::Running => tr(lang, "进行中", "Running"),
        CampaignState::Paused => tr(lang, "已暂停", "Paused"),
        CampaignState::Ended => tr(lang, "已结束", "Ended"),
    }
}

/// A prize's kind in words.
pub fn kind_words(lang: Lang, k: PrizeKind) -> &'static str {
    match k {
        PrizeKind::Points => tr(lang, "积分", "Points"),
        PrizeKind::Coupon => tr(lang, "优惠券", "Coupon"),
        PrizeKind::Cash => tr(lang, "现金红包", "Cash"),
    }
}

/// `2026-12-08 10:00` in China time.
pub fn china_time(utc: NaiveDateTime) -> String {
    in_china(utc).format(TIME_FORMAT).to_string()
}

/// A time typed in China time (`2026-12-08 10:00`, or the `T` of a datetime field).
fn parse_time(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim().replace('T', " ");
    NaiveDateTime::parse_from_str(&t, TIME_FORMAT)
        .or_else(|_| NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S"))
        .ok()
        .map(from_china)
}

/// `GET /hq/marketing`.
pub async fn list(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let (caller, _) = match hq_desk::gate(&state, lang, caller, HERE, READ).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    render(&state, lang, &caller, &q, None, StatusCode::OK).await
}

/// The typed form and the problems found, by field name.
struct Refused {
    typed: BTreeMap<String, String>,
    problems: BTreeMap<String, String>,
}

async fn render(
    state: &AppState,
    lang: Lang,
    caller: &Caller,
    q: &BTreeMap<String, String>,
    refused: Option<Refused>,
    status: StatusCode,
) -> Response {
    let search = param(q, "q").unwrap_or("").to_string();
    let filter = param(q, "state")
        .and_then(CampaignState::parse)
        .map(CampaignState::as_str)
        .unwrap_or("")
        .to_string();
    let page = hq_desk::page_number(q);
    let (s2, f2) = (search.clone(), filter.clone());
    let may_write = caller.role.allows(WRITE);
    let loaded = state
        .db
        .run(move |c| {
            let list = store::page(
                c,
                Some(s2.as_str()),
                CampaignState::parse(&f2),
                hq_desk::offset(page),
                PER_PAGE,
            )?;
            let products = if may_write {
                products::page(c, None, 0, PRODUCTS_LISTED)?.rows
            } else {
                Vec::new()
            };
            Ok((list, products))
        })
        .await;
    let (list, product_rows) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let keep = [("q", search.as_str()), ("state", filter.as_str())];
    let states: Vec<(&str, &str)> = std::iter::once(("", tr(lang, "全部", "All")))
        .chain(
            [
                CampaignState::Draft,
                CampaignState::Running,
                CampaignState::Paused,
                CampaignState::Ended,
            ]
            .into_iter()
            .map(|s| (s.as_str(), state_words(lang, s))),
        )
        .collect();
    let body = html! {
        @if let Some(n) = param(q, "notice") { div.card.verdict.ok id="notice" { (n) } }
        div.card id="campaigns" {
            (hq_desk::tabs(HERE, "state", &filter, &states, &[("q", search.as_str())]))
            form.inline method="get" action=(HERE) {
                input type="hidden" name="state" value=(filter);
                input type="text" name="q" id="search" value=(search) placeholder=(tr(lang, "活动名称", "Campaign name"));
                button type="submit" { (tr(lang, "搜索", "Search")) }
            }
            @if list.rows.is_empty() { p.muted id="no-campaigns" { (tr(lang, "没有符合条件的活动", "No campaigns match")) } }
            @else {
                table {
                    thead { tr {
                        th { (tr(lang, "活动", "Campaign")) } th { (tr(lang, "状态", "State")) }
                        th { (tr(lang, "开始（北京时间）", "Starts (China time)")) }
                        th { (tr(lang, "结束", "Ends")) }
                        th { (tr(lang, "奖励", "Reward")) }
                        th.num { (tr(lang, "已用预算", "Budget used")) }
                    } }
                    tbody {
                        @for c in &list.rows {
                            tr data-campaign=(c.id) {
                                td.wrap { a href=(format!("{HERE}/{}", c.id)) { (c.name) } }
                                td { (state_words(lang, c.state)) }
                                td { (china_time(c.starts_at)) }
                                td { (china_time(c.ends_at)) }
                                td { @if c.lottery { (tr(lang, "抽奖", "Lottery")) } @else { (tr(lang, "每次扫码", "Every scan")) } }
                                td.num { (budget_used(c)) }
                            }
                        }
                    }
                }
            }
            (hq_desk::pager(lang, HERE, &keep, page, list.more))
        }
        @if may_write {
            (new_form(lang, caller, &product_rows, refused.as_ref()))
        }
    };
    let switch = hq_desk::href(
        HERE,
        &[
            ("q", &search),
            ("state", &filter),
            ("lang", lang.other().param()),
        ],
    );
    let mut response = hq_desk::respond(
        lang,
        caller,
        HERE,
        tr(lang, "扫码营销", "Scan marketing"),
        &switch,
        q.contains_key("lang"),
        body,
    );
    *response.status_mut() = status;
    response
}

/// `¥ spent / ¥ budget`.
pub fn budget_used(c: &CampaignRow) -> String {
    format!("¥{} / ¥{}", yuan(c.spent_cents), yuan(c.budget_cents))
}

/// The new campaign form, with what was typed and the problems next to their fields.
fn new_form(
    lang: Lang,
    caller: &Caller,
    products: &[Product],
    refused: Option<&Refused>,
) -> Markup {
    let empty = BTreeMap::new();
    let (typed, problems) = refused.map_or((&empty, &empty), |r| (&r.typed, &r.problems));
    let v = |k: &str| typed.get(k).cloned().unwrap_or_default();
    let now_china = in_china(crate::store::users::now());
    let default_start = now_china
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .unwrap_or(now_china);
    let value_or = |k: &str, d: String| if refused.is_some() { v(k) } else { d };
    let err = |k: &str| {
        html! {
            @if let Some(p) = problems.get(k) {
                span.bad.field-problem id=(format!("problem-{k}")) role="alert" style="display:block;color:#b91c1c" { (p) }
            }
        }
    };
    let reward = value_or("reward", "points".into());
    let rewards = [
        (
            "points",
            tr(lang, "积分（每次扫码）", "Points (every scan)"),
        ),
        (
            "coupon",
            tr(lang, "优惠券（每次扫码）", "Coupon (every scan)"),
        ),
        (
            "cash_fixed",
            tr(lang, "固定金额红包", "Cash, a fixed amount"),
        ),
        (
            "cash_range",
            tr(lang, "随机金额红包", "Cash, a random amount"),
        ),
        (
            "lottery",
            tr(lang, "抽奖（最多 8 个奖品）", "Lottery (up to 8 prizes)"),
        ),
    ];
    let kinds = [PrizeKind::Points, PrizeKind::Coupon, PrizeKind::Cash];
    html! {
        div.card id="new-campaign" {
            h2 { (tr(lang, "新建活动", "New campaign")) }
            @if !problems.is_empty() {
                p.verdict.bad id="new-campaign-problem" role="alert" {
                    (tr(lang, "活动没有保存：请按红字修改。", "The campaign was not saved: fix what is marked in red."))
                }
            }
            form method="post" action=(format!("{HERE}/new")) id="campaign-form" {
                input type="hidden" name="csrf" value=(caller.csrf());
                (form_key::field())
                p {
                    label { (tr(lang, "活动名称", "Name")) " "
                        input type="text" name="name" id="c-name" maxlength="80" value=(v("name")) style="width:24rem"; }
                    (err("name"))
                }
                fieldset {
                    legend { (tr(lang, "适用商品（不选即全部）", "Products (none ticked: all)")) }
                    @for p in products {
                        @let key = format!("sku.{}", p.sku);
                        label style="margin-right:1rem;white-space:nowrap" {
                            input type="checkbox" name=(key) value="on" checked[typed.contains_key(&key)] data-sku=(p.sku);
                            " " (match (lang, &p.name_en) { (Lang::En, Some(en)) => en.clone(), _ => p.name.clone() }) " (" (p.sku) ")"
                        }
                    }
                    @if products.is_empty() { span.muted { (tr(lang, "还没有商品", "No products yet")) } }
                }
                p {
                    label { (tr(lang, "批次（可选，空格分隔）", "Batches (optional, separated by spaces)")) " "
                        input type="text" name="batches" id="c-batches" value=(v("batches")) style="width:24rem"; }
                }
                p {
                    label { (tr(lang, "地区（GB/T 2260 代码，空格分隔；不填即全国）", "Regions (GB/T 2260 codes separated by spaces; empty: all of China)")) " "
                        input type="text" name="regions" id="c-regions" value=(v("regions")) placeholder="440000 310000" style="width:20rem"; }
                    @let named: Vec<String> = v("regions").split([' ', ',', '，']).filter(|s| !s.is_empty()).map(region_name).collect();
                    @if !named.is_empty() { span.muted id="region-names" { " " (named.join("、")) } }
                    (err("regions"))
                }
                p {
                    label { (tr(lang, "开始（北京时间）", "Starts (China time)")) " "
                        input type="text" name="starts" id="c-starts" value=(value_or("starts", default_start.format(TIME_FORMAT).to_string())) placeholder="2026-12-12 00:00" style="width:11rem"; }
                    " "
                    label { (tr(lang, "结束", "Ends")) " "
                        input type="text" name="ends" id="c-ends" value=(value_or("ends", (default_start + chrono::Duration::days(30)).format(TIME_FORMAT).to_string())) placeholder="2026-12-31 23:59" style="width:11rem"; }
                    (err("starts")) (err("ends"))
                }
                p {
                    label { (tr(lang, "总预算（元）", "Budget (yuan)")) " "
                        input type="text" name="budget" id="c-budget" inputmode="decimal" value=(v("budget")) style="width:8rem"; }
                    " "
                    label { (tr(lang, "每人每天最多领取", "Claims per consumer a day")) " "
                        input type="text" name="daily_limit" id="c-daily-limit" inputmode="numeric" value=(value_or("daily_limit", "3".into())) style="width:4rem"; }
                    (err("budget")) (err("daily_limit"))
                }
                fieldset {
                    legend { (tr(lang, "奖励", "Reward")) }
                    label { (tr(lang, "方式", "Kind")) " "
                        select name="reward" id="c-reward" {
                            @for (value, words) in rewards {
                                option value=(value) selected[reward == value] { (words) }
                            }
                        }
                    }
                    " "
                    label { (tr(lang, "积分数或金额（元）", "Points, or amount (yuan)")) " "
                        input type="text" name="value" id="c-value" value=(v("value")) style="width:7rem"; }
                    " "
                    label { (tr(lang, "随机金额上限（元）", "Random amount up to (yuan)")) " "
                        input type="text" name="value_max" id="c-value-max" value=(v("value_max")) style="width:7rem"; }
                    (err("reward")) (err("value"))
                    p.muted { (tr(lang,
                        "抽奖时填写下面的奖品表，上面的金额不用填。概率按百分比，合计不超过 100%；库存不填即只受预算限制。随机红包在奖品表里写成 1.00-5.00。",
                        "For a lottery fill in the prizes below instead of the amount above. Odds are percentages adding up to at most 100%; an empty stock is limited by the budget only. A random cash prize is written 1.00-5.00.")) }
                    table id="prizes" {
                        thead { tr {
                            th { "#" } th { (tr(lang, "奖品名称", "Prize")) } th { (tr(lang, "类型", "Kind")) }
                            th { (tr(lang, "积分数或金额（元）", "Points or yuan")) } th { (tr(lang, "中奖概率 %", "Odds %")) }
                            th { (tr(lang, "库存", "Stock")) }
                        } }
                        tbody {
                            @for n in 1..=MAX_PRIZES {
                                @let k = |f: &str| format!("p{n}_{f}");
                                tr {
                                    td { (n) }
                                    td { input type="text" name=(k("name")) id=(k("name")) value=(v(&k("name"))) maxlength="40" style="width:10rem"; (err(&k("name"))) }
                                    td { select name=(k("kind")) id=(k("kind")) {
                                        @for kind in kinds {
                                            option value=(kind.as_str()) selected[v(&k("kind")) == kind.as_str()] { (kind_words(lang, kind)) }
                                        }
                                    } }
                                    td { input type="text" name=(k("value")) id=(k("value")) value=(v(&k("value"))) style="width:7rem"; (err(&k("value"))) }
                                    td { input type="text" name=(k("odds")) id=(k("odds")) value=(v(&k("odds"))) style="width:5rem"; (err(&k("odds"))) }
                                    td { input type="text" name=(k("stock")) id=(k("stock")) value=(v(&k("stock"))) style="width:5rem"; (err(&k("stock"))) }
                                }
                            }
                        }
                    }
                    (err("prizes"))
                }
                button type="submit" id="create-campaign" { (tr(lang, "保存为草稿", "Save as a draft")) }
                span.muted { " " (tr(lang, "保存后在活动页开始。", "Start it from the campaign's page once saved.")) }
            }
        }
    }
}

/// A domain refusal in the page's words, prefixed by the prize it is about.
fn marketing_words(lang: Lang, e: &MarketingError) -> String {
    let (zh, en) = refusal_words(e.code());
    let words = tr(lang, zh, en);
    match e {
        MarketingError::PrizeName(n)
        | MarketingError::PrizeValue(n)
        | MarketingError::PrizeOverBudget(n)
        | MarketingError::Stock(n) => match lang {
            Lang::Zh => format!("第 {n} 个奖品：{words}"),
            Lang::En => format!("Prize {n}: {words}"),
        },
        MarketingError::Region(code) | MarketingError::Sku(code) => format!("{code}: {words}"),
        _ => words.to_string(),
    }
}

/// The field a refusal is shown next to.
fn field_of(e: &MarketingError, lottery: bool) -> String {
    match e {
        MarketingError::Name => "name".into(),
        MarketingError::Window => "ends".into(),
        MarketingError::Budget => "budget".into(),
        MarketingError::DailyLimit => "daily_limit".into(),
        MarketingError::Region(_) => "regions".into(),
        MarketingError::Sku(_) => "skus".into(),
        MarketingError::Odds if lottery => "prizes".into(),
        MarketingError::PrizeName(n) if lottery => format!("p{n}_name"),
        MarketingError::PrizeValue(n) | MarketingError::PrizeOverBudget(n) if lottery => {
            format!("p{n}_value")
        }
        MarketingError::Stock(n) if lottery => format!("p{n}_stock"),
        MarketingError::PrizeValue(_) | MarketingError::PrizeOverBudget(_) => "value".into(),
        _ => "reward".into(),
    }
}

/// The campaign the form asks for, or the problems by field.
fn draft_of(
    lang: Lang,
    form: &BTreeMap<String, String>,
) -> Result<CampaignDraft, BTreeMap<String, String>> {
    let get = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or("");
    let mut problems = BTreeMap::new();
    let mut problem = |k: &str, e: &MarketingError| {
        problems
            .entry(k.to_string())
            .or_insert_with(|| marketing_words(lang, e));
    };
    let list = |k: &str| -> Vec<String> {
        get(k)
            .split([' ', ',', '，', '\n'])
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let time = |k: &str| parse_time(get(k));
    let (starts, ends) = (time("starts"), time("ends"));
    let bad_time = tr(
        lang,
        "请按 年-月-日 时:分 填写北京时间，例如 2026-12-12 08:00。",
        "Give the China time as year-month-day hour:minute, e.g. 2026-12-12 08:00.",
    );
    let mut time_problems = Vec::new();
    if starts.is_none() {
        time_problems.push("starts");
    }
    if ends.is_none() {
        time_problems.push("ends");
    }
    let budget: Option<Decimal> = get("budget").trim_start_matches('¥').parse().ok();
    if budget.is_none() {
        problem("budget", &MarketingError::Budget);
    }
    let daily_limit: Option<i32> = get("daily_limit").parse().ok();
    if daily_limit.is_none() {
        problem("daily_limit", &MarketingError::DailyLimit);
    }
    let reward = get("reward");
    let lottery = reward == "lottery";
    let mut prizes = Vec::new();
    // The form's row of each prize (rows left empty are skipped), to show a prize's problem on
    // its own row.
    let mut rows: Vec<usize> = Vec::new();
    if lottery {
        for n in 1..=MAX_PRIZES {
            let k = |f: &str| format!("p{n}_{f}");
            let (name, value, odds, stock) = (
                get(&k("name")),
                get(&k("value")),
                get(&k("odds")),
                get(&k("stock")),
            );
            if name.is_empty() && value.is_empty() && odds.is_empty() && stock.is_empty() {
                continue;
            }
            let kind = PrizeKind::parse(get(&k("kind")));
            let odds_bp = odds
                .trim_end_matches('%')
                .parse::<Decimal>()
                .ok()
                .filter(|d| d.normalize().scale() <= 2)
                .and_then(|d| {
                    rust_decimal::prelude::ToPrimitive::to_u32(&(d * Decimal::ONE_HUNDRED))
                });
            let Some(odds_bp) = odds_bp else {
                problem(&k("odds"), &MarketingError::Odds);
                continue;
            };
            let stock = if stock.is_empty() {
                None
            } else if let Ok(s) = stock.parse::<i64>() {
                Some(s)
            } else {
                problem(&k("stock"), &MarketingError::Stock(n));
                continue;
            };
            let (min, max) = match value.split_once('-') {
                Some((a, b)) => (a.trim().to_string(), Some(b.trim().to_string())),
                None => (value.to_string(), None),
            };
            let input = PrizeInput {
                name: name.to_string(),
                kind,
                points: (kind == Some(PrizeKind::Points))
                    .then(|| value.parse().ok())
                    .flatten(),
                min: Some(min),
                max,
                odds_bp,
                stock,
            };
            match input.prize(n) {
                Ok(p) => {
                    prizes.push(p);
                    rows.push(n);
                }
                Err(e) => problem(&k("value"), &e),
            }
        }
    } else {
        let (kind, name, max) = match reward {
            "coupon" => (PrizeKind::Coupon, "优惠券", None),
            "cash_fixed" => (PrizeKind::Cash, "现金红包", None),
            "cash_range" => (
                PrizeKind::Cash,
                "现金红包",
                Some(get("value_max").to_string()),
            ),
            _ => (PrizeKind::Points, "积分", None),
        };
        let input = PrizeInput {
            name: name.to_string(),
            kind: Some(kind),
            points: (kind == PrizeKind::Points)
                .then(|| get("value").parse().ok())
                .flatten(),
            min: Some(get("value").to_string()),
            max,
            odds_bp: ALL_ODDS,
            stock: None,
        };
        match input.prize(1) {
            Ok(p) => prizes.push(p),
            Err(e) => problem("value", &e),
        }
    }
    let skus: Vec<String> = form
        .keys()
        .filter_map(|k| k.strip_prefix("sku."))
        .map(str::to_string)
        .collect();
    for k in &time_problems {
        problems.insert((*k).to_string(), bad_time.to_string());
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let (Some(starts_at), Some(ends_at), Some(budget), Some(daily_limit)) =
        (starts, ends, budget, daily_limit)
    else {
        return Err(problems);
    };
    let draft = CampaignDraft {
        name: get("name").to_string(),
        scope: Scope {
            skus,
            batches: list("batches"),
            regions: list("regions"),
        },
        starts_at,
        ends_at,
        budget,
        daily_limit,
        lottery,
        prizes,
    };
    match cases::check_draft(&draft) {
        Ok(()) => Ok(draft),
        Err(e) => {
            let row = |i: usize| {
                i.checked_sub(1)
                    .and_then(|j| rows.get(j))
                    .copied()
                    .unwrap_or(i)
            };
            let e = match e {
                MarketingError::PrizeName(i) => MarketingError::PrizeName(row(i)),
                MarketingError::PrizeValue(i) => MarketingError::PrizeValue(row(i)),
                MarketingError::PrizeOverBudget(i) => MarketingError::PrizeOverBudget(row(i)),
                MarketingError::Stock(i) => MarketingError::Stock(row(i)),
                other => other,
            };
            let mut problems = BTreeMap::new();
            problems.insert(field_of(&e, lottery), marketing_words(lang, &e));
            Err(problems)
        }
    }
}

/// `POST /hq/marketing/new`: a problem comes back as the page with the form as typed (422); a
/// saved campaign opens its page.
pub async fn create(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, actor) = match hq_desk::form_gate(&state, lang, caller, HERE, WRITE, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let draft = match draft_of(lang, &form) {
        Ok(d) => d,
        Err(problems) => {
            let typed = form
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "csrf" | form_key::FIELD))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            return render(
                &state,
                lang,
                &caller,
                &BTreeMap::new(),
                Some(Refused { typed, problems }),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let done = form_key::write_once(&state.db, caller.user_id, target, &form, move |c| {
        let row = cases::create(c, actor, &draft)?;
        let notice = format!(
            "{}{}",
            tr(lang, "已保存活动：", "Campaign saved: "),
            row.name
        );
        Ok(hq_desk::href(
            &format!("{HERE}/{}", row.id),
            &[("notice", &notice)],
        ))
    })
    .await;
    match done {
        Ok(out) => form_key::redirect(&out),
        Err(e) => super::agent_i18n::error_page(lang, e, HERE).into_response(),
    }
}
