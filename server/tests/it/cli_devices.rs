//! `chainmark demo` and `chainmark device add` as an operator runs them (the real binary in a
//! temporary folder): the demo's `chainmark.toml` holds the database and broker it was set up
//! with, a device's config names the broker where the server's broker is, and every device gets
//! its own journal.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use chainmark_test_support::net::free_port;

use crate::common::{Backend, TestDb, backends};

/// A hang guard for the demo's first run (it writes and imports 10,000 codes), not a
/// performance threshold.
const PATIENCE: Duration = Duration::from_secs(600);

/// `chainmark` with none of the test process's own `CHAINMARK_*` settings.
fn chainmark(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chainmark"));
    cmd.current_dir(dir).env("RUST_LOG", "error");
    for (name, _) in std::env::vars() {
        if name.starts_with("CHAINMARK_") {
            cmd.env_remove(name);
        }
    }
    cmd
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A device config file, parsed.
fn device_config(path: &Path) -> firmware_config::Config {
    firmware_config::Config::load(path).expect("a valid device config")
}

#[test]
fn the_demo_writes_down_the_database_and_broker_it_was_set_up_with() {
    for backend in backends() {
        let tmp = tempfile::tempdir().expect("tmp");
        let data = tmp.path().join("demo");
        let (http, mqtt) = (free_port(), free_port());
        // On PostgreSQL the demo gets a fresh database of its own.
        let pg = (backend == Backend::Postgres).then(|| TestDb::new(Backend::Postgres));
        let mut demo = chainmark(tmp.path());
        demo.args(["demo", "--data"])
            .arg(&data)
            .args(["--listen", &format!("127.0.0.1:{http}")])
            .env("CHAINMARK_MQTT_LISTEN", format!("127.0.0.1:{mqtt}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(db) = &pg {
            demo.env("CHAINMARK_DATABASE_URL", &db.url);
        }
        let mut child = demo.spawn().expect("start chainmark demo");
        // Set up once it serves (chainmark.toml is written last, before serving).
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", http)).is_err() {
            if let Some(status) = child.try_wait().expect("try_wait") {
                let out = child.wait_with_output().expect("output");
                panic!(
                    "the demo exited ({status}): {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            assert!(started.elapsed() < PATIENCE, "the demo never served");
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();

        let config = data.join("chainmark.toml");
        let text = std::fs::read_to_string(&config).expect("chainmark.toml");
        let written: toml::Value = toml::from_str(&text).expect("toml");
        let expected_db = match &pg {
            Some(db) => db.url.clone(),
            None => format!("sqlite://{}", data.join("chainmark.db").display()),
        };
        assert_eq!(
            written.get("database_url").and_then(toml::Value::as_str),
            Some(expected_db.as_str()),
            "{text}"
        );
        assert_eq!(
            written
                .get("mqtt")
                .and_then(|m| m.get("listen"))
                .and_then(toml::Value::as_str),
            Some(format!("127.0.0.1:{mqtt}").as_str()),
            "{text}"
        );
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&config)
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "may hold a database password: {mode:o}");
        }

        // Later, without the environment, a device added with the demo's config file lands in
        // the demo's database and is given the demo's broker.
        let config_arg = config.display().to_string();
        let devices = data.join("devices");
        ok(chainmark(tmp.path())
            .args(["--config", &config_arg, "device", "add", "hh-later"])
            .args(["--warehouse", "HQ-WH02", "--out"])
            .arg(&devices)
            .output()
            .expect("device add"));
        let later = device_config(&devices.join("hh-later.toml"));
        assert_eq!(later.broker.url, format!("mqtt://127.0.0.1:{mqtt}"));
        let first = device_config(&devices.join("demo-hh-01.toml"));
        assert_eq!(first.broker.url, later.broker.url);
        assert_ne!(first.journal.path, later.journal.path);
        let list = ok(chainmark(tmp.path())
            .args(["--config", &config_arg, "device", "list"])
            .output()
            .expect("device list"));
        assert!(list.contains("demo-hh-01\t"), "{list}");
        assert!(list.contains("hh-later\t"), "{list}");
        if let Some(db) = &pg {
            use chainmark_server::store::schema::devices;
            use diesel::prelude::*;
            let ids: Vec<String> = devices::table
                .select(devices::id)
                .order(devices::id)
                .load(&mut *db.conn())
                .expect("devices");
            assert_eq!(ids, ["demo-hh-01", "hh-later"]);
        }
    }
}

#[test]
fn device_add_gives_each_device_its_broker_and_its_own_journal() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path();
        ok(chainmark(dir)
            .args(["migrate"])
            .env("CHAINMARK_DATABASE_URL", &db.url)
            .output()
            .expect("migrate"));
        // The server's settings file: the embedded broker on another port.
        std::fs::write(
            dir.join("chainmark.toml"),
            format!(
                "database_url = \"{}\"\n\n[mqtt]\nlisten = \"127.0.0.1:18893\"\n\
                 device_key_file = \"{}\"\n",
                db.url,
                dir.join("device.key").display()
            ),
        )
        .expect("settings");
        std::fs::write(dir.join("device.key"), format!("{}\n", "ab".repeat(32))).expect("key");
        let add = |id: &str, env: &[(&str, &str)]| {
            chainmark(dir)
                .args(["--config", "chainmark.toml", "device", "add", id])
                .args(["--warehouse", "WH-1", "--out", "out"])
                .envs(env.iter().copied())
                .output()
                .expect("device add")
        };
        ok(add("hh-1", &[]));
        ok(add("hh-2", &[]));
        let (one, two) = (
            device_config(&dir.join("out/hh-1.toml")),
            device_config(&dir.join("out/hh-2.toml")),
        );
        assert_eq!(one.broker.url, "mqtt://127.0.0.1:18893");
        assert_eq!(two.broker.url, "mqtt://127.0.0.1:18893");
        assert_ne!(one.journal.path, two.journal.path);
        assert!(
            one.journal.path.ends_with("journal-hh-1"),
            "{}",
            one.journal.path.display()
        );

        // Listening on every interface is no address for a handheld: refused, nothing registered.
        let refused = add("hh-3", &[("CHAINMARK_MQTT_LISTEN", "0.0.0.0:1883")]);
        assert!(!refused.status.success());
        let err = String::from_utf8_lossy(&refused.stderr);
        assert!(err.contains("mqtt.public_url"), "{err}");
        assert!(!dir.join("out/hh-3.toml").exists());
        let list = ok(chainmark(dir)
            .args(["--config", "chainmark.toml", "device", "list"])
            .output()
            .expect("list"));
        assert!(!list.contains("hh-3"), "{list}");
        // With the address the handhelds use, it goes through.
        ok(add(
            "hh-3",
            &[
                ("CHAINMARK_MQTT_LISTEN", "0.0.0.0:1883"),
                ("CHAINMARK_MQTT_PUBLIC_URL", "mqtt://10.1.2.3:1883"),
            ],
        ));
        assert_eq!(
            device_config(&dir.join("out/hh-3.toml")).broker.url,
            "mqtt://10.1.2.3:1883"
        );
    }
}
