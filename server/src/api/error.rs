//! The one place where `Error` becomes an HTTP response: a status, a stable machine-readable
//! `code`, and a message that says what to do. Internal details are logged, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::Error;

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `bad_request`, `not_found`, `method_not_allowed`, `conflict`,
    /// `unauthorized`, `forbidden`, `password_change_required`, `password_too_short`,
    /// `password_contains_username`, `password_too_common`, `password_too_predictable`,
    /// `not_eligible`, `not_priced`, `too_large`, `unsupported_media_type`, `rate_limited`,
    /// `import_rejected`, `unavailable`, `internal`, `idempotency_key_reused`; and a domain
    /// rule's own refusal (409): `order_closed`, `order_already_answered`, `order_not_answered`,
    /// `order_already_paid`, `order_not_paid`, `order_shipping_started`, `order_already_shipped`,
    /// `order_not_shipped`, `order_already_received`, `order_not_received`,
    /// `order_already_completed`, `order_no_quantity`, `order_price_not_below`, `out_of_stock`,
    /// `order_lines_disagree`, `order_no_lines`, `refund_quantity_exceeds_order`,
    /// `refund_no_such_line`, `withdrawal_bad_amount`, `insufficient_balance`,
    /// `referral_to_self`, `referral_cycle`,
    /// `referral_chain_corrupt`.
    pub code: &'static str,
    /// For people: what went wrong and what to do.
    pub message: String,
}

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) | Error::Config(_) | Error::WeakPassword(_) => {
                StatusCode::BAD_REQUEST
            }
            Error::PasswordChangeRequired => StatusCode::FORBIDDEN,
            Error::Import(_) | Error::NotEligible(_) | Error::NotPriced { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Error::IdempotencyKeyReused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::Refused { .. } => StatusCode::CONFLICT,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Database(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Error::BadRequest(_) | Error::Config(_) => "bad_request",
            Error::WeakPassword(problem) => problem.code(),
            Error::PasswordChangeRequired => "password_change_required",
            Error::Import(_) => "import_rejected",
            Error::NotEligible(_) => "not_eligible",
            Error::NotPriced { .. } => "not_priced",
            Error::IdempotencyKeyReused(_) => "idempotency_key_reused",
            Error::TooLarge => "too_large",
            Error::NotFound { .. } => "not_found",
            Error::Refused { code, .. } => code,
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::RateLimited { .. } => "rate_limited",
            Error::Unavailable(_) => "unavailable",
            Error::Database(_) | Error::Internal(_) => "internal",
        }
    }

    /// The message a client may see.
    pub fn public_message(&self) -> String {
        match self {
            Error::Database(_) | Error::Internal(_) => {
                "internal error: it has been logged; try again later".into()
            }
            Error::Unavailable(_) => "the service is busy or starting: try again shortly".into(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let retry_after = match &self {
            Error::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.public_message(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}
