//! Security headers on every response (issue 15, item 8).
//!
//! - `Content-Security-Policy`: nothing from elsewhere, no framing (`frame-ancestors 'none'`),
//!   forms post only here. The pages' inline style sheets and the verification page's one inline
//!   script are allowed by their SHA-256 hashes, computed here from the very constants the pages
//!   print, so editing one cannot silently break the page. Style *attributes* (`style="…"`,
//!   some computed, e.g. chart colours) are allowed through `style-src-attr 'unsafe-inline'`: they
//!   cannot load or run anything (`img-src`, `script-src` still apply), and no attacker text
//!   reaches one unescaped. Browsers without CSP level 3 fall back to `style-src`, which holds
//!   the hashes only: they lose those attribute styles, nothing else.
//! - `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (a verification URL
//!   carries the QR's tag), `X-Frame-Options: DENY` for browsers older than `frame-ancestors`.
//! - `Strict-Transport-Security` when the site's `base_url` is https.
//! - `Cache-Control: no-store` on every API response that does not set its own: API answers
//!   carry tokens, one-time passwords, device secrets, user lists and exports, none of which a
//!   shared or browser cache may keep. (Staff pages set it themselves, `web::staff`.)

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};

/// The inline blocks the pages print, by what they are.
fn inline_styles() -> [&'static str; 2] {
    [crate::web::layout::STYLE, crate::api::openapi::DOCS_STYLE]
}

fn inline_scripts() -> [&'static str; 1] {
    [crate::web::verify::GEO_SCRIPT]
}

/// `'sha256-…'` of an inline block's exact text.
pub fn csp_hash(text: &str) -> String {
    format!(
        "'sha256-{}'",
        data_encoding::BASE64.encode(&Sha256::digest(text.as_bytes()))
    )
}

/// The policy, built once.
pub fn content_security_policy() -> String {
    let styles: Vec<String> = inline_styles().iter().map(|s| csp_hash(s)).collect();
    let scripts: Vec<String> = inline_scripts().iter().map(|s| csp_hash(s)).collect();
    let styles = styles.join(" ");
    format!(
        "default-src 'none'; script-src {}; style-src {styles}; style-src-elem {styles}; \
         style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        scripts.join(" ")
    )
}

/// The headers every response gets.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    fixed: Vec<(HeaderName, HeaderValue)>,
}

impl SecurityHeaders {
    pub fn new(base_url: &str) -> SecurityHeaders {
        let mut fixed = vec![
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_str(&content_security_policy())
                    .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        ];
        if base_url.trim().to_ascii_lowercase().starts_with("https://") {
            fixed.push((
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            ));
        }
        SecurityHeaders { fixed }
    }

    fn apply(&self, api: bool, headers: &mut HeaderMap) {
        for (name, value) in &self.fixed {
            headers.insert(name.clone(), value.clone());
        }
        if api && !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
}

/// The middleware: adds the headers to whatever the routes answered.
pub async fn add(headers: Arc<SecurityHeaders>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut response = next.run(req).await;
    headers.apply(api, response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_inline_block_is_hashed_and_nothing_else_is_allowed() {
        let csp = content_security_policy();
        for text in inline_styles().iter().chain(inline_scripts().iter()) {
            assert!(csp.contains(&csp_hash(text)), "{csp}");
        }
        assert!(!csp.contains("'unsafe-eval'"));
        assert_eq!(csp.matches("'unsafe-inline'").count(), 1, "attributes only");
        assert!(csp.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn hsts_only_over_https() {
        let has = |base: &str| {
            SecurityHeaders::new(base)
                .fixed
                .iter()
                .any(|(n, _)| n == header::STRICT_TRANSPORT_SECURITY)
        };
        assert!(has("https://brand.example"));
        assert!(!has("http://127.0.0.1:8080"));
    }
}
