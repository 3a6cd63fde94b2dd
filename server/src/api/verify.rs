//! `POST /api/v1/verify`: consumer verification as JSON.

use axum::extract::State;
use axum::response::IntoResponse;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::client::Client;
use super::error::ErrorBody;
use super::json::Json;
use crate::app::AppState;
use crate::domain::verification::{NotReleasedReason, Outcome};
use crate::error::{Error, Result};
use crate::verify::{self, Request};

/// What the consumer read off the label.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// The serial (明码) from the QR URL or the label.
    pub serial: String,
    /// The tag from the QR URL (`t=`).
    pub tag: String,
    /// The 20-digit security code (暗码) under the scratch-off; spaces allowed.
    pub security_code: String,
    /// Browser location, when the consumer allows it.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// A GB/T 2260 region code the consumer picked (where they are), if any.
    pub region: Option<String>,
}

/// The verdict.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    pub result: Outcome,
    /// Why a genuine code is not for sale, with `not_released`.
    pub reason: Option<NotReleasedReason>,
    /// Right-code verifications so far, this one included.
    pub verify_count: i32,
    /// When the code was first verified (UTC).
    pub first_verified_at: Option<NaiveDateTime>,
    /// Where it was first verified, when known.
    pub first_verified_place: Option<String>,
    pub product: Option<ProductBody>,
    /// Verified more often than the brand allows: the code is frozen and may be copied.
    pub frozen: bool,
    /// What a running scan-marketing campaign gave this first verification; absent otherwise.
    pub reward: Option<RewardBody>,
}

/// A scan-marketing draw (扫码营销). Told once: `claim_path` is how the consumer who verified
/// claims it by signing in with their phone.
#[derive(Debug, Serialize, ToSchema)]
pub struct RewardBody {
    pub campaign: String,
    /// `false` for a lottery's blank, a prize sold out or a budget spent.
    pub won: bool,
    pub prize: Option<String>,
    pub kind: Option<PrizeKindBody>,
    /// Points won (points prizes).
    pub points: i64,
    /// The value in yuan: cash, a coupon's face value, or points at ¥0.01.
    #[schema(value_type = String, example = "1.88")]
    pub amount: rust_decimal::Decimal,
    pub coupon_code: Option<String>,
    /// Given at once to the consumer signed in when verifying.
    pub claimed: bool,
    /// Where to claim it (`/me/claim/{token}`), when it is still to be claimed.
    pub claim_path: Option<String>,
}

/// What a prize gives.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrizeKindBody {
    Points,
    Coupon,
    Cash,
}

impl RewardBody {
    pub fn of(reward: &crate::verify::Reward) -> RewardBody {
        use crate::domain::marketing::PrizeKind;
        let d = &reward.drawn;
        let prize = d.prize.as_ref();
        RewardBody {
            campaign: d.campaign.clone(),
            won: prize.is_some(),
            prize: prize.map(|p| p.name.clone()),
            kind: prize.map(|p| match p.kind {
                PrizeKind::Points => PrizeKindBody::Points,
                PrizeKind::Coupon => PrizeKindBody::Coupon,
                PrizeKind::Cash => PrizeKindBody::Cash,
            }),
            points: prize.map_or(0, |p| p.points),
            amount: rust_decimal::Decimal::new(prize.map_or(0, |p| p.amount_cents), 2),
            coupon_code: prize.and_then(|p| p.coupon_code.clone()),
            claimed: d.claimed,
            claim_path: (prize.is_some() && !d.claimed)
                .then(|| format!("/me/claim/{}", reward.claim_token)),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductBody {
    pub sku: String,
    pub name: String,
    pub name_en: Option<String>,
    pub batch: String,
    pub production_date: String,
}

/// Verify a product: serial and tag from the QR, plus the security code.
#[utoipa::path(
    post,
    path = "/api/v1/verify",
    tag = "verification",
    request_body = VerifyBody,
    responses(
        (status = 200, description = "The verdict", body = VerifyResponse),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 429, description = "Too many verifications; see Retry-After", body = ErrorBody),
    )
)]
pub async fn verify_json(
    State(state): State<AppState>,
    client: Client,
    Json(body): Json<VerifyBody>,
) -> Result<impl IntoResponse> {
    if body.security_code.trim().is_empty() {
        return Err(Error::BadRequest("security_code is required".into()));
    }
    let answer = verify::verify(
        &state,
        Request {
            serial: body.serial,
            tag: body.tag,
            security_code: Some(body.security_code),
            client: client.addr,
            user_agent: client.user_agent,
            latitude: body.latitude,
            longitude: body.longitude,
            region: body.region,
            consumer: None,
        },
    )
    .await?;
    let result = answer
        .outcome
        .ok_or_else(|| Error::Internal("verification without a verdict".into()))?;
    Ok(axum::Json(VerifyResponse {
        result,
        reason: answer.not_released,
        verify_count: answer.verify_count,
        first_verified_at: answer.first_verified_at,
        first_verified_place: answer.first_verified_place,
        frozen: answer.frozen,
        reward: answer.reward.as_ref().map(RewardBody::of),
        product: answer.product.map(|p| ProductBody {
            sku: p.sku,
            name: p.name,
            name_en: p.name_en,
            batch: p.batch_id,
            production_date: p.production_date,
        }),
    }))
}
