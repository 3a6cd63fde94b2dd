//! The verification use case (防伪查询): parse, rate-limit, check the tag and code, count, record.
//! Shared by the JSON API and the consumer page.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::NaiveDateTime;
use codegen::security::SecurityCode;
use codegen::serial::Serial;

use crate::app::App;
use crate::domain::custody::CustodianKind;
use crate::domain::verification::{self, KnownCode, NotReleasedReason, Outcome, Precheck};
use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::store::verify::{self as store, Sighting, VerifyView};
use crate::store::{Backend, DbConnection};

pub mod batch;

/// Longest serial, tag or code string we look at; anything longer is not ours.
const MAX_INPUT: usize = 64;

/// One verification request.
#[derive(Debug, Clone)]
pub struct Request {
    pub serial: String,
    pub tag: String,
    /// `None` when the consumer only opened the page (scanned the QR).
    pub security_code: Option<String>,
    pub client: IpAddr,
    pub user_agent: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// A GB/T 2260 region the consumer picked, if any.
    pub region: Option<String>,
    /// The consumer signed in by phone, who gets a scan-marketing reward at once.
    pub consumer: Option<i64>,
}

/// What the product is, for the page.
#[derive(Debug, Clone)]
pub struct ProductInfo {
    pub sku: String,
    pub name: String,
    pub name_en: Option<String>,
    pub image_url: Option<String>,
    pub batch_id: String,
    pub production_date: String,
}

/// The answer. `outcome` is `None` when the QR checked out and the code is still to be entered.
#[derive(Debug, Clone)]
pub struct Answer {
    pub serial: String,
    pub outcome: Option<Outcome>,
    pub not_released: Option<NotReleasedReason>,
    pub verify_count: i32,
    pub first_verified_at: Option<NaiveDateTime>,
    pub first_verified_place: Option<String>,
    pub product: Option<ProductInfo>,
    /// Verified more often than the policy allows: the code is frozen (DOMAIN §8).
    pub frozen: bool,
    /// What a running scan-marketing campaign gave this first verification (issue 21).
    pub reward: Option<Reward>,
}

/// A scan-marketing draw, as the consumer who verified is told once.
#[derive(Debug, Clone)]
pub struct Reward {
    pub drawn: crate::store::marketing::Drawn,
    /// The token that claims it (`/me/claim/{token}`); shown only in this answer.
    pub claim_token: String,
}

impl Answer {
    fn bare(serial: String, outcome: Outcome) -> Answer {
        Answer {
            serial,
            outcome: Some(outcome),
            not_released: None,
            verify_count: 0,
            first_verified_at: None,
            first_verified_place: None,
            product: None,
            frozen: false,
            reward: None,
        }
    }
}

/// Where the consumer said it is, kept as the first verification's place: the region it picked
/// (a GB/T 2260 code, shown by name on repeats), else the district nearest its shared location,
/// else the coordinates themselves.
fn place_of(req: &Request) -> Option<String> {
    let book = crate::diversion::regions();
    if let Some(code) = req.region.as_deref().and_then(|r| book.known(r.trim())) {
        return Some(code.to_string());
    }
    match (req.latitude, req.longitude) {
        (Some(lat), Some(lon)) => Some(
            book.nearest_district(lat, lon)
                .map_or_else(|| format!("{lat:.4},{lon:.4}"), |c| c.to_string()),
        ),
        _ => None,
    }
}

fn check_coordinates(req: &Request) -> Result<()> {
    let lat_ok = req
        .latitude
        .is_none_or(|v| v.is_finite() && (-90.0..=90.0).contains(&v));
    let lon_ok = req
        .longitude
        .is_none_or(|v| v.is_finite() && (-180.0..=180.0).contains(&v));
    if lat_ok && lon_ok && req.latitude.is_some() == req.longitude.is_some() {
        Ok(())
    } else {
        Err(Error::BadRequest(
            "latitude and longitude must come together, within ±90 and ±180 degrees".into(),
        ))
    }
}

pub async fn verify(app: &App, req: Request) -> Result<Answer> {
    if req.serial.len() > MAX_INPUT || req.tag.len() > MAX_INPUT {
        return Err(Error::BadRequest(
            "serial or tag too long: this is not a chainmark code".into(),
        ));
    }
    check_coordinates(&req)?;
    let picked = crate::diversion::place::picked_region(req.region.as_deref())?;
    let serial_key = req.serial.trim().to_ascii_uppercase();
    app.limits.check_verify(req.client, &serial_key)?;

    let code = match req.security_code.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) if c.len() > MAX_INPUT => {
            return Err(Error::BadRequest(
                "security code too long: it has 20 digits".into(),
            ));
        }
        Some(c) => Some(SecurityCode::parse(c).map_err(|e| {
            Error::BadRequest(format!(
                "security code not readable ({e}): enter the 20 digits under the scratch-off"
            ))
        })?),
    };

    let located = crate::diversion::place::locate(
        &app.diversion,
        req.client,
        req.user_agent.as_deref(),
        req.latitude.zip(req.longitude),
        picked,
    );
    let sighting = Sighting {
        region_code: located.place.map(|p| p.region.to_string()),
        place_source: located.place.map(|p| p.source),
        expected_region: None,
        bot: located.bot.is_some(),
        serial: serial_key.clone(),
        known_item: false,
        result: String::new(),
        client_addr: Some(req.client.to_string()),
        user_agent: req.user_agent.clone(),
        latitude: req.latitude,
        longitude: req.longitude,
        place: place_of(&req),
    };

    // A string that is not even shaped like a serial cannot be in the registry.
    let Ok(serial) = Serial::parse(&serial_key) else {
        return not_genuine(app, sighting).await;
    };
    let tag = req.tag.trim().to_string();
    let Some(code) = code else {
        return open(app, serial, tag, sighting).await;
    };
    app.limits.check_code_allowed(req.client, serial.as_str())?;
    // Read, decide and record in one job on the writer: on SQLite every write makes other
    // connections drop their page cache, so reading on the connection that writes is both
    // faster and consistent (the count cannot move between the read and the update). On
    // PostgreSQL the job runs outside a transaction: the read, then one statement that counts
    // and records (the count it returns is the one that statement made), two round trips.
    let keys = app.keys.clone();
    let hq_sells_direct = app.settings.hq_sells_direct;
    let max_verifications = app.diversion.max_verifications;
    let locked_serial = serial.as_str().to_string();
    let offers = app.offers.current(&app.db).await?;
    let consumer = req.consumer;
    // What a draw would win, set aside from this instance's lease before the transaction, for
    // each campaign this verification could draw from (usually none or one).
    let at = crate::store::users::now();
    let mut tickets = Vec::new();
    let mut drawings = Vec::new();
    for offer in offers.iter().filter(|o| {
        crate::marketing::may_draw(o, sighting.region_code.as_deref(), sighting.bot, at)
    }) {
        let (rolls, claim_token) = crate::marketing::roll();
        let ticket = app.purses.ticket(&app.db, offer, &rolls).await?;
        drawings.push(Drawing {
            campaign: offer.id,
            rolls,
            claim_token: claim_token.clone(),
            paid: ticket.paid,
        });
        tickets.push((claim_token, ticket));
    }
    let rules = Rules {
        hq_sells_direct,
        max_verifications,
    };
    let pending = Pending {
        serial,
        tag,
        code,
        sighting,
        offers,
        drawings,
        consumer,
        at,
    };
    let answer = match app.db.backend() {
        // PostgreSQL: verifications from every request in flight are decided and written
        // together, a few statements and one commit per batch (`batch`).
        Backend::Postgres => {
            app.verify_batches
                .verify(&app.db, &keys, rules, pending)
                .await
        }
        // SQLite: the group commit batches the commits already; a statement costs no round trip.
        Backend::Sqlite => {
            app.db
                .write_per_statement(move |c| pending.run(c, &keys, rules))
                .await
        }
    };
    for (claim_token, ticket) in tickets {
        // A failed verification may or may not have stored its draw: its share stays out of
        // the purse until the lease ends (and is counted from the database then).
        let used = answer.as_ref().map_or(true, |a| {
            a.reward
                .as_ref()
                .is_some_and(|r| r.claim_token == claim_token)
        });
        app.purses.done(ticket, used);
    }
    let answer = answer?;
    if let Some(reward) = &answer.reward {
        let won = if reward.drawn.prize.is_some() {
            "won"
        } else {
            "blank"
        };
        metrics::counter!("chainmark_marketing_draws_total", "result" => won).increment(1);
    }
    if answer.outcome == Some(Outcome::Mismatch) {
        app.limits.record_wrong_code(req.client, &locked_serial);
    }
    if let Some(outcome) = answer.outcome {
        metrics::counter!("chainmark_verifications_total", "result" => outcome.as_str())
            .increment(1);
    }
    Ok(answer)
}

/// The QR was opened without a code yet: show the product, or say why not.
async fn open(app: &App, serial: Serial, tag: String, sighting: Sighting) -> Result<Answer> {
    let lookup = serial.as_str().to_string();
    let view = app.db.run(move |c| Ok(store::load(c, &lookup)?)).await?;
    let Some(view) = view else {
        return not_genuine(app, sighting).await;
    };
    let sighting = Sighting {
        known_item: true,
        ..sighting
    };
    match precheck(
        &app.keys,
        app.settings.hq_sells_direct,
        &view,
        &serial,
        &tag,
    ) {
        Precheck::NotGenuine => not_genuine(app, sighting).await,
        Precheck::NotReleased(reason) => {
            let s = Sighting {
                result: format!("not_released:{}", reason.as_str()),
                ..sighting
            };
            app.db
                .write_per_statement(move |c| Ok(store::record_sighting(c, &s)?))
                .await?;
            metrics::counter!("chainmark_verifications_total", "result" => "not_released")
                .increment(1);
            Ok(not_released(&view, reason))
        }
        Precheck::ReadyForCode => Ok(answer_for(&view, None)),
    }
}

fn precheck(
    keys: &KeyRing,
    hq_sells_direct: bool,
    view: &VerifyView,
    serial: &Serial,
    tag: &str,
) -> Precheck {
    let tag_ok = keys
        .batch_key(&view.key_id, &serial.batch_id())
        .is_some_and(|k| k.verify_tag(serial, tag));
    let known = KnownCode {
        item: view.item_status,
        batch: view.batch_status,
        at_hq: view.custodian_kind == CustodianKind::Hq,
    };
    verification::precheck(Some(known), tag_ok, hq_sells_direct)
}

/// The brand's settings a decision needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    hq_sells_direct: bool,
    max_verifications: u32,
}

/// The running campaigns a first verification may draw from, what each draw would win, and
/// who verifies.
#[derive(Clone, Copy)]
struct Marketing<'a> {
    offers: &'a [crate::store::marketing::Offer],
    drawings: &'a [Drawing],
    consumer: Option<i64>,
    at: NaiveDateTime,
}

/// A verification with a security code, ready for the database: everything [`with_code`]
/// needs, owned, so that it can wait in a batch (and be run again alone if its batch fails).
pub(crate) struct Pending {
    serial: Serial,
    tag: String,
    code: SecurityCode,
    sighting: Sighting,
    offers: Arc<Vec<crate::store::marketing::Offer>>,
    drawings: Vec<Drawing>,
    consumer: Option<i64>,
    at: NaiveDateTime,
}

impl Pending {
    fn marketing(&self) -> Marketing<'_> {
        Marketing {
            offers: &self.offers,
            drawings: &self.drawings,
            consumer: self.consumer,
            at: self.at,
        }
    }

    /// The whole decision on `conn`, alone (see [`with_code`]).
    pub(crate) fn run(
        &self,
        conn: &mut DbConnection,
        keys: &KeyRing,
        rules: Rules,
    ) -> Result<Answer> {
        with_code(
            conn,
            keys,
            rules,
            self.marketing(),
            &self.serial,
            &self.tag,
            &self.code,
            self.sighting.clone(),
        )
    }

    pub(crate) fn serial(&self) -> &str {
        self.serial.as_str()
    }

    /// Whether, given its item as read, this verification is the plain case: a genuine code
    /// entered right, no place to judge, under the ceiling, no campaign to draw from. Then all
    /// it writes is the count and the sighting, which a batch writes for many in one statement.
    pub(crate) fn is_plain(&self, view: &VerifyView, keys: &KeyRing, rules: Rules) -> bool {
        matches!(
            precheck(keys, rules.hq_sells_direct, view, &self.serial, &self.tag),
            Precheck::ReadyForCode
        ) && code_matches(keys, view, &self.serial, &self.code)
            && !may_alert(&self.sighting, view, rules)
            && offer_for(self.marketing(), view, &self.sighting).is_none()
    }

    /// The sighting a plain verification records (its result comes from the count).
    pub(crate) fn plain_sighting(&self) -> Sighting {
        Sighting {
            known_item: true,
            ..self.sighting.clone()
        }
    }
}

/// Whether `code` is the item's security code.
fn code_matches(keys: &KeyRing, view: &VerifyView, serial: &Serial, code: &SecurityCode) -> bool {
    keys.batch_key(&view.key_id, &serial.batch_id())
        .is_some_and(|k| k.verify_code(serial, code, &view.code_hash))
}

/// The plain case, a code seen from no known place and under the ceiling, writes the count and
/// the sighting only. When the diversion check has a place to judge, or the count will likely
/// pass the ceiling, alerts may be written too, and they commit with the count.
fn may_alert(sighting: &Sighting, view: &VerifyView, rules: Rules) -> bool {
    sighting.region_code.is_some()
        || crate::domain::diversion::cloning::is_frozen(
            view.verify_count.saturating_add(1),
            rules.max_verifications,
        )
}

/// A campaign this code could draw from if this is its first verification.
fn offer_for<'a>(
    marketing: Marketing<'a>,
    view: &VerifyView,
    sighting: &Sighting,
) -> Option<&'a crate::store::marketing::Offer> {
    (view.verify_count == 0)
        .then(|| {
            crate::marketing::candidate(
                marketing.offers,
                &view.sku,
                &view.batch_id,
                sighting.region_code.as_deref(),
                sighting.bot,
                marketing.at,
            )
        })
        .flatten()
}

/// The answer to a right code once it was counted.
pub(crate) fn counted_answer(
    view: &VerifyView,
    counted: store::Counted,
    frozen: bool,
    reward: Option<Reward>,
) -> Answer {
    let outcome = verification::with_code(true, counted.verify_count);
    Answer {
        frozen,
        reward,
        verify_count: counted.verify_count,
        first_verified_at: counted.first_verified_at,
        first_verified_place: counted.first_verified_place,
        ..answer_for(view, Some(outcome))
    }
}

/// A draw prepared for one campaign before the verification's transaction.
struct Drawing {
    campaign: i64,
    rolls: crate::store::marketing::Rolls,
    claim_token: String,
    paid: Option<crate::store::marketing::Paid>,
}

/// The whole decision for a submitted code, on one connection (see [`verify`]).
#[allow(clippy::too_many_arguments)]
fn with_code(
    conn: &mut DbConnection,
    keys: &KeyRing,
    rules: Rules,
    marketing: Marketing<'_>,
    serial: &Serial,
    tag: &str,
    code: &SecurityCode,
    sighting: Sighting,
) -> Result<Answer> {
    let Some(view) = store::load(conn, serial.as_str())? else {
        let s = Sighting {
            result: "not_genuine".into(),
            ..sighting
        };
        store::record_sighting(conn, &s)?;
        return Ok(Answer::bare(s.serial, Outcome::NotGenuine));
    };
    let sighting = Sighting {
        known_item: true,
        ..sighting
    };
    match precheck(keys, rules.hq_sells_direct, &view, serial, tag) {
        Precheck::NotGenuine => {
            let s = Sighting {
                result: "not_genuine".into(),
                ..sighting
            };
            store::record_sighting(conn, &s)?;
            Ok(Answer::bare(s.serial, Outcome::NotGenuine))
        }
        Precheck::NotReleased(reason) => {
            let s = Sighting {
                result: format!("not_released:{}", reason.as_str()),
                ..sighting
            };
            store::record_sighting(conn, &s)?;
            Ok(not_released(&view, reason))
        }
        Precheck::ReadyForCode => {
            if !code_matches(keys, &view, serial, code) {
                let s = Sighting {
                    result: "mismatch".into(),
                    ..sighting
                };
                store::count_mismatch(conn, &s)?;
                return Ok(answer_for(&view, Some(Outcome::Mismatch)));
            }
            // The plain case is one statement (count and sighting); see [`may_alert`]. (A
            // ceiling crossed by a concurrent verification between the read and the count raises
            // its alert in a statement of its own, right after.)
            let may_alert = may_alert(&sighting, &view, rules);
            // A campaign this code could draw from if this is its first verification: the draw
            // then commits with the count, or neither does.
            let at = marketing.at;
            let offer = offer_for(marketing, &view, &sighting);
            type Counted = (store::Counted, bool, Option<Reward>);
            let count = |conn: &mut DbConnection| -> Result<Counted> {
                let mut sighting = sighting;
                crate::diversion::check_verification(conn, &mut sighting)?;
                let counted = store::count_genuine(conn, &sighting)?;
                let frozen = crate::diversion::check_count(
                    conn,
                    &sighting,
                    counted.verify_count,
                    rules.max_verifications,
                )?;
                let first =
                    verification::with_code(true, counted.verify_count) == Outcome::GenuineFirst;
                let drawing =
                    offer.and_then(|o| marketing.drawings.iter().find(|d| d.campaign == o.id));
                let reward = match (offer, drawing) {
                    // (A code under a cloning or overuse alert draws nothing: the draw's
                    // statement checks.)
                    (Some(offer), Some(drawing)) if first && !frozen => {
                        let draw = crate::store::marketing::Draw {
                            offer,
                            serial: serial.as_str(),
                            region: sighting.region_code.as_deref(),
                            consumer: marketing.consumer,
                            at,
                            rolls: drawing.rolls.clone(),
                            paid: drawing.paid,
                        };
                        crate::store::marketing::draw(conn, &draw)?.map(|drawn| Reward {
                            drawn,
                            claim_token: drawing.claim_token.clone(),
                        })
                    }
                    _ => None,
                };
                Ok((counted, frozen, reward))
            };
            let (counted, frozen, reward) = if may_alert || offer.is_some() {
                store::atomically(conn, count)?
            } else {
                count(conn)?
            };
            Ok(counted_answer(&view, counted, frozen, reward))
        }
    }
}

fn not_released(view: &VerifyView, reason: NotReleasedReason) -> Answer {
    Answer {
        not_released: Some(reason),
        ..answer_for(view, Some(Outcome::NotReleased))
    }
}

async fn not_genuine(app: &App, sighting: Sighting) -> Result<Answer> {
    let serial = sighting.serial.clone();
    let s = Sighting {
        result: "not_genuine".into(),
        ..sighting
    };
    app.db
        .write_per_statement(move |c| Ok(store::record_sighting(c, &s)?))
        .await?;
    metrics::counter!("chainmark_verifications_total", "result" => "not_genuine").increment(1);
    Ok(Answer::bare(serial, Outcome::NotGenuine))
}

fn answer_for(view: &VerifyView, outcome: Option<Outcome>) -> Answer {
    Answer {
        serial: view.serial.clone(),
        outcome,
        not_released: None,
        verify_count: view.verify_count,
        first_verified_at: view.first_verified_at,
        first_verified_place: view.first_verified_place.clone(),
        product: Some(ProductInfo {
            sku: view.sku.clone(),
            name: view.product_name.clone(),
            name_en: view.product_name_en.clone(),
            image_url: view.image_url.clone(),
            batch_id: view.batch_id.clone(),
            production_date: view.production_date.clone(),
        }),
        frozen: false,
        reward: None,
    }
}
