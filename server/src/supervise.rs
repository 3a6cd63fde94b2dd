//! The server's long-running background parts (the device consumer's tasks, the periodic jobs) and
//! whether each still runs.
//!
//! Why: a tokio task that panics ends quietly; the runtime goes on, `/readyz` went on answering
//! "ready", and a server that no longer applied scans or settled orders kept its place behind the
//! load balancer. Every such part is started through [`Parts::spawn`]: a panic is caught, logged
//! with its message and counted (`chainmark_part_panics_total`), and the part is recorded as
//! stopped, which `/readyz` reports by name with a 503. A part that can survive a failed round
//! (the periodic jobs) catches the panic of that round itself and goes on; see
//! [`catch_panic`].

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;

/// The parts started so far and the ones that stopped, with why.
#[derive(Clone, Default)]
pub struct Parts(Arc<Mutex<BTreeMap<&'static str, Option<String>>>>);

impl Parts {
    /// Runs `part` as a task named `name`. It is expected to run as long as the server: if it
    /// returns or panics, that is recorded and readiness fails.
    pub fn spawn<F>(&self, name: &'static str, part: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.report(name, None);
        let parts = self.clone();
        tokio::spawn(async move {
            let why = match catch_panic(part).await {
                Ok(()) => "ended".to_string(),
                Err(message) => {
                    metrics::counter!("chainmark_part_panics_total", "part" => name).increment(1);
                    format!("panicked: {message}")
                }
            };
            tracing::error!(part = name, why = %why, "a background part of the server stopped");
            parts.report(name, Some(why));
        });
    }

    /// The parts that stopped, with why; empty while all run.
    pub fn stopped(&self) -> Vec<(&'static str, String)> {
        self.lock()
            .iter()
            .filter_map(|(name, why)| why.clone().map(|w| (*name, w)))
            .collect()
    }

    /// Records that `name` does not serve (`Some(why)`), or serves again (`None`): used by
    /// `spawn`, and by a part that is paused rather than ended (the device consumer during a
    /// fleet conflict).
    pub fn report(&self, name: &'static str, why: Option<String>) {
        self.lock().insert(name, why);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, Option<String>>> {
        // The map is left consistent by every writer (one insert), so a poisoned lock is usable.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs `work`, turning a panic into an error carrying its message.
pub async fn catch_panic<T>(work: impl Future<Output = T>) -> Result<T, String> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(|panic| panic_message(panic.as_ref()))
}

/// This process among the server instances: host name and process id (recorded with job claims,
/// part of the MQTT client id).
pub fn instance_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{}", std::process::id())
}

/// What a panic carried, for the log.
pub use crate::store::panic_message;

#[cfg(test)]
mod tests {
    use super::Parts;

    #[tokio::test]
    async fn a_part_that_panics_or_ends_is_reported_stopped() {
        let parts = Parts::default();
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        parts.spawn("runs", async move {
            let _ = wait.await;
            std::future::pending::<()>().await;
        });
        parts.spawn("panics", async { panic!("boom") });
        parts.spawn("ends", async {});
        for _ in 0..200 {
            if parts.stopped().len() == 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let _ = go.send(());
        let stopped = parts.stopped();
        assert_eq!(
            stopped,
            vec![
                ("ends", "ended".to_string()),
                ("panics", "panicked: boom".to_string())
            ]
        );
    }
}
