//! Idempotency for the page forms that move money or stock (pay, accept, forward, ship, withdrawal
//! decisions, …): a double click or a browser's resubmit must book once, as a retried API request
//! does. Each such form carries a hidden field with a fresh random key made when the page is
//! rendered ([`field`]); the handler runs its write through [`write_once`], the same rule and
//! table as the API's `Idempotency-Key` ([`crate::idempotency`]): the key is scoped to the
//! signed-in user and the action's route, bound to the form's path and fields, and claimed in the
//! transaction of the write. A resubmitted form gets the first answer — a redirect to the same
//! result page — and books nothing. A form without the field (a page rendered before this, still
//! open in a tab) runs as it always did.

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::response::Response;
use maud::{Markup, html};
use rand::RngCore;
use rand::rngs::OsRng;

use crate::api::idempotency::REPLAYED;
use crate::error::{Error, Result};
use crate::idempotency::{self, Request};
use crate::store::{Db, DbConnection};

/// The hidden field's name.
pub const FIELD: &str = "idempotency_key";

/// Status stored with a form's answer: the redirect (303 See Other) it got.
const SEE_OTHER: u16 = 303;

/// A hidden input with a fresh key: 128 random bits, so keys of forms rendered anywhere never
/// meet. One per form: two forms of one page must not share a key.
pub fn field() -> Markup {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    let key = data_encoding::BASE64URL_NOPAD.encode(&bytes);
    html! { input type="hidden" name=(FIELD) value=(key); }
}

/// Where a form was posted: method, route template (the scope of its key, as for the API) and
/// the concrete path (part of what the key is bound to).
#[derive(Debug, Clone)]
pub struct FormTarget {
    method: String,
    route: String,
    path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for FormTarget {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &S,
    ) -> std::result::Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_string();
        let route = parts
            .extensions
            .get::<MatchedPath>()
            .map_or_else(|| path.clone(), |m| m.as_str().to_string());
        Ok(FormTarget {
            method: parts.method.as_str().to_string(),
            route,
            path,
        })
    }
}

/// Where the form's write sent the browser, and whether this is the stored answer of an earlier
/// submission with the same key (then nothing was done now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub location: String,
    pub replayed: bool,
}

/// The redirect to the outcome's page; a resubmission's is marked `Idempotent-Replayed: true`,
/// as the API marks its replays.
pub fn redirect(out: &Outcome) -> Response {
    let mut r = super::staff::see_other(&out.location);
    if out.replayed {
        r.headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
    }
    r
}

/// Runs the form's write `f` (which answers the page to redirect to) for `user`. With the
/// hidden key, `f` runs at most once per user, action and key: a resubmission of the same form
/// gets the first redirect back; the same key with other fields is refused (422). Without the
/// field `f` simply runs. A refused write stores nothing, so the form can be fixed and resent.
pub async fn write_once<F>(
    db: &Db,
    user: i64,
    target: FormTarget,
    form: &BTreeMap<String, String>,
    f: F,
) -> Result<Outcome>
where
    F: FnOnce(&mut DbConnection) -> Result<String> + Send + 'static,
{
    let Some(key) = form.get(FIELD) else {
        let location = db.write(f).await?;
        return Ok(Outcome {
            location,
            replayed: false,
        });
    };
    let req = request(key, &target, form)?;
    let answer = db
        .write(move |c| {
            idempotency::once_answering(c, user, &req, |c| {
                let location = f(c)?;
                Ok((SEE_OTHER, location))
            })
        })
        .await?;
    Ok(Outcome {
        location: answer.body,
        replayed: answer.replayed,
    })
}

/// A form's write run once ([`write_once`]) that comes back to `back` with its notice in words,
/// `f` answering `(notice, good)` (`bad=1` on the address when not good); a refused write shows
/// the error page in `lang` with a way back to `back`. The last step of every agent and HQ form,
/// after its gate and CSRF check.
pub async fn write_then_back<F>(
    db: &Db,
    user: i64,
    target: FormTarget,
    form: &BTreeMap<String, String>,
    lang: super::i18n::Lang,
    back: &str,
    f: F,
) -> Response
where
    F: FnOnce(&mut DbConnection) -> Result<(String, bool)> + Send + 'static,
{
    let to = back.to_string();
    let done = write_once(db, user, target, form, move |c| {
        let (notice, good) = f(c)?;
        let sep = if to.contains('?') { '&' } else { '?' };
        Ok(format!(
            "{to}{sep}notice={}{}",
            super::verify::urlencode(&notice),
            if good { "" } else { "&bad=1" }
        ))
    })
    .await;
    match done {
        Ok(out) => redirect(&out),
        Err(e) => super::agent_i18n::error_page(lang, e, back),
    }
}

/// The key's request: bound to the path and to the fields the action reads. The CSRF token is
/// left out (it is the session's, not the request's) and so is the key itself.
fn request(key: &str, target: &FormTarget, form: &BTreeMap<String, String>) -> Result<Request> {
    let fields: BTreeMap<&str, &str> = form
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), FIELD | "csrf"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = serde_json::to_string(&fields)
        .map_err(|e| Error::Internal(format!("cannot hash a form: {e}")))?;
    Request::new(key, &target.method, &target.route, &target.path, &body).map_err(|e| match e {
        Error::BadRequest(_) => Error::BadRequest(format!(
            "{FIELD}: the form's key is not one (1 to {} visible ASCII characters); reload the \
             page and send it again",
            idempotency::MAX_KEY_LEN
        )),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(path: &str) -> FormTarget {
        FormTarget {
            method: "POST".into(),
            route: "/agent/orders/{id}/{action}".into(),
            path: path.into(),
        }
    }

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn fresh_keys_differ_and_are_valid() {
        let a = field().into_string();
        let b = field().into_string();
        assert_ne!(a, b);
        let value = a
            .split("value=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .expect("value");
        assert_eq!(value.len(), 22, "128 bits in base64url: {value}");
        assert!(request(value, &target("/agent/orders/1/pay"), &form(&[])).is_ok());
    }

    #[test]
    fn the_key_is_bound_to_the_path_and_fields_not_the_csrf_token() {
        let t = target("/agent/orders/1/reject");
        let a = request(
            "k",
            &t,
            &form(&[("csrf", "one"), ("reason", "x"), (FIELD, "k")]),
        );
        let b = request(
            "k",
            &t,
            &form(&[("csrf", "two"), ("reason", "x"), (FIELD, "k")]),
        );
        let c = request(
            "k",
            &t,
            &form(&[("csrf", "one"), ("reason", "y"), (FIELD, "k")]),
        );
        let d = request(
            "k",
            &target("/agent/orders/2/reject"),
            &form(&[("reason", "x")]),
        );
        let (a, b, c, d) = (a.expect("a"), b.expect("b"), c.expect("c"), d.expect("d"));
        assert_eq!(
            a.fingerprint, b.fingerprint,
            "a new CSRF token is the same form"
        );
        assert_ne!(
            a.fingerprint, c.fingerprint,
            "another reason is another request"
        );
        assert_ne!(
            a.fingerprint, d.fingerprint,
            "another order is another request"
        );
        assert_eq!(a.route, "POST /agent/orders/{id}/{action}");
        assert!(matches!(
            request("has space", &t, &form(&[])),
            Err(Error::BadRequest(m)) if m.starts_with(FIELD)
        ));
    }
}
