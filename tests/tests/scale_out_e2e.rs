//! Scale-out, every part a real process (issue 14): PostgreSQL, mosquitto with passwords and ACLs,
//! two `chainmark serve` instances sharing the devices' scans, and `chainmark-scanner` processes.
//!
//! - One instance is killed with -9 mid-stream: the other takes the whole share, the handhelds
//!   resend what was unanswered, and every scan is applied exactly once.
//! - An instance on another database (a stale copy that knows the same devices) joins the
//!   broker: instead of taking a share of the scans and answering them from its own database,
//!   every instance stops taking scans and `/readyz` says why; once it is gone the scans flow
//!   again, all into the right database.

use std::time::{Duration, Instant};

use chainmark_server::ingest::device_key::DeviceKey;
use chainmark_server::store::Db;
use chainmark_server::store::schema::device_scans;
use chainmark_tests::devices::{
    Mosquitto, PATIENCE, Scanner, add_device, assert_exactly_once, mosquitto_binary,
};
use chainmark_tests::fixture::Fixture;
use chainmark_tests::postgres::PgDatabase;
use chainmark_tests::server::{Server, free_port};
use diesel::prelude::*;

const SERVER_PASSWORD: &str = "server-password-for-scale-out";

/// Settings for an instance on `database_url` consuming from mosquitto at `port`.
fn instance_env(fix: &Fixture, database_url: &str, port: u16) -> Vec<(&'static str, String)> {
    let key = fix.dir.path().join("device.key");
    DeviceKey::load_or_create(&key).expect("device key");
    let mut env = fix.env();
    env.retain(|(k, _)| *k != "CHAINMARK_DATABASE_URL");
    env.extend([
        ("CHAINMARK_DATABASE_URL", database_url.to_string()),
        ("CHAINMARK_DEVICE_KEY_FILE", key.display().to_string()),
        ("CHAINMARK_MQTT_EMBEDDED", "false".to_string()),
        ("CHAINMARK_MQTT_URL", format!("mqtt://127.0.0.1:{port}")),
        ("CHAINMARK_MQTT_USERNAME", "chainmark-server".to_string()),
        ("CHAINMARK_MQTT_PASSWORD", SERVER_PASSWORD.to_string()),
    ]);
    env
}

/// The broker with the devices' passwords (their derived secrets) and the server's.
fn broker(fix: &Fixture, port: u16, ids: &[&str], codes: &[String]) -> Option<Mosquitto> {
    broker_with(fix, port, ids, codes, true)
}

fn broker_with(
    fix: &Fixture,
    port: u16,
    ids: &[&str],
    codes: &[String],
    fleet_acl: bool,
) -> Option<Mosquitto> {
    let binary = mosquitto_binary()?;
    let mut users: Vec<(String, String)> = ids
        .iter()
        .zip(codes)
        .map(|(id, code)| {
            let secret = firmware_config::provision::decode(code)
                .expect("provisioning code")
                .secret;
            (id.to_string(), secret)
        })
        .collect();
    users.push(("chainmark-server".into(), SERVER_PASSWORD.into()));
    Some(Mosquitto::start_with(
        &binary,
        fix.dir.path(),
        port,
        &users,
        "chainmark-server",
        fleet_acl,
    ))
}

/// `/readyz`'s status code.
fn ready(server: &Server) -> u16 {
    reqwest::blocking::Client::new()
        .get(server.url("/readyz"))
        .timeout(Duration::from_secs(5))
        .send()
        .map_or(0, |r| r.status().as_u16())
}

fn wait_ready(server: &Server, status: u16) {
    let deadline = Instant::now() + PATIENCE;
    while ready(server) != status {
        assert!(
            Instant::now() < deadline,
            "/readyz of {} did not answer {status}",
            server.base_url
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn scans_in(database_url: &str) -> i64 {
    let db = Db::open(database_url, 1).expect("open database");
    let mut conn = db.get().expect("connection");
    device_scans::table
        .count()
        .get_result(&mut *conn)
        .expect("count scans")
}

#[test]
fn two_instances_on_postgres_and_mosquitto_apply_every_scan_once_through_a_kill_9() {
    let Some(pg) = PgDatabase::create() else {
        return;
    };
    let fix = Fixture::issue_into(2_401, Some(pg.url.clone()));
    let dir = fix.dir.path();
    let port = free_port();
    let env = instance_env(&fix, &pg.url, port);
    let ids = ["so-hh-1", "so-hh-2"];
    let codes: Vec<String> = ids.iter().map(|id| add_device(dir, &env, id)).collect();
    let Some(_broker) = broker(&fix, port, &ids, &codes) else {
        return;
    };
    let mut first = Server::start(dir, &env);
    let second = Server::start(dir, &env);
    let serials: Vec<String> = fix.items[1..].iter().map(|p| p.serial.clone()).collect();
    let (one, two) = serials.split_at(serials.len() / 2);
    let mut agents: Vec<Scanner> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| Scanner::provision(&dir.join(format!("hh-{i}")), code))
        .collect();
    for (agent, share) in agents.iter_mut().zip([one, two]) {
        agent.send(&["@sell"]);
        agent.feed(share);
        agent.close_input();
    }
    // Mid-stream, one instance dies; the other has the whole share from then on.
    agents[0].wait_for("accepted ", 200);
    first.kill9();
    for agent in &mut agents {
        assert_eq!(agent.wait(), 0, "{:?}", agent.lines().last());
    }
    assert_eq!(ready(&second), 200);
    let refs: Vec<&Scanner> = agents.iter().collect();
    assert_exactly_once(&fix, &serials, &refs);
}

#[test]
fn an_instance_on_another_database_stops_the_scans_instead_of_answering_them() {
    let (Some(right), Some(stale)) = (PgDatabase::create(), PgDatabase::create()) else {
        return;
    };
    let fix = Fixture::issue_into(601, Some(right.url.clone()));
    let dir = fix.dir.path();
    let port = free_port();
    let env = instance_env(&fix, &right.url, port);
    let stale_env = instance_env(&fix, &stale.url, port);
    let ids = ["fl-hh-1"];
    let codes = vec![add_device(dir, &env, ids[0])];
    // The stale database knows the same device (same key, same generation): it could check
    // the device's signatures and sign acks the device would believe.
    let stale_dir = tempfile::tempdir().expect("temp dir");
    add_device(stale_dir.path(), &stale_env, ids[0]);
    let Some(_broker) = broker(&fix, port, &ids, &codes) else {
        return;
    };
    let good = Server::start(dir, &env);
    let mut agent = Scanner::provision(&dir.join("hh"), &codes[0]);
    let serials: Vec<String> = fix.items[1..].iter().map(|p| p.serial.clone()).collect();
    agent.send(&["@sell"]);
    agent.feed(&serials[..100]);
    agent.wait_for("accepted ", 100);

    // The stale instance joins: both stop taking scans and say so.
    let mut wrong = Server::start_until(stale_dir.path(), &stale_env, "/healthz");
    wait_ready(&good, 503);
    wait_ready(&wrong, 503);
    agent.feed(&serials[100..]);
    agent.close_input();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        agent.count("accepted "),
        100,
        "no scan is answered while the instances disagree"
    );

    // It leaves (kill -9: its last will clears its announcement); the scans flow again.
    wrong.kill9();
    wait_ready(&good, 200);
    assert_eq!(agent.wait(), 0, "{:?}", agent.lines().last());
    assert_eq!(
        scans_in(&stale.url),
        0,
        "nothing was stored in the stale database"
    );
    assert_exactly_once(&fix, &serials, &[&agent]);
}

/// A broker whose ACL predates the instances' announcements: the server cannot announce itself,
/// says so in its log, and takes the scans all the same (after a few seconds' wait for its
/// announcement), so an upgrade never stops ingest silently.
#[test]
fn without_the_fleet_acl_the_scans_still_flow() {
    let Some(pg) = PgDatabase::create() else {
        return;
    };
    let fix = Fixture::issue_into(51, Some(pg.url.clone()));
    let dir = fix.dir.path();
    let port = free_port();
    let env = instance_env(&fix, &pg.url, port);
    let ids = ["acl-hh-1"];
    let codes = vec![add_device(dir, &env, ids[0])];
    let Some(_broker) = broker_with(&fix, port, &ids, &codes, false) else {
        return;
    };
    let server = Server::start(dir, &env);
    let mut agent = Scanner::provision(&dir.join("hh"), &codes[0]);
    let serials: Vec<String> = fix.items[1..].iter().map(|p| p.serial.clone()).collect();
    agent.send(&["@sell"]);
    agent.feed(&serials);
    agent.close_input();
    assert_eq!(agent.wait(), 0, "{:?}", agent.lines().last());
    assert_eq!(ready(&server), 200);
    assert_exactly_once(&fix, &serials, &[&agent]);
}
