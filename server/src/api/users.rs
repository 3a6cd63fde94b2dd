//! User accounts, for HQ admins.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::json::Json;
use crate::accounts;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::{Permission, Role};
use crate::error::Result;
use crate::store::users::{self, User};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    pub role: Role,
    /// Omit to have one generated (returned once; must be changed at first sign-in).
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub disabled: bool,
    pub must_change_password: bool,
    pub created_at: NaiveDateTime,
}

impl From<User> for UserBody {
    fn from(u: User) -> Self {
        UserBody {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role.as_str().to_string(),
            disabled: u.disabled,
            must_change_password: u.must_change_password,
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    pub user: UserBody,
    /// The generated password, when none was given. Shown once.
    pub password: Option<String>,
}

/// Create a user (HQ admin).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = NewUserBody,
    responses(
        (status = 201, body = CreatedUser),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "Username taken", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewUserBody>,
) -> Result<(StatusCode, axum::Json<CreatedUser>)> {
    caller.require(Permission::ManageUsers)?;
    let (user, password) = state
        .db
        .write(move |c| {
            accounts::create_user(
                c,
                &body.username,
                &body.display_name,
                body.role,
                body.password.as_deref(),
            )
        })
        .await?;
    tracing::info!(by = %caller.username, user = %user.username, role = %user.role, "user created");
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedUser {
            user: user.into(),
            password,
        }),
    ))
}

/// List users (HQ admin).
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "accounts",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<UserBody>), (status = 403, body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<UserBody>>> {
    caller.require(Permission::ManageUsers)?;
    let all = state.db.run(|c| Ok(users::list(c)?)).await?;
    Ok(axum::Json(all.into_iter().map(UserBody::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordReset {
    /// The new one-time password. Shown once; the user must change it at the next sign-in.
    pub password: String,
}

/// Give a user a new one-time password (HQ admin). Every session and token of that user ends.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/password",
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, body = PasswordReset),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<PasswordReset>> {
    caller.require(Permission::ManageUsers)?;
    let password = state
        .db
        .write(move |c| accounts::reset_password(c, id))
        .await?;
    tracing::info!(by = %caller.username, user_id = id, "password reset");
    Ok(axum::Json(PasswordReset { password }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisabledBody {
    /// `true` to disable the account (its sessions and tokens end), `false` to enable it.
    pub disabled: bool,
}

/// Disable or enable a user (HQ admin). Disabling ends every session and token of that user.
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}/disabled",
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    request_body = DisabledBody,
    responses(
        (status = 200, body = UserBody),
        (status = 400, description = "Your own account", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn set_disabled(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<DisabledBody>,
) -> Result<axum::Json<UserBody>> {
    caller.require(Permission::ManageUsers)?;
    let by = caller.user_id;
    let user = state
        .db
        .write(move |c| accounts::set_disabled(c, by, id, body.disabled))
        .await?;
    tracing::info!(by = %caller.username, user_id = id, disabled = body.disabled, "user disabled flag set");
    Ok(axum::Json(user.into()))
}
