//! The serial and camera inputs with real devices standing in: a pseudo-terminal for the serial
//! scanner (the agent opens its tty, sets raw mode and the baud rate, and reads CR-terminated
//! codes), and a folder of PNG frames holding QR codes for the camera. Both against mosquitto and
//! the tiny answering server.

mod common;

use std::io::Write;
use std::path::Path;

use codegen::label::LabelOptions;
use codegen::label::png::render_png;
use common::{Agent, Mosquitto, Policy, TestServer, codes, mosquitto_path, write_config};
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

/// The test config with its `[input]` table replaced.
fn config_with_input(dir: &Path, url: &str, input: &str) -> String {
    let path = write_config(dir, url);
    let text = std::fs::read_to_string(&path).expect("read");
    let text = text.replace("kind = \"keyboard_wedge\"\n", input);
    std::fs::write(&path, text).expect("write");
    path.to_str().expect("utf-8").to_owned()
}

#[test]
fn serial_scanner_on_a_tty() {
    let Some(mosquitto) = mosquitto_path() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&mosquitto, dir.path());
    let server = TestServer::start(broker.port, Policy::default());
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("openpt");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let slave = ptsname(&master, Vec::new()).expect("ptsname");
    let slave = slave.to_str().expect("utf-8");
    let config = config_with_input(
        dir.path(),
        &broker.url(),
        &format!("kind = \"serial\"\nport = \"{slave}\"\nbaud = 9600\n"),
    );

    let mut agent = Agent::start(&["--config", &config]);
    agent.wait_for("ready", |l| l.starts_with("ready "));
    let mut tty = std::fs::File::from(master);
    let all = codes(10);
    // Scanners end codes with CR, some with CR LF; both are one code.
    let mut bytes = b"@inspect\r".to_vec();
    for (i, code) in all.iter().enumerate() {
        bytes.extend_from_slice(code.as_bytes());
        bytes.extend_from_slice(if i % 2 == 0 { b"\r" } else { b"\r\n" });
    }
    tty.write_all(&bytes).expect("write to the tty");
    wait_all_accepted(&mut agent, &all);
    assert_eq!(server.applied().len(), 10);
    assert!(agent.lines_of("refused").is_empty(), "{:?}", agent.seen);
}

#[test]
fn camera_frames_are_decoded_and_removed() {
    let Some(mosquitto) = mosquitto_path() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).expect("frames dir");
    let broker = Mosquitto::start(&mosquitto, dir.path());
    let server = TestServer::start(broker.port, Policy::default());
    let config = config_with_input(
        dir.path(),
        &broker.url(),
        &format!(
            "kind = \"camera\"\nframes_dir = \"{}\"\npoll_ms = 20\n",
            frames.display()
        ),
    );
    let mut agent = Agent::start(&["--config", &config]);
    agent.wait_for("ready", |l| l.starts_with("ready "));

    let all = codes(3);
    // A command sheet first (the camera cannot type), then the items; written under a temporary
    // name and renamed, as the capture program must.
    // Frames are taken in name order, so this unreadable one goes first and cannot stop the rest.
    std::fs::write(frames.join("0000-junk.png"), b"not an image").expect("junk frame");
    let payloads = std::iter::once("@sell".to_owned()).chain(all.iter().cloned());
    for (i, payload) in payloads.enumerate() {
        let png = render_png(&payload, "", &LabelOptions::default()).expect("png");
        let tmp = frames.join(format!("{i:04}.part"));
        std::fs::write(&tmp, png).expect("frame");
        std::fs::rename(&tmp, frames.join(format!("{i:04}.png"))).expect("rename");
    }
    wait_all_accepted(&mut agent, &all);
    assert_eq!(agent.lines_of("mode"), ["mode sell"]);
    let applied = server.applied();
    assert_eq!(applied.len(), 3);
    // Every frame, readable or not, is gone once read (each before its codes are handed on).
    let left: Vec<_> = std::fs::read_dir(&frames)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Waits until every code in `all` was accepted, in whatever order the acks come (the server
/// answers several scans at once, so they need not come in scan order).
fn wait_all_accepted(agent: &mut Agent, all: &[String]) {
    let mut waiting: std::collections::HashSet<&str> = all.iter().map(String::as_str).collect();
    while !waiting.is_empty() {
        let line = agent.wait_for("accepted", |l| l.starts_with("accepted "));
        if let Some(code) = line
            .rsplit(' ')
            .next()
            .and_then(|f| f.strip_prefix("code="))
        {
            waiting.remove(code);
        }
    }
}
