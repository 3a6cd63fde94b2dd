//! `chainmark serve` as a child process on a free port, configured by `CHAINMARK_*` variables.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::bins::bin;
pub use crate::free_port;

/// A running server; killed when dropped, unless it already stopped.
pub struct Server {
    child: Option<Child>,
    pub base_url: String,
}

impl Server {
    /// Starts `chainmark serve` on a free port with `env` (plus listen and base URL) and waits
    /// until `/readyz` answers 200.
    pub fn start(workdir: &Path, env: &[(&str, String)]) -> Server {
        Server::start_until(workdir, env, "/readyz")
    }

    /// Like [`Server::start`], but waits only until `path` answers 200 (`/healthz`: the process
    /// serves, ready or not).
    pub fn start_until(workdir: &Path, env: &[(&str, String)], path: &str) -> Server {
        Server::launch(workdir, env, path, None)
    }

    /// Like [`Server::start`], with the server's log (its stderr) written to `log`: a test reads
    /// what the server told its operator, such as a consumer's sign-in code sent by the log
    /// "SMS" sender. `env` may set `RUST_LOG` to choose what is logged.
    pub fn start_logged(workdir: &Path, env: &[(&str, String)], log: &Path) -> Server {
        Server::launch(workdir, env, "/readyz", Some(log))
    }

    fn launch(workdir: &Path, env: &[(&str, String)], path: &str, log: Option<&Path>) -> Server {
        let port = free_port();
        let base_url = format!("http://127.0.0.1:{port}");
        let mut cmd = Command::new(bin("chainmark"));
        cmd.arg("serve")
            .current_dir(workdir)
            .env("CHAINMARK_LISTEN", format!("127.0.0.1:{port}"))
            .env("CHAINMARK_BASE_URL", &base_url)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(log) = log {
            cmd.stderr(std::fs::File::create(log).expect("the server's log file"));
        }
        let child = cmd.spawn().expect("spawn chainmark serve");
        let mut server = Server {
            child: Some(child),
            base_url,
        };
        server.wait_for(path, Duration::from_secs(30));
        server
    }

    fn wait_for(&mut self, path: &str, within: Duration) {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("http client");
        let deadline = Instant::now() + within;
        let url = format!("{}{path}", self.base_url);
        loop {
            if let Ok(r) = client.get(&url).send() {
                if r.status().is_success() {
                    return;
                }
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("chainmark serve exited before it was ready: {status}");
                }
            }
            assert!(
                Instant::now() < deadline,
                "chainmark serve not ready within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// Kills the process with SIGKILL (`kill -9`: no chance to finish anything) and reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill -9 the server");
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM (through `kill`, as the workspace forbids `unsafe`) and waits up to
    /// `within` for the process to exit; returns its status, or `None` if it did not stop.
    pub fn terminate(&mut self, within: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
