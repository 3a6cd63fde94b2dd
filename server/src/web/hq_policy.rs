//! HQ's tier policy as a form (`/hq/policy`, issue 18): the tiers (names, entry order, price,
//! referrals to upgrade, same-tier rebate in %, approval), the windows, the cross-tier awards and
//! the price table per product, each problem shown on its field in the page's language with what
//! was typed kept; then a review (the changes in words, agents per tier, the last 30 days' orders
//! priced both ways) and activation. The raw document stays for experts, reviewed the same way.
//! HQ admins only (`Permission::ManagePolicy`, as `POST /api/v1/policy/versions`).

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use rust_decimal::Decimal;

use super::form_key::{self, FormTarget};
use super::hq_desk;
use super::hq_i18n::tr;
use super::i18n::Lang;
use super::level_applications::rl;
use super::staff;
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::domain::Permission;
use crate::domain::network::policy::form::{
    self, FieldError, Fields, approval_words, award_field, price_field,
};
use crate::domain::network::{ApprovalMode, Entry, Policy};
use crate::network::policy_review::{self, EFFECT_DAYS, Proposal, Review, Start};

const HERE: &str = "/hq/policy";
const NEEDS: Permission = Permission::ManagePolicy;

/// What the form shows: the values (as typed, or the active version's), the problems, and the
/// raw document of the expert box.
struct Shown<'a> {
    fields: &'a Fields,
    errors: &'a [FieldError],
    document: &'a str,
}

/// The problems of `field`, under its box.
pub(super) fn err_for(lang: Lang, errors: &[FieldError], field: &str) -> Markup {
    html! {
        @for e in errors.iter().filter(|e| e.field == field) {
            div.err data-error-for=(field) style="color:#b91c1c;font-size:.8rem;white-space:normal" { (e.say(rl(lang))) }
        }
    }
}

/// One text input named by its field, showing its value and, under it, its problems.
pub(super) fn text_box(
    lang: Lang,
    fields: &Fields,
    errors: &[FieldError],
    field: &str,
    width: &str,
) -> Markup {
    let bad = errors.iter().any(|e| e.field == field);
    html! {
        input type="text" name=(field) value=(fields.get(field).map_or("", String::as_str))
            style=(format!("width:{width}{}", if bad { ";border-color:#b91c1c" } else { "" }))
            aria-invalid=[bad.then_some("true")];
        (err_for(lang, errors, field))
    }
}

/// A select named by its field: `(value, words)` options, the field's value chosen; at least
/// `min_width` wide when given (Chromium measures a CJK select too narrow for its words).
pub(super) fn choice(
    lang: Lang,
    fields: &Fields,
    errors: &[FieldError],
    field: &str,
    options: &[(String, String)],
    min_width: &str,
) -> Markup {
    let chosen = fields.get(field).map_or("", String::as_str);
    html! {
        select name=(field) style=[(!min_width.is_empty()).then(|| format!("min-width:{min_width}"))] {
            @for (value, words) in options {
                option value=(value) selected[chosen == value] { (words) }
            }
        }
        (err_for(lang, errors, field))
    }
}

fn input(lang: Lang, s: &Shown<'_>, field: &str, width: &str) -> Markup {
    text_box(lang, s.fields, s.errors, field, width)
}

fn tier_name(lang: Lang, t: &crate::domain::network::Tier) -> &str {
    match lang {
        Lang::Zh => &t.name_zh,
        Lang::En => &t.name_en,
    }
}

fn form_page(lang: Lang, csrf: &str, start: &Start, s: &Shown<'_>) -> Markup {
    let p = &start.policy;
    let skus = form::table_skus(p, &start.skus);
    let field_of = |i: usize, n: &str| format!("tiers[{i}].{n}");
    let approvals: Vec<(String, String)> = ApprovalMode::ALL
        .iter()
        .map(|m| {
            (
                m.as_str().to_string(),
                approval_words(*m, rl(lang)).to_string(),
            )
        })
        .collect();
    // Problems on fields the form has no box for (the version of a raw document, a tier's
    // structure) are listed with the summary only.
    html! {
        @if !s.errors.is_empty() {
            div.card.verdict.bad id="problems" {
                h2 { (tr(lang, "请修改以下内容", "Please correct the following")) }
                ul { @for e in s.errors {
                    li { b { (form::label(p, &e.field, rl(lang))) } ": " (e.say(rl(lang))) }
                } }
            }
        }
        form method="post" action=(HERE) id="policy-form" {
            input type="hidden" name="csrf" value=(csrf);
            div.card id="version" {
                h2 { (tr(lang, "版本", "Version")) }
                p.muted {
                    (tr(lang, "当前启用:第 ", "Active: version ")) (start.active.version)
                    " · " (start.active.name) ". "
                    (tr(lang, "改动将保存为第 ", "Changes are saved as version ")) (start.next_version)
                    (tr(lang, " 版,预览确认后启用;已下的订单仍按原版本结算。",
                        ", activated after you review them; orders already placed keep their version."))
                }
                label { (form::label(p, "name", rl(lang))) " " (input(lang, s, "name", "18rem")) }
            }
            div.card id="tiers" {
                h2 { (tr(lang, "级别", "Tiers")) }
                table {
                    thead { tr {
                        th { (tr(lang, "级别", "Tier")) }
                        th { (tr(lang, "中文名称", "Chinese name")) }
                        th { (tr(lang, "英文名称", "English name")) }
                        th { (tr(lang, "首批", "Entry order")) }
                        th { (tr(lang, "单价(元/盒)", "Unit price (per item)")) }
                        th { (tr(lang, "升级所需推荐数", "Referrals to upgrade")) }
                        th { (tr(lang, "同级推荐奖(%)", "Same-tier rebate (%)")) }
                        th { (tr(lang, "入驻审核", "Approval")) }
                    } }
                    tbody {
                        @for (i, t) in p.tiers().iter().enumerate() {
                            tr data-tier=(t.key) {
                                td { (t.rank.0) ". " (tier_name(lang, t)) }
                                td { (input(lang, s, &field_of(i, "name_zh"), "5rem")) }
                                td { (input(lang, s, &field_of(i, "name_en"), "7rem")) }
                                td {
                                    @match t.entry {
                                        Entry::Quantity(_) => { (input(lang, s, &field_of(i, "entry_quantity"), "5rem")) " " (tr(lang, "盒", "items")) }
                                        Entry::Amount(_) => { (input(lang, s, &field_of(i, "entry_amount"), "6rem")) " " (tr(lang, "元", "CNY")) }
                                    }
                                }
                                td { (input(lang, s, &field_of(i, "unit_price"), "6rem")) }
                                td {
                                    @if t.rank == p.lowest() {
                                        span.muted { (tr(lang, "最低级别", "lowest tier")) }
                                    } @else {
                                        (input(lang, s, &field_of(i, "upgrade_count"), "4rem"))
                                    }
                                }
                                td { (input(lang, s, &field_of(i, "same_tier_rate"), "4rem")) " %" }
                                td { (choice(lang, s.fields, s.errors, &field_of(i, "approval"), &approvals, "")) }
                            }
                        }
                    }
                }
                p.muted style="white-space:normal" {
                    (tr(lang,
                        "单价留空:该级别只能订购价格表里为它定价的商品。升级所需推荐数:从下一级升入此级须推荐并激活的此级代理数,留空表示不能靠推荐升级。同级推荐奖按百分比填写(9 表示 9%),留空表示没有。",
                        "Unit price empty: the tier can order only the products the price table prices for it. Referrals to upgrade: agents of this tier one must have referred to upgrade into it from the tier below; empty: no upgrade by referrals. The same-tier rebate is a percentage (9 means 9%); empty: none."))
                }
            }
            div.card id="windows" {
                h2 { (tr(lang, "时间与单位", "Windows and units")) }
                @for f in ["windows.receive_days", "windows.return_days", "units.items_per_case"] {
                    label style="margin-right:1.5rem" { (form::label(p, f, rl(lang))) " " (input(lang, s, f, "5rem")) }
                }
            }
            div.card id="awards" {
                h2 { (tr(lang, "跨级推荐奖(元,一次性)", "Cross-tier referral awards (CNY, once)")) }
                p.muted { (tr(lang, "行:推荐人的级别;列:被推荐人的级别。被推荐人激活时由总部支付;留空表示没有奖励。",
                    "Rows: the referrer's tier; columns: the referred agent's tier. Paid by HQ when the referred agent activates; empty: no award.")) }
                table {
                    thead { tr {
                        th { (tr(lang, "推荐人 \\ 被推荐人", "referrer \\ referred")) }
                        @for t in &p.tiers()[..p.tiers().len().saturating_sub(1)] { th { (tier_name(lang, t)) } }
                    } }
                    tbody {
                        @for referrer in p.tiers().iter().skip(1) {
                            tr data-referrer=(referrer.key) {
                                th { (tier_name(lang, referrer)) }
                                @for referred in &p.tiers()[..p.tiers().len().saturating_sub(1)] {
                                    td {
                                        @if referred.rank.is_above(referrer.rank) {
                                            (input(lang, s, &award_field(&referrer.key, &referred.key), "6rem"))
                                        } @else { span.muted { "—" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            div.card id="prices" {
                h2 { (tr(lang, "授权价格表", "Price table")) }
                p.muted style="white-space:normal" {
                    (tr(lang,
                        "一行填了价格的商品,只按所填级别、所填价格销售,其他级别不能订购;整行留空的商品按各级别的单价销售。级别越低,价格须越高。",
                        "A product with prices in its row is sold only at the tiers given, at those prices, and cannot be ordered at the others; a product with an empty row is sold at each tier's unit price. A lower tier must pay more."))
                }
                @if skus.is_empty() {
                    p.muted { (tr(lang, "还没有商品:所有订单按级别单价。", "No products yet: every order is at the tier's unit price.")) }
                } @else {
                    table {
                        thead { tr {
                            th { (tr(lang, "商品", "Product")) }
                            @for t in p.tiers() { th { (tier_name(lang, t)) } }
                        } }
                        tbody { @for sku in &skus {
                            tr data-sku=(sku) {
                                th { (sku) }
                                @for t in p.tiers() { td { (input(lang, s, &price_field(sku, &t.key), "5.5rem")) } }
                            }
                        } }
                    }
                }
            }
            button type="submit" name="action" value="review" { (tr(lang, "检查并预览改动", "Check and review the changes")) }
        }
        details.card id="raw" open[s.errors.iter().any(|e| !s.fields.contains_key(&e.field)) && !s.document.is_empty()] {
            summary { (tr(lang, "直接编辑政策文档(熟悉格式的人员使用)", "Edit the policy document itself (for experts)")) }
            p.muted style="white-space:normal" { (tr(lang,
                "TOML 格式,见 docs/network.md。同样经过检查与预览;新增或删除级别只能在这里进行。版本号须为新的。",
                "TOML, see docs/network.md. Checked and reviewed the same way; adding or removing a tier is done here only. The version number must be new.")) }
            form method="post" action=(HERE) {
                input type="hidden" name="csrf" value=(csrf);
                textarea name="document" rows="18" style="width:100%;font-family:monospace" { (s.document) }
                button type="submit" name="action" value="raw" { (tr(lang, "检查并预览改动", "Check and review the changes")) }
            }
        }
    }
}

fn yuan(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

fn review_page(lang: Lang, csrf: &str, r: &Review) -> Markup {
    let old = &r.start.policy;
    let agents_at = |rank| {
        r.agents
            .iter()
            .find(|(k, _)| *k == rank)
            .map_or(0, |(_, n)| *n)
    };
    html! {
        div.card id="changes" {
            h2 { (tr(lang, "改动(与当前第 ", "Changes (against active version ")) (r.start.active.version) (tr(lang, " 版相比)", ")")) }
            @if r.changes.is_empty() {
                p.muted { (tr(lang, "与当前版本完全相同,无需启用。", "Identical to the active version: nothing to activate.")) }
            }
            ul { @for c in &r.changes { li data-change=(c.field) { (c.say(rl(lang))) } } }
        }
        div.card id="what-if" {
            h2 { (tr(lang, "影响预估", "What-if")) }
            p.muted style="white-space:normal" {
                (tr(lang, "近 ", "The last ")) (EFFECT_DAYS)
                (tr(lang, " 天各级别代理下的订单(已取消、已拒绝的除外),分别按当前价格和新价格计算的货款;新价格只影响今后的订单。",
                    " days' orders by each tier's agents (cancelled and rejected ones left out), priced at the active and at the new prices; new prices apply only to orders placed from now on."))
            }
            table {
                thead { tr {
                    th { (tr(lang, "级别", "Tier")) }
                    th.num { (tr(lang, "现有代理", "Active agents")) }
                    th.num { (tr(lang, "订购盒数", "Items ordered")) }
                    th.num { (tr(lang, "按当前价格", "At active prices")) }
                    th.num { (tr(lang, "按新价格", "At new prices")) }
                    th.num { (tr(lang, "差额", "Difference")) }
                    th { (tr(lang, "说明", "Note")) }
                } }
                tbody { @for e in &r.effect {
                    @let t = r.policy.tier(e.rank);
                    tr data-effect=(t.map_or("", |t| t.key.as_str())) {
                        td { (t.map_or("", |t| tier_name(lang, t))) }
                        td.num { (agents_at(e.rank)) }
                        td.num { (e.items) }
                        td.num { (yuan(e.old_goods)) }
                        td.num { (yuan(e.new_goods)) }
                        td.num { (yuan(e.new_goods - e.old_goods)) }
                        td.wrap {
                            @if e.unpriced_items > 0 {
                                (e.unpriced_items) (tr(lang, " 盒在新价格下此级别不能订购", " items could no longer be ordered at this tier"))
                            }
                        }
                    }
                } }
            }
            @if old.tiers().len() != r.policy.tiers().len() {
                p.muted { (tr(lang, "级别数量有变化:启用前请确认没有代理处在被删除的级别。", "The number of tiers changes: no agent may hold a removed tier.")) }
            }
        }
        div.card id="activate" {
            @if !r.changes.is_empty() {
                form method="post" action=(format!("{HERE}/activate")) class="inline" {
                    input type="hidden" name="csrf" value=(csrf);
                    (form_key::field())
                    input type="hidden" name="document" value=(r.document);
                    button type="submit" { (tr(lang, "保存为第 ", "Save as version ")) (r.policy.version()) (tr(lang, " 版并启用", " and activate")) }
                }
            }
            form method="post" action=(HERE) class="inline" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="document" value=(r.document);
                button type="submit" name="action" value="edit" style="background:#57534e" { (tr(lang, "返回修改", "Back to editing")) }
            }
            details {
                summary { (tr(lang, "将保存的文档", "The document to be saved")) }
                pre style="white-space:pre-wrap;font-size:.8rem" { (r.document) }
            }
        }
    }
}

fn respond(lang: Lang, caller: &crate::auth::Caller, picked: bool, body: Markup) -> Response {
    let switch = format!("{HERE}?lang={}", lang.other().param());
    hq_desk::respond(
        lang,
        caller,
        HERE,
        tr(lang, "价格政策", "Tier policy"),
        &switch,
        picked,
        html! { p { a href="/hq/network" { "← " (tr(lang, "代理网络", "Network")) } } (body) },
    )
}

/// `GET /hq/policy`: the form, starting from the active version.
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
    let start = match state.db.run(move |c| policy_review::start(c, actor)).await {
        Ok(s) => s,
        Err(e) => return staff::error_page(lang, e),
    };
    let fields = form::fields(&start.policy, &start.skus);
    let shown = Shown {
        fields: &fields,
        errors: &[],
        document: &start.active.document,
    };
    let bad = q.contains_key("bad");
    let body = html! {
        @if let Some(n) = q.get("notice") {
            div.card.verdict.(if bad { "bad" } else { "ok" }) id="notice" { (n) }
        }
        (form_page(lang, caller.csrf(), &start, &shown))
    };
    respond(lang, &caller, q.contains_key("lang"), body)
}

/// `POST /hq/policy`: `action` = `review` (the form), `raw` (the document) or `edit` (back to
/// the form with a reviewed document's values). Reads only.
pub async fn submit(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, actor) = match hq_desk::form_gate(&state, lang, caller, HERE, NEEDS, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let action = form.get("action").cloned().unwrap_or_default();
    let document = form.get("document").cloned().unwrap_or_default();
    let fields = form.clone();
    let raw = action == "raw";
    let edit = action == "edit";
    let out = state
        .db
        .run(move |c| {
            let start = policy_review::start(c, actor)?;
            if edit {
                return Ok(Err((start, Vec::new())));
            }
            let proposal = if raw {
                Proposal::Document(&document)
            } else {
                Proposal::Form(&fields)
            };
            policy_review::review(c, start, proposal)
        })
        .await;
    let doc = form.get("document").cloned().unwrap_or_default();
    let body = match out {
        Err(e) => return staff::error_page(lang, e),
        Ok(Ok(review)) => review_page(lang, caller.csrf(), &review),
        Ok(Err((start, errors))) if edit && errors.is_empty() => {
            // Back from a review: the reviewed document's values in the form.
            let values = Policy::parse(&doc)
                .map(|p| form::fields(&p, &start.skus))
                .unwrap_or_else(|_| form::fields(&start.policy, &start.skus));
            let shown = Shown {
                fields: &values,
                errors: &[],
                document: &start.active.document,
            };
            form_page(lang, caller.csrf(), &start, &shown)
        }
        Ok(Err((start, errors))) => {
            // What was typed stays: the form's values, or the expert's document with the form
            // at the active version.
            let active = form::fields(&start.policy, &start.skus);
            let shown = Shown {
                fields: if raw { &active } else { &form },
                errors: &errors,
                document: if raw { &doc } else { &start.active.document },
            };
            form_page(lang, caller.csrf(), &start, &shown)
        }
    };
    respond(lang, &caller, false, body)
}

/// `POST /hq/policy/activate`: saves the reviewed document as a new version and activates it,
/// once per form key.
pub async fn activate(
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
        move |c, actor, lang, f| {
            let document = f.get("document").map_or("", String::as_str);
            let row = policy_review::activate(c, actor, document)?;
            Ok((
                format!(
                    "{}{}{} · {}",
                    tr(lang, "已启用第 ", "Activated version "),
                    row.version,
                    tr(lang, " 版", ""),
                    row.name
                ),
                true,
            ))
        },
    )
    .await
}
