//! Tokens for API callers, and who am I.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::client::Client;
use super::error::ErrorBody;
use super::json::Json;
use crate::accounts;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::Role;
use crate::domain::role::TokenKind;
use crate::error::Result;
use crate::store::users;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`. Shown once; only its hash is stored.
    pub token: String,
    pub expires_at: NaiveDateTime,
    pub role: Role,
    /// True for a one-time password: the token may only be used to change it
    /// (`POST /api/v1/auth/password`) until then.
    pub must_change_password: bool,
}

/// Sign in and get a bearer token. Throttled like the sign-in page: per client address (every
/// attempt) and per account (failed attempts), answered 429 with `Retry-After`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/token",
    tag = "accounts",
    request_body = TokenRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 429, description = "Too many attempts from this client or for this account", body = ErrorBody),
    )
)]
pub async fn create_token(
    State(state): State<AppState>,
    client: Client,
    Json(body): Json<TokenRequest>,
) -> Result<axum::Json<TokenResponse>> {
    // Throttle first, so refused attempts cost no password hashing.
    if let Err(e) = state.limits.check_login(client.addr) {
        tracing::warn!(user = %body.username.trim(), client = %client.addr, "sign-in refused: too many attempts from this client");
        return Err(e);
    }
    let login = accounts::login(
        &state,
        client.addr,
        &body.username,
        &body.password,
        TokenKind::Api,
    )
    .await?;
    Ok(axum::Json(TokenResponse {
        token: login.token,
        expires_at: login.expires_at,
        role: login.user.role,
        must_change_password: login.user.must_change_password,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current: String,
    /// At least 10 characters, not the user name, not easy to guess.
    pub new: String,
}

/// Change the caller's own password (the one thing an account with a one-time password may do).
/// Every other session and token of the user ends; the token used for this call stays valid.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "The new password is refused: `password_too_short`, `password_contains_username`, `password_too_common`, `password_too_predictable` or `bad_request`", body = ErrorBody),
        (status = 401, description = "Not signed in, or the current password is wrong", body = ErrorBody),
        (status = 429, body = ErrorBody),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    Json(body): Json<PasswordChange>,
) -> Result<StatusCode> {
    // A stolen token must not be able to guess the current password at speed either.
    state.limits.check_login(client.addr)?;
    accounts::change_password(
        &state,
        caller.user_id,
        caller.token_id,
        &body.current,
        &body.new,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke the token used for this request.
#[utoipa::path(
    delete,
    path = "/api/v1/auth/token",
    tag = "accounts",
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody))
)]
pub async fn revoke_token(State(state): State<AppState>, caller: Caller) -> Result<StatusCode> {
    let id = caller.token_id;
    state
        .db
        .write(move |c| Ok(users::delete_token(c, id)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// True until a one-time password is changed; everything but changing it answers 403
    /// `password_change_required` meanwhile.
    pub must_change_password: bool,
}

/// Who the caller is.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "accounts",
    security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody))
)]
pub async fn me(caller: Caller) -> axum::Json<Me> {
    axum::Json(Me {
        id: caller.user_id,
        username: caller.username,
        display_name: caller.display_name,
        role: caller.role,
        must_change_password: caller.must_change_password,
    })
}
