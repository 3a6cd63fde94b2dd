//! The test harness: a fresh database per test on each backend (`chainmark-test-support`), an
//! app built on it, and request helpers. Every store-touching test runs against SQLite and
//! PostgreSQL (DOMAIN's rules must hold on both).

#![allow(dead_code)]

use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chainmark_server::app::{App, AppState};
use chainmark_server::config::Settings;
use chainmark_server::keys::KeyRing;
use chainmark_server::store::DbConnection;
use codegen::keys::MasterKey;
use http_body_util::BodyExt;
use serde_json::Value;
use tempfile::TempDir;
use tower::ServiceExt;

// Not every test binary that includes this module uses all of these.
#[allow(unused_imports)]
pub use chainmark_test_support::form::{cookie_of, get_with_cookie, retry_after};
pub use chainmark_test_support::{Backend, backends};

/// A database of its own for one test, answering in the server's error type.
pub type TestDb = chainmark_test_support::TestDb<chainmark_server::Error>;

/// An app on a fresh database with a fresh master key, driven through its router in-process.
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub key: MasterKey,
    pub tmp: TempDir,
    pub db: TestDb,
}

pub const BASE_URL: &str = "https://brand.example";

impl TestApp {
    pub fn new(backend: Backend) -> TestApp {
        TestApp::with_settings(backend, |_| {})
    }

    pub fn with_settings(backend: Backend, edit: impl FnOnce(&mut Settings)) -> TestApp {
        TestApp::with_app(backend, edit, |_| {})
    }

    /// [`TestApp::with_settings`], then `edit_app` on the app before it serves (e.g. a text
    /// message sender that records).
    pub fn with_app(
        backend: Backend,
        edit: impl FnOnce(&mut Settings),
        edit_app: impl FnOnce(&mut App),
    ) -> TestApp {
        let db = TestDb::new(backend);
        let tmp = tempfile::tempdir().expect("temp dir");
        let key_path = tmp.path().join("master.key");
        let key = MasterKey::generate_to(&key_path).expect("master key");
        let mut settings = Settings {
            database_url: db.url.clone(),
            base_url: BASE_URL.into(),
            key_files: vec![key_path],
            ..Settings::default()
        };
        edit(&mut settings);
        let mut keys = KeyRing::default();
        keys.insert(key.clone());
        let mut app = App::with(settings, db.db.clone(), keys);
        edit_app(&mut app);
        let state = app.into_state();
        let router = chainmark_server::app::router(state.clone())
            .layer(MockConnectInfo(SocketAddr::from(([203, 0, 113, 7], 40000))));
        TestApp {
            state,
            router,
            key,
            tmp,
            db,
        }
    }

    pub fn conn(&self) -> chainmark_server::store::PooledConn {
        self.db.conn()
    }

    /// Sends a request through the router; returns status, headers and body.
    pub async fn send(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
        let response = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, headers, body)
    }

    /// A JSON request; the body is parsed as JSON (or `Value::Null` when empty / not JSON).
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => builder.body(Body::empty()),
        }
        .expect("request");
        let (status, _, bytes) = self.send(req).await;
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// Creates a user with `role` and returns a bearer token for it.
    pub async fn token_for(&self, username: &str, role: chainmark_server::domain::Role) -> String {
        let password = "test-password-123";
        {
            let mut conn = self.conn();
            chainmark_server::accounts::create_user(
                &mut conn,
                username,
                username,
                role,
                Some(password),
            )
            .expect("create user");
        }
        let (status, body) = self
            .json(
                Method::POST,
                "/api/v1/auth/token",
                Some(serde_json::json!({"username": username, "password": password})),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login failed: {body}");
        body["token"].as_str().expect("token").to_string()
    }
}

/// Runs blocking store code on a pooled connection.
pub fn with_conn<T>(db: &TestDb, f: impl FnOnce(&mut DbConnection) -> T) -> T {
    let mut conn = db.conn();
    f(&mut conn)
}

/// One row of a fixture batch's `print.csv`, with the tag taken from the verify URL.
#[derive(Debug, Clone)]
pub struct PrintRow {
    pub serial: String,
    /// The 20-digit security code as printed (groups of four).
    pub security_code: String,
    pub verify_url: String,
    /// The `t=` parameter of `verify_url`.
    pub tag: String,
    pub case_code: String,
}

/// A batch generated by codegen under the app's key and imported into its registry.
#[derive(Debug, Clone)]
pub struct BatchFixture {
    pub batch_id: String,
    /// The batch folder (inside `app.tmp`).
    pub dir: std::path::PathBuf,
    /// `print.csv`, in item order.
    pub rows: Vec<PrintRow>,
}

/// Writes a batch of `items` codes for product `sku` (`case_size` per case) with codegen into
/// `app.tmp`, and imports it with the registry's import (creating the product if missing).
/// Every item starts active in HQ custody, i.e. not released: see [`release`].
pub fn make_batch(app: &TestApp, sku: &str, items: u64, case_size: u32) -> BatchFixture {
    let dir = write_batch_dir(app, sku, items, case_size);
    let options = chainmark_server::registry::ImportOptions {
        create_product: true,
        actor: None,
    };
    let imported = {
        let mut conn = app.conn();
        chainmark_server::registry::import_batch(
            &mut conn,
            &app.state.keys,
            &app.state.settings.key_files,
            &dir,
            options,
            &mut |_, _| {},
        )
        .expect("import fixture batch")
    };
    BatchFixture {
        batch_id: imported.batch_id,
        rows: read_print_csv(&dir),
        dir,
    }
}

/// Only writes the batch folder with codegen (no import); for import tests. Returns the folder.
pub fn write_batch_dir(app: &TestApp, sku: &str, items: u64, case_size: u32) -> std::path::PathBuf {
    let dir = app.tmp.path().join(format!(
        "batch-{:016x}",
        chainmark_test_support::random_u64()
    ));
    let mut spec = codegen::batch::BatchSpec::new(sku, items, BASE_URL, &dir);
    spec.case_size = case_size;
    codegen::batch::write_batch(&spec, &app.key, &mut |_| {}).expect("write batch");
    dir
}

/// The rows of `dir/print.csv`.
pub fn read_print_csv(dir: &std::path::Path) -> Vec<PrintRow> {
    let mut reader = csv::Reader::from_path(dir.join("print.csv")).expect("print.csv");
    reader
        .records()
        .map(|r| {
            let r = r.expect("csv row");
            let verify_url = r[2].to_string();
            let tag = verify_url
                .split("t=")
                .nth(1)
                .expect("t= in verify URL")
                .to_string();
            PrintRow {
                serial: r[0].to_string(),
                security_code: r[1].to_string(),
                verify_url,
                tag,
                case_code: r[4].to_string(),
            }
        })
        .collect()
}

/// Releases serials `from..=to` (one batch) for sale, as HQ would before selling.
pub fn release(app: &TestApp, from: &str, to: &str) {
    let batch_id = &from[..8];
    let mut conn = app.conn();
    chainmark_server::registry::release(&mut conn, batch_id, from, to, None).expect("release");
}

/// Registers handheld `id` in HQ's warehouse HQ-WH01; returns the secret it signs scans with
/// (from its provisioning string, as the real agent gets it).
pub fn register_hq_device(
    app: &TestApp,
    directory: &chainmark_server::ingest::directory::DeviceDirectory,
    id: &str,
) -> String {
    use chainmark_server::devices::{self, Registration};
    let mut conn = app.conn();
    let registered = devices::register(
        &mut conn,
        directory,
        &chainmark_server::ingest::MqttSettings::default(),
        None,
        &Registration {
            id: id.into(),
            warehouse: "HQ-WH01".into(),
            owner_agent: None,
        },
    )
    .expect("register");
    firmware_config::provision::decode(&registered.provisioning)
        .expect("provisioning decodes")
        .secret
}
