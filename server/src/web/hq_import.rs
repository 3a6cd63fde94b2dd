//! HQ's network import page (`/hq/import`, issue 23; docs/import.md): download the template,
//! upload the filled-in file, see every problem (file, sheet, row, column) or a preview of what
//! would be imported, then confirm. The confirmed import runs in one transaction; the agents'
//! one-time passwords are shown once, on the confirmation's answer, as approving an application
//! shows its one.
//!
//! Between preview and confirm the upload is kept in `network_import_uploads` (for this user,
//! deleted on confirm, forgotten after a day), so what is imported is exactly what was previewed;
//! the confirm form carries a form key, and the import's digest makes a second confirm of the
//! same content change nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use maud::{Markup, html};
use serde::Deserialize;

use super::form_key::{self, FormTarget};
use super::i18n::Lang;
use super::staff::{self, with_cookies};
use crate::app::AppState;
use crate::auth::{Caller, MaybeCaller};
use crate::domain::Permission;
use crate::domain::network_import::{
    Plan, PlannedAgent, Problem, Sheet, SupplierDifference, Upline,
};
use crate::error::{Error, Result};
use crate::network_import::{self as cases, Checked, Credential, Outcome, Upload, template};
use crate::store::network::money;
use crate::store::network_import::{self as store, ImportRow};
use crate::store::users::now;

const HERE: &str = "/hq/import";

/// Uploads larger than this are refused (413) before they are read.
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;

fn tr(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    /// Imports older than this id (the list's next page).
    before: Option<i64>,
}

async fn gate(
    state: &AppState,
    lang: Lang,
    caller: Option<Caller>,
) -> std::result::Result<Caller, Response> {
    staff::gate_for(state, lang, caller, HERE, Permission::ImportNetwork).await
}

fn page(lang: Lang, caller: &Caller, title: &str, body: Markup) -> Response {
    let switch = format!("{HERE}?lang={}", lang.other().param());
    super::shell::page(lang, caller, HERE, title, Some(&switch), body).into_response()
}

fn title(lang: Lang) -> &'static str {
    tr(lang, "导入代理网络", "Import an agent network")
}

fn upload_form(lang: Lang, csrf: &str) -> Markup {
    html! {
        div.card id="upload" {
            h2 { (tr(lang, "上传文件", "Upload the file")) }
            p.muted { (tr(lang,
                "填好的 XLSX 模板,或每张表一个 CSV 文件(可多选)。先检查并预览,确认后才导入。",
                "The filled-in XLSX template, or one CSV file per sheet (several may be chosen). It is checked and previewed first; nothing is imported before you confirm.")) }
            form method="post" action="/hq/import/preview" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(csrf);
                input type="file" name="files" id="files" multiple required accept=".xlsx,.csv";
                button type="submit" id="preview" style="width:auto;padding:.5rem 1.5rem" {
                    (tr(lang, "检查并预览", "Check and preview"))
                }
            }
        }
    }
}

fn templates(lang: Lang) -> Markup {
    html! {
        div.card id="templates" {
            h2 { (tr(lang, "下载模板", "Download the template")) }
            p {
                a href="/hq/import/template.xlsx?lang=zh" id="template-zh" { "模板(中文,XLSX)" }
                " · "
                a href="/hq/import/template.xlsx?lang=en" id="template-en" { "Template (English, XLSX)" }
            }
            p.muted {
                (tr(lang, "CSV(每张表一个文件):", "CSV (one file per sheet): "))
                @for sheet in Sheet::ALL {
                    a href=(format!("/hq/import/template/{}.csv?lang={}", sheet.key(), lang.param())) {
                        (tr(lang, sheet.name_zh(), sheet.name_en()))
                    }
                    " "
                }
            }
            p.muted { (tr(lang,
                "规则:手机号即登录账号且不可重复;推荐人须在本文件中或已是系统中的代理;授权区域为 GB/T 2260 代码;金额最多两位小数;日期不晚于今天。上级按推荐链自动计算。",
                "Rules: the phone is the sign-in name and must be new; a referrer is in this file or already an agent here; regions are GB/T 2260 codes; amounts have at most two decimals; dates are not after today. Suppliers are derived from the referrer chain.")) }
        }
    }
}

fn imports_list(lang: Lang, rows: &[ImportRow], more: Option<i64>) -> Markup {
    html! {
        div.card id="imports" {
            h2 { (tr(lang, "导入记录", "Imports")) }
            @if rows.is_empty() { p.muted { (tr(lang, "暂无", "None yet")) } }
            @else {
                table {
                    tr {
                        th { "#" } th { (tr(lang, "时间", "When")) } th { (tr(lang, "文件", "Files")) }
                        th { (tr(lang, "代理", "Agents")) } th { (tr(lang, "期初余额", "Opening balances")) }
                        th { (tr(lang, "历史订单", "Orders")) } th { (tr(lang, "历史活动", "Activity")) }
                    }
                    @for r in rows {
                        tr data-import=(r.id) {
                            td { a href=(format!("{HERE}/{}", r.id)) { (r.id) } }
                            td { (r.imported_at.format("%Y-%m-%d %H:%M")) }
                            td { (r.file_names) }
                            td { (r.agents) }
                            td { (money(r.opening_cents)) }
                            td { (r.orders) }
                            td { (r.activity) }
                        }
                    }
                }
                @if let Some(before) = more {
                    p { a href=(format!("{HERE}?before={before}")) { (tr(lang, "更早的导入", "Older imports")) } }
                }
            }
        }
    }
}

/// `GET /hq/import`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let caller = match gate(&state, lang, caller).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    const PAGE: i64 = 20;
    let before = q.before;
    let rows = match state
        .db
        .run(move |c| Ok(store::list(c, before, PAGE + 1)?))
        .await
    {
        Ok(r) => r,
        Err(e) => return staff::error_page(lang, e),
    };
    let more = (rows.len() > PAGE as usize).then(|| rows[PAGE as usize - 1].id);
    let rows = &rows[..rows.len().min(PAGE as usize)];
    let body = html! {
        (templates(lang))
        (upload_form(lang, caller.csrf()))
        (imports_list(lang, rows, more))
    };
    with_cookies(
        page(lang, &caller, title(lang), body),
        [staff::lang_cookie(lang, q.lang.is_some())],
    )
}

#[derive(Debug, Deserialize)]
pub struct TemplateQuery {
    lang: Option<String>,
}

fn attachment(bytes: Vec<u8>, kind: &'static str, name: &str) -> Response {
    let mut r = bytes.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// `GET /hq/import/template.xlsx?lang=zh|en`.
pub async fn template_xlsx(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<TemplateQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    if let Err(r) = gate(&state, lang, caller).await {
        return r;
    }
    match template::xlsx(lang == Lang::Zh) {
        Ok(bytes) => attachment(
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            &format!("network-template-{}.xlsx", lang.param()),
        ),
        Err(e) => staff::error_page(lang, e),
    }
}

/// `GET /hq/import/template/{sheet}.csv?lang=zh|en`.
pub async fn template_csv(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(file): Path<String>,
    Query(q): Query<TemplateQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    if let Err(r) = gate(&state, lang, caller).await {
        return r;
    }
    let Some(sheet) = file
        .strip_suffix(".csv")
        .and_then(|k| Sheet::ALL.into_iter().find(|s| s.key() == k))
    else {
        return staff::error_page(lang, Error::not_found("template"));
    };
    match template::csv(sheet, lang == Lang::Zh) {
        Ok(bytes) => attachment(
            bytes,
            "text/csv; charset=utf-8",
            &format!("{}-{}.csv", sheet.key(), lang.param()),
        ),
        Err(e) => staff::error_page(lang, e),
    }
}

/// The problems as a table, in the caller's language.
fn problems_card(lang: Lang, problems: &[Problem]) -> Markup {
    const SHOWN: usize = 500;
    html! {
        div.card.verdict.bad id="problems" data-count=(problems.len()) {
            h2 {
                (match lang {
                    Lang::Zh => format!("发现 {} 个问题:没有导入任何数据", problems.len()),
                    Lang::En => format!("{} problems found: nothing was imported", problems.len()),
                })
            }
            table {
                tr {
                    th { (tr(lang, "文件", "File")) } th { (tr(lang, "工作表", "Sheet")) }
                    th { (tr(lang, "行", "Row")) } th { (tr(lang, "列", "Column")) }
                    th { (tr(lang, "问题", "Problem")) }
                }
                @for p in problems.iter().take(SHOWN) {
                    tr data-problem=(p.code()) data-row=[p.place.row] {
                        td { (p.place.file) }
                        td { @if let Some(s) = p.place.sheet { (tr(lang, s.name_zh(), s.name_en())) } }
                        td { @if let Some(r) = p.place.row { (r) } }
                        td { @if let Some(c) = p.place.column { (tr(lang, c.header_zh(), c.header_en())) } }
                        td { (match lang { Lang::Zh => p.message_zh(), Lang::En => p.message_en() }) }
                    }
                }
            }
            @if problems.len() > SHOWN {
                p.muted { "… " (problems.len() - SHOWN) }
            }
        }
    }
}

fn differences_card(lang: Lang, differences: &[SupplierDifference]) -> Markup {
    const SHOWN: usize = 200;
    let hq = tr(lang, "总部", "HQ");
    html! {
        div.card.verdict.warn id="differences" data-count=(differences.len()) {
            h2 { (tr(lang, "上级与原系统不同", "Suppliers other than the old system's")) " (" (differences.len()) ")" }
            p.muted { (tr(lang,
                "上级按推荐链计算(推荐链上最近的更高等级代理,否则总部);以下代理的上级与原系统记录不同。",
                "A supplier is the nearest agent of a higher tier up the referrer chain, else HQ; these agents get another supplier than the old system recorded.")) }
            @if !differences.is_empty() {
                table {
                    tr {
                        th { (tr(lang, "行", "Row")) } th { (tr(lang, "手机号", "Phone")) }
                        th { (tr(lang, "原上级", "Old supplier")) } th { (tr(lang, "现上级", "Supplier now")) }
                    }
                    @for d in differences.iter().take(SHOWN) {
                        tr {
                            td { (d.row) } td { (d.phone) }
                            td { (d.old.as_deref().unwrap_or(hq)) }
                            td { (d.derived.as_deref().unwrap_or(hq)) }
                        }
                    }
                }
            }
        }
    }
}

/// Tier names of the active policy by key.
fn tier_names(c: &mut crate::store::DbConnection) -> Result<BTreeMap<String, (String, String)>> {
    let (_, policy) = crate::network::policy::active(c)?;
    Ok(policy
        .tiers()
        .iter()
        .map(|t| (t.key.clone(), (t.name_zh.clone(), t.name_en.clone())))
        .collect())
}

fn preview_card(
    lang: Lang,
    plan: &Plan,
    tiers: &BTreeMap<String, (String, String)>,
    known_phone: &dyn Fn(i64) -> String,
) -> Markup {
    const SHOWN: usize = 20;
    let hq = tr(lang, "总部", "HQ");
    let upline = |u: Upline| match u {
        Upline::Hq => hq.to_string(),
        Upline::Known(id) => known_phone(id),
        Upline::File(i) => plan
            .agents
            .get(i)
            .map(|a| a.phone.clone())
            .unwrap_or_default(),
    };
    let tier = |a: &PlannedAgent| {
        tiers
            .get(&a.tier_key)
            .map(|(zh, en)| match lang {
                Lang::Zh => zh.clone(),
                Lang::En => en.clone(),
            })
            .unwrap_or_default()
    };
    let mut by_tier: BTreeMap<u8, (String, usize)> = BTreeMap::new();
    for a in &plan.agents {
        by_tier.entry(a.tier_rank).or_insert_with(|| (tier(a), 0)).1 += 1;
    }
    let frozen: i64 = plan
        .balances
        .iter()
        .filter(|b| b.release_on.is_some())
        .map(|b| b.cents)
        .sum();
    html! {
        div.card.verdict.ok id="ready" data-agents=(plan.agents.len()) {
            h2 { (tr(lang, "检查通过:将导入", "All rows pass: this will be imported")) }
            dl {
                dt { (tr(lang, "代理(各得一个账号)", "Agents (each gets an account)")) }
                dd id="count-agents" {
                    (plan.agents.len())
                    @for (_, (name, n)) in &by_tier { " · " (name) " " (n) }
                }
                dt { (tr(lang, "期初余额", "Opening balances")) }
                dd id="count-balances" {
                    (plan.balances.len()) " · " (tr(lang, "合计 ", "total ")) (money(plan.opening_cents()))
                    " (" (tr(lang, "其中冻结 ", "frozen ")) (money(frozen)) ")"
                }
                dt { (tr(lang, "历史订单", "Historical orders")) } dd id="count-orders" { (plan.orders.len()) }
                dt { (tr(lang, "历史活动", "Historical activity")) } dd id="count-activity" { (plan.activity.len()) }
            }
            h3 { (tr(lang, "前 20 个代理", "The first 20 agents")) }
            table id="agents-preview" {
                tr {
                    th { (tr(lang, "行", "Row")) } th { (tr(lang, "手机号", "Phone")) }
                    th { (tr(lang, "姓名", "Name")) } th { (tr(lang, "等级", "Tier")) }
                    th { (tr(lang, "推荐人", "Referrer")) } th { (tr(lang, "上级", "Supplier")) }
                    th { (tr(lang, "授权区域", "Regions")) } th { (tr(lang, "加入日期", "Joined on")) }
                    th { (tr(lang, "达到等级日期", "Tier reached on")) } th { (tr(lang, "状态", "Status")) }
                }
                @for a in plan.agents.iter().take(SHOWN) {
                    tr {
                        td { (a.row) } td { (a.phone) } td { (a.name) } td { (tier(a)) }
                        td { @if a.referrer != Upline::Hq { (upline(a.referrer)) } }
                        td { (upline(a.supplier)) }
                        td { (region_names(&a.regions)) }
                        td { (a.joined_on) } td { (a.reached_on) }
                        td { (if a.active { tr(lang, "正常", "active") } else { tr(lang, "暂停", "suspended") }) }
                    }
                }
            }
        }
    }
}

/// Region codes with their names (`330106 浙江省 杭州市 西湖区`).
fn region_names(codes: &[String]) -> String {
    let book = crate::diversion::regions();
    codes
        .iter()
        .map(
            |c| match crate::domain::diversion::region::RegionCode::parse(c) {
                Some(code) => format!("{c} {}", book.full_name(code)),
                None => c.clone(),
            },
        )
        .collect::<Vec<_>>()
        .join("; ")
}

/// The files of a multipart upload, and its CSRF field.
async fn uploads(mut form: Multipart) -> Result<(String, Vec<Upload>)> {
    let mut csrf = String::new();
    let mut files = Vec::new();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| Error::BadRequest(format!("upload: {e}")))?
    {
        match field.name() {
            Some("csrf") => {
                csrf = field
                    .text()
                    .await
                    .map_err(|e| Error::BadRequest(format!("upload: {e}")))?;
            }
            Some("files") => {
                // Only the last part of the name: browsers may send folders.
                let name = field
                    .file_name()
                    .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
                    .filter(|n| !n.is_empty());
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| Error::BadRequest(format!("upload: {e}")))?;
                if let Some(name) = name {
                    if !bytes.is_empty() {
                        files.push(Upload {
                            name: name.chars().take(100).collect(),
                            bytes: bytes.to_vec(),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    Ok((csrf, files))
}

/// Files as kept between preview and confirm: `[[name, base64], ...]`.
fn encode(files: &[Upload]) -> String {
    let list: Vec<[String; 2]> = files
        .iter()
        .map(|f| [f.name.clone(), data_encoding::BASE64.encode(&f.bytes)])
        .collect();
    serde_json::to_string(&list).unwrap_or_default()
}

fn decode(text: &str) -> Result<Vec<Upload>> {
    let list: Vec<[String; 2]> =
        serde_json::from_str(text).map_err(|e| Error::Internal(format!("stored upload: {e}")))?;
    list.into_iter()
        .map(|[name, b64]| {
            Ok(Upload {
                name,
                bytes: data_encoding::BASE64
                    .decode(b64.as_bytes())
                    .map_err(|e| Error::Internal(format!("stored upload: {e}")))?,
            })
        })
        .collect()
}

/// What the preview found, for the page.
enum Previewed {
    Problems(Vec<Problem>),
    Already(ImportRow),
    Ready {
        plan: Box<Plan>,
        token: String,
        tiers: BTreeMap<String, (String, String)>,
        known: BTreeMap<i64, String>,
    },
}

/// `POST /hq/import/preview` (multipart): checks the files and shows the problems or the plan.
pub async fn preview(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let caller = match gate(&state, lang, caller).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (csrf, files) = match uploads(form).await {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    if caller.check_csrf(&csrf).is_err() {
        return staff::form_expired(lang);
    }
    if files.is_empty() {
        return staff::error_page(
            lang,
            Error::BadRequest(tr(lang, "请选择要上传的文件", "choose a file to upload").into()),
        );
    }
    let user = caller.user_id;
    let result = state
        .db
        .write(move |c| {
            store::prune_uploads(c, now() - Duration::days(1))?;
            Ok(match cases::check(c, &files)? {
                Checked::Problems(p) => Previewed::Problems(p),
                Checked::AlreadyImported(row) => Previewed::Already(row),
                Checked::Ready(plan) => {
                    let token = crate::joining::new_code(16);
                    store::save_upload(c, &token, user, &encode(&files), now())?;
                    let ids: Vec<i64> = plan
                        .agents
                        .iter()
                        .flat_map(|a| [a.referrer, a.supplier])
                        .filter_map(|u| match u {
                            Upline::Known(id) => Some(id),
                            _ => None,
                        })
                        .collect();
                    let known = store::phones_of(c, &ids)?.into_iter().collect();
                    Previewed::Ready {
                        plan,
                        token,
                        tiers: tier_names(c)?,
                        known,
                    }
                }
            })
        })
        .await;
    let csrf = caller.csrf().to_string();
    let (status, body) = match result {
        Err(e) => return staff::error_page(lang, e),
        Ok(Previewed::Problems(p)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            html! { (problems_card(lang, &p)) (upload_form(lang, &csrf)) },
        ),
        Ok(Previewed::Already(row)) => (StatusCode::OK, already_card(lang, &row)),
        Ok(Previewed::Ready {
            plan,
            token,
            tiers,
            known,
        }) => {
            let known_phone = |id: i64| known.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
            (
                StatusCode::OK,
                html! {
                    (preview_card(lang, &plan, &tiers, &known_phone))
                    @if !plan.supplier_differences.is_empty() {
                        (differences_card(lang, &plan.supplier_differences))
                    }
                    div.card id="confirm" {
                        form method="post" action="/hq/import/confirm" {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="token" value=(token);
                            (form_key::field())
                            p.muted { (tr(lang,
                                "确认后在一个事务中全部导入;各代理的一次性密码只显示一次。",
                                "Confirming imports everything in one transaction; the agents' one-time passwords are shown once.")) }
                            button type="submit" id="confirm-import" style="width:auto;padding:.5rem 1.5rem" {
                                (tr(lang, "确认导入", "Confirm the import"))
                            }
                        }
                    }
                },
            )
        }
    };
    (status, page(lang, &caller, title(lang), body)).into_response()
}

fn already_card(lang: Lang, row: &ImportRow) -> Markup {
    html! {
        div.card.verdict.warn id="already" {
            h2 { (tr(lang, "该内容已导入过:没有任何改变", "This content was imported before: nothing changed")) }
            p { a href=(format!("{HERE}/{}", row.id)) {
                (tr(lang, "查看第 ", "See import ")) (row.id) (tr(lang, " 次导入", ""))
            } " · " (row.imported_at.format("%Y-%m-%d %H:%M")) }
        }
    }
}

fn summary_card(lang: Lang, row: &ImportRow) -> Markup {
    html! {
        div.card.verdict.ok id="summary" data-import=(row.id) {
            h2 { (tr(lang, "已导入", "Imported")) " #" (row.id) }
            dl {
                dt { (tr(lang, "时间", "When")) } dd { (row.imported_at.format("%Y-%m-%d %H:%M")) }
                dt { (tr(lang, "文件", "Files")) } dd { (row.file_names) }
                dt { (tr(lang, "代理", "Agents")) } dd id="imported-agents" { (row.agents) }
                dt { (tr(lang, "期初余额", "Opening balances")) } dd { (row.balances) " · " (money(row.opening_cents)) }
                dt { (tr(lang, "历史订单", "Historical orders")) } dd { (row.orders) }
                dt { (tr(lang, "历史活动", "Historical activity")) } dd { (row.activity) }
            }
        }
    }
}

fn credentials_card(lang: Lang, credentials: &[Credential]) -> Markup {
    let csv = cases::credentials_csv(credentials, lang == Lang::Zh).unwrap_or_default();
    let href = format!(
        "data:text/csv;charset=utf-8;base64,{}",
        data_encoding::BASE64.encode(&csv)
    );
    html! {
        div.card.verdict.warn id="credentials" data-count=(credentials.len()) {
            h2 { (tr(lang, "一次性密码(只显示这一次)", "One-time passwords (shown this once)")) }
            p { (tr(lang,
                "请下载并逐一交给各代理;首次登录须修改密码。离开此页后无法再次查看(可在用户管理中重置)。",
                "Download them and hand each agent its own; each must be changed at first sign-in. They cannot be shown again after you leave this page (a password can be reset).")) }
            p { a href=(href) download="network-import-credentials.csv" id="credentials-csv" {
                (tr(lang, "下载 CSV", "Download as CSV"))
            } }
            details {
                summary { (tr(lang, "在页面上查看", "Show them here")) }
                table {
                    tr { th { (tr(lang, "手机号(登录名)", "Phone (user name)")) } th { (tr(lang, "姓名", "Name")) } th { (tr(lang, "一次性密码", "One-time password")) } }
                    @for c in credentials {
                        tr { td { (c.phone) } td { (c.name) } td { code { (c.password) } } }
                    }
                }
            }
        }
    }
}

/// `POST /hq/import/confirm`: imports the previewed upload in one transaction.
pub async fn confirm(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let caller = match gate(&state, lang, caller).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if caller
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .is_err()
    {
        return staff::form_expired(lang);
    }
    let token = form.get("token").cloned().unwrap_or_default();
    let user = caller.user_id;
    // What the first (not replayed) confirmation did, for its answer page.
    let done: Arc<Mutex<Option<Outcome>>> = Arc::new(Mutex::new(None));
    let slot = done.clone();
    let result = form_key::write_once(&state.db, user, target, &form, move |c| {
        let files = decode(&store::upload(c, &token, user)?)?;
        let outcome = cases::import(c, &files, Some(user), &mut |_, _, _| {})?;
        let location = match &outcome {
            Outcome::Imported(d) => {
                store::delete_upload(c, &token)?;
                format!("{HERE}/{}", d.import.id)
            }
            Outcome::AlreadyImported(row) => format!("{HERE}/{}", row.id),
            Outcome::Problems(p) => {
                // The database changed since the preview (a phone taken meanwhile, say).
                let n = p.len();
                if let Ok(mut s) = slot.lock() {
                    *s = Some(outcome);
                }
                return Err(Error::refuse(
                    "import_has_problems",
                    format!("{n} problems"),
                ));
            }
        };
        if let Ok(mut s) = slot.lock() {
            *s = Some(outcome);
        }
        Ok(location)
    })
    .await;
    let outcome = done.lock().ok().and_then(|mut s| s.take());
    let out = match (result, outcome) {
        (_, Some(Outcome::Problems(p))) => {
            let body = html! { (problems_card(lang, &p)) (upload_form(lang, caller.csrf())) };
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                page(lang, &caller, title(lang), body),
            )
                .into_response();
        }
        (Err(e), _) => return staff::error_page(lang, e),
        (Ok(out), outcome) => (out, outcome),
    };
    match out {
        (_, Some(Outcome::Imported(d))) => {
            let body = html! {
                (summary_card(lang, &d.import))
                (credentials_card(lang, &d.credentials))
                @if !d.differences.is_empty() { (differences_card(lang, &d.differences)) }
                p { a href=(HERE) { (tr(lang, "返回导入页", "Back to the import page")) } }
            };
            page(lang, &caller, title(lang), body)
        }
        (out, _) => form_key::redirect(&out),
    }
}

/// `GET /hq/import/{id}`: what an import brought in (never the passwords).
pub async fn show_import(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let caller = match gate(&state, lang, caller).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let row = match state.db.run(move |c| Ok(store::get(c, id)?)).await {
        Ok(r) => r,
        Err(e) => return staff::error_page(lang, e),
    };
    let differences: Vec<SupplierDifference> =
        serde_json::from_str::<Vec<serde_json::Value>>(&row.report)
            .unwrap_or_default()
            .iter()
            .map(|v| SupplierDifference {
                row: v["row"].as_u64().unwrap_or(0) as usize,
                phone: v["phone"].as_str().unwrap_or_default().to_string(),
                old: v["old"].as_str().map(str::to_string),
                derived: v["derived"].as_str().map(str::to_string),
            })
            .collect();
    let body = html! {
        (summary_card(lang, &row))
        @if !differences.is_empty() { (differences_card(lang, &differences)) }
        p { a href=(HERE) { (tr(lang, "返回导入页", "Back to the import page")) } }
    };
    page(lang, &caller, title(lang), body)
}
