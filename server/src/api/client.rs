//! The client's address and browser, as evidence and as the rate-limit key.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::app::AppState;
use crate::error::Error;

/// Where a request came from.
#[derive(Debug, Clone)]
pub struct Client {
    pub addr: IpAddr,
    pub user_agent: Option<String>,
}

impl FromRequestParts<AppState> for Client {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let forwarded = state
            .settings
            .trust_proxy
            .then(|| {
                parts
                    .headers
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(',').next())
                    .and_then(|v| v.trim().parse::<IpAddr>().ok())
            })
            .flatten();
        let addr = match forwarded {
            Some(addr) => addr,
            // Through the extractor rather than the extension, so tests' `MockConnectInfo` works.
            None => ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
                .await
                .map(|ConnectInfo(a)| a.ip())
                .map_err(|_| {
                    Error::Internal("no client address: serve with connect info".into())
                })?,
        };
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect());
        Ok(Client { addr, user_agent })
    }
}
