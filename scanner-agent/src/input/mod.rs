//! Where scans come from (config `[input]`): a keyboard-wedge scanner typing into stdin, a serial
//! scanner on a tty, or a camera whose frames land in a folder. Each runs on its own thread with
//! blocking reads (stdin cannot be read any other way without leaving a read behind at exit) and
//! hands whole codes to the agent through a bounded channel, so a fast producer (10,000 piped
//! lines) waits instead of filling memory. The channel closes at the end of stdin; serial and
//! camera inputs never end, so when one does (its thread panicked, its frames folder vanished, a
//! frame cannot be removed) [`Lines::recv`] says so with [`Error::InputDied`] and the agent stops
//! with a non-zero exit code instead of finishing as if the operator were done.

mod camera;
mod serial;
pub mod split;

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use firmware_config::Input;
use tokio::sync::mpsc;

use crate::error::Error;
use split::Splitter;

/// Codes waiting for the agent; a little slack so a burst is not read one code at a time.
const CHANNEL: usize = 256;

/// The scans of one input, as whole codes, and how the input ended.
#[derive(Debug)]
pub struct Lines {
    rx: mpsc::Receiver<String>,
    /// Which input ("stdin", "serial", "camera").
    what: &'static str,
    /// Set by the input's thread just before it drops its sender, so it is known by the time
    /// the channel reports closed.
    ended: Arc<Mutex<Option<Ended>>>,
}

/// How an input thread ended.
#[derive(Debug, Clone)]
enum Ended {
    /// As this input may: stdin at its end, or the agent stopped listening.
    Normally,
    /// It stopped for good while the agent was still reading; the reason.
    Died(String),
}

impl Lines {
    /// The next code; `Ok(None)` once the input ended as it may (stdin at its end);
    /// [`Error::InputDied`] when it stopped for good. Cancel-safe, like `mpsc::Receiver::recv`.
    pub async fn recv(&mut self) -> Result<Option<String>, Error> {
        match self.rx.recv().await {
            Some(line) => Ok(Some(line)),
            None => self.end(),
        }
    }

    /// A code already waiting, if any (for taking a burst into one batch).
    pub fn try_recv(&mut self) -> Option<String> {
        self.rx.try_recv().ok()
    }

    fn end(&self) -> Result<Option<String>, Error> {
        let ended = self
            .ended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        match ended {
            Some(Ended::Normally) => Ok(None),
            Some(Ended::Died(reason)) => Err(Error::InputDied {
                what: self.what.to_owned(),
                reason,
            }),
            // Not reachable: the thread records its end before its sender is dropped.
            None => Err(Error::InputDied {
                what: self.what.to_owned(),
                reason: "its thread ended without saying why".to_owned(),
            }),
        }
    }
}

/// Starts reading scans from `input`; fails at once if the serial port or the frames folder
/// cannot be opened.
pub fn start(input: &Input) -> Result<Lines, Error> {
    match input {
        Input::KeyboardWedge { prefix, suffix } => {
            let splitter = Splitter::new(prefix, suffix);
            spawn("stdin", move |tx| {
                read_to_end(std::io::stdin().lock(), splitter, tx);
                Ok(())
            })
        }
        Input::Serial { port, baud } => {
            let file = serial::open(port, *baud)?;
            let (port, baud) = (port.clone(), *baud);
            spawn("serial", move |tx| {
                serial::run(file, &port, baud, tx);
                // It reopens a lost port forever, so it returns only once the agent is gone.
                Ok(())
            })
        }
        Input::Camera {
            frames_dir,
            poll_ms,
        } => {
            camera::check(frames_dir)?;
            let (dir, poll_ms) = (frames_dir.clone(), *poll_ms);
            spawn("camera", move |tx| camera::run(&dir, poll_ms, tx))
        }
    }
}

/// Runs `body` on its own thread, feeding a new channel. `body` returns `Err(reason)` when the
/// input stopped for good; a panic counts as that too. Either way the reason is recorded before
/// the channel closes. An input that returns `Ok` after the agent stopped listening ended
/// normally; one that returns `Ok` while the agent still listens ended normally only if it is
/// stdin (the others never end by themselves, so that would be a bug: reported as died).
fn spawn(
    what: &'static str,
    body: impl FnOnce(&mpsc::Sender<String>) -> Result<(), String> + Send + 'static,
) -> Result<Lines, Error> {
    let (tx, rx) = mpsc::channel(CHANNEL);
    let ended = Arc::new(Mutex::new(None));
    let record = ended.clone();
    std::thread::Builder::new()
        .name(format!("input-{what}"))
        .spawn(move || {
            // The panic itself is printed by the panic hook; the agent gets the reason.
            let outcome = catch_unwind(AssertUnwindSafe(|| body(&tx)));
            let end = match outcome {
                Ok(Ok(())) if what == "stdin" || tx.is_closed() => Ended::Normally,
                Ok(Ok(())) => Ended::Died("it stopped reading".to_owned()),
                Ok(Err(reason)) => Ended::Died(reason),
                Err(panic) => Ended::Died(format!("its thread panicked: {}", panic_text(&panic))),
            };
            if let Ended::Died(reason) = &end {
                tracing::error!(input = what, %reason, "scan input stopped");
            }
            *record
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(end);
            // Only now may the agent see the channel close.
            drop(tx);
        })
        .map_err(|source| Error::Input {
            what: what.to_owned(),
            source,
        })?;
    Ok(Lines { rx, what, ended })
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// Reads `reader` to its end, sending each code. Returns early if the agent has stopped.
pub(crate) fn read_to_end(
    mut reader: impl Read,
    mut splitter: Splitter,
    tx: &mpsc::Sender<String>,
) {
    let mut buf = [0u8; 8192];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::error!(error = %e, "reading the scan input failed; treating it as ended");
                break;
            }
        };
        for line in splitter.push(&buf[..n]) {
            if tx.blocking_send(line).is_err() {
                return;
            }
        }
    }
    if let Some(line) = splitter.finish() {
        let _ = tx.blocking_send(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    }

    #[test]
    fn an_input_whose_thread_panics_is_reported_as_died() {
        let rt = runtime();
        let mut lines = spawn("camera", |tx| {
            tx.blocking_send("first".to_owned()).expect("send");
            panic!("decoder exploded");
        })
        .expect("spawn");
        assert_eq!(
            rt.block_on(lines.recv()).expect("a line"),
            Some("first".into())
        );
        match rt.block_on(lines.recv()) {
            Err(Error::InputDied { what, reason }) => {
                assert_eq!(what, "camera");
                assert!(reason.contains("panicked: decoder exploded"), "{reason}");
            }
            other => panic!("expected InputDied, got {other:?}"),
        }
    }

    #[test]
    fn an_input_that_gives_up_says_why() {
        let rt = runtime();
        let mut lines =
            spawn("camera", |_| Err("the frames folder is gone".to_owned())).expect("spawn");
        let err = rt.block_on(lines.recv()).expect_err("died");
        assert_eq!(
            err.to_string(),
            "scan input camera stopped: the frames folder is gone. The agent stops too; scans \
             already taken are kept in the journal and sent at the next start"
        );
    }

    #[test]
    fn only_stdin_may_end_while_the_agent_listens() {
        let rt = runtime();
        let mut stdin = spawn("stdin", |tx| {
            read_to_end(&b"a\nb\n"[..], Splitter::new("", "\n"), tx);
            Ok(())
        })
        .expect("spawn");
        assert_eq!(rt.block_on(stdin.recv()).expect("a"), Some("a".into()));
        assert_eq!(rt.block_on(stdin.recv()).expect("b"), Some("b".into()));
        assert_eq!(rt.block_on(stdin.recv()).expect("end"), None);

        let mut serial = spawn("serial", |_| Ok(())).expect("spawn");
        assert!(matches!(
            rt.block_on(serial.recv()),
            Err(Error::InputDied { .. })
        ));
    }
}
