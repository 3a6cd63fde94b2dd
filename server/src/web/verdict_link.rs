//! The language switch of a verification result (issue 17: "the language switch keeps the
//! result"). A verdict is the answer to a POST that counted a verification; following a plain link
//! to the other language would either ask for the code again or, sent again, count a second
//! verification and turn "first" into "repeat". So the switch carries the result itself, signed:
//! `GET /v/{serial}/shown?a=…&m=…&lang=` shows that same result in the other language and counts
//! nothing.
//!
//! The result is not secret (the person just saw it), but it must not be forgeable — a made-up
//! "genuine" page on the brand's own domain is what a counterfeiter would want — hence the MAC,
//! under a key the server makes once per database (`server_facts`, shared by every instance),
//! and a lifetime of a day.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::DateTime;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::i18n::Lang;
use super::staff::see_other;
use super::verify::{Place, respond_with, urlencode};
use crate::app::AppState;
use crate::domain::verification::{NotReleasedReason, Outcome};
use crate::error::{Error, Result};
use crate::verify::{Answer, ProductInfo};

/// How long a result's link shows it.
const LIFETIME_SECS: i64 = 24 * 3600;
/// The `server_facts` name of the key.
const KEY_FACT: &str = "verdict_link_key";

/// A shown result as the link carries it (short field names: it travels in a URL).
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Shown {
    /// The outcome's stable name.
    o: String,
    /// Why not released, when it is not.
    r: Option<String>,
    n: i32,
    /// The first verification's time (seconds since 1970, UTC) and place.
    f: Option<i64>,
    p: Option<String>,
    z: bool,
    g: Option<ProductShown>,
    /// When the link was made (seconds since 1970, UTC).
    t: i64,
}

/// The product as the link carries it: sku, name, English name, picture, batch, production
/// date.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct ProductShown {
    s: String,
    n: String,
    e: Option<String>,
    i: Option<String>,
    b: String,
    d: String,
}

const OUTCOMES: [Outcome; 5] = [
    Outcome::GenuineFirst,
    Outcome::GenuineRepeat,
    Outcome::Mismatch,
    Outcome::NotGenuine,
    Outcome::NotReleased,
];
const REASONS: [NotReleasedReason; 3] = [
    NotReleasedReason::AtHq,
    NotReleasedReason::Voided,
    NotReleasedReason::Recalled,
];

impl Shown {
    fn of(answer: &Answer, outcome: Outcome, now: i64) -> Shown {
        Shown {
            o: outcome.as_str().into(),
            r: answer.not_released.map(|r| r.as_str().into()),
            n: answer.verify_count,
            f: answer.first_verified_at.map(|t| t.and_utc().timestamp()),
            p: answer.first_verified_place.clone(),
            z: answer.frozen,
            g: answer.product.as_ref().map(|p| ProductShown {
                s: p.sku.clone(),
                n: p.name.clone(),
                e: p.name_en.clone(),
                i: p.image_url.clone(),
                b: p.batch_id.clone(),
                d: p.production_date.clone(),
            }),
            t: now,
        }
    }

    fn answer(self, serial: &str) -> Option<Answer> {
        let outcome = OUTCOMES.into_iter().find(|o| o.as_str() == self.o)?;
        let not_released = match &self.r {
            Some(r) => Some(REASONS.into_iter().find(|x| x.as_str() == r)?),
            None => None,
        };
        let first_verified_at = match self.f {
            Some(secs) => Some(DateTime::from_timestamp(secs, 0)?.naive_utc()),
            None => None,
        };
        Some(Answer {
            serial: serial.to_string(),
            outcome: Some(outcome),
            not_released,
            verify_count: self.n,
            first_verified_at,
            first_verified_place: self.p,
            product: self.g.map(|p| ProductInfo {
                sku: p.s,
                name: p.n,
                name_en: p.e,
                image_url: p.i,
                batch_id: p.b,
                production_date: p.d,
            }),
            frozen: self.z,
            // A reward and its claim token are shown once, in the answer that drew it.
            reward: None,
        })
    }
}

fn mac(key: &[u8], serial: &str, payload: &str) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(serial.as_bytes());
    m.update(&[0]);
    m.update(payload.as_bytes());
    data_encoding::BASE64URL_NOPAD.encode(&m.finalize().into_bytes()[..16])
}

/// The link showing `answer` again in `lang`, or `None` when there is no result to show (the
/// code is still to be entered) or the key cannot be had (the switch then asks again).
pub async fn link(state: &AppState, serial: &str, answer: &Answer, lang: Lang) -> Option<String> {
    let outcome = answer.outcome?;
    let key = key(state)
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "no key for result links"))
        .ok()?;
    let now = chrono::Utc::now().timestamp();
    let json = serde_json::to_vec(&Shown::of(answer, outcome, now)).ok()?;
    let payload = data_encoding::BASE64URL_NOPAD.encode(&json);
    let m = mac(&key, serial, &payload);
    Some(format!(
        "/v/{}/shown?a={payload}&m={m}&lang={}",
        urlencode(serial),
        lang.param()
    ))
}

/// Checks `payload` and `m` for `serial` at `now`: the result, or `None` when forged, altered,
/// expired or unreadable.
fn check(key: &[u8], serial: &str, payload: &str, m: &str, now: i64) -> Option<Answer> {
    let expected = mac(key, serial, payload);
    if !bool::from(expected.as_bytes().ct_eq(m.as_bytes())) {
        return None;
    }
    let json = data_encoding::BASE64URL_NOPAD
        .decode(payload.as_bytes())
        .ok()?;
    let shown: Shown = serde_json::from_slice(&json).ok()?;
    if !(0..=LIFETIME_SECS).contains(&(now - shown.t)) {
        return None;
    }
    shown.answer(serial)
}

/// The key, made on first use and kept for the process.
async fn key(state: &AppState) -> Result<[u8; 32]> {
    if let Some(k) = state.verdict_key.get() {
        return Ok(*k);
    }
    let text = state
        .db
        .run(|c| {
            Ok(crate::store::facts::get_or_init(c, KEY_FACT, || {
                let mut bytes = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
                data_encoding::HEXLOWER.encode(&bytes)
            })?)
        })
        .await?;
    let key = data_encoding::HEXLOWER
        .decode(text.as_bytes())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| Error::Internal(format!("{KEY_FACT} is not 64 hex digits")))?;
    let _ = state.verdict_key.set(key);
    Ok(key)
}

#[derive(Debug, Deserialize)]
pub struct ShownQuery {
    a: Option<String>,
    m: Option<String>,
    lang: Option<String>,
}

/// `GET /v/{serial}/shown`: a result shown again (another language), counting nothing. A link
/// that does not check out leads to the query page for this serial instead.
pub async fn shown(
    State(state): State<AppState>,
    Path(serial): Path<String>,
    Query(q): Query<ShownQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let now = chrono::Utc::now().timestamp();
    let answer = match key(&state).await {
        Ok(key) => check(
            &key,
            &serial,
            q.a.as_deref().unwrap_or_default(),
            q.m.as_deref().unwrap_or_default(),
            now,
        ),
        Err(e) => {
            tracing::warn!(error = %e, "no key for result links");
            None
        }
    };
    let Some(answer) = answer else {
        return see_other(&format!(
            "/q?serial={}&lang={}",
            urlencode(&serial),
            lang.param()
        ));
    };
    let switch = link(&state, &serial, &answer, lang.other()).await;
    let retry = format!("/q?serial={}&lang={}", urlencode(&serial), lang.param());
    respond_with(
        &state,
        lang,
        Place {
            serial: &serial,
            tag: None,
            retry: &retry,
        },
        q.lang.is_some(),
        switch,
        Ok(answer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> chrono::NaiveDateTime {
        DateTime::from_timestamp(secs, 0).expect("time").naive_utc()
    }

    fn answer() -> Answer {
        Answer {
            serial: "A1".into(),
            outcome: Some(Outcome::GenuineRepeat),
            not_released: None,
            verify_count: 3,
            first_verified_at: Some(at(1_765_000_000)),
            first_verified_place: Some("330106".into()),
            product: Some(ProductInfo {
                sku: "TEA".into(),
                name: "龙井".into(),
                name_en: Some("Longjing".into()),
                image_url: None,
                batch_id: "B1".into(),
                production_date: "2026-11-01".into(),
            }),
            frozen: false,
            reward: None,
        }
    }

    fn signed(key: &[u8], serial: &str, shown: &Shown) -> (String, String) {
        let payload =
            data_encoding::BASE64URL_NOPAD.encode(&serde_json::to_vec(shown).expect("json"));
        let m = mac(key, serial, &payload);
        (payload, m)
    }

    #[test]
    fn a_result_comes_back_as_it_was_and_only_with_its_mac_serial_and_day() {
        let key = [7u8; 32];
        let a = answer();
        let now = 1_765_100_000;
        let shown = Shown::of(&a, Outcome::GenuineRepeat, now);
        let (payload, m) = signed(&key, "A1", &shown);
        let back = check(&key, "A1", &payload, &m, now + 60).expect("checks");
        assert_eq!(back.outcome, a.outcome);
        assert_eq!(back.verify_count, 3);
        assert_eq!(back.first_verified_at, a.first_verified_at);
        assert_eq!(back.first_verified_place, a.first_verified_place);
        assert_eq!(back.product.map(|p| p.name), Some("龙井".to_string()));

        // Another serial, another key, an altered payload, a day later: nothing.
        assert!(check(&key, "A2", &payload, &m, now).is_none());
        assert!(check(&[8u8; 32], "A1", &payload, &m, now).is_none());
        let forged = Shown {
            o: "genuine_first".into(),
            ..Shown::of(&a, Outcome::GenuineRepeat, now)
        };
        let (forged_payload, _) = signed(&key, "A1", &forged);
        assert!(check(&key, "A1", &forged_payload, &m, now).is_none());
        assert!(check(&key, "A1", &payload, &m, now + LIFETIME_SECS + 1).is_none());
        assert!(check(&key, "A1", &payload, "", now).is_none());
    }
}
