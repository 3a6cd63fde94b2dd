//! mosquitto as the tests run it: a password per user and each device confined to its own
//! topics by ACL (docs/operations.md).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A mosquitto requiring a password, with each device confined to its own topics by ACL.
pub struct Mosquitto {
    child: Option<Child>,
    pub port: u16,
    conf: PathBuf,
    binary: PathBuf,
}

/// mosquitto's path, or `None` with a message when it is missing outside CI (under CI the test
/// fails instead).
pub fn mosquitto_binary() -> Option<PathBuf> {
    let path = std::env::var_os("CHAINMARK_MOSQUITTO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/mosquitto"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        !crate::ci(),
        "mosquitto not found at {} (CI must run this test: apt-get install mosquitto)",
        path.display()
    );
    eprintln!("SKIPPED: mosquitto not found at {}", path.display());
    None
}

impl Mosquitto {
    /// Starts mosquitto on `port` in `dir` with `users` (name, password) and the ACLs of
    /// docs/operations.md, the server user being `server`.
    pub fn start(
        binary: &Path,
        dir: &Path,
        port: u16,
        users: &[(String, String)],
        server: &str,
    ) -> Mosquitto {
        Mosquitto::start_with(binary, dir, port, users, server, true)
    }

    /// Like [`Mosquitto::start`]; `fleet_acl: false` leaves out the server's right to
    /// `chainmark/servers/#` (an ACL written before instances announced themselves).
    pub fn start_with(
        binary: &Path,
        dir: &Path,
        port: u16,
        users: &[(String, String)],
        server: &str,
        fleet_acl: bool,
    ) -> Mosquitto {
        let fleet = if fleet_acl {
            "topic readwrite chainmark/servers/#\n"
        } else {
            ""
        };
        let passwd = dir.join("mosquitto.passwd");
        std::fs::write(&passwd, "").expect("password file");
        for (user, password) in users {
            let ok = Command::new("mosquitto_passwd")
                .arg("-b")
                .arg(&passwd)
                .args([user, password])
                .status()
                .expect("run mosquitto_passwd (package mosquitto)");
            assert!(ok.success(), "mosquitto_passwd failed for {user}");
        }
        let acl = dir.join("mosquitto.acl");
        std::fs::write(
            &acl,
            format!(
                "pattern write chainmark/devices/%u/scans\n\
                 pattern write chainmark/devices/%u/state\n\
                 pattern read chainmark/devices/%u/acks\n\
                 user {server}\n\
                 topic read chainmark/devices/+/scans\n\
                 topic read chainmark/devices/+/state\n\
                 topic write chainmark/devices/+/acks\n{fleet}"
            ),
        )
        .expect("acl file");
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                // max_packet_size: the limit of docs/operations.md.
                "listener {port} 127.0.0.1\nallow_anonymous false\npersistence false\n\
                 password_file {}\nacl_file {}\nmax_packet_size {}\n",
                passwd.display(),
                acl.display(),
                chainmark_wire::BROKER_MAX_PACKET_BYTES
            ),
        )
        .expect("mosquitto.conf");
        let mut m = Mosquitto {
            child: None,
            port,
            conf,
            binary: binary.to_path_buf(),
        };
        m.resume();
        m
    }

    /// Starts (again) on the same port.
    pub fn resume(&mut self) {
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "mosquitto did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the broker (all its connections drop).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}
