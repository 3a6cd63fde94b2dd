//! Products (`/hq/products`): HQ's product list with pictures, searched and paged; a new product
//! (SKU, names, GTIN, items per case) and its picture, uploaded from the desktop. Reading needs
//! `ReadRegistry`, writing `ManageRegistry`: the same permissions as `/api/v1/products`. The
//! picture is checked and normalised by [`crate::pictures`] and served from
//! `/products/{id}/picture` to the agent's catalogue and the consumer's page.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::hq_desk::{self, PER_PAGE, param};
use super::hq_i18n::tr;
use super::i18n::{Lang, Text};
use super::staff::{self, see_other};
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::domain::Permission;
use crate::error::Error;
use crate::pictures::{self, Problem};
use crate::registry::{self, ProductInput};
use crate::store::products;

pub const HERE: &str = "/hq/products";
const READ: Permission = Permission::ReadRegistry;
const WRITE: Permission = Permission::ManageRegistry;
/// The upload route's body limit: the largest picture taken plus the form around it.
pub const MAX_UPLOAD_BYTES: usize = pictures::MAX_UPLOAD_BYTES + 64 * 1024;

/// `GET /hq/products`.
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
    let search = param(&q, "q").map(str::to_string);
    let page = hq_desk::page_number(&q);
    let s2 = search.clone();
    let list = match state
        .db
        .run(move |c| {
            Ok(products::page(
                c,
                s2.as_deref(),
                hq_desk::offset(page),
                PER_PAGE,
            )?)
        })
        .await
    {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let may_write = caller.role.allows(WRITE);
    let csrf = caller.csrf().to_string();
    let search_text = search.unwrap_or_default();
    let body = html! {
        @if let Some(n) = param(&q, "notice") { div.card.verdict.ok id="notice" { (n) } }
        @if may_write {
            div.card id="new-product" {
                h2 { (tr(lang, "新建商品", "New product")) }
                form method="post" action=(format!("{HERE}/new")) {
                    input type="hidden" name="csrf" value=(csrf);
                    label { "SKU " input type="text" name="sku" id="new-sku" required maxlength="200"; } " "
                    label { (tr(lang, "名称", "Name")) " " input type="text" name="name" id="new-name" required maxlength="200"; } " "
                    label { (tr(lang, "英文名称", "English name")) " " input type="text" name="name_en" id="new-name-en" maxlength="200"; } " "
                    label { "GTIN " input type="text" name="gtin" id="new-gtin" inputmode="numeric" maxlength="14"; } " "
                    label { (tr(lang, "每箱件数", "Items per case")) " " input type="text" name="case_size" id="new-case-size" inputmode="numeric" value="72" maxlength="6"; } " "
                    button type="submit" id="create-product" { (tr(lang, "创建", "Create")) }
                }
                p.muted { (tr(lang, "SKU 印在码上，建好后不能再改；GTIN 可不填。",
                    "The SKU is printed into the codes and cannot change later; the GTIN is optional.")) }
            }
        }
        div.card id="products" {
            form.inline method="get" action=(HERE) {
                input type="text" name="q" value=(search_text) placeholder=(tr(lang, "SKU、名称或 GTIN", "SKU, name or GTIN"));
                button type="submit" { (tr(lang, "搜索", "Search")) }
            }
            @if list.rows.is_empty() { p.muted { (tr(lang, "没有商品", "No products")) } }
            table {
                thead { tr {
                    th { (tr(lang, "图片", "Picture")) } th { "SKU" } th { (tr(lang, "名称", "Name")) }
                    th { "GTIN" } th { (tr(lang, "每箱件数", "Per case")) }
                    @if may_write { th { (tr(lang, "上传图片", "Upload a picture")) } }
                } }
                tbody {
                    @for p in &list.rows {
                        tr data-product=(p.sku) {
                            td { @if let Some(url) = &p.image_url {
                                img src=(url) alt=(p.name) width="64" height="64" loading="lazy" style="object-fit:contain";
                            } @else { span.muted { (tr(lang, "暂无", "none")) } } }
                            td { (p.sku) }
                            td { (p.name) @if let Some(en) = &p.name_en { br; span.muted { (en) } } }
                            td { (p.gtin.as_deref().unwrap_or("")) }
                            td { (p.case_size) }
                            @if may_write { td {
                                form.inline method="post" action=(format!("{HERE}/{}/picture", p.id)) enctype="multipart/form-data" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="file" name="picture" accept="image/jpeg,image/png" required aria-label=(tr(lang, "选择图片", "Choose a picture"));
                                    button type="submit" data-upload=(p.sku) { (tr(lang, "上传", "Upload")) }
                                }
                            } }
                        }
                    }
                }
            }
            p.muted { (tr(lang, "JPEG 或 PNG，最大 8 MB；保存为每边不超过 800 像素的 JPEG。",
                "JPEG or PNG, 8 MB at most; kept as a JPEG of at most 800 pixels a side.")) }
            (hq_desk::pager(lang, HERE, &[("q", &search_text)], page, list.more))
        }
    };
    let switch = hq_desk::href(HERE, &[("q", &search_text), ("lang", lang.other().param())]);
    hq_desk::respond(
        lang,
        &caller,
        HERE,
        tr(lang, "商品", "Products"),
        &switch,
        q.contains_key("lang"),
        body,
    )
}

/// The first field of a new product that is not right, in words.
fn field_problem(lang: Lang, input: &ProductInput) -> Option<&'static str> {
    let sku = input.sku.trim();
    if sku.is_empty() || sku.chars().count() > 200 || sku.chars().any(char::is_control) {
        return Some(tr(
            lang,
            "请填写 SKU（1–200 个字符）。",
            "Give a SKU (1 to 200 characters).",
        ));
    }
    if input.name.trim().is_empty() {
        return Some(tr(lang, "请填写商品名称。", "Give the product's name."));
    }
    if let Some(g) = input
        .gtin
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        if codegen::gs1::Gtin14::parse(g).is_err() {
            return Some(tr(
                lang,
                "GTIN 不对：应为 8、12、13 或 14 位数字，末位是校验位。",
                "The GTIN is not right: 8, 12, 13 or 14 digits, the last one a check digit.",
            ));
        }
    }
    if !input.case_size.is_some_and(|n| (1..=100_000).contains(&n)) {
        return Some(tr(
            lang,
            "每箱件数应为 1 到 100000 的整数。",
            "Items per case must be a whole number from 1 to 100,000.",
        ));
    }
    None
}

/// `POST /hq/products/new`.
pub async fn create(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, _) = match hq_desk::form_gate(&state, lang, caller, HERE, WRITE, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let field = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let optional = |k: &str| Some(field(k)).filter(|v| !v.is_empty());
    let input = ProductInput {
        sku: field("sku"),
        name: field("name"),
        name_en: optional("name_en"),
        gtin: optional("gtin"),
        case_size: field("case_size").parse().ok(),
        image_url: None,
    };
    if let Some(problem) = field_problem(lang, &input) {
        return staff::notice_page(lang, StatusCode::BAD_REQUEST, Text::BadInput, problem);
    }
    match state
        .db
        .write(move |c| registry::create_product(c, input))
        .await
    {
        Ok(p) => {
            tracing::info!(by = %caller.username, sku = %p.sku, "product created on the products page");
            let notice = format!("{} {}", tr(lang, "已创建商品", "Product created:"), p.sku);
            see_other(&hq_desk::href(HERE, &[("q", &p.sku), ("notice", &notice)]))
        }
        Err(e) => staff::error_page(lang, e),
    }
}

/// The CSRF field and the picture of a multipart upload.
async fn upload_fields(mut form: Multipart) -> crate::error::Result<(String, Vec<u8>)> {
    let mut csrf = String::new();
    let mut picture = Vec::new();
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
            Some("picture") => {
                picture = field
                    .bytes()
                    .await
                    .map_err(|e| Error::BadRequest(format!("upload: {e}")))?
                    .to_vec();
            }
            _ => {}
        }
    }
    Ok((csrf, picture))
}

/// `POST /hq/products/{id}/picture` (multipart): checks, normalises and stores the picture.
pub async fn upload(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, _) = match hq_desk::gate(&state, lang, caller, HERE, WRITE).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (csrf, bytes) = match upload_fields(form).await {
        Ok(v) => v,
        Err(_) => {
            return staff::notice_page(
                lang,
                StatusCode::BAD_REQUEST,
                Text::BadInput,
                tr(
                    lang,
                    Problem::TooLarge.zh(),
                    "The upload did not arrive whole: 8 MB at most.",
                ),
            );
        }
    };
    if caller.check_csrf(&csrf).is_err() {
        return staff::form_expired(lang);
    }
    // Decoding and scaling a photograph is CPU work: off the async workers.
    let prepared = tokio::task::spawn_blocking(move || pictures::prepare(&bytes)).await;
    let picture = match prepared {
        Ok(Ok(p)) => p,
        Ok(Err(problem)) => {
            let words = tr(lang, problem.zh(), problem.en());
            return staff::notice_page(lang, StatusCode::BAD_REQUEST, Text::BadInput, words);
        }
        Err(e) => return staff::error_page(lang, Error::Internal(format!("picture: {e}"))),
    };
    let by = caller.user_id;
    match state
        .db
        .write(move |c| pictures::set_product_picture(c, id, &picture, Some(by)))
        .await
    {
        Ok(p) => {
            tracing::info!(by = %caller.username, sku = %p.sku, "product picture uploaded");
            let notice = format!("{} {}", tr(lang, "图片已更新：", "Picture saved:"), p.sku);
            see_other(&hq_desk::href(HERE, &[("q", &p.sku), ("notice", &notice)]))
        }
        Err(e) => staff::error_page(lang, e),
    }
}

/// `GET /products/{id}/picture` (public: the consumer's verification page shows it too). The
/// address carries the picture's ETag (`?v=`), so it may be cached for long; `If-None-Match`
/// answers 304.
pub async fn picture(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let found = state.db.run(move |c| Ok(products::picture(c, id)?)).await;
    let Ok(Some((content_type, bytes, etag))) = found else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let tag = format!("\"{etag}\"");
    let cache = [
        (header::ETAG, tag.clone()),
        (header::CACHE_CONTROL, "public, max-age=86400".to_string()),
    ];
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if matches {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (cache, [(header::CONTENT_TYPE, content_type)], bytes).into_response()
}
