//! The certificate (授权证书) and the invitation poster as images in Chinese or English
//! (issue 17): SVG documents whose text the phone draws in its own fonts.
//!
//! Why SVG and not a PNG: text in a PNG must be rasterised on the server from a font the server
//! carries. A CJK font covering arbitrary names and region names (GB 2312's 6,763 characters at
//! least) is several megabytes even subset, and needs a rasteriser on top; every phone in China
//! already has a CJK system font, and an SVG of a certificate is a few kilobytes that stays sharp
//! when printed. The QR inside is vector too. The bitmap PNG (`/a/{code}/png`) stays for the QR
//! alone.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::agent_i18n::{self as w, tr};
use super::i18n::Lang;
use crate::app::AppState;
use crate::joining::{self as cases, certificates};
use crate::store::users::now;

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// Escapes text for an SVG text node or attribute.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A QR of `data` as an SVG group at (`x`, `y`), `size` wide.
fn qr(data: &str, x: u32, y: u32, size: u32) -> String {
    let Ok(code) = qrcode::QrCode::new(data.as_bytes()) else {
        return String::new();
    };
    let n = u32::try_from(code.width()).unwrap_or(1) + 8;
    let colors = code.to_colors();
    let mut path = String::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let i = u32::try_from(i).unwrap_or(0);
            let w = u32::try_from(code.width()).unwrap_or(1);
            path.push_str(&format!("M{} {}h1v1h-1z", i % w + 4, i / w + 4));
        }
    }
    format!(
        "<svg x=\"{x}\" y=\"{y}\" width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {n} {n}\" shape-rendering=\"crispEdges\"><rect width=\"{n}\" height=\"{n}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

fn svg(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

const FONT: &str = "font-family=\"'PingFang SC','Noto Sans CJK SC','Microsoft YaHei',sans-serif\"";

/// `GET /a/{code}/certificate.svg`: brand, holder, tier, regions, validity and the QR of the
/// public check page.
pub async fn certificate(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let found = state
        .db
        .run(move |c| certificates::check(c, &code, now()))
        .await;
    let Ok(Some(check)) = found else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let c = &check.certificate;
    let brand = state.settings.brand();
    let url = certificates::check_url(&state.settings.base_url, &c.code);
    let tier = w::tier_words(lang, &c.tier_name_zh, &c.tier_name_en);
    let regions: Vec<String> = c
        .region
        .split([',', ' '])
        .filter(|r| !r.is_empty())
        .map(crate::diversion::views::region_name)
        .collect();
    let rows = [
        (
            tr(lang, "授权代理", "Authorised agent"),
            c.holder_name.clone(),
        ),
        (tr(lang, "授权级别", "Tier"), tier),
        (tr(lang, "授权区域", "Region"), regions.join("、")),
        (
            tr(lang, "有效期", "Valid"),
            format!(
                "{} — {}",
                w::day(lang, c.valid_from),
                w::day(lang, c.valid_until)
            ),
        ),
        (tr(lang, "证书编号", "Number"), c.code.clone()),
    ];
    let mut text = String::new();
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 250 + i * 56;
        text.push_str(&format!(
            "<text x=\"70\" y=\"{y}\" font-size=\"24\" fill=\"#57534e\">{}</text><text x=\"230\" y=\"{y}\" font-size=\"28\" font-weight=\"700\">{}</text>",
            esc(label),
            esc(value)
        ));
    }
    let body = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"750\" height=\"1000\" viewBox=\"0 0 750 1000\" {FONT}>\
<rect width=\"750\" height=\"1000\" fill=\"#fffdf7\"/>\
<rect x=\"20\" y=\"20\" width=\"710\" height=\"960\" fill=\"none\" stroke=\"#b45309\" stroke-width=\"6\"/>\
<rect x=\"34\" y=\"34\" width=\"682\" height=\"932\" fill=\"none\" stroke=\"#b45309\" stroke-width=\"2\"/>\
<text x=\"375\" y=\"110\" text-anchor=\"middle\" font-size=\"30\" fill=\"#b91c1c\" font-weight=\"700\">{brand}</text>\
<text x=\"375\" y=\"170\" text-anchor=\"middle\" font-size=\"44\" font-weight=\"700\">{title}</text>\
{text}\
{qr}\
<text x=\"375\" y=\"940\" text-anchor=\"middle\" font-size=\"20\" fill=\"#57534e\">{scan}</text>\
</svg>",
        brand = esc(&brand),
        title = esc(tr(lang, "授权证书", "Certificate of Authorisation")),
        qr = qr(&url, 275, 600, 200),
        scan = esc(tr(
            lang,
            "扫码查询授权真伪",
            "Scan to check this authorisation"
        )),
    );
    svg(body)
}

/// `GET /join/{code}/poster.svg`: the shareable invitation poster: brand, inviter, tier, QR.
pub async fn poster(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let found = state
        .db
        .run(move |c| {
            let (inv, inviter) = cases::open(c, &code)?;
            let (_, policy) = crate::network::policy::active(c)?;
            Ok((inv, inviter, policy))
        })
        .await;
    let Ok((inv, inviter, policy)) = found else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let url = cases::join_url(&state.settings.base_url, &inv.code);
    let tier = inv
        .tier_key
        .as_deref()
        .map(|k| w::tier_by_key(lang, &policy, k))
        .unwrap_or_default();
    let body = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"750\" height=\"1100\" viewBox=\"0 0 750 1100\" {FONT}>\
<rect width=\"750\" height=\"1100\" fill=\"#7f1d1d\"/>\
<rect x=\"40\" y=\"40\" width=\"670\" height=\"1020\" rx=\"24\" fill=\"#fff\"/>\
<text x=\"375\" y=\"150\" text-anchor=\"middle\" font-size=\"40\" font-weight=\"700\" fill=\"#b91c1c\">{brand}</text>\
<text x=\"375\" y=\"240\" text-anchor=\"middle\" font-size=\"34\">{invites}</text>\
<text x=\"375\" y=\"300\" text-anchor=\"middle\" font-size=\"30\" fill=\"#57534e\">{tier}</text>\
{qr}\
<text x=\"375\" y=\"900\" text-anchor=\"middle\" font-size=\"26\" fill=\"#57534e\">{scan}</text>\
</svg>",
        brand = esc(&state.settings.brand()),
        invites = esc(&format!(
            "{} {}",
            inviter.name,
            tr(lang, "邀请您加入", "invites you to join")
        )),
        tier = esc(&tier),
        qr = qr(&url, 175, 380, 400),
        scan = esc(tr(
            lang,
            "长按识别二维码，在线申请",
            "Scan the QR to apply online"
        )),
    );
    svg(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_the_qr_is_drawn() {
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
        let q = qr("https://brand.example/a/X1", 0, 0, 100);
        assert!(q.starts_with("<svg") && q.contains("h1v1h-1z"), "{q}");
    }
}
