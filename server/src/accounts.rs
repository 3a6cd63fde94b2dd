//! Account use cases: signing in (tokens and sessions) and creating users.

use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};

use crate::app::App;
use crate::auth::{password, token};
use crate::domain::Role;
use crate::domain::role::TokenKind;
use crate::error::{Error, Result};
use crate::store::users::{self, User};

/// A fresh login: the secret to hand out once, and when it expires.
#[derive(Debug, Clone)]
pub struct Login {
    pub token: String,
    pub csrf: Option<String>,
    pub expires_at: NaiveDateTime,
    pub user: User,
}

/// A real hash of a random password nobody knows, so an unknown username costs as much time as a
/// known one and names cannot be probed by timing.
fn decoy_hash() -> String {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| password::hash_password(&password::generate_password()).unwrap_or_default())
        .clone()
}

/// Checks a username and password; `kind`: a bearer token of the API or a page session's cookie.
/// An account with too many failed sign-ins lately is refused before the password is checked
/// (`RateLimits::check_account`); the caller throttles per client. Refusals are logged with the
/// name and the client, never the password.
pub async fn login(
    app: &App,
    client: IpAddr,
    username: &str,
    password_text: &str,
    kind: TokenKind,
) -> Result<Login> {
    let name = username.trim().to_string();
    if let Err(e) = app.limits.check_account(&name) {
        tracing::warn!(user = %name, %client, kind = kind.as_str(), "sign-in refused: too many failures for this account");
        return Err(e);
    }
    let lookup = name.clone();
    let user = app
        .db
        .run(move |c| Ok(users::find_by_username(c, &lookup)?))
        .await?;
    let stored = user
        .as_ref()
        .filter(|u| !u.disabled)
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(decoy_hash);
    let candidate = password_text.to_string();
    let ok = tokio::task::spawn_blocking(move || password::verify_password(&candidate, &stored))
        .await
        .map_err(|e| Error::Internal(format!("password check: {e}")))?;
    let user = match user {
        Some(u) if ok && !u.disabled => u,
        _ => {
            metrics::counter!("chainmark_logins_total", "result" => "refused").increment(1);
            app.limits.record_failed_login(&name);
            tracing::warn!(user = %name, %client, kind = kind.as_str(), "sign-in refused: wrong username or password");
            return Err(Error::Unauthorized("wrong username or password".into()));
        }
    };
    let hours = match kind {
        TokenKind::Session => app.settings.session_ttl_hours,
        TokenKind::Api => app.settings.token_ttl_hours,
    };
    let expires_at = users::now() + Duration::hours(i64::from(hours));
    let (secret, hash) = token::new_token();
    let csrf = (kind == TokenKind::Session).then(token::new_csrf);
    let (user_id, csrf_owned) = (user.id, csrf.clone());
    app.db
        .write(move |c| {
            Ok(users::insert_token(
                c,
                user_id,
                &hash,
                kind,
                csrf_owned.as_deref(),
                expires_at,
            )?)
        })
        .await?;
    metrics::counter!("chainmark_logins_total", "result" => "ok").increment(1);
    tracing::info!(user = %user.username, kind = kind.as_str(), "signed in");
    Ok(Login {
        token: secret,
        csrf,
        expires_at,
        user,
    })
}

/// Creates an account. Without a password, one is generated and returned (shown once); the
/// user must change it at first sign-in.
pub fn create_user(
    conn: &mut crate::store::DbConnection,
    username: &str,
    display_name: &str,
    role: Role,
    password_text: Option<&str>,
) -> Result<(User, Option<String>)> {
    let (plain, generated) = match password_text {
        Some(p) => (p.to_string(), None),
        None => {
            let p = password::generate_password();
            (p.clone(), Some(p))
        }
    };
    let display = if display_name.trim().is_empty() {
        username
    } else {
        display_name
    };
    if generated.is_none() {
        password::check_new_password(&plain, &[username, display])?;
    }
    let hash = password::hash_checked(&plain)?;
    let user = users::create_user(conn, username, display, role, &hash, generated.is_some())?;
    Ok((user, generated))
}

/// Changes a signed-in user's password after checking the current one; clears
/// `must_change_password`. The new password must differ from the current one. Every other session
/// and token of the user ends with it (whoever learnt the old password is out); `keep` is the
/// session or token the change was made with.
pub async fn change_password(
    app: &App,
    user_id: i64,
    keep: i64,
    current: &str,
    new: &str,
) -> Result<()> {
    if current == new {
        return Err(Error::BadRequest(
            "choose a new password, not the current one".into(),
        ));
    }
    let user = app
        .db
        .run(move |c| Ok(users::find_by_id(c, user_id)?))
        .await?
        .ok_or_else(|| Error::Unauthorized("sign in again".into()))?;
    password::check_new_password(new, &[&user.username, &user.display_name])?;
    let (current, new) = (current.to_string(), new.to_string());
    let hash = tokio::task::spawn_blocking(move || {
        if password::verify_password(&current, &user.password_hash) {
            password::hash_checked(&new)
        } else {
            Err(Error::Unauthorized("the current password is wrong".into()))
        }
    })
    .await
    .map_err(|e| Error::Internal(format!("password check: {e}")))??;
    let ended = app
        .db
        .write(move |c| {
            users::set_password(c, user_id, &hash, false)?;
            Ok(users::end_sessions(c, user_id, Some(keep))?)
        })
        .await?;
    tracing::info!(
        user_id,
        ended,
        "password changed; the user's other sessions and tokens ended"
    );
    Ok(())
}

/// An HQ admin gives `user_id` a new one-time password (returned once; it must be changed at
/// the next sign-in) and ends every session and token of that user.
pub fn reset_password(conn: &mut crate::store::DbConnection, user_id: i64) -> Result<String> {
    let user = users::find_by_id(conn, user_id)?.ok_or_else(|| Error::not_found("user"))?;
    let plain = password::generate_password();
    let hash = password::hash_checked(&plain)?;
    users::set_password(conn, user.id, &hash, true)?;
    let ended = users::end_sessions(conn, user.id, None)?;
    tracing::info!(user = %user.username, ended, "password reset; every session and token ended");
    Ok(plain)
}

/// An HQ admin (`by`) disables or enables the account `user_id`. Disabling ends every session
/// and token of that user at once (it cannot sign in until enabled again). An admin cannot
/// disable itself: the brand would risk locking out its last administrator.
pub fn set_disabled(
    conn: &mut crate::store::DbConnection,
    by: i64,
    user_id: i64,
    disabled: bool,
) -> Result<User> {
    if disabled && by == user_id {
        return Err(Error::BadRequest(
            "you cannot disable your own account: ask another administrator".into(),
        ));
    }
    crate::store::in_transaction(conn, |conn| {
        if !crate::store::desk::set_user_disabled(conn, user_id, disabled)? {
            return Err(Error::not_found("user"));
        }
        if disabled {
            users::end_sessions(conn, user_id, None)?;
        }
        crate::store::audit::record(
            conn,
            Some(by),
            if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            &user_id.to_string(),
            &serde_json::json!({}),
        )?;
        users::find_by_id(conn, user_id)?.ok_or_else(|| Error::not_found("user"))
    })
}
