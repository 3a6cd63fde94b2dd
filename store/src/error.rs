//! The store's one error type, with a stable machine-readable code per variant.
//!
//! diesel's errors are converted here and nowhere else. The server turns these into its own
//! error (`chainmark_server::Error: From<Error>`), which maps them to HTTP statuses.

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    /// The input cannot be stored as given (a date or amount out of range, a path that is not
    /// a backup target).
    #[error("{0}")]
    BadRequest(String),
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// The write collides with what is stored (a unique key, a version that exists already),
    /// with a stable code saying which rule (`version_exists`, `batch_already_imported`, …).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A unique key met a row that is already there, and the caller had no better message for
    /// it. The backend's text (naming the constraint) is for the log only: it says nothing a
    /// client can act on and names the schema.
    #[error("already exists")]
    Duplicate(String),
    /// A code batch the import refuses.
    #[error("{0}")]
    Import(String),
    #[error("database error: {0}")]
    Database(String),
    /// The pool or the writer cannot take work now.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn not_found(what: &'static str) -> Self {
        Error::NotFound { what }
    }

    /// A collision with what is stored, under its rule's stable code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict {
            code,
            message: message.into(),
        }
    }

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadRequest(_) => "bad_request",
            Error::NotFound { .. } => "not_found",
            Error::Conflict { code, .. } => code,
            Error::Duplicate(_) => "already_exists",
            Error::Import(_) => "import_rejected",
            Error::Database(_) => "internal",
            Error::Unavailable(_) => "unavailable",
            Error::Internal(_) => "internal",
        }
    }
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error as D};
        match e {
            D::NotFound => Error::NotFound { what: "record" },
            D::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Error::Duplicate(info.message().to_owned())
            }
            other => Error::Database(other.to_string()),
        }
    }
}
