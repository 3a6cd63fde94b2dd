//! Scans as sightings: a handheld's scan places an item in the region of the device's owner
//! (an agent's authorised region, or the region of the HQ warehouse an auditor's kit belongs
//! to). An item scanned by someone outside the region of the agent that last received it
//! raises an alert, once per item and place. Called by ingest after the scan was applied, in its
//! transaction, so a receive by the buyer already counts the buyer as the holder.

use serde_json::json;

use super::check::{custody, expected};
use super::regions;
use crate::domain::custody::{Custodian, Party, Scanned};
use crate::domain::diversion::{
    AlertKind, PlaceSource, RegionCode, Verdict, alert::Channel, alert::dedupe_key, judge,
    place::risk,
};
use crate::error::Result;
use crate::ingest::directory::DeviceEntry;
use crate::keys::KeyRing;
use crate::store::DbConnection;
use crate::store::diversion_alerts::{self as alerts, NewAlert};
use crate::store::diversion_places as places;
use chainmark_wire::ScanEvent;

/// The scanning party's regions; empty when it has none (most HQ warehouses).
pub fn scanner_regions(conn: &mut DbConnection, device: &DeviceEntry) -> Result<Vec<RegionCode>> {
    let codes = match device.owner {
        Party::Agent(a) => places::agent_regions(conn, a)?,
        Party::Hq => places::device_warehouse_region(conn, &device.id)?
            .into_iter()
            .collect(),
    };
    Ok(codes.iter().filter_map(|c| regions().known(c)).collect())
}

/// `here`: the device's [`scanner_regions`] (a batch of scans reads them once per device).
pub fn check_scan(
    conn: &mut DbConnection,
    keys: &KeyRing,
    device: &DeviceEntry,
    event: &ScanEvent,
    here: &[RegionCode],
) -> Result<()> {
    let Some(&observed) = here.first() else {
        return Ok(());
    };
    let items = match crate::ingest::apply::resolve(conn, keys, &event.code)? {
        Ok(Scanned::Item(item)) => vec![item],
        Ok(Scanned::Case { items, .. }) => items,
        Err(_) => return Ok(()),
    };
    let scanner = match device.owner {
        Party::Agent(a) => Some(a),
        Party::Hq => None,
    };
    for item in items {
        if scanner.is_some_and(|a| item.custodian == Custodian::Agent(a)) {
            continue;
        }
        let Some(exp) = expected(conn, &item.serial)? else {
            continue;
        };
        if Some(exp.agent) == scanner {
            continue;
        }
        let outside = here
            .iter()
            .all(|h| judge(&exp.regions, *h) == Verdict::Outside);
        if !outside {
            continue;
        }
        let seen_before = alerts::any_for(conn, &item.serial)?;
        let book = regions();
        let evidence = json!({
            "code": item.serial,
            "observed": { "region": observed.to_string(), "name": book.full_name(observed),
                          "source": PlaceSource::Device.as_str() },
            "expected": { "agent_id": exp.agent,
                          "regions": exp.regions.iter().map(|c| json!({"code": c.to_string(), "name": book.full_name(*c)})).collect::<Vec<_>>() },
            "let_out_by_agent_id": exp.agent,
            "scan": { "device": device.id, "seq": event.seq, "kind": event.kind.as_str(),
                      "scanned_at": event.scanned_at, "scanner_agent_id": scanner },
            "custody": custody(conn, &item.serial)?,
        });
        alerts::raise(
            conn,
            &NewAlert {
                kind: AlertKind::Diversion,
                dedupe_key: dedupe_key(AlertKind::Diversion, &item.serial, &[observed]),
                serial: item.serial,
                channel: Channel::Scan,
                expected_region: exp.regions.first().map(ToString::to_string),
                observed_region: Some(observed.to_string()),
                place_source: PlaceSource::Device,
                agent_id: Some(exp.agent),
                risk: risk(PlaceSource::Device, &exp.regions, observed, seen_before),
                evidence,
            },
        )?;
    }
    Ok(())
}
