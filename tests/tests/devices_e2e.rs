//! Handhelds end to end, every part a real process: `chainmark serve` with its embedded broker (or
//! a mosquitto with passwords and ACLs), devices registered with `chainmark device add` and
//! provisioned from the QR image it rendered, and `chainmark-scanner` processes fed through stdin.
//! Faults: an agent killed with -9 and restarted, the server killed with -9 mid-ingest and
//! restarted, the broker stopped for 10 s. Afterwards every scan is applied exactly once (counted
//! in the database) and no journal holds anything.

use std::time::Duration;

use chainmark_server::ingest::device_key::DeviceKey;
use chainmark_tests::devices::{
    Mosquitto, Scanner, add_device, applied, assert_exactly_once, mosquitto_binary,
};
use chainmark_tests::fixture::Fixture;
use chainmark_tests::server::{Server, free_port};

/// The fixture's server settings plus a device key and the embedded broker on `mqtt_port`.
fn device_env(fix: &Fixture, mqtt_port: u16) -> Vec<(&'static str, String)> {
    let key = fix.dir.path().join("device.key");
    DeviceKey::load_or_create(&key).expect("device key");
    let mut env = fix.env();
    env.push(("CHAINMARK_DEVICE_KEY_FILE", key.display().to_string()));
    env.push(("CHAINMARK_MQTT_LISTEN", format!("127.0.0.1:{mqtt_port}")));
    env
}

/// Serials to sell: all but the first (the fixture released it for sale already).
fn sellable(fix: &Fixture) -> Vec<String> {
    fix.items[1..].iter().map(|p| p.serial.clone()).collect()
}

#[test]
fn two_scanners_send_10000_scans_through_the_embedded_broker_exactly_once() {
    let fix = Fixture::issue(10_001);
    let dir = fix.dir.path();
    let env = device_env(&fix, free_port());
    let codes = [
        add_device(dir, &env, "e2e-hh-1"),
        add_device(dir, &env, "e2e-hh-2"),
    ];
    let _server = Server::start(dir, &env);
    let serials = sellable(&fix);
    let (first, second) = serials.split_at(serials.len() / 2);
    let mut scanners: Vec<Scanner> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| Scanner::provision(&dir.join(format!("hh-{i}")), code))
        .collect();
    for (scanner, share) in scanners.iter_mut().zip([first, second]) {
        scanner.send(&["@sell"]);
        scanner.feed(share);
        // A mistyped code is refused on the spot and never sent.
        scanner.send(&["NOT-A-CODE"]);
        scanner.close_input();
    }
    for (scanner, share) in scanners.iter_mut().zip([first, second]) {
        assert_eq!(scanner.wait(), 0, "{:?}", &scanner.lines()[..5]);
        // Every scan is answered. On a loaded machine the broker may drop a connection with an
        // answer in flight: the handheld sends that scan again and hears "duplicate" (applied
        // already) — still once in the database, which `assert_exactly_once` checks.
        let again = scanner
            .lines()
            .iter()
            .filter(|l| l.starts_with("rejected ") && l.contains("reason=duplicate"))
            .count();
        assert_eq!(scanner.count("accepted ") + again, share.len());
        assert_eq!(scanner.count("refused "), 1);
        assert_eq!(
            scanner.count("rejected "),
            again,
            "no rejection but resends"
        );
    }
    let refs: Vec<&Scanner> = scanners.iter().collect();
    assert_exactly_once(&fix, &serials, &refs);
}

#[test]
fn scans_survive_kill_9_of_the_agent_and_of_the_server() {
    let fix = Fixture::issue(3_001);
    let dir = fix.dir.path();
    let env = device_env(&fix, free_port());
    let code = add_device(dir, &env, "e2e-crash-1");
    let mut server = Server::start(dir, &env);
    let serials = sellable(&fix);
    let scanner_dir = dir.join("hh");

    // The agent dies mid-stream; what it journaled is sent after the restart, and the operator
    // scans again whatever the screen did not show as queued.
    let mut agent = Scanner::provision(&scanner_dir, &code);
    agent.send(&["@sell"]);
    agent.feed(&serials[..1_500]);
    agent.wait_for("accepted ", 300);
    agent.kill();
    let queued = agent.count("queued ");
    assert!(queued >= 300, "{queued} scans journaled before the kill");

    let mut agent = Scanner::restart(&scanner_dir);
    agent.send(&["@sell"]);
    agent.feed(&serials[queued..2_000]);

    // The server (and its embedded broker) dies mid-ingest and comes back on the same ports.
    agent.wait_for("accepted ", 200);
    drop(server);
    std::thread::sleep(Duration::from_millis(500));
    server = Server::start(dir, &env);
    agent.feed(&serials[2_000..]);
    agent.close_input();
    assert_eq!(agent.wait(), 0, "{:?}", agent.lines().last());
    drop(server);

    let a = applied(&fix, &serials);
    let n = serials.len() as i64;
    assert_eq!(a.sold, n, "every item sold");
    assert_eq!(
        a.sell_events, n,
        "one custody event per item: none applied twice"
    );
    assert_eq!(a.max_events_per_item, 1);
    assert_eq!(agent.journal_pending(), 0);
    // A scan journaled but not yet shown as queued when the agent died is scanned twice; the
    // second is refused (already sold), so it is never applied twice.
    assert!(
        a.accepted == n,
        "accepted records {} for {n} items",
        a.accepted
    );
}

#[test]
fn two_scanners_send_10000_scans_through_mosquitto_with_acls_and_a_broker_outage_of_10_seconds() {
    let Some(binary) = mosquitto_binary() else {
        return;
    };
    let fix = Fixture::issue(10_001);
    let dir = fix.dir.path();
    let port = free_port();
    let url = format!("mqtt://127.0.0.1:{port}");
    let mut env = device_env(&fix, free_port());
    env.extend([
        ("CHAINMARK_MQTT_EMBEDDED", "false".to_string()),
        ("CHAINMARK_MQTT_URL", url),
        ("CHAINMARK_MQTT_USERNAME", "chainmark-server".to_string()),
        (
            "CHAINMARK_MQTT_PASSWORD",
            "server-password-for-e2e".to_string(),
        ),
    ]);
    // Two handhelds, each with its own broker password (its derived secret) and topics.
    let ids = ["e2e-mq-1", "e2e-mq-2"];
    let codes: Vec<String> = ids.iter().map(|id| add_device(dir, &env, id)).collect();
    let mut users: Vec<(String, String)> = ids
        .iter()
        .zip(&codes)
        .map(|(id, code)| {
            let secret = firmware_config::provision::decode(code)
                .expect("provisioning code")
                .secret;
            (id.to_string(), secret)
        })
        .collect();
    users.push((
        "chainmark-server".to_string(),
        "server-password-for-e2e".to_string(),
    ));
    let mut broker = Mosquitto::start(&binary, dir, port, &users, "chainmark-server");
    let _server = Server::start(dir, &env);
    let serials = sellable(&fix);
    let (first, second) = serials.split_at(serials.len() / 2);
    let (first_now, first_later) = first.split_at(first.len() / 2);
    let (second_now, second_later) = second.split_at(second.len() / 2);
    let mut agents: Vec<Scanner> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| Scanner::provision(&dir.join(format!("hh-{i}")), code))
        .collect();
    for (agent, now) in agents.iter_mut().zip([first_now, second_now]) {
        agent.send(&["@sell"]);
        agent.feed(now);
    }
    agents[0].wait_for("accepted ", 200);
    agents[1].wait_for("accepted ", 200);
    // The broker goes away for 10 s while the operators keep scanning.
    broker.stop();
    for (agent, later) in agents.iter_mut().zip([first_later, second_later]) {
        agent.feed(later);
        agent.close_input();
    }
    std::thread::sleep(Duration::from_secs(10));
    broker.resume();
    for agent in &mut agents {
        assert_eq!(agent.wait(), 0, "{:?}", agent.lines().last());
        assert!(agent.count("offline") >= 1, "the agent saw the outage");
    }
    let refs: Vec<&Scanner> = agents.iter().collect();
    assert_exactly_once(&fix, &serials, &refs);
}
