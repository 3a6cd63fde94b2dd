//! `chainmark serve`.

use std::net::SocketAddr;

use chainmark_server::app::{self, App};
use chainmark_server::config::Settings;
use chainmark_server::store::redact;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Listen address, overriding the settings (e.g. 0.0.0.0:8080).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

pub fn run(mut settings: Settings, args: Args) -> anyhow::Result<()> {
    if let Some(listen) = args.listen {
        settings.listen = listen;
    }
    tracing::info!(database = %redact(&settings.database_url), "opening");
    let app = App::open(settings)?;
    if app.keys.is_empty() {
        tracing::warn!(
            "no master key configured (key_files): imports and verification will refuse every batch"
        );
    }
    serve_app(app)
}

/// Runs `app` on a fresh multi-threaded runtime until shutdown.
pub fn serve_app(app: App) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listen = app.settings.listen;
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {listen}: {e} (is another server running? use --listen)"
            )
        })?;
        app::serve(app.into_state(), listener).await?;
        Ok(())
    })
}
