//! The `Caller` extractor: a bearer token (API) or a session cookie (web pages).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;

use super::token::hash_token;
use crate::app::AppState;
use crate::domain::role::TokenKind;
use crate::domain::{Permission, Role};
use crate::error::{Error, Result};
use crate::store::users;

pub const SESSION_COOKIE: &str = "cm_session";

/// How the caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Bearer,
    /// A browser session: state-changing forms must carry this CSRF token.
    Session {
        csrf: String,
    },
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub token_id: i64,
    pub via: Via,
    /// The account still has a one-time password: until it is changed the account may do
    /// nothing else (pages send it to `/account/password`; the API answers 403
    /// `password_change_required`, see [`may_act_before_changing`]).
    pub must_change_password: bool,
}

/// What an account with a one-time password may still do on the API: change it, see who it is,
/// and sign out.
pub fn may_act_before_changing(method: &axum::http::Method, path: &str) -> bool {
    use axum::http::Method;
    matches!(
        (method, path.trim_end_matches('/')),
        (&Method::POST, "/api/v1/auth/password")
            | (&Method::DELETE, "/api/v1/auth/token")
            | (&Method::GET, "/api/v1/me")
    )
}

impl Caller {
    /// Refuses with 403 unless the caller's role grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<()> {
        if self.role.allows(permission) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "role {} may not do this ({permission:?})",
                self.role.as_str()
            )))
        }
    }

    /// For form posts: the CSRF field must match the session's token.
    pub fn check_csrf(&self, presented: &str) -> Result<()> {
        use subtle::ConstantTimeEq;
        match &self.via {
            Via::Bearer => Ok(()),
            Via::Session { csrf } if bool::from(csrf.as_bytes().ct_eq(presented.as_bytes())) => {
                Ok(())
            }
            Via::Session { .. } => Err(Error::Forbidden(
                "the form has expired or did not come from this site: reload the page and try again"
                    .into(),
            )),
        }
    }

    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf } => csrf,
            Via::Bearer => "",
        }
    }

    /// Resolves the caller from a bearer header or session cookie, if any.
    pub async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<Caller>> {
        let bearer = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| (t.trim().to_string(), TokenKind::Api));
        let presented = match bearer {
            Some(b) => Some(b),
            None => CookieJar::from_headers(&parts.headers)
                .get(SESSION_COOKIE)
                .map(|c| (c.value().to_string(), TokenKind::Session)),
        };
        let Some((token, kind)) = presented else {
            return Ok(None);
        };
        let hash = hash_token(&token);
        let owner = state
            .db
            .run(move |c| Ok(users::find_token(c, &hash)?))
            .await?;
        let Some(owner) = owner.filter(|o| o.kind == kind) else {
            return Ok(None);
        };
        let role = owner.user.role;
        let via = match kind {
            TokenKind::Session => Via::Session {
                csrf: owner.csrf_token.clone().unwrap_or_default(),
            },
            TokenKind::Api => Via::Bearer,
        };
        Ok(Some(Caller {
            user_id: owner.user.id,
            username: owner.user.username,
            display_name: owner.user.display_name,
            role,
            token_id: owner.token_id,
            via,
            must_change_password: owner.user.must_change_password,
        }))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let caller = Caller::resolve(parts, state).await?;
        // The JSON API changes state only for bearer tokens: a browser sends the session cookie
        // on its own, so a cookie-authenticated POST to the API could be forged by another site
        // (forms carry a CSRF token; API calls do not).
        if let Some(Caller {
            via: Via::Session { .. },
            ..
        }) = &caller
        {
            let safe = matches!(
                parts.method,
                axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
            );
            if !safe && parts.uri.path().starts_with("/api/") {
                return Err(Error::Forbidden(
                    "the API takes 'Authorization: Bearer <token>' for changes, not the browser session"
                        .into(),
                ));
            }
        }
        if let Some(c) = &caller {
            if c.must_change_password && !may_act_before_changing(&parts.method, parts.uri.path()) {
                return Err(Error::PasswordChangeRequired);
            }
        }
        caller.ok_or_else(|| {
            Error::Unauthorized(
                "sign in first: send 'Authorization: Bearer <token>' (POST /api/v1/auth/token)"
                    .into(),
            )
        })
    }
}

/// Pages that look different for signed-in users take `MaybeCaller`.
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        Ok(MaybeCaller(Caller::resolve(parts, state).await?))
    }
}
