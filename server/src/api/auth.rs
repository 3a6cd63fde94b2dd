//! Tokens for API callers, and who am I.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::json::Json;
use crate::accounts;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::Role;
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
}

/// Sign in and get a bearer token.
#[utoipa::path(
    post,
    path = "/api/v1/auth/token",
    tag = "accounts",
    request_body = TokenRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
    )
)]
pub async fn create_token(
    State(state): State<AppState>,
    Json(body): Json<TokenRequest>,
) -> Result<axum::Json<TokenResponse>> {
    let login = accounts::login(&state, &body.username, &body.password, "api").await?;
    Ok(axum::Json(TokenResponse {
        token: login.token,
        expires_at: login.expires_at,
        role: login.user.role()?,
    }))
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
    state.db.write(move |c| users::delete_token(c, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
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
    })
}
