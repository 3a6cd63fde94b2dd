//! End-to-end: `batch --labels` writes label files, and `verify-image` reads them back —
//! real labels are ok, a blank image is unreadable, a forged one invalid, a text file an error.

use std::fs;
use std::path::Path;
use std::process::Command;

use codegen::label::LabelOptions;
use codegen::label::png::render_png;

const BIN: &str = env!("CARGO_BIN_EXE_chainmark-codegen");

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A key and a batch of 10 items in cases of 4, with every label format.
fn batch() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    assert_eq!(run(dir, &["keys", "init", "--out", "master.key"]).0, 0);
    let (code, _, err) = run(
        dir,
        &[
            "batch",
            "--key",
            "master.key",
            "--product",
            "SKU-1",
            "--items",
            "10",
            "--case-size",
            "4",
            "--base-url",
            "https://c.example",
            "--out",
            "out",
            "--labels",
            "png,svg,pdf,zpl",
        ],
    );
    assert_eq!(code, 0, "{err}");
    tmp
}

fn pngs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("ls")
        .map(|e| e.expect("entry").path().display().to_string())
        .filter(|p| p.ends_with(".png"))
        .collect();
    names.sort();
    names
}

#[test]
fn batch_labels_are_complete_and_verify() {
    let tmp = batch();
    let labels = tmp.path().join("out/labels");
    let items = pngs(&labels.join("items"));
    let cases = pngs(&labels.join("cases"));
    assert_eq!((items.len(), cases.len()), (10, 3));
    assert_eq!(
        fs::read_dir(labels.join("items")).expect("ls").count(),
        20,
        "png + svg"
    );
    let zpl = fs::read_to_string(labels.join("labels.zpl")).expect("zpl");
    assert_eq!(zpl.matches("^XA").count(), 13);
    let csv = fs::read_to_string(tmp.path().join("out/print.csv")).expect("csv");
    for row in csv.lines().skip(1) {
        let url = row.split(',').nth(2).expect("verify_url");
        assert!(zpl.contains(&format!("^FDMA,{url}^FS")), "{url}");
    }
    assert!(
        fs::read(labels.join("sheets.pdf"))
            .expect("pdf")
            .starts_with(b"%PDF-")
    );

    let mut args = vec!["verify-image", "--key", "master.key"];
    args.extend(items.iter().chain(&cases).map(String::as_str));
    let (code, out, err) = run(tmp.path(), &args);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.lines().count(), 13, "{out}");
    assert_eq!(
        out.matches(": ok: https://c.example/v/").count(),
        10,
        "{out}"
    );
    assert!(out.contains("tag authentic"), "{out}");
    assert_eq!(
        out.matches(": ok: https://c.example/c/").count(),
        3,
        "{out}"
    );
}

#[test]
fn blank_forged_and_non_images_are_reported() {
    let tmp = batch();
    let dir = tmp.path();
    let csv = fs::read_to_string(dir.join("out/print.csv")).expect("csv");
    let url = csv
        .lines()
        .nth(1)
        .and_then(|r| r.split(',').nth(2))
        .expect("url");
    // Same serial, another well-formed tag: what a counterfeiter copying the format would print.
    let (head, tag) = url.split_once("?t=").expect("tag");
    let forged_tag = if tag.starts_with('A') { "B" } else { "A" }.to_owned() + &tag[1..];
    let forged = format!("{head}?t={forged_tag}");
    fs::write(
        dir.join("forged.png"),
        render_png(&forged, "FORGED", &LabelOptions::default()).expect("render"),
    )
    .expect("write");
    image::GrayImage::from_pixel(200, 200, image::Luma([255]))
        .save(dir.join("blank.png"))
        .expect("blank");
    fs::write(dir.join("notes.txt"), "not an image").expect("txt");

    let (code, out, _) = run(dir, &["verify-image", "--key", "master.key", "blank.png"]);
    assert_eq!(code, 1);
    assert!(out.contains("blank.png: unreadable"), "{out}");

    let (code, out, _) = run(dir, &["verify-image", "--key", "master.key", "forged.png"]);
    assert_eq!(code, 1);
    assert!(out.contains("forged.png: invalid (forged_tag"), "{out}");
    assert!(out.contains(&forged), "{out}");

    let (code, out, _) = run(dir, &["verify-image", "--key", "master.key", "notes.txt"]);
    assert_eq!(code, 3);
    assert!(out.contains("notes.txt: error: "), "{out}");
    assert!(out.contains("not a readable PNG or JPEG image"), "{out}");

    let (code, out, _) = run(
        dir,
        &[
            "verify-image",
            "--key",
            "master.key",
            "--json",
            "forged.png",
            "blank.png",
            "notes.txt",
        ],
    );
    assert_eq!(code, 3);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let statuses: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["invalid", "unreadable", "error"]);
    assert_eq!(v[0]["payloads"][0]["reason"], "forged_tag");

    let (code, _, err) = run(dir, &["verify-image", "--key", "missing.key", "blank.png"]);
    assert_eq!(code, 4, "{err}");
}

#[test]
fn jpeg_labels_decode_too() {
    let png = render_png(
        "https://c.example/s/ABCDEFGH0000001X",
        "ABCDEFGH0000001X",
        &LabelOptions::default(),
    )
    .expect("render");
    let img = image::load_from_memory(&png).expect("png").to_luma8();
    let mut jpeg = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut jpeg),
        image::ImageFormat::Jpeg,
    )
    .expect("jpeg");
    assert_eq!(
        codegen::decode::decode_bytes(&jpeg).expect("decode"),
        codegen::decode::Decoded::Payloads(vec!["https://c.example/s/ABCDEFGH0000001X".into()])
    );
}

#[test]
fn batch_label_flags_are_validated() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    assert_eq!(run(dir, &["keys", "init", "--out", "master.key"]).0, 0);
    let batch = |extra: &[&str], out: &str| {
        let mut args = vec![
            "batch",
            "--key",
            "master.key",
            "--product",
            "SKU-1",
            "--items",
            "3",
            "--base-url",
            "https://c.example",
            "--labels",
            "png",
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        run(dir, &args)
    };
    let (code, _, err) = batch(&["--quiet-zone", "3"], "q3");
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("quiet zone of 3 modules is too small"),
        "{err}"
    );
    assert!(!dir.join("q3").exists());
    let (code, _, err) = batch(&["--ecc", "X"], "ex");
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("--ecc"), "{err}");

    let (code, _, err) = batch(&["--ecc", "H", "--module-mm", "0.5", "--dpi", "300"], "ok");
    assert_eq!(code, 0, "{err}");
    let items = pngs(&dir.join("ok/labels/items"));
    let img = image::open(&items[0]).expect("png");
    // Version-5-ish symbol at 6 px per module plus 2 × 4 quiet modules: well over 200 px.
    assert!(img.width() > 200, "{}", img.width());
    let (code, out, _) = run(dir, &["verify-image", "--key", "master.key", &items[0]]);
    assert_eq!(code, 0, "{out}");
}

/// A photograph-like image on which `rqrr` panics (an assert in its `geometry.rs`); found by
/// `tests/decoder_fuzz.rs`.
fn decoder_panic_fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rqrr-panic.png")
}

#[test]
fn an_image_the_decoder_panics_on_is_an_error_not_a_panic() {
    let file = decoder_panic_fixture();
    // The fixture still does what it is for: the decoder underneath panics on it.
    let img = image::open(&file).expect("fixture").to_luma8();
    let raw = std::panic::catch_unwind(move || {
        let mut prepared = rqrr::PreparedImage::prepare(img);
        for grid in prepared.detect_grids() {
            let _ = grid.decode();
        }
    });
    assert!(
        raw.is_err(),
        "rqrr no longer panics on the fixture: find a new one"
    );

    match codegen::decode::decode_file(&file) {
        Err(e @ codegen::Error::DecoderFailed { .. }) => {
            let message = e.to_string();
            assert!(message.contains("rqrr-panic.png"), "{message}");
            assert!(message.contains("the QR decoder failed"), "{message}");
            assert_eq!(e.kind(), codegen::ErrorKind::Input);
        }
        other => panic!("expected DecoderFailed, got {other:?}"),
    }
}

#[test]
fn verify_image_reports_an_image_the_decoder_panics_on_and_checks_the_rest() {
    let tmp = batch();
    let dir = tmp.path();
    let good = pngs(&dir.join("out/labels/items")).remove(0);
    let folder = dir.join("photos");
    fs::create_dir(&folder).expect("photos");
    fs::copy(decoder_panic_fixture(), folder.join("a-bad.png")).expect("copy");
    fs::copy(&good, folder.join("b-good.png")).expect("copy");
    let files = pngs(&folder);

    let mut args = vec!["verify-image", "--key", "master.key"];
    args.extend(files.iter().map(String::as_str));
    let (code, out, err) = run(dir, &args);
    // A label that cannot be checked makes the run fail like an unreadable one: exit 1.
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("a-bad.png: unreadable (") && out.contains("the QR decoder failed"),
        "{out}"
    );
    assert!(
        out.contains("b-good.png: ok: https://c.example/v/"),
        "{out}"
    );
    assert!(out.contains("tag authentic"), "{out}");

    args.push("--json");
    let (code, out, _) = run(dir, &args);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v[0]["status"], "unreadable");
    assert!(
        v[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("the QR decoder failed")),
        "{v}"
    );
    assert_eq!(v[1]["status"], "ok");
}
