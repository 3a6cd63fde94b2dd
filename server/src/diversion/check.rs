//! The checks a right-code verification runs on the writer, inside its transaction: diversion
//! against the region of the agent that last received the item, the cloning speed rule, and
//! the verification ceiling. Each is an indexed lookup or two; alerts are rare inserts.

use chrono::{NaiveDateTime, Utc};
use serde_json::{Value, json};

use super::regions;
use crate::domain::custody::CustodianKind;
use crate::domain::diversion::cloning::{self, Travel};
use crate::domain::diversion::{
    AlertKind, PlaceSource, RegionCode, Verdict, alert::Channel, alert::dedupe_key, judge,
    place::risk,
};
use crate::error::Result;
use crate::store::DbConnection;
use crate::store::diversion_alerts::{self as alerts, NewAlert};
use crate::store::diversion_places as places;
use crate::store::verify::Sighting;

/// The item's expected regions: those of the agent that last received it (none: still at HQ or
/// on its first shipment).
pub struct Expected {
    pub agent: i64,
    pub regions: Vec<RegionCode>,
}

pub fn expected(conn: &mut DbConnection, serial: &str) -> Result<Option<Expected>> {
    let Some(agent) = places::last_receiver(conn, serial)? else {
        return Ok(None);
    };
    let book = regions();
    let regions = places::agent_regions(conn, agent)?
        .iter()
        .filter_map(|c| book.known(c))
        .collect();
    Ok(Some(Expected { agent, regions }))
}

/// Runs before the verification is counted: records the expected region on the sighting and
/// raises a diversion or cloning alert when the evidence says so. Bots and unplaced sightings
/// are recorded but not judged.
pub fn check_verification(conn: &mut DbConnection, sighting: &mut Sighting) -> Result<()> {
    let book = regions();
    let observed = sighting.region_code.as_deref().and_then(|c| book.known(c));
    let source = sighting.place_source;
    let (Some(observed), Some(source)) = (observed, source) else {
        return Ok(());
    };
    let expected = expected(conn, &sighting.serial)?;
    if let Some(exp) = &expected {
        sighting.expected_region = exp.regions.first().map(ToString::to_string);
    }
    if sighting.bot {
        return Ok(());
    }
    if let Some(exp) = &expected {
        if judge(&exp.regions, observed) == Verdict::Outside {
            let seen_before = alerts::any_for(conn, &sighting.serial)?;
            let evidence = evidence(conn, sighting, observed, source, Some(exp))?;
            alerts::raise(
                conn,
                &NewAlert {
                    kind: AlertKind::Diversion,
                    serial: sighting.serial.clone(),
                    dedupe_key: dedupe_key(AlertKind::Diversion, &sighting.serial, &[observed]),
                    channel: Channel::Verification,
                    expected_region: sighting.expected_region.clone(),
                    observed_region: Some(observed.to_string()),
                    place_source: source,
                    agent_id: Some(exp.agent),
                    risk: risk(source, &exp.regions, observed, seen_before),
                    evidence,
                },
            )?;
        }
    }
    check_cloning(conn, sighting, observed, source, expected.as_ref())
}

fn point_of(
    source: Option<PlaceSource>,
    lat: Option<f64>,
    lon: Option<f64>,
    region: RegionCode,
) -> Option<(f64, f64)> {
    match (source, lat, lon) {
        (Some(PlaceSource::Browser), Some(a), Some(b)) => Some((a, b)),
        _ => regions().centroid(region),
    }
}

fn check_cloning(
    conn: &mut DbConnection,
    sighting: &Sighting,
    observed: RegionCode,
    source: PlaceSource,
    expected: Option<&Expected>,
) -> Result<()> {
    let Some(prev) = places::previous_located(conn, &sighting.serial)? else {
        return Ok(());
    };
    let Some(prev_region) = prev.region_code.as_deref().and_then(|c| regions().known(c)) else {
        return Ok(());
    };
    let prev_source = prev.place_source;
    let here = point_of(
        Some(source),
        sighting.latitude,
        sighting.longitude,
        observed,
    );
    let there = point_of(prev_source, prev.latitude, prev.longitude, prev_region);
    let (Some(here), Some(there)) = (here, there) else {
        return Ok(());
    };
    let seconds = (now() - prev.at).num_seconds();
    let Some(travel) = cloning::is_clone(there, here, seconds) else {
        return Ok(());
    };
    let mut evidence = evidence(conn, sighting, observed, source, expected)?;
    evidence["previous"] = json!({
        "sighting_id": prev.id,
        "region": prev_region.to_string(),
        "region_name": regions().full_name(prev_region),
        "source": prev.place_source.map(PlaceSource::as_str),
        "at": prev.at,
    });
    evidence["travel"] = travel_json(&travel);
    // The weaker of the two places bounds the evidence.
    let weakest = prev_source.map_or(source, |p| {
        if p.weight() < source.weight() {
            p
        } else {
            source
        }
    });
    alerts::raise(
        conn,
        &NewAlert {
            kind: AlertKind::Cloning,
            serial: sighting.serial.clone(),
            dedupe_key: dedupe_key(
                AlertKind::Cloning,
                &sighting.serial,
                &[prev_region, observed],
            ),
            channel: Channel::Verification,
            expected_region: Some(prev_region.to_string()),
            observed_region: Some(observed.to_string()),
            place_source: weakest,
            agent_id: expected.map(|e| e.agent),
            risk: (weakest.weight() + 30).min(100),
            evidence,
        },
    )?;
    Ok(())
}

fn travel_json(t: &Travel) -> Value {
    json!({ "distance_km": t.distance_km.round(), "seconds": t.seconds,
            "speed_kmh": t.speed_kmh.map(f64::round) })
}

/// Runs after counting: a code verified more often than the policy allows is frozen, and
/// flagged once. Returns whether it is frozen.
pub fn check_count(
    conn: &mut DbConnection,
    sighting: &Sighting,
    count: i32,
    max: u32,
) -> Result<bool> {
    if !cloning::is_frozen(count, max) {
        return Ok(false);
    }
    let key = dedupe_key(AlertKind::Overuse, &sighting.serial, &[]);
    let observed = sighting.region_code.clone();
    let expected = expected(conn, &sighting.serial)?;
    let chain = custody(conn, &sighting.serial)?;
    alerts::raise(
        conn,
        &NewAlert {
            kind: AlertKind::Overuse,
            serial: sighting.serial.clone(),
            dedupe_key: key,
            channel: Channel::Verification,
            expected_region: sighting.expected_region.clone(),
            observed_region: observed,
            place_source: sighting.place_source.unwrap_or(PlaceSource::ClientAddress),
            agent_id: expected.map(|e| e.agent),
            risk: 80,
            evidence: json!({ "code": sighting.serial, "verify_count": count, "max_verifications": max,
                              "custody": chain }),
        },
    )?;
    Ok(true)
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// The item's chain of custody as evidence.
pub fn custody(conn: &mut DbConnection, serial: &str) -> Result<Value> {
    let events = crate::store::items::custody_events(conn, serial)?;
    Ok(Value::Array(
        events
            .into_iter()
            .map(|e| {
                json!({ "kind": e.kind.as_str(), "from": party(e.from_kind, e.from_id),
                        "to": party(e.to_kind, e.to_id), "at": e.at, "note": e.note })
            })
            .collect(),
    ))
}

fn party(kind: Option<CustodianKind>, id: Option<i64>) -> Value {
    match (kind, id) {
        (Some(k), Some(i)) => json!(format!("{}:{i}", k.as_str())),
        (Some(k), None) => json!(k.as_str()),
        _ => Value::Null,
    }
}

/// Everything an auditor needs to judge one sighting.
pub fn evidence(
    conn: &mut DbConnection,
    s: &Sighting,
    observed: RegionCode,
    source: PlaceSource,
    expected: Option<&Expected>,
) -> Result<Value> {
    let book = regions();
    let expected = expected.map(|e| {
        json!({ "agent_id": e.agent,
                "regions": e.regions.iter().map(|c| json!({"code": c.to_string(), "name": book.full_name(*c)})).collect::<Vec<_>>() })
    });
    Ok(json!({
        "code": s.serial,
        "observed": { "region": observed.to_string(), "name": book.full_name(observed),
                      "source": source.as_str(),
                      "point": s.latitude.zip(s.longitude).map(|(a, b)| vec![a, b]) },
        "expected": expected,
        "let_out_by_agent_id": expected.as_ref().and_then(|e| e["agent_id"].as_i64()),
        "sighting": { "client_addr": s.client_addr, "user_agent": s.user_agent, "at": now() },
        "custody": custody(conn, &s.serial)?,
    }))
}
