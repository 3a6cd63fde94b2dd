//! Nothing acknowledged is lost on SQLite while other processes open and close the database
//! (issue 14): a real `chainmark serve` takes a steady stream of verifications while `chainmark`
//! CLI commands (`backup`, `user list`, `migrate`) open and close the same file in other
//! processes, as operators do; then the server is killed with `kill -9`. Every verification that
//! was answered 200 must have its sighting and its count in the database, and SQLite's
//! `integrity_check` must be ok, in the database and in every backup taken meanwhile.
//!
//! What this guards: closing any descriptor of the database file drops every POSIX lock the
//! process holds on it. A server that did that (its checkpoint thread fsynced the files through
//! handles of its own) let the next CLI process to close its connection take the exclusive lock,
//! checkpoint and delete the WAL under the running server: hundreds of answered verifications
//! were gone after the restart. Nothing here depends on timing: the load is a fixed number of
//! requests, and the CLI loop runs until the load is done.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chainmark_server::store::{Db, DbConnection, backup};
use chainmark_tests::bins::bin;
use chainmark_tests::fixture::Fixture;
use chainmark_tests::server::Server;
use diesel::RunQueryDsl;
use diesel::sql_types::{BigInt, Integer, Text};
use serde_json::{Value, json};

/// Verifications sent by each client thread.
const PER_CLIENT: usize = 2_500;
const CLIENTS: usize = 4;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct ItemCount {
    #[diesel(sql_type = Text)]
    serial: String,
    #[diesel(sql_type = Integer)]
    verify_count: i32,
}

fn sqlite(conn: &mut DbConnection) -> &mut diesel::SqliteConnection {
    match conn {
        DbConnection::Sqlite(c) => c,
        DbConnection::Postgres(_) => unreachable!("a SQLite test"),
    }
}

fn integrity(url: &str) -> Vec<String> {
    let db = Db::open(url, 1).expect("open database");
    let mut conn = db.get().expect("connection");
    backup::integrity_check(&mut conn).expect("integrity_check")
}

/// Runs a CLI command of the operator's against the database; it must succeed.
fn operator(dir: &Path, env: &[(&str, String)], args: &[&str]) {
    let out = Command::new(bin("chainmark"))
        .args(args)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("RUST_LOG", "warn")
        .output()
        .expect("run chainmark");
    assert!(
        out.status.success(),
        "chainmark {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn answered_verifications_survive_other_processes_and_kill_9() {
    let fixture = Fixture::issue(64);
    fixture.release_all();
    let mut env = fixture.env();
    env.push(("CHAINMARK_RATE_LIMIT_ENABLED", "false".into()));
    env.push(("CHAINMARK_MQTT_ENABLED", "false".into()));
    let mut server = Server::start(fixture.dir.path(), &env);
    let url = server.url("/api/v1/verify");

    // The operator's processes, until the load is done.
    let done = Arc::new(AtomicBool::new(false));
    let operators = {
        let (done, dir, env) = (done.clone(), fixture.dir.path().to_owned(), env.clone());
        std::thread::spawn(move || {
            let mut backups = Vec::new();
            let mut round = 0;
            while !done.load(Ordering::Acquire) {
                let file = dir.join(format!("backup-{round}.db"));
                operator(&dir, &env, &["backup", file.to_str().expect("UTF-8 path")]);
                backups.push(file);
                operator(&dir, &env, &["user", "list"]);
                operator(&dir, &env, &["migrate"]);
                round += 1;
            }
            backups
        })
    };

    // The load: each client verifies the items in turn and remembers, per serial, the highest
    // count an answer reported.
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (url, items) = (url.clone(), fixture.items.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                let mut answered = 0_u64;
                let mut highest: HashMap<String, i64> = HashMap::new();
                for i in 0..PER_CLIENT {
                    let item = &items[(client * 7 + i) % items.len()];
                    let rest = item.verify_path.strip_prefix("/v/").expect("verify path");
                    let (serial, tag) = rest.split_once("?t=").expect("tag");
                    let body =
                        json!({"serial": serial, "tag": tag, "security_code": item.security_code});
                    let Ok(r) = http.post(&url).json(&body).send() else {
                        continue;
                    };
                    if r.status().as_u16() != 200 {
                        continue;
                    }
                    let v: Value = r.json().expect("JSON answer");
                    answered += 1;
                    let count = v["verify_count"].as_i64().expect("verify_count");
                    let best = highest.entry(serial.to_string()).or_default();
                    *best = (*best).max(count);
                }
                (answered, highest)
            })
        })
        .collect();
    let mut answered = 0;
    let mut highest: HashMap<String, i64> = HashMap::new();
    for c in clients {
        let (n, h) = c.join().expect("client thread");
        answered += n;
        for (serial, count) in h {
            let best = highest.entry(serial).or_default();
            *best = (*best).max(count);
        }
    }
    done.store(true, Ordering::Release);
    let backups = operators.join().expect("operator thread");
    assert!(
        answered > (CLIENTS * PER_CLIENT / 2) as u64,
        "only {answered} verifications were answered"
    );
    assert!(!backups.is_empty(), "no backup was taken");

    server.kill9();

    let db = Db::open(&fixture.database_url, 1).expect("reopen after kill -9");
    let mut conn = db.get().expect("connection");
    let sightings = diesel::sql_query("SELECT count(*) AS n FROM sightings")
        .get_result::<Count>(sqlite(&mut conn))
        .expect("count sightings")
        .n;
    assert!(
        sightings >= answered as i64,
        "{answered} verifications were answered, {sightings} sightings survived kill -9"
    );
    let counts: HashMap<String, i64> = diesel::sql_query("SELECT serial, verify_count FROM items")
        .load::<ItemCount>(sqlite(&mut conn))
        .expect("counts")
        .into_iter()
        .map(|i| (i.serial, i64::from(i.verify_count)))
        .collect();
    for (serial, count) in &highest {
        let stored = counts.get(serial).copied().unwrap_or(0);
        assert!(
            stored >= *count,
            "{serial}: answered verify_count {count}, stored {stored} after kill -9"
        );
    }
    drop(conn);
    drop(db);
    assert_eq!(integrity(&fixture.database_url), ["ok"], "the database");
    for file in &backups {
        let url = format!("sqlite://{}", file.display());
        assert_eq!(integrity(&url), ["ok"], "backup {}", file.display());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file)
                .expect("backup")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "backup {} mode", file.display());
        }
    }
}
