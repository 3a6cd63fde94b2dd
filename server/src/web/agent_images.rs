//! The certificate (授权证书) and the invitation poster as pictures in Chinese or English
//! (issue 17), each described once ([`codegen::card::Card`]) and served two ways: SVG
//! (`certificate.svg`, `poster.svg`: sharp when printed, drawn by the phone in its own fonts)
//! and PNG (`certificate.png`, `poster.png`: what WeChat can save and share, rasterised here from
//! the CJK font the server found, [`crate::app::App::fonts`]). Without such a font the PNG
//! addresses send the browser to the SVG, and the server says so in its log at start.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use codegen::card::{Card, Paint, Rgb, Text};
use serde::Deserialize;

use super::agent_i18n::{self as w, tr};
use super::i18n::Lang;
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::joining::{self as cases, certificates};
use crate::store::users::now;

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

const INK: Rgb = Rgb(0x1c, 0x19, 0x17);
const MUTED: Rgb = Rgb(0x57, 0x53, 0x4e);
const RED: Rgb = Rgb(0xb9, 0x1c, 0x1c);
const AMBER: Rgb = Rgb(0xb4, 0x53, 0x09);

/// The two renderings of a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Svg,
    Png,
}

/// The picture in `format`. The PNG is rasterised on a blocking thread (tens of milliseconds of
/// CPU, and the font's first read, that would otherwise hold an async worker); without a CJK
/// font it sends to `svg_path`.
async fn answer(state: &AppState, card: Card, format: Format, svg_path: String) -> Response {
    let no_cache = (header::CACHE_CONTROL, "no-cache");
    if format == Format::Svg {
        return (
            [
                (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
                no_cache,
            ],
            card.to_svg(),
        )
            .into_response();
    }
    // The font is read on first use: on the blocking thread too.
    let app = state.clone();
    let drawn = tokio::task::spawn_blocking(move || app.fonts().map(|f| card.to_png(f))).await;
    match drawn {
        Ok(Some(Ok(png))) => ([(header::CONTENT_TYPE, "image/png"), no_cache], png).into_response(),
        Ok(Some(Err(e))) => {
            tracing::error!(error = %e, "picture: PNG rendering failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Ok(None) => Redirect::temporary(&svg_path).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "picture: the rendering task stopped");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The certificate: brand, holder, tier, regions, validity, number and the QR of its public
/// check page.
pub fn certificate_card(
    state: &AppState,
    lang: Lang,
    c: &crate::store::joining::CertificateRow,
) -> Result<Card> {
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
    let mut card = Card::new(750, 1000, Rgb(0xff, 0xfd, 0xf7))
        .rect(20, 20, 710, 960, Paint::stroke(AMBER, 6))
        .rect(34, 34, 682, 932, Paint::stroke(AMBER, 2))
        .text(
            375,
            110,
            30,
            Text::new(state.settings.brand())
                .color(RED)
                .bold()
                .middle()
                .max_width(640),
        )
        .text(
            375,
            170,
            44,
            Text::new(tr(lang, "授权证书", "Certificate of Authorisation"))
                .color(INK)
                .bold()
                .middle()
                .max_width(640),
        );
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 250 + 56 * u32::try_from(i).unwrap_or(0);
        card = card
            .text(70, y, 24, Text::new(*label).color(MUTED).max_width(150))
            .text(
                230,
                y,
                28,
                Text::new(value.as_str()).color(INK).bold().max_width(470),
            );
    }
    let card = card
        .qr(&url, 275, 600, 200)
        .map_err(|e| Error::Internal(format!("certificate QR: {e}")))?;
    Ok(card.text(
        375,
        940,
        20,
        Text::new(tr(
            lang,
            "扫码查询授权真伪",
            "Scan to check this authorisation",
        ))
        .color(MUTED)
        .middle(),
    ))
}

/// `GET /a/{code}/certificate.svg`.
pub async fn certificate_svg(
    state: State<AppState>,
    code: Path<String>,
    q: Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    certificate(state, code, q, headers, Format::Svg).await
}

/// `GET /a/{code}/certificate.png`.
pub async fn certificate_png(
    state: State<AppState>,
    code: Path<String>,
    q: Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    certificate(state, code, q, headers, Format::Png).await
}

async fn certificate(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    format: Format,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let lookup = code.clone();
    let found = state
        .db
        .run(move |c| certificates::check(c, &lookup, now()))
        .await;
    let check = match found {
        Ok(Some(check)) => check,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return e.status().into_response(),
    };
    match certificate_card(&state, lang, &check.certificate) {
        Ok(card) => {
            let svg = format!("/a/{code}/certificate.svg?lang={}", lang.param());
            answer(&state, card, format, svg).await
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /a/{code}/png`, the address of the first certificate image, printed and shared before
/// the certificate became a picture in words: sends the browser to the PNG in its language.
pub async fn certificate_png_moved(Path(code): Path<String>) -> Response {
    Redirect::permanent(&format!("/a/{code}/certificate.png")).into_response()
}

/// The invitation poster: brand, inviter, the tier offered, and the QR of the invitation.
pub fn poster_card(
    state: &AppState,
    lang: Lang,
    inviter: &str,
    tier: &str,
    join_url: &str,
) -> Result<Card> {
    let card = Card::new(750, 1100, Rgb(0x7f, 0x1d, 0x1d))
        .rect(40, 40, 670, 1020, Paint::fill(Rgb::WHITE).radius(24))
        .text(
            375,
            150,
            40,
            Text::new(state.settings.brand())
                .color(RED)
                .bold()
                .middle()
                .max_width(620),
        )
        .text(
            375,
            240,
            34,
            Text::new(format!(
                "{} {}",
                inviter,
                tr(lang, "邀请您加入", "invites you to join")
            ))
            .color(INK)
            .middle()
            .max_width(620),
        )
        .text(
            375,
            300,
            30,
            Text::new(tier).color(MUTED).middle().max_width(620),
        )
        .qr(join_url, 175, 380, 400)
        .map_err(|e| Error::Internal(format!("poster QR: {e}")))?;
    Ok(card.text(
        375,
        900,
        26,
        Text::new(tr(
            lang,
            "长按识别二维码，在线申请",
            "Scan the QR to apply online",
        ))
        .color(MUTED)
        .middle(),
    ))
}

/// `GET /join/{code}/poster.svg`: the shareable invitation poster.
pub async fn poster_svg(
    state: State<AppState>,
    code: Path<String>,
    q: Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    poster(state, code, q, headers, Format::Svg).await
}

/// `GET /join/{code}/poster.png`: the poster as WeChat saves and shares it.
pub async fn poster_png(
    state: State<AppState>,
    code: Path<String>,
    q: Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    poster(state, code, q, headers, Format::Png).await
}

async fn poster(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    format: Format,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let lookup = code.clone();
    let found = state
        .db
        .run(move |c| {
            let (inv, inviter) = cases::open(c, &lookup)?;
            let (_, policy) = crate::network::policy::active(c)?;
            Ok((inv, inviter, policy))
        })
        .await;
    // An unknown or closed invitation is the use case's 404; a failing database is a 5xx.
    let (inv, inviter, policy) = match found {
        Ok(v) => v,
        Err(e) => return e.status().into_response(),
    };
    let url = cases::join_url(&state.settings.base_url, &inv.code);
    let tier = inv
        .tier_key
        .as_deref()
        .map(|k| w::tier_by_key(lang, &policy, k))
        .unwrap_or_default();
    match poster_card(&state, lang, &inviter.name, &tier, &url) {
        Ok(card) => {
            let svg = format!("/join/{code}/poster.svg?lang={}", lang.param());
            answer(&state, card, format, svg).await
        }
        Err(e) => e.into_response(),
    }
}
