//! The server's one error type.
//!
//! The rule (after crates.io): `anyhow` only in `main.rs`; the store returns `Error` built from
//! diesel errors; handlers return `Error`, which maps to an HTTP status and a stable
//! machine-readable `code` in one place (`api::error`). Internal details are logged, never sent.

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// Well-formed, but a business rule refuses it as things stand (e.g. a level application
    /// whose conditions are not met): 422.
    #[error("{0}")]
    NotEligible(String),
    /// An `Idempotency-Key` sent again with a different request: 422.
    #[error("{0}")]
    IdempotencyKeyReused(String),
    /// A new password that fails the rule (`auth::password`): 400 with the problem's own code.
    #[error("{}", .0.message())]
    WeakPassword(crate::auth::password::PasswordProblem),
    /// The account still has its one-time password: it may only change it (403).
    #[error(
        "this account must change its one-time password first: POST /api/v1/auth/password \
         (or sign in on the web page)"
    )]
    PasswordChangeRequired,
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    Import(String),
    #[error("request body too large")]
    TooLarge,
    #[error("{0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error as D};
        match e {
            D::NotFound => Error::NotFound { what: "record" },
            D::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Error::Conflict(format!("already exists ({})", info.message()))
            }
            other => Error::Database(other.to_string()),
        }
    }
}

impl Error {
    pub fn not_found(what: &'static str) -> Self {
        Error::NotFound { what }
    }
}
