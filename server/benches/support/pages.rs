//! Timing pages through the real router in-process (session cookie, gate, store, markup), one
//! request at a time, for the page benchmarks.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// What `runs` requests of one page took (after `warmup` untimed ones), and its size.
pub struct Timed {
    pub p50: Duration,
    pub p95: Duration,
    pub max: Duration,
    pub bytes: usize,
}

/// Times `GET path` with `cookie` (none: signed out); every answer must be 200.
pub fn time(
    runtime: &tokio::runtime::Runtime,
    router: &Router,
    path: &str,
    cookie: Option<&str>,
    warmup: usize,
    runs: usize,
) -> Timed {
    let mut times = Vec::with_capacity(runs);
    let mut bytes = 0;
    for i in 0..warmup + runs {
        let mut req = Request::get(path);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        let req = req.body(Body::empty()).expect("request");
        let started = Instant::now();
        let (status, body) = runtime.block_on(async {
            let resp = router.clone().oneshot(req).await.expect("infallible");
            let status = resp.status();
            let body = resp.into_body().collect().await.expect("body").to_bytes();
            (status, body)
        });
        let took = started.elapsed();
        assert_eq!(status, StatusCode::OK, "{path}");
        bytes = body.len();
        if i >= warmup {
            times.push(took);
        }
    }
    times.sort();
    let at = |q: f64| {
        let i = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
        times[i]
    };
    Timed {
        p50: at(0.5),
        p95: at(0.95),
        max: times[times.len() - 1],
        bytes,
    }
}

/// A duration in milliseconds, one decimal.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
