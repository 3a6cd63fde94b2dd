//! The server's one error type.
//!
//! The rule (after crates.io): `anyhow` only in `main.rs`; the store returns its own error
//! (`chainmark_store::Error`, converted here); handlers return `Error`, which maps to an HTTP
//! status and a stable machine-readable `code` in one place (`api::error`). Internal details are
//! logged, never sent.

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// A rule refuses the request as things stand: 409 with the rule's own stable code
    /// (`order_already_paid`, `out_of_stock`, `agent_not_active`, …), never a bare "conflict".
    /// Domain rules bring theirs (`chainmark_domain::Refusal`); use cases name theirs where they
    /// refuse (`Error::refuse`).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// Well-formed, but a business rule refuses it as things stand (e.g. a level application
    /// whose conditions are not met): 422.
    #[error("{0}")]
    NotEligible(String),
    /// 授权价格: the product has no price at the buyer's tier, so it cannot be ordered there (422).
    /// Said in both languages: the API has no language of its own, pages pick theirs.
    #[error(
        "产品 {sku} 没有{tier_zh}的授权价格，不能按此级别订购; product {sku} has no price for the \
         {tier_en} tier and cannot be ordered at that tier"
    )]
    NotPriced {
        sku: String,
        tier_zh: String,
        tier_en: String,
    },
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

impl From<chainmark_store::Error> for Error {
    fn from(e: chainmark_store::Error) -> Self {
        use chainmark_store::Error as S;
        match e {
            S::BadRequest(m) => Error::BadRequest(m),
            S::NotFound { what } => Error::NotFound { what },
            S::Conflict { code, message } => Error::Refused { code, message },
            S::Duplicate(detail) => {
                // The constraint's name is for the log; the client learns what it can act on.
                tracing::info!(%detail, "refused: a unique key is taken");
                Error::refuse("already_exists", "already exists")
            }
            S::Import(m) => Error::Import(m),
            S::Database(m) => Error::Database(m),
            S::Unavailable(m) => Error::Unavailable(m),
            S::Internal(m) => Error::Internal(m),
        }
    }
}

impl Error {
    pub fn not_found(what: &'static str) -> Self {
        Error::NotFound { what }
    }

    /// A use case's refusal under its stable code.
    pub fn refuse(code: &'static str, message: impl Into<String>) -> Self {
        Error::Refused {
            code,
            message: message.into(),
        }
    }

    /// A domain rule's refusal, its code kept.
    pub fn refused(e: &impl chainmark_domain::Refusal) -> Self {
        Error::Refused {
            code: e.code(),
            message: e.to_string(),
        }
    }
}
