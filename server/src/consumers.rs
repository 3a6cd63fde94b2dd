//! Consumers sign in by phone with a one-time code (issue 21, scan marketing): to claim a reward
//! and to see "my rewards". The rules are `domain::marketing::sign_in`; the pages are
//! `web/consumer_sign_in.rs` and `web/consumer_rewards.rs`.
//!
//! - **Sending** a code: a mainland mobile number (`domain::phone::mainland_mobile`); throttled
//!   per client address in memory (`RateLimits::check_consumer_code_sent`) and per phone by the
//!   codes stored for it (`sign_in::may_send`: one a minute, five an hour; read from the table,
//!   so it holds across server instances); six random digits, stored as a hash with their expiry,
//!   then texted by the [`SmsSender`](crate::sms::SmsSender).
//! - **Checking** it: only the newest code sent to the phone counts, while unused and unexpired;
//!   every try is counted by a conditional update, so a code allows [`MAX_ATTEMPTS`] tries in
//!   all, across instances; the right code is used by another conditional update
//!   (`used_at IS NULL`), so two submits of one code make one session. Then the consumer (one per
//!   phone) and a session: 32 random bytes in the `cm_consumer` cookie, only their hash stored,
//!   for [`SESSION_DAYS`] days.
//! - **Who is signed in**: [`signed_in`], one indexed read, for every page that needs the
//!   consumer (my rewards, the verification page, claiming a reward).

use std::net::IpAddr;

use axum::http::HeaderMap;
use axum_extra::extract::CookieJar;
use chrono::Duration;
use rand::Rng;
use rand::rngs::OsRng;

use crate::app::App;
use crate::auth::token::{hash_token, new_token};
use crate::domain::Refusal;
use crate::domain::marketing::MarketingError;
use crate::domain::marketing::sign_in::{self, DIGITS, MAX_ATTEMPTS};
use crate::error::{Error, Result};
use crate::store::consumers as store;
use crate::store::users::now;

/// The consumer's session cookie.
pub const CONSUMER_COOKIE: &str = "cm_consumer";

/// How long a consumer stays signed in.
pub const SESSION_DAYS: i64 = 30;

/// A signed-in consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerSession {
    /// The `consumers` row, the owner of the ledger accounts `consumer:{id}:…`.
    pub consumer_id: i64,
    /// 11 digits of a mainland mobile.
    pub phone: String,
}

/// Why a sign-in step was refused: said to the person on the form, and nothing is kept but a
/// counted try.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInRefusal {
    #[error("enter a mainland China mobile number: 11 digits starting with 1")]
    Phone,
    #[error("a sign-in code is 6 digits")]
    CodeShape,
    /// `MarketingError::WrongCode` (wrong, expired, used, or out of tries) or
    /// `MarketingError::CodeWait` (a code was sent a moment ago).
    #[error(transparent)]
    Rule(#[from] MarketingError),
}

impl Refusal for SignInRefusal {
    fn code(&self) -> &'static str {
        match self {
            SignInRefusal::Phone => "sign_in_phone",
            SignInRefusal::CodeShape => "sign_in_code_shape",
            SignInRefusal::Rule(e) => e.code(),
        }
    }
}

/// A code on its way to a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The phone as stored: the form shows it and sends it back with the code.
    pub phone: String,
}

/// A new session: the token goes into the cookie and nowhere else.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub consumer: ConsumerSession,
}

/// What is stored of a code: its hash with the phone, so the table shows no code.
fn code_hash(phone: &str, code: &str) -> String {
    hash_token(&format!("{phone}:{code}"))
}

/// The text the consumer receives: in Chinese, the language of mainland phones, with the brand.
fn message(brand: &str, code: &str) -> String {
    let minutes = sign_in::VALID_FOR.num_minutes();
    format!("【{brand}】您的验证码是 {code}，{minutes} 分钟内有效。如非本人操作，请忽略本短信。")
}

/// Sends a sign-in code to `raw_phone` at the request of `client`. The outer error is the
/// client's throttle or a failure; the inner one a refusal in words (nothing stored then).
pub async fn send_code(
    app: &App,
    client: IpAddr,
    raw_phone: &str,
) -> Result<std::result::Result<Sent, SignInRefusal>> {
    app.limits.check_consumer_code_sent(client)?;
    let Some(phone) = crate::domain::phone::mainland_mobile(raw_phone) else {
        return Ok(Err(SignInRefusal::Phone));
    };
    let code = format!("{:0DIGITS$}", OsRng.gen_range(0..10u32.pow(DIGITS as u32)));
    let hash = code_hash(&phone, &code);
    let to = phone.clone();
    let stored = app
        .db
        .write(move |c| {
            let at = now();
            let sent = store::codes_sent_since(c, &to, at - Duration::hours(1))?;
            if let Err(wait) = sign_in::may_send(&sent, at) {
                return Ok(Err(MarketingError::CodeWait(wait).into()));
            }
            store::insert_code(
                c,
                &to,
                &hash,
                at,
                at + sign_in::VALID_FOR,
                &client.to_string(),
            )?;
            Ok(Ok(()))
        })
        .await?;
    if let Err(refused) = stored {
        return Ok(Err(refused));
    }
    let sender = app.sms.clone();
    let text = message(&app.settings.brand(), &code);
    let to = phone.clone();
    tokio::task::spawn_blocking(move || sender.send(&to, &text))
        .await
        .map_err(|e| Error::Internal(format!("text message task: {e}")))?
        .map_err(|e| Error::Unavailable(e.to_string()))?;
    Ok(Ok(Sent { phone }))
}

/// Checks `raw_code` for `raw_phone` from `client`; the right code signs the consumer in. A
/// wrong try is counted (and kept) even though it is refused.
pub async fn check_code(
    app: &App,
    client: IpAddr,
    raw_phone: &str,
    raw_code: &str,
) -> Result<std::result::Result<NewSession, SignInRefusal>> {
    app.limits.check_consumer_code_checked(client)?;
    let Some(phone) = crate::domain::phone::mainland_mobile(raw_phone) else {
        return Ok(Err(SignInRefusal::Phone));
    };
    let code: String = raw_code.chars().filter(|c| !c.is_whitespace()).collect();
    if !sign_in::well_formed(&code) {
        return Ok(Err(SignInRefusal::CodeShape));
    }
    let presented = code_hash(&phone, &code);
    let (token, token_hash) = new_token();
    app.db
        .write(move |c| {
            let at = now();
            let wrong = Ok(Err(MarketingError::WrongCode.into()));
            let Some(row) = store::newest_code(c, &phone)? else {
                return wrong;
            };
            if row.used_at.is_some() || row.expires_at <= at || row.attempts >= MAX_ATTEMPTS {
                return wrong;
            }
            // The try counts before the code is compared, so the count holds however the
            // comparison ends.
            if !store::count_attempt(c, row.id)? || !same(&row.code_hash, &presented) {
                return wrong;
            }
            if !store::use_code(c, row.id, at)? {
                return wrong;
            }
            let consumer_id = store::upsert_consumer(c, &phone, at)?;
            store::insert_session(
                c,
                consumer_id,
                &token_hash,
                at,
                at + Duration::days(SESSION_DAYS),
            )?;
            tracing::info!(consumer = consumer_id, "consumer signed in");
            Ok(Ok(NewSession {
                token,
                consumer: ConsumerSession { consumer_id, phone },
            }))
        })
        .await
}

fn same(stored: &str, presented: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(stored.as_bytes().ct_eq(presented.as_bytes()))
}

/// The session token in the request's `cm_consumer` cookie, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(CONSUMER_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// The consumer signed in on this request (the `cm_consumer` cookie of a live session), or
/// `None`. Read-only: one query on the session's unique hash, joined to its consumer. Pages
/// that need a consumer call it and send a stranger to `/me/sign-in?next=<here>`.
pub async fn signed_in(app: &App, headers: &HeaderMap) -> Result<Option<ConsumerSession>> {
    let Some(token) = session_token(headers) else {
        return Ok(None);
    };
    let hash = hash_token(&token);
    let owner = app
        .db
        .run(move |c| Ok(store::session_owner(c, &hash, now())?))
        .await?;
    Ok(owner.map(|o| ConsumerSession {
        consumer_id: o.consumer_id,
        phone: o.phone,
    }))
}

/// Ends the session of this request's cookie (nothing when there is none).
pub async fn sign_out(app: &App, headers: &HeaderMap) -> Result<()> {
    let Some(token) = session_token(headers) else {
        return Ok(());
    };
    let hash = hash_token(&token);
    app.db
        .write(move |c| Ok(store::delete_session(c, &hash)?))
        .await
}

/// Forgets expired sessions and codes older than a day (housekeeping).
pub async fn purge(app: &App) -> Result<usize> {
    app.db
        .write(|c| {
            let at = now();
            Ok(store::purge(c, at, at - Duration::days(1))?)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_carries_the_code_and_no_hash_does() {
        let text = message("茶园", "012345");
        assert!(text.contains("012345") && text.contains("茶园") && text.contains("10 分钟"));
        assert_ne!(
            code_hash("13800138000", "012345"),
            code_hash("13900139000", "012345")
        );
        assert!(!code_hash("13800138000", "012345").contains("012345"));
    }
}
