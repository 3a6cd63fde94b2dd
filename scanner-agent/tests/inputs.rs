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
    // Every frame is gone once read (each before its codes are handed on); the one that is not
    // an image was moved aside.
    assert_eq!(names(&frames), ["rejected"]);
    assert_eq!(names(&frames.join("rejected")), ["0000-junk.png"]);
}

/// The names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A camera station's config in `dir`, frames in `dir/frames`.
fn camera_config(dir: &Path, broker_url: &str) -> (String, std::path::PathBuf) {
    let frames = dir.join("frames");
    std::fs::create_dir(&frames).expect("frames dir");
    let config = config_with_input(
        dir,
        broker_url,
        &format!(
            "kind = \"camera\"\nframes_dir = \"{}\"\npoll_ms = 20\n",
            frames.display()
        ),
    );
    (config, frames)
}

/// Writes a frame as a capture program must: under a temporary name, then renamed into place.
fn put_frame(frames: &Path, name: &str, png: &[u8]) {
    let tmp = frames.join(format!("{name}.part"));
    std::fs::write(&tmp, png).expect("frame");
    std::fs::rename(&tmp, frames.join(name)).expect("rename");
}

#[test]
fn a_frame_the_decoder_panics_on_is_moved_aside_and_the_next_one_is_read() {
    let Some(mosquitto) = mosquitto_path() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&mosquitto, dir.path());
    let server = TestServer::start(broker.port, Policy::default());
    let (config, frames) = camera_config(dir.path(), &broker.url());
    // The image `rqrr` panics on (codegen's fixture), first in name order, then a good frame.
    let bad = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../codegen/tests/fixtures/rqrr-panic.png"),
    )
    .expect("fixture");
    put_frame(&frames, "0001.png", &bad);
    let mut agent = Agent::start(&["--config", &config]);
    agent.wait_for("ready", |l| l.starts_with("ready "));
    let code = codes(1).remove(0);
    let sell = render_png("@sell", "", &LabelOptions::default()).expect("png");
    put_frame(&frames, "0002.png", &sell);
    let item = render_png(&code, "", &LabelOptions::default()).expect("png");
    put_frame(&frames, "0003.png", &item);

    wait_all_accepted(&mut agent, std::slice::from_ref(&code));
    assert_eq!(server.applied().len(), 1);
    assert_eq!(names(&frames), ["rejected"]);
    assert_eq!(names(&frames.join("rejected")), ["0001.png"]);
    assert!(
        agent.stderr().contains("bad camera frame moved aside"),
        "{}",
        agent.stderr()
    );
}

#[test]
fn the_agent_exits_non_zero_when_its_camera_folder_goes_away() {
    let Some(mosquitto) = mosquitto_path() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&mosquitto, dir.path());
    let _server = TestServer::start(broker.port, Policy::default());
    let (config, frames) = camera_config(dir.path(), &broker.url());
    let mut agent = Agent::start(&["--config", &config]);
    agent.wait_for("ready", |l| l.starts_with("ready "));
    // The camera's folder vanishes (a share unmounted, a disk gone): no frame can come any more.
    std::fs::remove_dir(&frames).expect("remove the frames folder");
    let status = agent.wait_exit();
    assert!(!status.success(), "{status:?}");
    let stderr = agent.stderr();
    assert!(stderr.contains("scan input camera stopped"), "{stderr}");
    assert!(stderr.contains("frames folder"), "{stderr}");
    assert!(agent.lines_of("done").is_empty(), "{:?}", agent.seen);
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
