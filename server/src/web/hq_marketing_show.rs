//! One campaign (`/hq/marketing/{id}`): its terms in words, start / pause / end with a
//! confirmation step, its prizes with the stock left, and the dashboard: scans, rewards, claims,
//! cost and conversion by day (a table and a chart) and by province (a tile map of China and a
//! table).

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, PreEscaped, html};

use super::form_key::{self, FormTarget};
use super::hq_desk::{self, param};
use super::hq_i18n::tr;
use super::hq_marketing::{HERE, READ, WRITE, budget_used, china_time, kind_words, state_words};
use super::i18n::Lang;
use super::staff;
use super::svg_chart::{self, Kind, Series};
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::campaign_desk::{self as cases, yuan};
use crate::diversion::regions;
use crate::diversion::views::region_name;
use crate::domain::diversion::RegionCode;
use crate::domain::marketing::{CampaignAction, PrizeKind};
use crate::store::campaigns::{Counts, PrizeRow, ProvinceCounts};

/// Every province of GB/T 2260 (the first two digits of its code, `xx0000`) at its approximate
/// place on a map of China, as `(code, row, column, English name)`; the Chinese name comes from
/// the region book. Rows run north to south, columns west to east: 65 新疆 and 54 西藏 far west,
/// 23 黑龙江 north-east, 46 海南 and 81/82 香港/澳门 south.
const TILES: [(&str, u8, u8, &str); 34] = [
    ("230000", 0, 7, "Heilongjiang"),
    ("650000", 1, 0, "Xinjiang"),
    ("150000", 1, 4, "Inner Mongolia"),
    ("110000", 1, 5, "Beijing"),
    ("220000", 1, 7, "Jilin"),
    ("630000", 2, 1, "Qinghai"),
    ("620000", 2, 2, "Gansu"),
    ("640000", 2, 3, "Ningxia"),
    ("140000", 2, 4, "Shanxi"),
    ("130000", 2, 5, "Hebei"),
    ("120000", 2, 6, "Tianjin"),
    ("210000", 2, 7, "Liaoning"),
    ("540000", 3, 0, "Tibet"),
    ("510000", 3, 2, "Sichuan"),
    ("610000", 3, 3, "Shaanxi"),
    ("410000", 3, 4, "Henan"),
    ("370000", 3, 5, "Shandong"),
    ("500000", 4, 2, "Chongqing"),
    ("420000", 4, 3, "Hubei"),
    ("340000", 4, 4, "Anhui"),
    ("320000", 4, 5, "Jiangsu"),
    ("310000", 4, 6, "Shanghai"),
    ("530000", 5, 1, "Yunnan"),
    ("520000", 5, 2, "Guizhou"),
    ("430000", 5, 3, "Hunan"),
    ("360000", 5, 4, "Jiangxi"),
    ("330000", 5, 5, "Zhejiang"),
    ("450000", 6, 2, "Guangxi"),
    ("440000", 6, 3, "Guangdong"),
    ("350000", 6, 4, "Fujian"),
    ("710000", 6, 5, "Taiwan"),
    ("460000", 7, 2, "Hainan"),
    ("820000", 7, 3, "Macao"),
    ("810000", 7, 4, "Hong Kong"),
];

/// A province's short name: from the region book without its 省/市/自治区 suffix in Chinese,
/// from [`TILES`] in English.
fn province_name(lang: Lang, code: &str) -> String {
    if lang == Lang::En
        && let Some((_, _, _, en)) = TILES.iter().find(|t| t.0 == code)
    {
        return (*en).to_string();
    }
    let full = RegionCode::parse(code)
        .and_then(|c| regions().get(c))
        .map(|r| r.name.clone())
        .unwrap_or_else(|| region_name(code));
    let mut short = full.clone();
    for suffix in [
        "维吾尔自治区",
        "壮族自治区",
        "回族自治区",
        "特别行政区",
        "自治区",
        "省",
        "市",
    ] {
        if let Some(s) = full.strip_suffix(suffix) {
            short = s.to_string();
            break;
        }
    }
    short
}

/// `part / whole` as a percentage with one decimal, or a dash.
fn rate(part: i64, whole: i64) -> String {
    if whole <= 0 {
        "–".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

fn action_words(lang: Lang, a: CampaignAction) -> (&'static str, &'static str) {
    match a {
        CampaignAction::Start => (
            tr(lang, "开始活动", "Start the campaign"),
            tr(
                lang,
                "开始后，活动时间内首次查验为正品的码将按规则发放奖励，费用计入预算。",
                "Once started, every code verified genuine for the first time within the window draws a reward, charged to the budget.",
            ),
        ),
        CampaignAction::Pause => (
            tr(lang, "暂停活动", "Pause the campaign"),
            tr(
                lang,
                "暂停期间扫码不发奖励；可以随时再开始。",
                "While paused no scan is rewarded; it can be started again.",
            ),
        ),
        CampaignAction::End => (
            tr(lang, "结束活动", "End the campaign"),
            tr(
                lang,
                "结束后不能再开始。已发放的奖励仍可领取。",
                "An ended campaign cannot run again. Rewards already drawn can still be claimed.",
            ),
        ),
    }
}

fn prize_value(lang: Lang, p: &PrizeRow) -> String {
    match p.kind {
        PrizeKind::Points => format!("{} {}", p.points, tr(lang, "积分", "points")),
        PrizeKind::Coupon => format!("¥{}", yuan(p.min_cents)),
        PrizeKind::Cash if p.min_cents == p.max_cents => format!("¥{}", yuan(p.min_cents)),
        PrizeKind::Cash => format!("¥{} – ¥{}", yuan(p.min_cents), yuan(p.max_cents)),
    }
}

/// `GET /hq/marketing/{id}` (`?confirm=start|pause|end` shows the confirmation step).
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let here = format!("{HERE}/{id}");
    let (caller, actor) = match hq_desk::gate(&state, lang, caller, &here, READ).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let loaded = state
        .db
        .run(move |c| {
            let view = cases::get(c, actor, id)?;
            let (days, provinces) = cases::dashboard(c, actor, id)?;
            Ok((view, days, provinces))
        })
        .await;
    let (view, days, provinces) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let c = &view.campaign;
    let may_write = caller.role.allows(WRITE);
    let asked = param(&q, "confirm")
        .and_then(CampaignAction::parse)
        .filter(|a| may_write && a.apply(c.state).is_ok());
    let scope = c.scope();
    let all = tr(lang, "全部", "All");
    let body = html! {
        p { a href=(HERE) { "← " (tr(lang, "全部活动", "All campaigns")) } }
        @if let Some(n) = param(&q, "notice") {
            @if q.contains_key("bad") { div.card.verdict.bad id="notice" { (n) } }
            @else { div.card.verdict.ok id="notice" { (n) } }
        }
        @if let Some(a) = asked {
            @let (heading, detail) = action_words(lang, a);
            div.card.verdict.warn id="confirm" {
                h2 { (heading) "？" }
                p { (detail) }
                form method="post" action=(format!("{here}/{}", a.as_str())) {
                    input type="hidden" name="csrf" value=(caller.csrf());
                    (form_key::field())
                    button type="submit" id="confirm-button" { (tr(lang, "确认", "Confirm")) }
                    " " a href=(here) id="cancel" { (tr(lang, "取消", "Cancel")) }
                }
            }
        }
        div.card id="campaign" data-state=(c.state.as_str()) {
            h2 { (c.name) }
            dl {
                dt { (tr(lang, "状态", "State")) } dd id="state" { (state_words(lang, c.state)) }
                dt { (tr(lang, "时间（北京时间）", "Window (China time)")) }
                dd { (china_time(c.starts_at)) " – " (china_time(c.ends_at)) }
                dt { (tr(lang, "预算", "Budget")) } dd id="budget" { (budget_used(c)) }
                dt { (tr(lang, "每人每天最多领取", "Claims per consumer a day")) } dd { (c.daily_limit) }
                dt { (tr(lang, "商品", "Products")) }
                dd { @if scope.skus.is_empty() { (all) } @else { (scope.skus.join("、")) } }
                dt { (tr(lang, "批次", "Batches")) }
                dd { @if scope.batches.is_empty() { (all) } @else { (scope.batches.join("、")) } }
                dt { (tr(lang, "地区", "Regions")) }
                dd id="regions" { @if scope.regions.is_empty() { (tr(lang, "全国", "All of China")) }
                    @else { (scope.regions.iter().map(|r| region_name(r)).collect::<Vec<_>>().join("、")) } }
                dt { (tr(lang, "方式", "Kind")) }
                dd { @if c.lottery { (tr(lang, "抽奖", "Lottery")) } @else { (tr(lang, "每次首次查验均有奖励", "Every first verification wins")) } }
            }
            @if may_write {
                p id="actions" {
                    @for a in [CampaignAction::Start, CampaignAction::Pause, CampaignAction::End] {
                        @if a.apply(c.state).is_ok() {
                            a href=(format!("{here}?confirm={}", a.as_str())) data-action=(a.as_str()) style="margin-right:1rem" { (action_words(lang, a).0) }
                        }
                    }
                }
            }
        }
        div.card id="prizes" {
            h2 { (tr(lang, "奖品", "Prizes")) }
            table {
                thead { tr {
                    th { "#" } th { (tr(lang, "奖品", "Prize")) } th { (tr(lang, "类型", "Kind")) }
                    th { (tr(lang, "价值", "Value")) } th.num { (tr(lang, "中奖概率", "Odds")) }
                    th.num { (tr(lang, "库存", "Stock")) } th.num { (tr(lang, "剩余", "Left")) }
                } }
                tbody {
                    @for p in &view.prizes {
                        tr data-prize=(p.position) {
                            td { (p.position) } td { (p.name) } td { (kind_words(lang, p.kind)) }
                            td { (prize_value(lang, p)) }
                            td.num { (format!("{:.2}%", p.odds_bp as f64 / 100.0)) }
                            td.num { @match p.stock { Some(s) => (s), None => (tr(lang, "不限", "No limit")) } }
                            td.num { @match p.remaining { Some(s) => (s), None => "–" } }
                        }
                    }
                }
            }
        }
        (dashboard(lang, &view.totals, &days, &provinces))
    };
    let switch = hq_desk::href(&here, &[("lang", lang.other().param())]);
    hq_desk::respond(
        lang,
        &caller,
        &here,
        &c.name,
        &switch,
        q.contains_key("lang"),
        body,
    )
}

fn counts_cells(c: &Counts) -> Markup {
    html! {
        td.num { (c.scans) } td.num { (c.rewards) } td.num { (c.claimed) }
        td.num { "¥" (yuan(c.cost_cents)) }
        td.num { (rate(c.rewards, c.scans)) } td.num { (rate(c.claimed, c.scans)) }
    }
}

fn counts_heads(lang: Lang) -> Markup {
    html! {
        th.num { (tr(lang, "扫码", "Scans")) } th.num { (tr(lang, "中奖", "Rewards")) }
        th.num { (tr(lang, "已领取", "Claimed")) } th.num { (tr(lang, "费用", "Cost")) }
        th.num { (tr(lang, "中奖率", "Rewards / scans")) } th.num { (tr(lang, "领取率", "Claimed / scans")) }
    }
}

fn dashboard(
    lang: Lang,
    totals: &Counts,
    days: &[crate::store::campaigns::DayCounts],
    provinces: &[ProvinceCounts],
) -> Markup {
    let labels: Vec<String> = days
        .iter()
        .map(|d| d.day.format("%m-%d").to_string())
        .collect();
    let series = |f: fn(&Counts) -> i64| days.iter().map(|d| f(&d.counts)).collect::<Vec<_>>();
    let (scans, rewards, claimed) = (
        series(|c| c.scans),
        series(|c| c.rewards),
        series(|c| c.claimed),
    );
    let chart = svg_chart::chart(
        Kind::Line,
        tr(
            lang,
            "每日扫码、中奖、领取",
            "Scans, rewards and claims per day",
        ),
        &labels,
        &[
            Series {
                name: tr(lang, "扫码", "Scans"),
                values: &scans,
                color: "#1d4ed8",
            },
            Series {
                name: tr(lang, "中奖", "Rewards"),
                values: &rewards,
                color: "#d97706",
            },
            Series {
                name: tr(lang, "已领取", "Claimed"),
                values: &claimed,
                color: "#15803d",
            },
        ],
    );
    html! {
        div.card id="dashboard" {
            h2 { (tr(lang, "数据看板", "Dashboard")) }
            table id="totals" {
                thead { tr { (counts_heads(lang)) } }
                tbody { tr { (counts_cells(totals)) } }
            }
            div id="day-chart" style="max-width:40rem;margin:1rem 0" { (PreEscaped(chart)) }
            h3 { (tr(lang, "按日（北京时间）", "By day (China time)")) }
            @if days.is_empty() { p.muted { (tr(lang, "还没有扫码", "No scans yet")) } }
            @else {
                table id="by-day" {
                    thead { tr { th { (tr(lang, "日期", "Day")) } (counts_heads(lang)) } }
                    tbody { @for d in days { tr { td { (d.day.format("%Y-%m-%d")) } (counts_cells(&d.counts)) } } }
                }
            }
        }
        div.card id="by-region" {
            h2 { (tr(lang, "按地区", "By region")) }
            div style="display:flex;gap:2rem;align-items:flex-start;flex-wrap:wrap" {
                (tile_map(lang, provinces))
                div style="flex:1;min-width:28rem" {
                    @if provinces.is_empty() { p.muted { (tr(lang, "还没有扫码", "No scans yet")) } }
                    @else {
                        table id="by-province" {
                            thead { tr { th { (tr(lang, "省份", "Province")) } (counts_heads(lang)) } }
                            tbody { @for p in provinces {
                                tr data-province=(p.province) { td { (province_name(lang, &p.province)) } (counts_cells(&p.counts)) }
                            } }
                        }
                    }
                }
            }
        }
    }
}

/// China's provinces as tiles at their places ([`TILES`]), each shaded by its share of the most
/// scans of any province, with its name and scans (rewards under them).
fn tile_map(lang: Lang, provinces: &[ProvinceCounts]) -> Markup {
    let by_code: BTreeMap<&str, &Counts> = provinces
        .iter()
        .map(|p| (p.province.as_str(), &p.counts))
        .collect();
    let most = provinces
        .iter()
        .map(|p| p.counts.scans)
        .max()
        .unwrap_or(0)
        .max(1);
    html! {
        div {
        div id="tile-map" role="img" aria-label=(tr(lang, "各省扫码地图", "Scans by province, as a map"))
            style="display:grid;grid-template-columns:repeat(8,4.6rem);grid-auto-rows:3.6rem;gap:3px" {
            @for (code, row, col, _) in TILES {
                @let c = by_code.get(code).copied();
                @let scans = c.map_or(0, |c| c.scans);
                // Light to deep blue by share of the busiest province; no scans: grey.
                @let share = scans as f64 / most as f64;
                @let (bg, fg) = if scans == 0 {
                    ("#f5f5f4".to_string(), "#78716c")
                } else {
                    let l = 92.0 - 55.0 * share;
                    (format!("hsl(217,70%,{l:.0}%)"), if l < 60.0 { "#fff" } else { "#1c1917" })
                };
                div.tile data-province=(code) data-scans=(scans)
                    title=(format!("{} {}", province_name(lang, code), scans))
                    style=(format!("grid-row:{};grid-column:{};background:{bg};color:{fg};border-radius:4px;padding:2px 4px;font-size:.75rem;line-height:1.2;overflow:hidden", row + 1, col + 1)) {
                    strong { (province_name(lang, code)) } br;
                    (scans)
                    @if let Some(c) = c { span style="opacity:.8" { " / " (c.rewards) } }
                }
            }
        }
        p.muted { (tr(lang, "数字：扫码 / 中奖；颜色越深扫码越多。", "Numbers: scans / rewards; the deeper the colour, the more scans.")) }
        }
    }
}

/// `POST /hq/marketing/{id}/{action}`: start, pause or end, once per form.
pub async fn act(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((id, action)): Path<(i64, String)>,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let back = format!("{HERE}/{id}");
    let Some(action) = CampaignAction::parse(&action) else {
        return staff::error_page(
            Lang::negotiate(None, &headers),
            crate::error::Error::not_found("action"),
        );
    };
    // This instance draws from the new state at once; others within `marketing::REFRESH`.
    let offers = state.clone();
    let response = hq_desk::act_on(
        state,
        caller,
        target,
        headers,
        form,
        WRITE,
        back,
        move |c, actor, lang, _| {
            let to = cases::act(c, actor, id, action)?;
            Ok((
                format!(
                    "{}{}",
                    tr(lang, "活动现在：", "The campaign is now: "),
                    state_words(lang, to)
                ),
                true,
            ))
        },
    )
    .await;
    offers.offers.invalidate();
    response
}
