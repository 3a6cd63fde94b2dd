//! Joining the network over JSON: the application form's custom fields, invitations (with their
//! QR), applications and their approval queue, and authorisation certificates (with the public
//! check). Thin: `crate::joining` checks role and ownership.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::network::{CallerId, actor_of};
use crate::api::client::Client;
use crate::api::error::ErrorBody;
use crate::api::json::Json;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::joining::{FieldDef, FieldKind, mask_id};
use crate::error::{Error, Result};
use crate::joining::{self as cases, ApplicationInput, Outcome, certificates};
use crate::network::Actor;
use crate::store::joining::{ApplicationRow, CertificateRow};
use crate::store::users::now;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(fields, add_field))
        .routes(routes!(remove_field))
        .routes(routes!(invite))
        .routes(routes!(invitation))
        .routes(routes!(invitation_png))
        .routes(routes!(apply))
        .routes(routes!(queue))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(issue))
        .routes(routes!(check))
        .routes(routes!(certificate_png))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FieldView {
    /// a-z, 0-9 and _; the key of the answer in `fields`.
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    #[serde(default)]
    pub required: bool,
    /// `text`, `number` or `choice`.
    pub kind: String,
    /// The answers a `choice` field allows.
    #[serde(default)]
    pub choices: Vec<String>,
}

impl From<FieldDef> for FieldView {
    fn from(d: FieldDef) -> Self {
        let kind = d.kind.as_str().to_string();
        FieldView {
            key: d.key,
            label_zh: d.label_zh,
            label_en: d.label_en,
            required: d.required,
            kind,
            choices: match d.kind {
                FieldKind::Choice(c) => c,
                _ => Vec::new(),
            },
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// The inviting agent; an agent may leave it out (itself). HQ admin names any active agent.
    pub agent_id: Option<i64>,
    /// A tier key the link offers (and only that one).
    pub tier: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub code: String,
    pub agent_id: i64,
    /// The agent who invites (its name).
    pub inviter: String,
    pub tier: Option<String>,
    /// The link to share: `/join/{code}`.
    pub url: String,
    /// Its QR image (PNG).
    pub qr_png: String,
    pub fields: Vec<FieldView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyBody {
    /// Tier key; may be left out when the invitation offers one.
    pub tier: Option<String>,
    pub name: String,
    pub phone: String,
    /// Region asked for (GB/T 2260 code or name).
    pub region: String,
    /// ID number (身份证号); stored as given, shown masked.
    pub id_number: String,
    /// Answers to the brand's custom fields, by key.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: i64,
    pub referrer_id: i64,
    /// The would-be supplier who decides first in two-stage approval; `null` = HQ.
    pub supplier_id: Option<i64>,
    pub tier: String,
    /// `automatic`, `hq` or `supplier_then_hq`.
    pub approval_mode: String,
    pub name: String,
    pub phone: String,
    pub region: String,
    /// Masked: first 3 and last 4 characters.
    pub id_number: String,
    pub fields: BTreeMap<String, String>,
    /// `awaiting_supplier`, `awaiting_hq`, `approved` or `rejected`.
    pub status: String,
    pub reason: Option<String>,
    /// The agent created on approval (pending until its entry order is paid).
    pub agent_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

impl From<ApplicationRow> for ApplicationView {
    fn from(a: ApplicationRow) -> Self {
        ApplicationView {
            id: a.id,
            referrer_id: a.referrer_id,
            supplier_id: a.supplier_id,
            tier: a.tier_key,
            approval_mode: a.approval_mode.as_str().to_string(),
            name: a.name,
            phone: a.phone,
            region: a.region,
            id_number: mask_id(&a.id_number),
            fields: serde_json::from_str(&a.fields).unwrap_or_default(),
            status: a.status.as_str().to_string(),
            reason: a.reason,
            agent_id: a.agent_id,
            created_at: a.created_at,
        }
    }
}

/// The account of an approved applicant: shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub agent_id: i64,
    pub username: String,
    /// One-time password; it must be changed at first sign-in.
    pub one_time_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeView {
    pub application: ApplicationView,
    pub account: Option<AccountView>,
}

impl From<Outcome> for OutcomeView {
    fn from(o: Outcome) -> Self {
        OutcomeView {
            application: o.application.into(),
            account: o.approved.map(|a| AccountView {
                agent_id: a.agent.id,
                username: a.username,
                one_time_password: a.password,
            }),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    pub agent_id: i64,
    /// Validity in days (HQ admin only; default 365).
    pub days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateView {
    pub code: String,
    pub agent_id: i64,
    pub holder: String,
    pub tier: String,
    pub tier_zh: String,
    pub tier_en: String,
    pub region: String,
    pub valid_from: NaiveDateTime,
    pub valid_until: NaiveDateTime,
    /// `authorised`, `suspended`, `expired`, `not_yet_valid` or `superseded`.
    pub standing: Option<String>,
    /// The public check page.
    pub url: String,
    pub png: String,
}

fn cert_view(c: CertificateRow, base: &str, standing: Option<&str>) -> CertificateView {
    CertificateView {
        url: certificates::check_url(base, &c.code),
        png: format!("{base}/api/v1/certificates/{}/png", c.code),
        code: c.code,
        agent_id: c.agent_id,
        holder: c.holder_name,
        tier: c.tier_key,
        tier_zh: c.tier_name_zh,
        tier_en: c.tier_name_en,
        region: c.region,
        valid_from: c.valid_from,
        valid_until: c.valid_until,
        standing: standing.map(String::from),
    }
}

fn png(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "image/png")], bytes).into_response()
}

/// The brand's custom fields of the application form (public: the form shows them).
#[utoipa::path(get, path = "/api/v1/join/fields", tag = "joining",
    responses((status = 200, body = Vec<FieldView>)))]
pub async fn fields(State(state): State<AppState>) -> Result<axum::Json<Vec<FieldView>>> {
    let defs = state.db.run(cases::fields).await?;
    Ok(axum::Json(defs.into_iter().map(FieldView::from).collect()))
}

/// Adds a custom field to the application form (HQ admin).
#[utoipa::path(post, path = "/api/v1/join/fields", tag = "joining", security(("bearer" = [])),
    request_body = FieldView,
    responses((status = 201, body = FieldView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_field(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<FieldView>,
) -> Result<(StatusCode, axum::Json<FieldView>)> {
    let who = CallerId::from(&caller);
    let def = FieldDef::check(
        &body.key,
        &body.label_zh,
        &body.label_en,
        body.required,
        &body.kind,
        &body.choices.join("\n"),
    )
    .map_err(|e| Error::BadRequest(e.to_string()))?;
    let saved = def.clone();
    state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            cases::add_field(c, actor, def)
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

/// Removes a custom field (HQ admin); answers already given stay.
#[utoipa::path(delete, path = "/api/v1/join/fields/{key}", tag = "joining",
    security(("bearer" = [])), params(("key" = String, Path, description = "Field key")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_field(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<StatusCode> {
    let who = CallerId::from(&caller);
    state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            cases::remove_field(c, actor, &key)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates an invitation (邀请码): an agent for itself, HQ admin for any active agent.
#[utoipa::path(post, path = "/api/v1/invitations", tag = "joining", security(("bearer" = [])),
    request_body = InviteBody,
    responses((status = 201, body = InvitationView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<InviteBody>,
) -> Result<(StatusCode, axum::Json<InvitationView>)> {
    let who = CallerId::from(&caller);
    let code = state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            let agent = match (actor, body.agent_id) {
                (_, Some(a)) => a,
                (Actor::Agent { agent, .. }, None) => agent,
                _ => {
                    return Err(Error::BadRequest(
                        "agent_id: name the inviting agent".into(),
                    ));
                }
            };
            Ok(cases::invite(c, actor, agent, body.tier.as_deref())?.code)
        })
        .await?;
    let view = invitation_view(&state, code).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

async fn invitation_view(state: &AppState, code: String) -> Result<InvitationView> {
    let (inv, inviter, defs) = state
        .db
        .run(move |c| {
            let (inv, inviter) = cases::open(c, &code)?;
            Ok((inv, inviter, cases::fields(c)?))
        })
        .await?;
    let base = &state.settings.base_url;
    Ok(InvitationView {
        url: cases::join_url(base, &inv.code),
        qr_png: format!("{base}/api/v1/invitations/{}/qr.png", inv.code),
        code: inv.code,
        agent_id: inv.agent_id,
        inviter: inviter.name,
        tier: inv.tier_key,
        fields: defs.into_iter().map(FieldView::from).collect(),
    })
}

/// An invitation that can be used now (public): who invites, the offered tier, the form.
#[utoipa::path(get, path = "/api/v1/invitations/{code}", tag = "joining",
    params(("code" = String, Path, description = "Invitation code")),
    responses((status = 200, body = InvitationView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn invitation(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<axum::Json<InvitationView>> {
    Ok(axum::Json(invitation_view(&state, code).await?))
}

/// The invitation link as a QR image (public).
#[utoipa::path(get, path = "/api/v1/invitations/{code}/qr.png", tag = "joining",
    params(("code" = String, Path, description = "Invitation code")),
    responses((status = 200, content_type = "image/png", description = "QR code"),
        (status = 404, body = ErrorBody)))]
pub async fn invitation_png(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response> {
    let found = state.db.run(move |c| cases::open(c, &code)).await?;
    Ok(png(cases::invitation_png(
        &state.settings.base_url,
        &found.0.code,
    )?))
}

/// Applies to join through an invitation (public). With automatic approval the answer carries
/// the new account's one-time password. Throttled per client address like the page's form.
#[utoipa::path(post, path = "/api/v1/invitations/{code}/applications", tag = "joining",
    params(("code" = String, Path, description = "Invitation code")), request_body = ApplyBody,
    responses((status = 201, body = OutcomeView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn apply(
    State(state): State<AppState>,
    Path(code): Path<String>,
    client: Client,
    Json(body): Json<ApplyBody>,
) -> Result<(StatusCode, axum::Json<OutcomeView>)> {
    state.limits.check_join(client.addr)?;
    let input = ApplicationInput {
        tier: body.tier,
        name: body.name,
        phone: body.phone,
        region: body.region,
        id_number: body.id_number,
        fields: body.fields,
    };
    let out = state
        .db
        .write(move |c| cases::apply(c, &code, input))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(out.into())))
}

/// The applications the caller decides now: HQ admin those awaiting HQ, an agent those awaiting
/// it as would-be supplier.
#[utoipa::path(get, path = "/api/v1/applications", tag = "joining", security(("bearer" = [])),
    responses((status = 200, body = Vec<ApplicationView>), (status = 403, body = ErrorBody)))]
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<ApplicationView>>> {
    let who = CallerId::from(&caller);
    let rows = state
        .db
        .run(move |c| {
            let actor = actor_of(c, &who)?;
            cases::queue(c, actor)
        })
        .await?;
    Ok(axum::Json(
        rows.into_iter().map(ApplicationView::from).collect(),
    ))
}

async fn decide(
    state: AppState,
    caller: Caller,
    id: i64,
    approve: bool,
    reason: String,
) -> Result<axum::Json<OutcomeView>> {
    let who = CallerId::from(&caller);
    let out = state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            cases::decide(c, actor, id, approve, &reason)
        })
        .await?;
    Ok(axum::Json(out.into()))
}

/// Approves an application: the would-be supplier's stage, or HQ's (which creates the agent).
#[utoipa::path(post, path = "/api/v1/applications/{id}/approve", tag = "joining",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Application id")),
    responses((status = 200, body = OutcomeView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<OutcomeView>> {
    decide(state, caller, id, true, String::new()).await
}

/// Rejects an application, saying why.
#[utoipa::path(post, path = "/api/v1/applications/{id}/reject", tag = "joining",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Application id")),
    request_body = ReasonBody,
    responses((status = 200, body = OutcomeView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ReasonBody>,
) -> Result<axum::Json<OutcomeView>> {
    decide(state, caller, id, false, body.reason).await
}

/// Issues an authorisation certificate (授权证书) to an active agent: the agent itself, or HQ
/// admin (who may set the term).
#[utoipa::path(post, path = "/api/v1/certificates", tag = "joining", security(("bearer" = [])),
    request_body = IssueBody,
    responses((status = 201, body = CertificateView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn issue(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<IssueBody>,
) -> Result<(StatusCode, axum::Json<CertificateView>)> {
    let who = CallerId::from(&caller);
    let row = state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            certificates::issue(c, actor, body.agent_id, body.days)
        })
        .await?;
    let view = cert_view(row, &state.settings.base_url, Some("authorised"));
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// Checks a certificate (授权查询, public): whether its holder is authorised now.
#[utoipa::path(get, path = "/api/v1/certificates/{code}", tag = "joining",
    params(("code" = String, Path, description = "Certificate code")),
    responses((status = 200, body = CertificateView), (status = 404, body = ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<axum::Json<CertificateView>> {
    let found = state
        .db
        .run(move |c| certificates::check(c, &code, now()))
        .await?
        .ok_or_else(|| Error::not_found("certificate"))?;
    let standing = found.standing.as_str();
    Ok(axum::Json(cert_view(
        found.certificate,
        &state.settings.base_url,
        Some(standing),
    )))
}

/// The certificate as a picture in words (PNG, in the language asked) with a QR to its check
/// page (public): answers 303 with the picture's address, `/a/{code}/certificate.png`, where the
/// page and the API draw it alike.
#[utoipa::path(get, path = "/api/v1/certificates/{code}/png", tag = "joining",
    params(("code" = String, Path, description = "Certificate code"),
        ("lang" = Option<String>, Query, description = "`zh` (default) or `en`")),
    responses((status = 303, description = "The picture's address, in `Location`"),
        (status = 404, body = ErrorBody)))]
pub async fn certificate_png(
    State(state): State<AppState>,
    Path(code): Path<String>,
    axum::extract::Query(q): axum::extract::Query<PictureQuery>,
) -> Result<Response> {
    let lookup = code.clone();
    state
        .db
        .run(move |c| certificates::check(c, &lookup, now()))
        .await?
        .ok_or_else(|| Error::not_found("certificate"))?;
    let lang = if q.lang.as_deref() == Some("en") {
        "en"
    } else {
        "zh"
    };
    Ok(
        axum::response::Redirect::to(&format!("/a/{code}/certificate.png?lang={lang}"))
            .into_response(),
    )
}

#[derive(Debug, serde::Deserialize)]
pub struct PictureQuery {
    lang: Option<String>,
}
