//! The warehouse scans of an EPCIS export: accepted pack, unpack and inspect scans, which move
//! no custody and so are read from the scan log, their codes resolved against the registry.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use codegen::payload::{self, CaseId};

use super::{Filter, PAGE, Sink};
use crate::domain::epcis::event::scan_event;
use crate::domain::epcis::{Ids, ScanFact, When};
use crate::error::Result;
use crate::store::DbConnection;
use crate::store::epcis::{self as store, ScanRow};
use chainmark_wire::ScanKind;

pub(super) fn scan_section(
    conn: &mut DbConnection,
    ids: &Ids,
    filter: &Filter,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let window = match filter {
        Filter::Window { from, to } => Some((*from, *to)),
        Filter::Batch(_) => None,
    };
    let mut resolver = Resolver {
        ids,
        gtins: HashMap::new(),
    };
    let mut offset = 0;
    loop {
        let page = store::scans_page(conn, window, offset, PAGE)?;
        if page.is_empty() {
            break;
        }
        offset += page.len() as i64;
        for scan in &page {
            let Some((batch, fact)) = resolver.scan(conn, scan)? else {
                tracing::warn!(device = %scan.device_id, seq = scan.seq, "accepted scan that no longer resolves: left out of the EPCIS export");
                continue;
            };
            if matches!(filter, Filter::Batch(b) if *b != batch) {
                continue;
            }
            let event = scan_event(ids, &fact, &scan.device_id, scan_time(scan));
            sink.event(event, &format!("scan:{}:{}", scan.device_id, scan.seq))?;
        }
        (sink.progress)(sink.events);
    }
    Ok(())
}

/// The device's own time and offset when it sent a valid one, else the arrival time in UTC.
fn scan_time(scan: &ScanRow) -> When {
    let recorded = scan.received_at.and_utc();
    let event = DateTime::<FixedOffset>::parse_from_rfc3339(scan.scanned_at.trim())
        .unwrap_or_else(|_| recorded.fixed_offset());
    When { event, recorded }
}

/// What a scanned code names, resolved against the registry.
enum Named {
    Item {
        batch: String,
        epc: String,
        serial: String,
    },
    Case {
        batch: String,
        epc: String,
        code: String,
    },
}

struct Resolver<'a> {
    ids: &'a Ids,
    gtins: HashMap<String, Option<Option<String>>>,
}

impl Resolver<'_> {
    /// The scan as an EPCIS fact, with the batch it belongs to; `None` when a code no longer
    /// resolves (it was accepted, so this means the registry changed under it).
    fn scan(
        &mut self,
        conn: &mut DbConnection,
        scan: &ScanRow,
    ) -> Result<Option<(String, ScanFact)>> {
        let Some(named) = self.code(conn, &scan.code)? else {
            return Ok(None);
        };
        Ok(match (scan.kind, named) {
            (
                ScanKind::Inspect,
                Named::Item { batch, epc, .. } | Named::Case { batch, epc, .. },
            ) => Some((batch, ScanFact::Inspect { epc })),
            (ScanKind::Pack, Named::Item { batch, epc, .. }) => self
                .case_of_context(conn, scan.context.as_deref())?
                .map(|case| (batch, ScanFact::Pack { case, item: epc })),
            (ScanKind::Unpack, Named::Case { batch, epc, code }) => {
                let items = store::case_members(conn, &code)?
                    .into_iter()
                    .map(|serial| self.item_epc(conn, &serial))
                    .collect::<Result<Vec<_>>>()?;
                Some((batch, ScanFact::Unpack { case: epc, items }))
            }
            (ScanKind::Unpack, Named::Item { batch, epc, serial }) => {
                let case = match store::last_pack_context(conn, &serial, scan.received_at)? {
                    Some(context) => self.case_of_context(conn, Some(&context))?,
                    None => self.import_case(conn, &serial)?,
                };
                case.map(|case| {
                    (
                        batch,
                        ScanFact::Unpack {
                            case,
                            items: vec![epc],
                        },
                    )
                })
            }
            _ => None,
        })
    }

    fn code(&mut self, conn: &mut DbConnection, code: &str) -> Result<Option<Named>> {
        let Ok(parsed) = payload::parse(code) else {
            return Ok(None);
        };
        if let Some(serial) = parsed.serial() {
            let serial = serial.as_str().to_string();
            let batch = serial.chars().take(8).collect::<String>();
            let epc = self.item_epc(conn, &serial)?;
            return Ok(Some(Named::Item { batch, epc, serial }));
        }
        let found = match parsed.case() {
            Some(CaseId::Code(c)) => store::case(conn, Some(c.as_str()), None)?,
            Some(CaseId::Sscc(s)) => store::case(conn, None, Some(s.as_str()))?,
            None => None,
        };
        Ok(found.map(|(code, sscc, batch)| Named::Case {
            batch,
            epc: self.ids.case(sscc.as_deref(), &code),
            code,
        }))
    }

    fn item_epc(&mut self, conn: &mut DbConnection, serial: &str) -> Result<String> {
        let batch: String = serial.chars().take(8).collect();
        if !self.gtins.contains_key(&batch) {
            let gtin = store::batch_gtin(conn, &batch)?;
            self.gtins.insert(batch.clone(), gtin);
        }
        let gtin = self.gtins.get(&batch).cloned().flatten().flatten();
        Ok(self.ids.item(gtin.as_deref(), serial))
    }

    /// The case a pack scan's context names (a case URL, SSCC or code).
    fn case_of_context(
        &mut self,
        conn: &mut DbConnection,
        context: Option<&str>,
    ) -> Result<Option<String>> {
        Ok(
            match context.map(|c| self.code(conn, c)).transpose()?.flatten() {
                Some(Named::Case { epc, .. }) => Some(epc),
                _ => None,
            },
        )
    }

    /// The case codegen put an item into: index / case size.
    fn import_case(&mut self, conn: &mut DbConnection, serial: &str) -> Result<Option<String>> {
        let Some((batch, index, size)) = store::item_place(conn, serial)? else {
            return Ok(None);
        };
        let case = store::case_at(conn, &batch, index / i64::from(size.max(1)))?;
        Ok(case.map(|(code, sscc)| self.ids.case(sscc.as_deref(), &code)))
    }
}
