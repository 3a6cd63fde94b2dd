//! `chainmark demo` as a person runs it: a fresh folder, the real binary on a free port. Once it
//! answers `/readyz`, the network it set up is read back through the JSON API with the one-time
//! passwords it wrote, and its invitation link is opened as an applicant would.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chainmark_tests::bins::bin;
use chainmark_tests::server::free_port;
use reqwest::blocking::Client;
use serde_json::{Value, json};

/// Kills the demo when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for `/readyz`; the first run generates and imports 10,000 codes before it serves, so
/// the wait is long, and it ends early if the demo exits.
fn wait_ready(demo: &mut Running, client: &Client, base: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        if let Ok(Some(status)) = demo.0.try_wait() {
            panic!(
                "chainmark demo exited ({status}) before serving:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "chainmark demo never got ready");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn token(client: &Client, base: &str, username: &str, password: &str) -> String {
    let r = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .expect("token request");
    assert!(
        r.status().is_success(),
        "{username} signs in: {}",
        r.status()
    );
    let body: Value = r.json().expect("token JSON");
    let token = body["token"].as_str().expect("a token").to_string();
    // A one-time password allows nothing but replacing it (issue 15): replace it first.
    if body["must_change_password"] == json!(true) {
        let r = client
            .post(format!("{base}/api/v1/auth/password"))
            .bearer_auth(&token)
            .json(&json!({ "current": password, "new": format!("{password} violet tram harbour") }))
            .send()
            .expect("password change");
        assert_eq!(
            r.status().as_u16(),
            204,
            "{username} replaces its one-time password"
        );
    }
    token
}

fn get_json(client: &Client, url: &str, token: &str) -> Value {
    let r = client
        .get(url)
        .bearer_auth(token)
        .send()
        .expect("API request");
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.json().expect("JSON body")
}

#[test]
fn the_demo_sets_up_an_agent_network() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("demo");
    let log = tmp.path().join("demo.log");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let demo = Command::new(bin("chainmark"))
        .args(["demo", "--data"])
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        // Its own broker port, so the demo never collides with another server on this machine.
        .env(
            "CHAINMARK_MQTT_LISTEN",
            format!("127.0.0.1:{}", free_port()),
        )
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(File::create(&log).expect("log file"))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn chainmark demo");
    let mut demo = Running(demo);
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");
    wait_ready(&mut demo, &client, &base, &log);
    let printed = std::fs::read_to_string(&log).expect("the demo's output");

    // The agents' one-time passwords, one `username password` a line, readable by the owner only.
    let file = data.join("agent-passwords.txt");
    let text = std::fs::read_to_string(&file).expect("agent-passwords.txt");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "nobody else may read the passwords");
        // The folder, the database (every agent, every order) and the batch's print.csv (every
        // security code in clear) are the demo's user's only (issue 15).
        let mode_of = |p: &std::path::Path| {
            std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
        };
        assert_eq!(mode_of(&data), 0o700, "the demo folder");
        assert_eq!(mode_of(&data.join("chainmark.db")), 0o600, "chainmark.db");
        assert!(printed.contains("0600"), "the demo says so:\n{printed}");
    }
    let passwords: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once(' ')).collect();
    let names = [
        "agent-national",
        "agent-provincial",
        "agent-city",
        "agent-district",
    ];
    for name in names {
        assert!(passwords.contains_key(name), "{name} has a password");
        assert!(printed.contains(name), "{name} is printed:\n{printed}");
    }
    assert!(
        printed.contains(&file.display().to_string()),
        "where the passwords are"
    );

    let admin_password =
        std::fs::read_to_string(data.join("admin-password.txt")).expect("admin-password.txt");
    let admin = token(&client, &base, "admin", admin_password.trim());
    let agents = get_json(&client, &format!("{base}/api/v1/agents"), &admin);
    let agents = agents.as_array().expect("a list of agents");
    let by_rank = |rank: i64| {
        agents
            .iter()
            .find(|a| a["tier_rank"] == rank)
            .unwrap_or_else(|| panic!("an agent of tier rank {rank}: {agents:?}"))
    };
    let (national, provincial, city, district) = (by_rank(1), by_rank(2), by_rank(3), by_rank(4));
    assert_eq!(agents.len(), 4);
    for active in [national, provincial, city] {
        assert_eq!(active["status"], "active", "{active}");
    }
    assert_eq!(district["status"], "pending", "its entry order is not paid");
    assert_eq!(national["referrer_id"], Value::Null);
    assert_eq!(provincial["referrer_id"], national["id"]);
    assert_eq!(city["referrer_id"], provincial["id"]);
    assert_eq!(district["referrer_id"], city["id"]);
    assert_eq!(city["supplier_id"], provincial["id"]);

    let orders = get_json(&client, &format!("{base}/api/v1/orders"), &admin);
    let orders = orders.as_array().expect("a list of orders");
    let of = |agent: &Value| {
        orders
            .iter()
            .find(|o| o["buyer_id"] == agent["id"])
            .unwrap_or_else(|| panic!("an order of {agent}: {orders:?}"))
    };
    let first = of(national);
    assert_eq!(
        (&first["state"], &first["quantity"], &first["shipper_is_hq"]),
        (&json!("received"), &json!(2160), &json!(true)),
        "the 总代's entry order was paid, shipped by HQ and received"
    );
    assert_eq!(of(provincial)["state"], "paid");
    let forwarded = of(city);
    assert_eq!(forwarded["state"], "paid");
    assert_eq!(
        forwarded["shipper_id"], national["id"],
        "forwarded to the 总代, who holds the stock"
    );
    assert_eq!(of(district)["state"], "submitted");

    // An agent signs in with its one-time password and sees itself.
    let me = token(
        &client,
        &base,
        "agent-national",
        passwords["agent-national"],
    );
    let prices = get_json(&client, &format!("{base}/api/v1/agents/me/prices"), &me);
    let me = get_json(&client, &format!("{base}/api/v1/agents/me"), &me);
    assert_eq!(me["id"], national["id"]);
    // The demo's range is priced per product: the 总代 pays 20.00 for the tea (its tier's
    // price), 30.00 for the oil and 48.00 for the honey (the price list).
    let price_of = |sku: &str| {
        prices["products"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["sku"] == sku))
            .map(|p| p["unit_price"].clone())
            .unwrap_or_else(|| panic!("{sku} is priced: {prices}"))
    };
    assert_eq!(price_of("DEMO-TEA-250"), "20.00", "{prices}");
    assert_eq!(price_of("DEMO-OIL-500"), "30.00", "{prices}");
    assert_eq!(price_of("DEMO-HONEY-1K"), "48.00", "{prices}");

    // The invitation link printed works for an applicant, naming its inviter.
    let link = printed
        .lines()
        .find_map(|l| l.split_whitespace().find(|w| w.contains("/join/")))
        .unwrap_or_else(|| panic!("an invitation link is printed:\n{printed}"));
    let page = client.get(link).send().expect("join page");
    assert!(page.status().is_success(), "{link}: {}", page.status());
    let page = page.text().expect("page text");
    assert!(
        page.contains(provincial["name"].as_str().expect("a name")),
        "the join page names the 省代 who invites"
    );
}
