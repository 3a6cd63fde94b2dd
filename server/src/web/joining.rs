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
use crate::domain::joining::{FieldDef, FieldKind, Standing};
use crate::joining::{self as cases, ApplicationInput, certificates};
use crate::store::users::now;

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
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
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let loaded = state
        .db
        .run(move |c| {
            let (inv, inviter) = cases::open(c, &code)?;
            let (_, policy) = crate::network::policy::active(c)?;
            Ok((inv, inviter, policy, cases::fields(c)?))
        })
        .await;
    let (inv, inviter, policy, defs) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    // The same offer as `joining::apply` accepts: the tier the link names, else those below the
    // inviter's.
    let offered = match inv.tier_key.as_deref() {
        Some(key) => policy.tiers().iter().filter(|t| t.key == key).collect(),
        None => cases::open_link_tiers(&policy, inviter.tier_rank),
    };
    let tiers: Vec<(String, String)> = offered
        .into_iter()
        .map(|tier| {
            (
                tier.key.clone(),
                tier_label(lang, &tier.name_zh, &tier.name_en),
            )
        })
        .collect();
    let action = format!("/join/{}", inv.code);
    let body = html! {
        div.card {
            p { (t(lang, N::InvitedBy)) ": " strong { (inviter.name) } }
            img src=(format!("/join/{}/qr.png", inv.code)) alt="QR" style="max-width:12rem";
        }
        form.card method="post" action=(action) id="apply" {
            label { (t(lang, N::Tier)) br;
                select name="tier" {
                    @for (key, label) in &tiers { option value=(key) { (label) } }
                }
            }
            (input(t(lang, N::Name), "name", true))
            (input(t(lang, N::Phone), "phone", true))
            (input(t(lang, N::Region), "region", true))
            (input(t(lang, N::IdNumber), "id_number", true))
            @for d in &defs { (custom(lang, d)) }
            button type="submit" { (t(lang, N::Apply)) }
        }
    };
    let switch = format!("/join/{}?lang={}", inv.code, lang.other().param());
    page(lang, t(lang, N::JoinTitle), Some(&switch), body).into_response()
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
    let out = match state.db.write(move |c| cases::apply(c, &code, input)).await {
        Ok(o) => o,
        Err(e) => return staff::error_page(lang, e),
    };
    let body = html! {
        div.card.verdict.ok id="submitted" data-status=(out.application.status) {
            h2 { (t(lang, N::Submitted)) }
            @if let Some(a) = &out.approved {
                p { (t(lang, N::Approved)) }
                dl {
                    dt { (t(lang, N::Username)) } dd { code { (a.username) } }
                    dt { (t(lang, N::OneTimePassword)) } dd { code id="password" { (a.password) } }
                }
                p.muted { (t(lang, N::PasswordOnce)) }
                p { a href="/login?next=/agent" { "→ /agent" } }
            } @else {
                p { (t(lang, N::SubmittedDetail)) }
            }
        }
    };
    staff::with_cookies(
        page(lang, t(lang, N::JoinTitle), None, body).into_response(),
        [],
    )
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

/// `GET /a/{code}/png`: the certificate image.
pub async fn certificate_png(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    let found = state
        .db
        .run(move |c| certificates::check(c, &code, now()))
        .await;
    match found {
        Ok(Some(c)) => match certificates::png(&c.certificate, &state.settings.base_url) {
            Ok(bytes) => png(bytes),
            Err(e) => e.status().into_response(),
        },
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
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
                dt { (t(lang, N::Region)) } dd { (cert.region) }
                dt { (t(lang, N::ValidFrom)) } dd { (cert.valid_from.format("%Y-%m-%d")) }
                dt { (t(lang, N::ValidUntil)) } dd { (cert.valid_until.format("%Y-%m-%d")) }
                dt { (t(lang, N::Number)) } dd { code { (cert.code) } }
            }
        }
    };
    page(lang, t(lang, N::CheckTitle), Some(&switch), body).into_response()
}
