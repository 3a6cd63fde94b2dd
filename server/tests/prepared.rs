//! The write paths that run once per scan or per verification use prepared statements: every
//! statement they run more than once went into diesel's statement cache. diesel silently parses
//! some statements anew on every call (every UPDATE), which cost a
//! third of the writer thread's time; this keeps that from creeping back (`store::fixed`).
//!
//! Its own test binary: it installs a process-wide default instrumentation on new connections.

#[path = "it/common.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use axum::http::{Method, StatusCode};
use chainmark_server::ingest::device_key::DeviceKey;
use chainmark_server::ingest::directory::DeviceDirectory;
use chainmark_server::ingest::handle::handle_scan_message;
use chainmark_server::store::DbConnection;
use chainmark_wire::{self as wire, AckResult, Scan, ScanEvent, ScanKind};
use diesel::connection::{Instrumentation, InstrumentationEvent};
use serde_json::json;

use common::{TestApp, backends, make_batch, release};

/// What the connections ran: each statement's SQL (binds left out), and whether it was cached.
#[derive(Default)]
struct Seen {
    runs: BTreeMap<String, usize>,
    cached: BTreeSet<String>,
}

static SEEN: Mutex<Option<Seen>> = Mutex::new(None);

fn record(event: InstrumentationEvent<'_>) {
    let Ok(mut seen) = SEEN.lock() else { return };
    let Some(seen) = seen.as_mut() else { return };
    match event {
        InstrumentationEvent::StartQuery { query, .. } => {
            let text = query.to_string();
            let sql = text.split(" -- binds:").next().unwrap_or("").trim();
            *seen.runs.entry(sql.to_string()).or_default() += 1;
        }
        InstrumentationEvent::CacheQuery { sql, .. } => {
            seen.cached.insert(sql.trim().to_string());
        }
        _ => {}
    }
}

fn recorder() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(record))
}

/// Statements run at least twice that never went into the cache. Transaction control goes
/// through diesel's transaction manager, not the statement cache, and is left out, as is the
/// pool's `SELECT 1` check of a connection it hands out (the consumer keeps its connection).
fn uncached(expect_cached: &str) -> Vec<String> {
    let seen = SEEN.lock().expect("lock").take().unwrap_or_default();
    // The recorder must have seen the path at work, or the check below proves nothing.
    assert!(
        seen.cached.iter().any(|sql| sql.contains(expect_cached)),
        "no cached statement containing {expect_cached:?} was seen: {:?}",
        seen.cached
    );
    let control = [
        "SAVEPOINT",
        "RELEASE",
        "ROLLBACK",
        "BEGIN",
        "COMMIT",
        "SELECT 1",
    ];
    seen.runs
        .into_iter()
        .filter(|(sql, n)| *n >= 2 && !seen.cached.contains(sql))
        .filter(|(sql, _)| !control.iter().any(|c| sql.starts_with(c)))
        .map(|(sql, n)| format!("{n}× {sql}"))
        .collect()
}

fn start_recording() {
    *SEEN.lock().expect("lock") = Some(Seen::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_and_verifications_run_on_prepared_statements() {
    diesel::connection::set_default_instrumentation(recorder).expect("instrumentation");
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "TEA-1", 24, 4);
        release(&app, &batch.rows[0].serial, &batch.rows[11].serial);

        // Verifications: the first and repeat counts, a wrong code.
        start_recording();
        for row in &batch.rows[0..4] {
            for code in [&row.security_code, &row.security_code] {
                let (status, body) = app
                    .json(
                        Method::POST,
                        "/api/v1/verify",
                        Some(json!({"serial": row.serial, "tag": row.tag, "security_code": code})),
                        None,
                    )
                    .await;
                assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
            }
            let wrong = json!({"serial": row.serial, "tag": row.tag,
                "security_code": "1234 5678 9012 3456 7890"});
            let (status, _) = app
                .json(Method::POST, "/api/v1/verify", Some(wrong), None)
                .await;
            assert_eq!(status, StatusCode::OK);
        }
        let slow = uncached("verify_count = verify_count + 1");
        assert!(
            slow.is_empty(),
            "{backend:?}: verification parses statements anew on every call:\n{}",
            slow.join("\n")
        );

        // PostgreSQL: a verification is two statements, the read and the count with its
        // sighting: no `BEGIN`/`COMMIT`, no separate sighting INSERT (issue 22; it was six with
        // r2d2's checkout ping, which diesel's instrumentation does not see).
        if matches!(backend, common::Backend::Postgres) {
            start_recording();
            for row in &batch.rows[4..8] {
                let body = json!({"serial": row.serial, "tag": row.tag,
                    "security_code": row.security_code});
                let (status, answer) = app
                    .json(Method::POST, "/api/v1/verify", Some(body), None)
                    .await;
                assert_eq!(status, StatusCode::OK, "{answer}");
                assert_eq!(answer["result"], "genuine_first", "{answer}");
            }
            let seen = SEEN.lock().expect("lock").take().unwrap_or_default();
            let total: usize = seen.runs.values().sum();
            assert_eq!(
                total, 8,
                "four verifications should be eight statements: {:?}",
                seen.runs
            );
        }

        // Scans: inspections, sales of loose items and of a whole case, unpacking and packing.
        let directory = DeviceDirectory::new(DeviceKey::from_bytes([42; 32]));
        let secret = common::register_hq_device(&app, &directory, "hh-01");
        let keys = app.state.keys.clone();
        let mut seq = 0;
        let mut scan = |kind: ScanKind, code: &str, context: Option<&str>| {
            seq += 1;
            let event = Scan {
                kind,
                code: code.into(),
                context: context.map(Into::into),
                scanned_at: "2026-11-24T09:00:00+08:00".into(),
            };
            let payload = ScanEvent::signed("hh-01", seq, &event, secret.as_bytes()).to_json();
            let topic = wire::scans_topic("chainmark", "hh-01");
            let mut conn = app.conn();
            let reply = chainmark_server::store::in_transaction::<_, chainmark_server::Error>(
                &mut conn,
                |c: &mut DbConnection| {
                    handle_scan_message(c, &directory, &keys, "chainmark", &topic, &payload)
                },
            )
            .expect("no storage error")
            .expect("an answer");
            assert_eq!(
                reply.result,
                AckResult::Accepted,
                "{backend:?}: {kind:?} {code}"
            );
        };
        start_recording();
        for row in &batch.rows[12..16] {
            scan(ScanKind::Inspect, &row.serial, None);
            scan(ScanKind::Sell, &row.verify_url, None);
        }
        let (opened, sealed) = (&batch.rows[16].case_code, &batch.rows[20].case_code);
        scan(ScanKind::Unpack, opened, None);
        for row in &batch.rows[16..18] {
            scan(ScanKind::Pack, &row.serial, Some(sealed));
        }
        scan(ScanKind::Sell, sealed, None);
        let slow = uncached("UPDATE items SET custodian_kind");
        assert!(
            slow.is_empty(),
            "{backend:?}: scans parse statements anew on every call:\n{}",
            slow.join("\n")
        );
    }
}
