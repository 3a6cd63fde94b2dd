//! Where scans come from (config `[input]`): a keyboard-wedge scanner typing into stdin, a serial
//! scanner on a tty, or a camera whose frames land in a folder. Each runs on its own thread with
//! blocking reads (stdin cannot be read any other way without leaving a read behind at exit) and
//! hands whole codes to the agent through a bounded channel, so a fast producer (10,000 piped
//! lines) waits instead of filling memory. The channel closes at the end of stdin; serial and
//! camera inputs never end.

mod camera;
mod serial;
pub mod split;

use std::io::Read;

use firmware_config::Input;
use tokio::sync::mpsc;

use crate::error::Error;
use split::Splitter;

/// Codes waiting for the agent; a little slack so a burst is not read one code at a time.
const CHANNEL: usize = 256;

/// Starts reading scans from `input`; fails at once if the serial port or the frames folder
/// cannot be opened.
pub fn start(input: &Input) -> Result<mpsc::Receiver<String>, Error> {
    let (tx, rx) = mpsc::channel(CHANNEL);
    match input {
        Input::KeyboardWedge { prefix, suffix } => {
            let splitter = Splitter::new(prefix, suffix);
            spawn("stdin", move || {
                read_to_end(std::io::stdin().lock(), splitter, &tx);
            })?;
        }
        Input::Serial { port, baud } => {
            let file = serial::open(port, *baud)?;
            let (port, baud) = (port.clone(), *baud);
            spawn("serial", move || serial::run(file, &port, baud, &tx))?;
        }
        Input::Camera {
            frames_dir,
            poll_ms,
        } => {
            camera::check(frames_dir)?;
            let (dir, poll_ms) = (frames_dir.clone(), *poll_ms);
            spawn("camera", move || camera::run(&dir, poll_ms, &tx))?;
        }
    }
    Ok(rx)
}

fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> Result<(), Error> {
    std::thread::Builder::new()
        .name(format!("input-{name}"))
        .spawn(body)
        .map(|_| ())
        .map_err(|source| Error::Input {
            what: name.to_owned(),
            source,
        })
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
