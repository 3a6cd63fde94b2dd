//! The real binaries over TCP: keys and a batch from `chainmark-codegen`, `chainmark import`,
//! `chainmark serve` with `CHAINMARK_*` settings; verification through the JSON API, the
//! per-client limit, and a graceful stop on SIGTERM.

use std::time::{Duration, Instant};

use chainmark_tests::fixture::Fixture;
use chainmark_tests::server::Server;
use serde_json::{Value, json};

/// The serial and tag of an anti-counterfeit path `/v/{serial}?t={tag}`.
fn serial_and_tag(path: &str) -> (String, String) {
    let rest = path.strip_prefix("/v/").expect("verify path");
    let (serial, query) = rest.split_once("?t=").expect("tag in the URL");
    (serial.to_string(), query.to_string())
}

#[test]
fn verify_over_tcp_then_stop_gracefully() {
    let fixture = Fixture::issue(8);
    let mut env = fixture.env();
    env.push(("CHAINMARK_RATE_LIMIT_PER_CLIENT", "6".into()));
    let mut server = Server::start(fixture.dir.path(), &env);
    let http = reqwest::blocking::Client::new();
    let verify = |body: Value| {
        let r = http
            .post(server.url("/api/v1/verify"))
            .json(&body)
            .send()
            .expect("request");
        let status = r.status().as_u16();
        let retry = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (status, retry, r.json::<Value>().unwrap_or(Value::Null))
    };

    let item = &fixture.items[0];
    let (serial, tag) = serial_and_tag(&item.verify_path);
    let genuine = json!({"serial": serial, "tag": tag, "security_code": item.security_code});
    let (status, _, first) = verify(genuine.clone());
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["result"], "genuine_first", "{first}");
    assert_eq!(first["product"]["sku"], "TEA-250G");
    let (_, _, second) = verify(genuine);
    assert_eq!(second["result"], "genuine_repeat", "{second}");
    assert_eq!(second["verify_count"], 2);

    // A tag forged for a real serial.
    let forged =
        json!({"serial": serial, "tag": "AAAAAAAAAAAAAAAA", "security_code": item.security_code});
    let (status, _, body) = verify(forged.clone());
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("not_genuine")),
        "{body}"
    );

    // The per-client budget (6 a minute) runs out with a 429 and a Retry-After.
    let mut limited = None;
    for _ in 0..10 {
        let (status, retry, body) = verify(forged.clone());
        if status == 429 {
            assert_eq!(body["error"]["code"], "rate_limited", "{body}");
            limited = retry;
            break;
        }
    }
    let retry: u64 = limited
        .expect("429 with Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");

    let started = Instant::now();
    let status = server
        .terminate(Duration::from_secs(10))
        .expect("exits after SIGTERM");
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "slow shutdown: {:?}",
        started.elapsed()
    );
}
