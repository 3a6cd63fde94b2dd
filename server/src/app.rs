//! The application: its state, its router, and serving it with a graceful shutdown.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::ratelimit::RateLimits;
use crate::store::Db;

/// Everything a request may need, built once.
pub struct App {
    pub settings: Settings,
    pub db: Db,
    pub keys: Arc<KeyRing>,
    pub limits: RateLimits,
    pub metrics: PrometheusHandle,
    /// Registered devices and their secrets; `None` without a device key (mqtt.device_key_file).
    pub devices: Option<Arc<crate::ingest::directory::DeviceDirectory>>,
    /// Diversion audit: the IP-to-region table, the verification ceiling, the burst meter.
    pub diversion: Arc<crate::diversion::Diversion>,
    /// The background tasks (device consumer, periodic jobs) and which of them stopped.
    pub parts: crate::supervise::Parts,
    /// The key that signs a verification result shown again in the other language
    /// (`web::verdict_link`), read from the database on first use.
    pub verdict_key: std::sync::OnceLock<[u8; 32]>,
    /// The CJK font the certificate and poster PNGs are drawn with, found on first use
    /// (`CHAINMARK_FONT`, else the usual system paths: `codegen::card::Fonts::discover`).
    pub fonts: std::sync::OnceLock<Option<Arc<codegen::card::Fonts>>>,
    /// The running scan-marketing campaigns, kept for a moment (`marketing::REFRESH`).
    pub offers: crate::marketing::Offers,
    /// This instance's leases of campaigns' budgets and prizes' stock (`marketing::Purses`).
    pub purses: crate::marketing::Purses,
    /// Sends consumers' sign-in codes (`CHAINMARK_SMS`); tests put in one that records.
    pub sms: Arc<dyn crate::sms::SmsSender>,
    /// PostgreSQL: the writer threads that verify in batches (`verify::batch`).
    pub verify_batches: crate::verify::batch::Batches,
}

/// Cheap to clone; what axum hands to every handler.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl App {
    /// Opens the database (applying migrations) and loads the keys named in `settings`.
    pub fn open(settings: Settings) -> Result<App> {
        let db = Db::open(&settings.database_url, settings.database_pool_size)?;
        db.migrate()?;
        let keys = KeyRing::load(&settings.key_files)?;
        let devices = device_directory(&settings)?;
        let diversion = crate::diversion::Diversion::load(&settings.diversion)?;
        Ok(App {
            devices,
            diversion,
            ..App::with(settings, db, keys)
        })
    }

    /// Builds the app from parts already opened (tests use this with their own database).
    pub fn with(settings: Settings, db: Db, keys: KeyRing) -> App {
        let limits = RateLimits::new(&settings.rate_limit);
        let devices = device_directory(&settings).unwrap_or_else(|e| {
            tracing::error!(error = %e, "devices are off");
            None
        });
        let diversion =
            crate::diversion::Diversion::load(&settings.diversion).unwrap_or_else(|e| {
                tracing::error!(error = %e, "diversion: the IP-to-region file is off");
                crate::diversion::Diversion::new(
                    Default::default(),
                    settings.diversion.max_verifications,
                )
            });
        App {
            devices,
            diversion,
            sms: settings.sms.sender(),
            settings,
            db,
            keys: Arc::new(keys),
            limits,
            metrics: crate::telemetry::metrics_handle(),
            parts: crate::supervise::Parts::default(),
            verdict_key: std::sync::OnceLock::new(),
            fonts: std::sync::OnceLock::new(),
            offers: Default::default(),
            purses: Default::default(),
            verify_batches: Default::default(),
        }
    }

    /// The CJK font for pictures, looked for once; `None` (said once in the log) when the
    /// machine has none: the pictures are then served as SVG only.
    pub fn fonts(&self) -> Option<&codegen::card::Fonts> {
        self.fonts
            .get_or_init(|| match codegen::card::Fonts::discover(None) {
                Ok(fonts) => {
                    tracing::info!(font = %fonts.path().display(), "pictures: CJK font found");
                    Some(Arc::new(fonts))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "pictures: no CJK font, certificates and posters are served as SVG only");
                    None
                }
            })
            .as_deref()
    }

    /// Starts the embedded broker and the device consumer, as the settings ask.
    pub fn start_ingest(&self) -> Result<()> {
        if let Some(directory) = &self.devices {
            crate::ingest::start(
                &self.settings.mqtt,
                &self.db,
                self.keys.clone(),
                directory.clone(),
                &self.parts,
            )?;
        } else if self.settings.mqtt.enabled {
            tracing::warn!(
                "device ingest is off: no device key (set mqtt.device_key_file / CHAINMARK_DEVICE_KEY_FILE)"
            );
        }
        Ok(())
    }

    pub fn into_state(self) -> AppState {
        AppState(Arc::new(self))
    }
}

fn device_directory(
    settings: &Settings,
) -> Result<Option<Arc<crate::ingest::directory::DeviceDirectory>>> {
    let Some(path) = &settings.mqtt.device_key_file else {
        return Ok(None);
    };
    let key = crate::ingest::device_key::DeviceKey::load(path)?;
    Ok(Some(Arc::new(
        crate::ingest::directory::DeviceDirectory::new(key),
    )))
}

/// The whole HTTP surface: API, pages, health and metrics.
pub fn router(state: AppState) -> Router {
    let max_body = state.settings.max_body_bytes;
    let headers = Arc::new(crate::headers::SecurityHeaders::new(
        &state.settings.base_url,
    ));
    let uploads = crate::web::upload_router()
        .layer(axum::middleware::from_fn(crate::telemetry::track_requests))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            crate::web::hq_import::MAX_UPLOAD_BYTES,
        ));
    crate::api::router()
        .merge(crate::web::router())
        .layer(axum::middleware::from_fn(crate::telemetry::track_requests))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(max_body))
        .merge(uploads)
        // Outside the body limit, so its plain-text 413 becomes the API's JSON error too.
        .layer(axum::middleware::from_fn(crate::api::json_errors::rewrite))
        .layer(axum::middleware::from_fn(move |req, next| {
            crate::headers::add(headers.clone(), req, next)
        }))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until SIGTERM or Ctrl-C, then stops accepting and lets requests in flight finish.
pub async fn serve(state: AppState, listener: TcpListener) -> Result<()> {
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Internal(format!("listener address: {e}")))?;
    tracing::info!(%addr, "listening");
    state.start_ingest()?;
    spawn_housekeeping(state.clone());
    crate::network::jobs::spawn(state.clone());
    crate::printing::spawn(state.clone());
    crate::marketing::spawn(state.clone());
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| Error::Internal(format!("server: {e}")))?;
    // Give back what this instance's leases hold and book every reward drawn, so the budget's
    // figures are whole when the next instance starts.
    if let Err(e) = crate::marketing::quiesce(&state).await {
        tracing::warn!(error = %e, "marketing: giving back leases at shutdown failed");
    }
    tracing::info!("stopped");
    Ok(())
}

fn spawn_housekeeping(state: AppState) {
    let parts = state.parts.clone();
    parts.spawn("housekeeping", async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let round = crate::supervise::catch_panic(async {
                state.limits.shrink();
                let tokens = state
                    .db
                    .write(|c| Ok(crate::store::users::purge_expired_tokens(c)?))
                    .await;
                if let Err(e) = tokens {
                    tracing::warn!(error = %e, "purging expired tokens failed");
                }
                if let Err(e) = crate::consumers::purge(&state).await {
                    tracing::warn!(error = %e, "purging consumers' old codes and sessions failed");
                }
                let now = crate::store::users::now();
                state
                    .db
                    .write(move |c| crate::idempotency::prune(c, now))
                    .await
            });
            match round.await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "pruning idempotency keys failed"),
                Err(panic) => tracing::error!(%panic, "housekeeping panicked; trying next minute"),
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
