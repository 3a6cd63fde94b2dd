//! A scanner on a serial port (RS-232 or USB CDC): the tty is opened, put in raw mode at the
//! configured baud rate (termios through `rustix`: no C library to install), and read as lines.
//! Scanners end a code with CR, LF or both; all three work. If the port goes away (a USB scanner
//! unplugged) it is reopened every second, so plugging it back in is all an operator has to do.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use rustix::termios::{self, ControlModes, OptionalActions};
use tokio::sync::mpsc;

use super::split::Splitter;
use crate::error::Error;

/// Opens `port` and sets it to raw mode at `baud`.
pub(crate) fn open(port: &str, baud: u32) -> Result<File, Error> {
    let err = |source: std::io::Error| Error::Input {
        what: port.to_owned(),
        source,
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        // Never become the agent's controlling terminal.
        .custom_flags(rustix::fs::OFlags::NOCTTY.bits() as i32)
        .open(port)
        .map_err(err)?;
    let mut tio = termios::tcgetattr(&file).map_err(|e| err(e.into()))?;
    tio.make_raw();
    // Ignore modem lines (many scanners wire none) and enable the receiver.
    tio.control_modes |= ControlModes::CLOCAL | ControlModes::CREAD;
    tio.set_speed(baud).map_err(|e| err(e.into()))?;
    termios::tcsetattr(&file, OptionalActions::Now, &tio).map_err(|e| err(e.into()))?;
    Ok(file)
}

/// Reads codes until the agent stops; reopens the port after an error.
pub(crate) fn run(mut file: File, port: &str, baud: u32, tx: &mpsc::Sender<String>) {
    loop {
        if read(&mut file, tx).is_none() {
            return; // the agent is gone
        }
        tracing::warn!(port, "serial port lost; reopening");
        file = loop {
            std::thread::sleep(Duration::from_secs(1));
            if tx.is_closed() {
                return;
            }
            match open(port, baud) {
                Ok(file) => break file,
                Err(e) => tracing::debug!(error = %e, "serial port not back yet"),
            }
        };
    }
}

/// Reads until an error or EOF (`Some`), or until the agent stops (`None`).
fn read(file: &mut File, tx: &mpsc::Sender<String>) -> Option<()> {
    let mut splitter = Splitter::new("", "\n");
    let mut buf = [0u8; 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => return Some(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::debug!(error = %e, "serial read failed");
                return Some(());
            }
        };
        // CR alone ends a code too; an empty line between CR and LF is dropped by the splitter.
        for b in &mut buf[..n] {
            if *b == b'\r' {
                *b = b'\n';
            }
        }
        for line in splitter.push(&buf[..n]) {
            tx.blocking_send(line).ok()?;
        }
    }
}
