//! The console's trace page (`/hq/audit/trace?code=…`): a search box for a serial, case code or
//! SSCC, and its whole chain of custody on a timeline with every scan and verification, the
//! items it stands for and their alerts. The data is `crate::diversion::views::trace`.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};

use super::agent_i18n::tr;
use super::audit_i18n::{A, t, word};
use super::hq_audit::{RawQuery, frame, gate, lang_of, switch_href};
use super::i18n::Lang;
use super::staff;
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::diversion::views::{self, Trace, region_name};
use crate::domain::custody::{CustodianKind, CustodyEventKind, ItemStatus};
use chainmark_wire::RejectReason;

const PATH: &str = "/hq/audit/trace";

fn search_form(lang: Lang, code: &str) -> Markup {
    html! {
        form.card method="get" action=(PATH) id="trace-search" {
            label for="code" { (t(lang, A::Code)) }
            input type="text" id="code" name="code" value=(code) required maxlength="64"
                autocapitalize="characters" placeholder=(t(lang, A::CodeHint));
            button type="submit" { (t(lang, A::Search)) }
        }
    }
}

/// The colour of a timeline entry's marker by its source.
fn marker(source: &str) -> &'static str {
    match source {
        "custody" => "#1d4ed8",
        "scan" => "#d97706",
        _ => "#15803d",
    }
}

/// Agent names by id, for the parties of a trace.
type Names = std::collections::HashMap<i64, String>;

/// A custody move's or a scan's kind, or a verification's result, in words (never the stored
/// value: an unknown one is "another change").
fn what_words(lang: Lang, source: &str, what: &str) -> &'static str {
    match (source, what) {
        ("verification", "genuine_first") => tr(lang, "正品，首次查询", "Genuine, first check"),
        ("verification", "genuine_repeat") => tr(lang, "正品，重复查询", "Genuine, checked again"),
        ("verification", "mismatch") => tr(lang, "防伪码不符", "Security code did not match"),
        ("verification", "not_genuine") => tr(lang, "非本品牌的码", "Not a code of this brand"),
        ("verification", "not_released") => {
            tr(lang, "未放行销售的码", "Code not released for sale")
        }
        ("verification", _) => tr(lang, "查询", "Check"),
        // A scan's kind is the custody event kind it records.
        _ => match CustodyEventKind::parse(what) {
            Some(kind) => custody_words(lang, kind),
            None => tr(lang, "其他变动", "Another change"),
        },
    }
}

fn custody_words(lang: Lang, kind: CustodyEventKind) -> &'static str {
    match kind {
        CustodyEventKind::Pack => tr(lang, "装箱", "Packed into a case"),
        CustodyEventKind::Unpack => tr(lang, "拆箱", "Case opened"),
        CustodyEventKind::Ship => tr(lang, "发货", "Shipped"),
        CustodyEventKind::Receive => tr(lang, "收货", "Received"),
        CustodyEventKind::Return => tr(lang, "退货", "Returned"),
        CustodyEventKind::Sell => tr(lang, "零售售出", "Sold at retail"),
        CustodyEventKind::Inspect => tr(lang, "稽查扫码", "Inspected"),
        CustodyEventKind::Release => tr(lang, "放行销售", "Released for sale"),
        CustodyEventKind::Import => tr(lang, "码入库登记", "Codes registered at HQ"),
        CustodyEventKind::Void => tr(lang, "作废", "Voided"),
        CustodyEventKind::Recall => tr(lang, "召回", "Recalled"),
    }
}

/// A custodian in words: HQ, an agent by name, in transit on an order, sold.
fn party_words(lang: Lang, kind: CustodianKind, id: Option<i64>, names: &Names) -> String {
    match (kind, id) {
        (CustodianKind::Hq, _) => tr(lang, "总部", "HQ").to_string(),
        (CustodianKind::Agent, Some(a)) => names
            .get(&a)
            .cloned()
            .unwrap_or_else(|| tr(lang, "代理", "an agent").to_string()),
        (CustodianKind::Agent, None) => tr(lang, "代理", "an agent").to_string(),
        (CustodianKind::Transit, Some(order)) => {
            format!("{} #{order}", tr(lang, "运输中，订单", "in transit, order"))
        }
        (CustodianKind::Transit, None) => tr(lang, "运输中", "in transit").to_string(),
        (CustodianKind::Sold, _) => tr(lang, "已售出", "sold").to_string(),
    }
}

/// An item's status in words.
fn status_words(lang: Lang, status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::Active => tr(lang, "有效", "Valid"),
        ItemStatus::Voided => tr(lang, "已作废", "Voided"),
        ItemStatus::Recalled => tr(lang, "已召回", "Recalled"),
    }
}

/// Every reason a device's scan can be refused for, to read a stored result back.
const REASONS: [RejectReason; 13] = [
    RejectReason::UnknownCode,
    RejectReason::ForgedTag,
    RejectReason::NotInCustody,
    RejectReason::NotOnOrder,
    RejectReason::QuantityExceeded,
    RejectReason::AlreadyShipped,
    RejectReason::CaseOpened,
    RejectReason::AlreadyPacked,
    RejectReason::DeviceNotAuthorised,
    RejectReason::Malformed,
    RejectReason::UnknownVersion,
    RejectReason::BadMac,
    RejectReason::Duplicate,
];

/// A scan's result in words.
fn scan_result_words(lang: Lang, result: &str) -> &'static str {
    if result == "accepted" {
        return tr(lang, "已接受", "accepted");
    }
    REASONS.iter().find(|r| r.as_str() == result).map_or_else(
        || tr(lang, "未接受", "refused"),
        |r| super::agent_i18n::scan_reason(lang, *r),
    )
}

/// The rest of a timeline entry in words: who to whom and by which device, where a check came
/// from, how a scan ended.
fn detail_words(
    lang: Lang,
    e: &crate::store::diversion_views::TraceEvent,
    names: &Names,
) -> String {
    let mut parts = Vec::new();
    if let (Some((fk, fi)), Some((tk, ti))) = (&e.from, &e.to) {
        parts.push(format!(
            "{} → {}",
            party_words(lang, *fk, *fi, names),
            party_words(lang, *tk, *ti, names)
        ));
    }
    if let Some(d) = &e.device {
        parts.push(format!("{} {d}", tr(lang, "终端", "device")));
    }
    if let Some(r) = &e.result {
        parts.push(scan_result_words(lang, r).to_string());
    }
    if let Some(c) = &e.client {
        parts.push(format!("{} {c}", tr(lang, "来自", "from")));
    }
    if let Some(p) = &e.place_source {
        parts.push(word(lang, p));
    }
    if e.bot {
        parts.push(tr(lang, "疑似程序访问", "likely a bot").to_string());
    }
    parts.join(" · ")
}

fn timeline(lang: Lang, tr: &Trace, names: &Names) -> Markup {
    html! {
        div.card id="timeline" {
            h2 { (t(lang, A::Timeline)) " · " (tr.events.len()) }
            @if tr.events.is_empty() { p.muted { (t(lang, A::NoEvents)) } }
            ol style="list-style:none;padding:0;margin:0;border-left:2px solid #e7e5e4" {
                @for e in &tr.events {
                    li data-source=(e.source) data-what=(e.what)
                        style=(format!("margin:0 0 .6rem .2rem;padding-left:.8rem;border-left:.3rem solid {}", marker(e.source))) {
                        div.muted { (e.at.format("%Y-%m-%d %H:%M:%S")) " · " (word(lang, e.source)) }
                        div {
                            strong { (what_words(lang, e.source, &e.what)) }
                            @if tr.is_case { " · " code { (e.serial) } }
                            @let detail = detail_words(lang, e, names);
                            @if !detail.is_empty() { " · " (detail) }
                        }
                        @if let Some(r) = &e.region { div data-region=(r) { (region_name(r)) } }
                    }
                }
            }
            @if tr.events.len() as i64 >= views::TRACE_LIMIT {
                p.muted { "… " (views::TRACE_LIMIT) }
            }
        }
    }
}

fn result(lang: Lang, tr: &Trace, names: &Names) -> Markup {
    html! {
        div.card id="trace" data-code=(tr.code) data-case=(tr.is_case) {
            h2 { code { (tr.code) } @if tr.is_case { " · " (t(lang, A::Case)) } }
            p { a href=(format!("/api/v1/diversion/trace/{}/csv", urlencode(&tr.code))) id="trace-csv" { (t(lang, A::TraceCsv)) } }
            div style="overflow-x:auto" {
                table id="items" {
                    thead { tr {
                        th { (t(lang, A::Serial)) } th { (t(lang, A::Case)) }
                        th { (t(lang, A::Status)) } th { (t(lang, A::Holder)) }
                        th { (t(lang, A::VerifyCount)) }
                    } }
                    tbody {
                        @for i in &tr.items {
                            tr data-serial=(i.serial) {
                                td { code { (i.serial) } }
                                td { (i.case_code.as_deref().unwrap_or("-")) }
                                td { (status_words(lang, i.status)) }
                                td { (party_words(lang, i.custodian_kind, i.custodian_id, names)) }
                                td { (i.verify_count) }
                            }
                        }
                    }
                }
            }
        }
        @if !tr.alerts.is_empty() {
            div.card id="trace-alerts" {
                h2 { (t(lang, A::Alerts)) }
                ul {
                    @for a in &tr.alerts {
                        li data-alert=(a.id) {
                            a href=(format!("/hq/audit/alerts/{}", a.id)) { "#" (a.id) }
                            " · " (word(lang, a.kind.as_str())) " · " (word(lang, a.status.as_str()))
                            " · " (a.observed_region.as_deref().map(region_name).unwrap_or_default())
                        }
                    }
                }
            }
        }
        (timeline(lang, tr, names))
    }
}

/// `GET /hq/audit/trace`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<RawQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&q, &headers);
    let caller = match gate(&state, lang, caller, PATH).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let code = q
        .get("code")
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    let found = if code.is_empty() {
        None
    } else {
        let wanted = code.clone();
        let traced = state
            .db
            .run(move |c| {
                let tr = views::trace(c, &wanted)?;
                let agents = |k: &CustodianKind, id: Option<i64>| {
                    (*k == CustodianKind::Agent).then_some(id).flatten()
                };
                let mut ids: Vec<i64> = tr
                    .items
                    .iter()
                    .filter_map(|i| agents(&i.custodian_kind, i.custodian_id))
                    .chain(tr.events.iter().flat_map(|e| {
                        [&e.from, &e.to]
                            .into_iter()
                            .filter_map(|p| p.as_ref().and_then(|(k, id)| agents(k, *id)))
                    }))
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                let names = crate::store::desk::agent_names(c, &ids)?;
                Ok((tr, names))
            })
            .await;
        match traced {
            Ok(found) => Some(found),
            Err(e) => return staff::error_page(lang, e),
        }
    };
    let body = html! {
        (search_form(lang, &code))
        @if let Some((tr, names)) = &found { (result(lang, tr, names)) }
    };
    frame(
        lang,
        &caller,
        t(lang, A::Trace),
        &switch_href(PATH, &q, lang),
        q.contains_key("lang"),
        body,
    )
}
