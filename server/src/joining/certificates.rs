//! Authorisation certificates (授权证书, DOMAIN §3): issued to an active agent with what it may
//! sell as (name, tier, region) and for how long; rendered as a PNG whose QR opens the public
//! check page `/a/{code}` (授权查询). The code is 128 random bits, so certificates cannot be
//! enumerated. The PNG carries ASCII only (codegen's bitmap font); the Chinese is on the page.

use chrono::{Duration, NaiveDateTime};
use image::{GrayImage, Luma};

use crate::domain::Role;
use crate::domain::joining::{self as rules, Standing};
use crate::error::{Error, Result};
use crate::network::{Actor, policy};
use crate::store::joining::{self as store, CertificateRow, NewCertificate};
use crate::store::network::agents::{self as agent_store, AgentRow};
use crate::store::users::now;
use crate::store::{DbConnection, audit};

/// Validity when none is asked for: one year, the usual term of a distribution contract.
pub const DEFAULT_DAYS: u32 = 365;
/// The longest term HQ may grant at once.
pub const MAX_DAYS: u32 = 3 * 365;

/// Issues a certificate to an active agent: the agent itself (default term) or HQ admin (any
/// term up to [`MAX_DAYS`]). It says what the agent is now; an older one reads as superseded.
pub fn issue(
    conn: &mut DbConnection,
    actor: Actor,
    agent: i64,
    days: Option<u32>,
) -> Result<CertificateRow> {
    match actor {
        Actor::Agent { agent: me, .. } if me == agent && days.is_none() => {}
        other => other.require_hq(&[Role::HqAdmin], "issue certificates")?,
    }
    let days = days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(Error::BadRequest(format!(
            "days: must be between 1 and {MAX_DAYS}"
        )));
    }
    let row = agent_store::get(conn, agent)?;
    if !row.is_active() {
        return Err(Error::refuse(
            "agent_not_active",
            format!(
                "agent {agent} is {}: only an active agent is authorised",
                row.status
            ),
        ));
    }
    let p = policy::by_version(conn, row.policy_version)?;
    let tier = p
        .tiers()
        .iter()
        .find(|t| i32::from(t.rank.0) == row.tier_rank)
        .ok_or_else(|| Error::Internal(format!("agent {agent}: tier rank {}", row.tier_rank)))?;
    let at = now();
    let cert = store::insert_certificate(
        conn,
        &NewCertificate {
            code: super::new_code(16),
            agent_id: agent,
            holder_name: row.name.clone(),
            tier_rank: row.tier_rank,
            tier_key: tier.key.clone(),
            tier_name_zh: tier.name_zh.clone(),
            tier_name_en: tier.name_en.clone(),
            region: row.region.clone(),
            valid_from: at,
            valid_until: at + Duration::days(i64::from(days)),
            issued_at: at,
            issued_by: actor.user(),
        },
    )?;
    audit::record(
        conn,
        actor.user(),
        "certificate.issue",
        &format!("agent:{agent}"),
        &serde_json::json!({ "certificate": cert.id, "days": days }),
    )?;
    Ok(cert)
}

/// What the public check page shows.
#[derive(Debug, Clone)]
pub struct Check {
    pub certificate: CertificateRow,
    pub agent: AgentRow,
    pub standing: Standing,
}

/// The standing of certificate `code` at `at`; `None` when there is no such certificate.
pub fn check(conn: &mut DbConnection, code: &str, at: NaiveDateTime) -> Result<Option<Check>> {
    let Some(certificate) = store::certificate_by_code(conn, code.trim())? else {
        return Ok(None);
    };
    let agent = agent_store::get(conn, certificate.agent_id)?;
    let superseded = store::latest_certificate(conn, agent.id)?
        .is_some_and(|latest| latest.id != certificate.id);
    let standing = rules::standing(
        agent.status,
        certificate.valid_from,
        certificate.valid_until,
        superseded,
        at,
    );
    Ok(Some(Check {
        certificate,
        agent,
        standing,
    }))
}

/// The check page's address for a certificate.
pub fn check_url(base_url: &str, code: &str) -> String {
    format!("{base_url}/a/{code}")
}

/// Font pixels per text pixel, and the canvas.
const SCALE: u32 = 3;
const TITLE_SCALE: u32 = 4;
const WIDTH: u32 = 720;
const MARGIN: u32 = 36;

/// Only what codegen's bitmap font draws; anything else becomes a space (the Chinese is on the
/// check page).
fn drawable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '.' | ':' | '/') {
                c.to_ascii_uppercase()
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn draw_text(img: &mut GrayImage, text: &str, left: u32, top: u32, scale: u32) {
    let max_chars =
        ((img.width() - left - MARGIN / 2) / (codegen::label::font::ADVANCE * scale)) as usize;
    let text: String = text.chars().take(max_chars).collect();
    codegen::label::font::for_each_dot(&text, |fx, fy| {
        for y in 0..scale {
            for x in 0..scale {
                let (px, py) = (left + fx * scale + x, top + fy * scale + y);
                if px < img.width() && py < img.height() {
                    img.put_pixel(px, py, Luma([0]));
                }
            }
        }
    });
}

/// The certificate as a PNG: brand, number, holder, tier, region, validity and the QR.
pub fn png(cert: &CertificateRow, base_url: &str) -> Result<Vec<u8>> {
    let url = check_url(base_url, &cert.code);
    let qr = codegen::label::png::render_gray(&url, "", &codegen::label::LabelOptions::default())
        .map_err(|e| Error::Internal(format!("certificate QR: {e}")))?;
    let brand = base_url
        .split("://")
        .nth(1)
        .unwrap_or(base_url)
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    let line_h = (codegen::label::font::HEIGHT + 5) * SCALE;
    let lines = [
        format!("BRAND: {}", drawable(brand)),
        format!("NO. {}", drawable(&cert.code)),
        format!(
            "HOLDER: AGENT {} {}",
            cert.agent_id,
            drawable(&cert.holder_name)
        ),
        format!("TIER: {}", drawable(&cert.tier_name_en)),
        format!("REGION: {}", drawable(&cert.region)),
        format!("VALID FROM: {}", cert.valid_from.format("%Y-%m-%d")),
        format!("VALID UNTIL: {}", cert.valid_until.format("%Y-%m-%d")),
    ];
    let text_top = MARGIN + (codegen::label::font::HEIGHT + 8) * TITLE_SCALE;
    let qr_top = text_top + line_h * lines.len() as u32 + MARGIN / 2;
    let height = qr_top + qr.height() + line_h + MARGIN;
    if qr.width() > WIDTH {
        return Err(Error::Internal(
            "certificate QR is wider than the page".into(),
        ));
    }
    let mut img = GrayImage::from_pixel(WIDTH, height, Luma([255]));
    for (x, y) in (0..WIDTH).flat_map(|x| [(x, 8), (x, 9), (x, height - 9), (x, height - 10)]) {
        img.put_pixel(x, y, Luma([0]));
    }
    for (x, y) in (0..height).flat_map(|y| [(8, y), (9, y), (WIDTH - 9, y), (WIDTH - 10, y)]) {
        img.put_pixel(x, y, Luma([0]));
    }
    draw_text(
        &mut img,
        "AUTHORISATION CERTIFICATE",
        MARGIN,
        MARGIN,
        TITLE_SCALE,
    );
    for (i, line) in lines.iter().enumerate() {
        draw_text(&mut img, line, MARGIN, text_top + line_h * i as u32, SCALE);
    }
    let qr_left = (WIDTH - qr.width()) / 2;
    image::imageops::replace(&mut img, &qr, i64::from(qr_left), i64::from(qr_top));
    draw_text(
        &mut img,
        "SCAN TO CHECK",
        MARGIN,
        qr_top + qr.height() + SCALE * 2,
        SCALE,
    );
    codegen::label::png::encode_png(&img)
        .map_err(|e| Error::Internal(format!("certificate PNG: {e}")))
}
