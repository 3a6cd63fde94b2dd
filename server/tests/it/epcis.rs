//! The EPCIS export on both backends: a scenario of import, pre-packed cases, unpack and pack
//! scans, shipping and receiving against an order, an inspection and a void; exported by batch
//! and by window over the API and by the `chainmark` binary, every document validated against
//! GS1's EPCIS 2.0 JSON schema (from CHAINMARK_EPCIS_DIR; required under CI=true).

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chainmark_server::devices::{self, Registration};
use chainmark_server::domain::Role;
use chainmark_server::domain::network::PaidVia;
use chainmark_server::ingest::MqttSettings;
use chainmark_server::ingest::device_key::DeviceKey;
use chainmark_server::ingest::directory::DeviceDirectory;
use chainmark_server::ingest::handle::handle_scan_message;
use chainmark_server::store::DbConnection;
use chainmark_server::store::schema::products;
use chainmark_wire::{self as wire, AckResult, Scan, ScanEvent, ScanKind};
use codegen::gs1::{CompanyPrefix, Gtin14};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::{BASE_URL, PrintRow, TestApp, backends, make_batch, read_print_csv};
use crate::network::{Net, SKU};

const GTIN: &str = "04006381333931";

/// GS1's EPCIS 2.0 JSON schema, or `None` (with a note) outside CI when it is not provided.
fn schema() -> Option<jsonschema::Validator> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let dir = std::env::var("CHAINMARK_EPCIS_DIR").unwrap_or_default();
    let path = std::path::Path::new(&dir).join("EPCIS-JSON-Schema.json");
    if dir.is_empty() || !path.is_file() {
        assert!(
            !ci,
            "CI=true but CHAINMARK_EPCIS_DIR ({dir:?}) has no EPCIS-JSON-Schema.json: ./scripts/test sets it to ../shared/epcis"
        );
        eprintln!(
            "note: CHAINMARK_EPCIS_DIR not set or without EPCIS-JSON-Schema.json: skipping EPCIS schema validation"
        );
        return None;
    }
    let text = std::fs::read_to_string(&path).expect("read the EPCIS schema");
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    Some(
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the EPCIS schema compiles"),
    )
}

fn assert_valid(validator: &Option<jsonschema::Validator>, doc: &Value, what: &str) {
    let Some(v) = validator else { return };
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: not valid EPCIS 2.0: {errors:#?}"
    );
}

/// A handheld of HQ (`None`) or of an agent that sends signed scans straight to the ingest.
struct Handheld<'a> {
    app: &'a TestApp,
    directory: &'a DeviceDirectory,
    id: String,
    secret: String,
    seq: std::cell::Cell<u64>,
}

impl<'a> Handheld<'a> {
    fn new(app: &'a TestApp, directory: &'a DeviceDirectory, id: &str, owner: Option<i64>) -> Self {
        let p = devices::register(
            &mut app.conn(),
            directory,
            &MqttSettings::default(),
            None,
            &Registration {
                id: id.into(),
                warehouse: "WH".into(),
                owner_agent: owner,
            },
        )
        .expect("register");
        let secret = firmware_config::provision::decode(&p.provisioning)
            .expect("decode")
            .secret;
        Handheld {
            app,
            directory,
            id: id.into(),
            secret,
            seq: std::cell::Cell::new(0),
        }
    }

    fn scan(&self, kind: ScanKind, code: &str, context: Option<&str>) {
        self.seq.set(self.seq.get() + 1);
        let scan = Scan {
            kind,
            code: code.into(),
            context: context.map(Into::into),
            scanned_at: "2026-11-24T09:00:00+08:00".into(),
        };
        let payload =
            ScanEvent::signed(&self.id, self.seq.get(), &scan, self.secret.as_bytes()).to_json();
        let keys = self.app.state.keys.clone();
        let mut conn = self.app.conn();
        let reply = chainmark_server::store::in_transaction::<_, chainmark_server::Error>(
            &mut conn,
            |c: &mut DbConnection| {
                handle_scan_message(
                    c,
                    self.directory,
                    &keys,
                    "chainmark",
                    &wire::scans_topic("chainmark", &self.id),
                    &payload,
                )
            },
        )
        .expect("handled")
        .expect("answered");
        assert_eq!(
            reply.result,
            AckResult::Accepted,
            "{kind:?} {code} {context:?}"
        );
    }
}

/// A batch of `SKU` with the GTIN and SSCCs, 8 items in 2 cases of 4, imported.
fn gs1_batch(net: &Net) -> (String, Vec<PrintRow>) {
    diesel::update(products::table.filter(products::sku.eq(SKU)))
        .set(products::gtin.eq(Some(GTIN)))
        .execute(&mut net.conn())
        .expect("gtin");
    let app = &net.app;
    let dir = app.tmp.path().join("gs1-batch");
    let mut spec = codegen::batch::BatchSpec::new(SKU, 8, BASE_URL, &dir);
    spec.case_size = 4;
    spec.gtin = Some(Gtin14::parse(GTIN).expect("gtin"));
    spec.company_prefix = Some(CompanyPrefix::parse("0614141").expect("prefix"));
    spec.sscc_start = Some(1);
    codegen::batch::write_batch(&spec, &app.key, &mut |_| {}).expect("write batch");
    let imported = chainmark_server::registry::import_batch(
        &mut app.conn(),
        &app.state.keys,
        &app.state.settings.key_files,
        &dir,
        chainmark_server::registry::ImportOptions {
            create_product: false,
            actor: None,
        },
        &mut |_, _| {},
    )
    .expect("import");
    (imported.batch_id, read_print_csv(&dir))
}

async fn get(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let mut req = Request::builder().method(Method::GET).uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let (status, headers, body) = app.send(req.body(Body::empty()).expect("request")).await;
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (
        status,
        kind,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

fn events(doc: &Value) -> &Vec<Value> {
    doc["epcisBody"]["eventList"].as_array().expect("eventList")
}

fn find<'a>(doc: &'a Value, step: &str) -> Vec<&'a Value> {
    events(doc)
        .iter()
        .filter(|e| e["bizStep"] == step)
        .collect()
}

fn item(serial: &str) -> String {
    format!("https://id.gs1.org/01/{GTIN}/21/{serial}")
}

#[tokio::test]
async fn exports_validate_and_carry_the_custody_history() {
    let validator = schema();
    for backend in backends() {
        let net = Net::new(backend);
        let (batch, rows) = gs1_batch(&net);
        let other = make_batch(&net.app, "OTHER-1", 4, 4);
        let case0 = format!("https://id.gs1.org/00/{}", rows[0].case_code);
        let case1 = format!("https://id.gs1.org/00/{}", rows[4].case_code);
        let (agent, buyer) = net.active("national-1", "national", None);
        let order = {
            let input = chainmark_server::network::orders::OrderInput::single(SKU, 5);
            let actor = chainmark_server::network::Actor::Agent {
                user: net.agent(agent).user_id.expect("agent user"),
                agent,
            };
            let _ = buyer;
            chainmark_server::network::orders::submit(&mut net.conn(), actor, &input)
                .expect("submit")
                .id
        };
        chainmark_server::network::orders::accept(&mut net.conn(), order, net.admin)
            .expect("accept");
        net.pay(order, PaidVia::Offline, net.finance);

        let directory = DeviceDirectory::new(DeviceKey::from_bytes([7; 32]));
        let hq = Handheld::new(&net.app, &directory, "hq-hh", None);
        let theirs = Handheld::new(&net.app, &directory, "agent-hh", Some(agent));
        // Open case 1, move one of its items into case 0, take it out, put it back.
        hq.scan(ScanKind::Unpack, &rows[4].case_code, None);
        hq.scan(ScanKind::Pack, &rows[4].serial, Some(&rows[0].case_code));
        hq.scan(ScanKind::Unpack, &rows[4].serial, None);
        hq.scan(ScanKind::Pack, &rows[4].serial, Some(&rows[0].case_code));
        hq.scan(ScanKind::Inspect, &rows[1].serial, None);
        let ctx = format!("CMORDER:{order}");
        hq.scan(ScanKind::Ship, &rows[0].case_code, Some(&ctx));
        theirs.scan(ScanKind::Receive, &rows[0].case_code, Some(&ctx));
        let admin = net.app.token_for("epcis-admin", Role::HqAdmin).await;
        let (status, body) = net
            .app
            .json(
                Method::POST,
                &format!("/api/v1/batches/{batch}/void"),
                Some(json!({"reason": "misprint", "from_serial": rows[7].serial, "to_serial": rows[7].serial})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");

        let auditor = net.app.token_for("epcis-auditor", Role::HqAuditor).await;
        let (status, kind, doc) = get(
            &net.app,
            &format!("/api/v1/epcis/events?batch={batch}"),
            Some(&auditor),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {doc}");
        assert_eq!(kind.as_deref(), Some("application/ld+json"));
        assert_valid(&validator, &doc, "batch export");
        if let Some(v) = &validator {
            // The validator is live: a broken offset or a missing action is refused.
            let mut broken = doc.clone();
            broken["epcisBody"]["eventList"][0]["eventTimeZoneOffset"] = json!("8h");
            assert!(!v.is_valid(&broken));
            let mut broken = doc.clone();
            broken["epcisBody"]["eventList"][0]
                .as_object_mut()
                .expect("event")
                .remove("action");
            assert!(!v.is_valid(&broken));
        }
        assert_eq!(doc["type"], "EPCISDocument");

        // Commissioning: all 8 items, ADD, at HQ.
        let commissioning = find(&doc, "commissioning");
        assert_eq!(commissioning.len(), 1, "{backend:?}");
        assert_eq!(commissioning[0]["action"], "ADD");
        assert_eq!(
            commissioning[0]["epcList"].as_array().map(Vec::len),
            Some(8)
        );
        assert!(
            commissioning[0]["epcList"]
                .as_array()
                .expect("epcs")
                .contains(&json!(item(&rows[3].serial)))
        );
        // Packing: two cases by codegen and one scan; unpacking: the case and the item.
        let packing = find(&doc, "packing");
        assert_eq!(
            packing.len(),
            4,
            "{backend:?}: 2 pre-packed cases, 2 pack scans"
        );
        assert!(packing.iter().any(|e| e["parentID"] == case1
            && e["childEPCs"]
                == json!(rows[4..8].iter().map(|r| item(&r.serial)).collect::<Vec<_>>())));
        assert!(packing.iter().any(|e| e["parentID"] == case0
            && e["childEPCs"] == json!([item(&rows[4].serial)])
            && e["readPoint"]["id"] == format!("{BASE_URL}/epcis/device/hq-hh")));
        let unpacking = find(&doc, "unpacking");
        assert_eq!(unpacking.len(), 2, "{backend:?}");
        assert!(unpacking.iter().all(|e| e["action"] == "DELETE"));
        assert!(unpacking.iter().any(|e| e["parentID"] == case1));
        assert!(unpacking.iter().any(|e| e["parentID"] == case0 && e["childEPCs"] == json!([item(&rows[4].serial)])));
        // Shipping and receiving against the order, HQ → the agent.
        let order_uri =
            json!([{"type": "po", "bizTransaction": format!("{BASE_URL}/epcis/order/{order}")}]);
        let hq_party = format!("{BASE_URL}/epcis/party/hq");
        let agent_party = format!("{BASE_URL}/epcis/party/agent/{agent}");
        for step in ["shipping", "receiving"] {
            let found = find(&doc, step);
            assert_eq!(found.len(), 1, "{backend:?} {step}");
            let e = found[0];
            assert_eq!(e["bizTransactionList"], order_uri, "{step}");
            assert_eq!(e["epcList"].as_array().map(Vec::len), Some(5), "{step}");
            assert_eq!(
                e["sourceList"][0],
                json!({"type": "owning_party", "source": hq_party})
            );
            assert_eq!(
                e["destinationList"][1],
                json!({"type": "possessing_party", "destination": agent_party})
            );
        }
        let inspecting = find(&doc, "inspecting");
        assert_eq!(inspecting.len(), 1);
        assert_eq!(inspecting[0]["epcList"], json!([item(&rows[1].serial)]));
        let void = find(&doc, "decommissioning");
        assert_eq!(void.len(), 1);
        assert_eq!(void[0]["action"], "DELETE");
        assert_eq!(void[0]["epcList"], json!([item(&rows[7].serial)]));
        // Nothing of the other batch; every event has a unique id.
        let text = doc.to_string();
        assert!(
            !text.contains(&other.rows[0].serial),
            "another batch leaked in"
        );
        let mut ids: Vec<&str> = events(&doc)
            .iter()
            .map(|e| e["eventID"].as_str().expect("id"))
            .collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "event ids are unique");

        // A window around now holds both batches; the other has no GTIN: brand URLs.
        let now = chrono::Utc::now();
        let from =
            (now - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let to =
            (now + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let (status, _, window) = get(
            &net.app,
            &format!("/api/v1/epcis/events?from={from}&to={to}"),
            Some(&admin),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{window}");
        assert_valid(&validator, &window, "window export");
        let text = window.to_string();
        assert!(text.contains(&format!("{BASE_URL}/s/{}", other.rows[0].serial)));
        assert!(text.contains(&format!("{BASE_URL}/c/{}", other.rows[0].case_code)));
        assert!(events(&window).len() > events(&doc).len());
        // The same events get the same ids in both exports.
        let shipping = find(&doc, "shipping")[0]["eventID"].clone();
        assert!(events(&window).iter().any(|e| e["eventID"] == shipping));
        // Commissioning comes from the batches (an import is recorded once, on its batch): one
        // per batch imported in the window, the same event as in the batch's own export.
        let commissioned = find(&window, "commissioning");
        assert_eq!(commissioned.len(), 2, "{backend:?}");
        assert!(commissioned.contains(&commissioning[0]));
        assert_eq!(
            commissioned
                .iter()
                .map(|e| e["epcList"].as_array().map_or(0, Vec::len))
                .sum::<usize>(),
            8 + 4
        );
        // An empty window is a valid, empty document.
        let (status, _, empty) = get(
            &net.app,
            "/api/v1/epcis/events?from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00%2B08:00",
            Some(&admin),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_valid(&validator, &empty, "empty export");
        assert_eq!(events(&empty).len(), 0);

        // The binary writes the same document to a file.
        let out = net.app.tmp.path().join("export.jsonld");
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_chainmark"))
            .args(["export", "epcis", "--batch", &batch, "--out"])
            .arg(&out)
            .env("CHAINMARK_DATABASE_URL", &net.app.db.url)
            .env("CHAINMARK_BASE_URL", BASE_URL)
            .env_remove("CHAINMARK_CONFIG")
            .output()
            .expect("run chainmark");
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let file: Value =
            serde_json::from_slice(&std::fs::read(&out).expect("read export")).expect("JSON");
        assert_valid(&validator, &file, "CLI export");
        let strip = |d: &Value| {
            events(d)
                .iter()
                .map(|e| e["eventID"].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            strip(&file),
            strip(&doc),
            "the CLI and the API export the same events"
        );
    }
}

/// Commissioning comes from the batch (an import is recorded once, on it): one event per 1,000
/// items, every item once, in index order.
#[tokio::test]
async fn a_batch_is_commissioned_a_thousand_items_an_event_in_index_order() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "SKU-BIG", 2_345, 24);
        let auditor = app.token_for("auditor", Role::HqAuditor).await;
        let (status, _, doc) = get(
            &app,
            &format!("/api/v1/epcis/events?batch={}", batch.batch_id),
            Some(&auditor),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {doc}");
        let commissioning = find(&doc, "commissioning");
        let sizes: Vec<usize> = commissioning
            .iter()
            .map(|e| e["epcList"].as_array().map_or(0, Vec::len))
            .collect();
        assert_eq!(sizes, [1_000, 1_000, 345], "{backend:?}");
        let epcs: Vec<&Value> = commissioning
            .iter()
            .flat_map(|e| e["epcList"].as_array().expect("epcs"))
            .collect();
        let printed: Vec<Value> = batch
            .rows
            .iter()
            .map(|r| json!(format!("{BASE_URL}/s/{}", r.serial)))
            .collect();
        assert_eq!(epcs, printed.iter().collect::<Vec<_>>(), "{backend:?}");
        // They come first, before the cases codegen packed.
        assert_eq!(events(&doc)[0]["bizStep"], "commissioning");
    }
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "TEA-9", 2, 2).batch_id;
        let auditor = app.token_for("auditor", Role::HqAuditor).await;
        let agent = app.token_for("agent", Role::Agent).await;
        let warehouse = app.token_for("warehouse", Role::Warehouse).await;
        let url = format!("/api/v1/epcis/events?batch={batch}");
        assert_eq!(get(&app, &url, None).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(get(&app, &url, Some(&agent)).await.0, StatusCode::FORBIDDEN);
        assert_eq!(
            get(&app, &url, Some(&warehouse)).await.0,
            StatusCode::FORBIDDEN
        );
        let cases = [
            ("batch=ZZZZZZZZ", StatusCode::NOT_FOUND, "batch"),
            ("", StatusCode::BAD_REQUEST, "batch=ID"),
            (
                "from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z",
                StatusCode::BAD_REQUEST,
                "before",
            ),
            (
                "from=2026-11-01T00:00:00Z&to=2026-11-01T00:00:00Z",
                StatusCode::BAD_REQUEST,
                "before",
            ),
            (
                "from=yesterday&to=2026-11-01T00:00:00Z",
                StatusCode::BAD_REQUEST,
                "RFC 3339",
            ),
            (
                "from=2026-11-01T00:00:00Z",
                StatusCode::BAD_REQUEST,
                "batch=ID",
            ),
            (
                &format!("batch={batch}&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z"),
                StatusCode::BAD_REQUEST,
                "not both",
            ),
        ];
        for (query, status, says) in cases {
            let (got, _, body) = get(
                &app,
                &format!("/api/v1/epcis/events?{query}"),
                Some(&auditor),
            )
            .await;
            assert_eq!(got, status, "{backend:?} {query}: {body}");
            assert!(body.to_string().contains(says), "{query}: {body}");
        }
        let (status, _, _) = get(&app, &url, Some(&auditor)).await;
        assert_eq!(status, StatusCode::OK);
    }
}
