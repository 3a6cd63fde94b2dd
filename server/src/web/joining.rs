//! Public joining pages: the application form behind an invitation link (`/join/{code}`, with
//! its QR at `/join/{code}/qr.png`) and the authorisation check (`/a/{code}`, 授权查询, with the
//! certificate image at `/a/{code}/png`). No sign-in, no JavaScript, mobile first. The form has no
//! session to protect, so it carries no CSRF token; everything it submits is checked like the API.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::i18n::Lang;
use super::layout::page;
use super::network_i18n::{N, t};
use super::staff;
use crate::api::client::Client;
use crate::app::AppState;
use crate::domain::joining::Status as ApplicationStatus;
use crate::domain::joining::{FieldDef, FieldKind, Standing};
use crate::joining::{self as cases, ApplicationInput, certificates};
use crate::store::users::now;

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct FormQuery {
    lang: Option<String>,
    /// The province picked in the region picker's first step.
    province: Option<String>,
}

fn tier_label(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

/// `GET /join/{code}`.
pub async fn form(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<FormQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let province = q
        .province
        .as_deref()
        .and_then(|p| crate::diversion::regions().known(p));
    let loaded = state
        .db
        .run(move |c| {
            let (inv, inviter) = cases::open(c, &code)?;
            let (_, policy) = crate::network::policy::active(c)?;
            let products = crate::store::products::list(c)?;
            Ok((inv, inviter, policy, cases::fields(c)?, products))
        })
        .await;
    let (inv, inviter, policy, defs, products) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    // The same offer as `joining::apply` accepts: the tier the link names, else those below the
    // inviter's.
    let offered = match inv.tier_key.as_deref() {
        Some(key) => policy.tiers().iter().filter(|t| t.key == key).collect(),
        None => cases::open_link_tiers(&policy, inviter.tier_rank),
    };
    // Each tier with what joining at it takes: the entry order's threshold (首批).
    let tiers: Vec<(String, String, String)> = offered
        .into_iter()
        .map(|tier| {
            // The tier's own prices, so the applicant knows what the entry order costs.
            let prices: Vec<String> = products
                .iter()
                .filter_map(|p| {
                    let price = policy.price(tier.rank, &p.sku)?;
                    let name = match (lang, &p.name_en) {
                        (Lang::En, Some(en)) if !en.is_empty() => en.as_str(),
                        _ => p.name.as_str(),
                    };
                    Some(format!("{name} ¥{price}"))
                })
                .collect();
            let name = super::agent_i18n::tier_words(lang, &tier.name_zh, &tier.name_en);
            // The option stays short enough for a phone's picker; the prices go below it.
            let label = format!(
                "{name}{}{}",
                tr(lang, "：", ": "),
                super::agent_i18n::entry_words(lang, tier.entry),
            );
            let detail = format!(
                "{name}{}{}",
                tr(lang, "进货价：", " prices: "),
                prices.join(tr(lang, "、", ", "))
            );
            (tier.key.clone(), label, detail)
        })
        .collect();
    let action = format!("/join/{}", inv.code);
    let book = crate::diversion::regions();
    let body = html! {
        div.card {
            p { (t(lang, N::InvitedBy)) ": " strong { (inviter.name) } }
        }
        // The region in two steps without JavaScript: the province first (a GET back here), then
        // its cities' districts (GB/T 2260) in the form itself.
        form.card method="get" action=(action) id="province-step" {
            label for="province" { (tr(lang, "所在省份", "Province")) }
            select id="province" name="province" {
                @for p in book.provinces() {
                    @if Some(p.code) == province { option value=(p.code) selected { (p.name) } }
                    @else { option value=(p.code) { (p.name) } }
                }
            }
            input type="hidden" name="lang" value=(lang.param());
            button type="submit" id="pick-province" { (tr(lang, "选择省份", "Pick the province")) }
        }
        @if let Some(province) = province {
            form.card method="post" action=(action) id="apply" {
                label { (t(lang, N::Tier)) br;
                    select name="tier" id="tier" style="width:100%;font-size:1rem;padding:.4rem" {
                        @for (key, label, _) in &tiers { option value=(key) { (label) } }
                    }
                }
                @for (key, _, detail) in &tiers { p.muted data-tier-prices=(key) { (detail) } }
                label for="region" style="display:block;margin-top:.75rem" { (tr(lang, "所在地区（市、区县）", "City and district")) }
                select id="region" name="region" required style="width:100%;font-size:1rem;padding:.4rem" {
                    @for r in book.within(province) {
                        @if r.code.level() == crate::domain::diversion::Level::City {
                            option value=(r.code) disabled { "— " (r.name) " —" }
                        } @else {
                            option value=(r.code) { (book.full_name(r.code)) }
                        }
                    }
                }
                (input(t(lang, N::Name), "name", true))
                (input(t(lang, N::Phone), "phone", true))
                (input(t(lang, N::IdNumber), "id_number", true))
                @for d in &defs { (custom(lang, d)) }
                p { label { (tr(lang, "设置登录密码（至少 12 位）", "Choose your password (12 characters or more)")) br;
                    input type="password" name="password" id="password" required minlength="12" autocomplete="new-password"; } }
                p.muted { (tr(lang, "审核通过后，用手机号和这个密码登录。", "Once approved, sign in with your phone number and this password.")) }
                button type="submit" { (t(lang, N::Apply)) }
            }
        } @else {
            p.muted { (tr(lang, "先选择省份，再填写申请。", "Pick your province first, then fill in the application.")) }
        }
    };
    let switch = format!("/join/{}?lang={}", inv.code, lang.other().param());
    page(lang, t(lang, N::JoinTitle), Some(&switch), body).into_response()
}

fn tr(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    super::agent_i18n::tr(lang, zh, en)
}

fn input(label: &str, name: &str, required: bool) -> Markup {
    html! {
        p { label { (label) br; input type="text" name=(name) required[required] maxlength="100"; } }
    }
}

fn custom(lang: Lang, d: &FieldDef) -> Markup {
    let label = tier_label(lang, &d.label_zh, &d.label_en);
    let name = format!("f.{}", d.key);
    match &d.kind {
        FieldKind::Choice(choices) => html! {
            p { label { (label) br;
                select name=(name) required[d.required] {
                    @if !d.required { option value="" { "—" } }
                    @for c in choices { option value=(c) { (c) } }
                }
            } }
        },
        FieldKind::Number => html! {
            p { label { (label) br; input type="text" inputmode="decimal" name=(name) required[d.required]; } }
        },
        FieldKind::Text => input(&label, &name, d.required),
    }
}

/// `POST /join/{code}`: the form's fields, custom ones prefixed `f.`.
pub async fn submit(
    State(state): State<AppState>,
    Path(code): Path<String>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    if let Err(e) = state.limits.check_join(client.addr) {
        return staff::error_page(lang, e);
    }
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let input = ApplicationInput {
        tier: form.get("tier").cloned(),
        name: get("name"),
        phone: get("phone"),
        region: get("region"),
        id_number: get("id_number"),
        fields: form
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("f.").map(|k| (k.to_string(), v.clone())))
            .collect(),
    };
    let password = form.get("password").cloned().unwrap_or_default();
    let out = match state
        .db
        .write(move |c| cases::applicant::apply_with_password(c, &code, input, &password))
        .await
    {
        Ok(o) => o,
        Err(e) => return super::agent_i18n::error_page(lang, e, "javascript:history.back()"),
    };
    staff::see_other(&format!("/join/status/{}", out.token))
}

/// `GET /join/status/{token}`: the applicant's own page: its reference, where its application
/// stands, and how it signs in once approved.
pub async fn status(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let found = state
        .db
        .run(move |c| {
            let Some(app) = cases::applicant::by_token(c, &token)? else {
                return Ok(None);
            };
            let (_, policy) = crate::network::policy::active(c)?;
            Ok(Some((app, policy)))
        })
        .await;
    let (app, policy) = match found {
        Ok(Some(v)) => v,
        Ok(None) => {
            return super::agent_i18n::error_page(
                lang,
                crate::error::Error::not_found("application"),
                "/",
            );
        }
        Err(e) => return super::agent_i18n::error_page(lang, e, "/"),
    };
    let approved = app.status == ApplicationStatus::Approved;
    let body = html! {
        div.card.verdict.(if approved { "ok" } else if app.status == ApplicationStatus::Rejected { "bad" } else { "warn" }) id="application" data-status=(app.status.as_str()) {
            h2 { (super::agent_i18n::application_status(lang, app.status)) }
            dl {
                dt { (tr(lang, "申请编号", "Reference")) } dd id="reference" { "J" (format!("{:06}", app.id)) }
                dt { (t(lang, N::Name)) } dd { (app.name) }
                dt { (t(lang, N::Tier)) } dd { (super::agent_i18n::tier_by_key(lang, &policy, &app.tier_key)) }
                dt { (t(lang, N::Region)) } dd { (crate::diversion::views::region_name(&app.region)) }
                dt { (tr(lang, "提交时间", "Submitted")) } dd { (super::agent_i18n::when(lang, app.created_at)) }
            }
            @if approved {
                p { (tr(lang, "登录账号是您的手机号：", "Your user name is your phone number: ")) strong id="username" { (cases::username_for(&app.phone)) } }
                p { (tr(lang, "密码是您申请时设置的密码。", "Your password is the one you chose when applying.")) }
                p { a href="/login?next=/agent" id="sign-in" { (tr(lang, "登录 →", "Sign in →")) } }
            } @else if app.status == ApplicationStatus::Rejected {
                @if let Some(r) = &app.reason { p { (tr(lang, "原因：", "Reason: ")) (r) } }
            } @else {
                p { (tr(lang, "请收藏本页，随时查看审核进度。", "Bookmark this page to follow your application.")) }
            }
        }
    };
    page(lang, tr(lang, "我的申请", "My application"), None, body).into_response()
}

fn png(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "image/png")], bytes).into_response()
}

/// `GET /join/{code}/qr.png`.
pub async fn qr(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    let found = state.db.run(move |c| cases::open(c, &code)).await;
    match found.and_then(|(inv, _)| cases::invitation_png(&state.settings.base_url, &inv.code)) {
        Ok(bytes) => png(bytes),
        Err(e) => e.status().into_response(),
    }
}

/// `GET /a/{code}`: whether the holder is authorised now, for which tier and region, until when.
pub async fn check(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let switch = format!("/a/{}?lang={}", code, lang.other().param());
    let found = state
        .db
        .run(move |c| certificates::check(c, &code, now()))
        .await;
    let found = match found {
        Ok(f) => f,
        Err(e) => return staff::error_page(lang, e),
    };
    let Some(c) = found else {
        let body = html! {
            div.card.verdict.bad id="standing" data-standing="unknown" { h2 { (t(lang, N::NoCertificate)) } }
        };
        return (
            StatusCode::NOT_FOUND,
            page(lang, t(lang, N::CheckTitle), Some(&switch), body),
        )
            .into_response();
    };
    let (class, heading) = match c.standing {
        Standing::Authorised => ("ok", N::Authorised),
        Standing::Suspended => ("bad", N::Suspended),
        Standing::Expired => ("bad", N::Expired),
        Standing::NotYetValid => ("warn", N::NotYetValid),
        Standing::Superseded => ("warn", N::Superseded),
    };
    let cert = &c.certificate;
    let body = html! {
        div.card.verdict.(class) id="standing" data-standing=(c.standing.as_str()) {
            h2 { (t(lang, heading)) }
            dl {
                dt { (t(lang, N::Holder)) } dd { (cert.holder_name) }
                dt { (t(lang, N::Tier)) } dd { (tier_label(lang, &cert.tier_name_zh, &cert.tier_name_en)) }
                dt { (t(lang, N::Region)) } dd { (crate::diversion::views::region_name(&cert.region)) }
                dt { (t(lang, N::ValidFrom)) } dd { (cert.valid_from.format("%Y-%m-%d")) }
                dt { (t(lang, N::ValidUntil)) } dd { (cert.valid_until.format("%Y-%m-%d")) }
                dt { (t(lang, N::Number)) } dd { code { (cert.code) } }
            }
        }
    };
    page(lang, t(lang, N::CheckTitle), Some(&switch), body).into_response()
}
