//! End-to-end: the real `chainmark-codegen` binary in a temporary folder — messages, exit codes,
//! and that a refused command writes nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_chainmark-codegen");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("binary runs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("ls")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
        .collect();
    names.sort();
    names
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let r = run(tmp.path(), &["keys", "init", "--out", "master.key"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dir = tmp.path().to_owned();
    (tmp, dir)
}

const GOOD: &[&str] = &[
    "batch",
    "--key",
    "master.key",
    "--product",
    "SKU-1",
    "--items",
    "100",
    "--base-url",
    "https://c.example",
    "--out",
    "out",
];

fn with(overrides: &[(&str, &str)]) -> Vec<String> {
    let mut args: Vec<String> = GOOD.iter().map(|s| s.to_string()).collect();
    for (flag, value) in overrides {
        match args.iter().position(|a| a == flag) {
            Some(i) => args[i + 1] = value.to_string(),
            None => {
                args.push(flag.to_string());
                args.push(value.to_string());
            }
        }
    }
    args
}

#[test]
fn keys_init_creates_0600_and_refuses_to_overwrite() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, dir) = setup();
    let key = dir.join("master.key");
    assert_eq!(fs::metadata(&key).expect("key").len(), 32);
    assert_eq!(
        fs::metadata(&key).expect("key").permissions().mode() & 0o777,
        0o600
    );
    let before = fs::read(&key).expect("key");
    let r = run(&dir, &["keys", "init", "--out", "master.key"]);
    assert_eq!(r.code, 4);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    assert_eq!(fs::read(&key).expect("key"), before);
}

#[test]
fn batch_then_inspect_then_check_import() {
    let (_tmp, dir) = setup();
    let r = run(&dir, GOOD);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("100 items in 2 cases"), "{}", r.stdout);
    assert_eq!(
        listing(&dir.join("out")),
        ["batch.json", "import.jsonl", "print.csv"]
    );

    let csv = fs::read_to_string(dir.join("out/print.csv")).expect("csv");
    let row: Vec<&str> = csv.lines().nth(1).expect("a row").split(',').collect();
    let r = run(&dir, &["inspect", "--key", "master.key", row[2]]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("authentic"), "{}", r.stdout);

    let forged = format!("{}AAAAAAAAAAAAAAAA", &row[2][..row[2].len() - 16]);
    let r = run(&dir, &["inspect", "--key", "master.key", "--json", &forged]);
    assert_eq!(r.code, 1);
    let json: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(json["reason"], "forged_tag");

    let r = run(&dir, &["inspect", "4006381333932"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("bad_gs1_check_digit"), "{}", r.stdout);

    let r = run(&dir, &["check-import", "--key", "master.key", "out"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("ok:"));

    let other = run(&dir, &["keys", "init", "--out", "other.key"]);
    assert_eq!(other.code, 0);
    let r = run(&dir, &["check-import", "--key", "other.key", "out"]);
    assert_eq!(r.code, 7);
    assert!(r.stderr.contains("issued under key"), "{}", r.stderr);
}

/// Flag overrides, expected exit code, expected part of the message.
type BadCase = (&'static [(&'static str, &'static str)], i32, &'static str);

#[test]
fn bad_input_is_refused_with_its_exit_code_and_nothing_written() {
    let (_tmp, dir) = setup();
    fs::write(dir.join("short.key"), b"0123456789").expect("short key");
    fs::create_dir(dir.join("full")).expect("mkdir");
    fs::write(dir.join("full/x"), b"x").expect("file");
    let cases: &[BadCase] = &[
        (&[("--gtin", "4006381333932")], 3, "GS1 check digit"),
        (&[("--gtin", "40063813339")], 3, "8, 12, 13 or 14 digits"),
        (&[("--company-prefix", "12ab")], 3, "invalid character"),
        (&[("--company-prefix", "123")], 3, "4 to 12 digits"),
        (&[("--items", "0")], 3, "at least one item"),
        (&[("--items", "ten")], 3, "whole number"),
        (&[("--case-size", "0")], 3, "at least one item"),
        (&[("--production-date", "2025-13-01")], 3, "YYYY-MM-DD"),
        (&[("--base-url", "chainmark.example")], 3, "https://"),
        (&[("--labels", "gif")], 3, "unknown label format"),
        (&[("--key", "missing.key")], 4, "keys init"),
        (&[("--key", "short.key")], 4, "exactly 32"),
        (
            &[("--out", "no/such/dir")],
            5,
            "parent folder does not exist",
        ),
        (&[("--out", "full")], 5, "not empty"),
    ];
    let before = listing(&dir);
    for (overrides, code, message) in cases {
        let args = with(overrides);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run(&dir, &args);
        assert_eq!(r.code, *code, "{overrides:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(message),
            "{overrides:?}: {:?} lacks {message:?}",
            r.stderr
        );
        assert_eq!(listing(&dir), before, "{overrides:?} wrote something");
        assert_eq!(listing(&dir.join("full")), ["x"]);
    }
    // clap's own usage errors keep code 2.
    let r = run(&dir, &["batch", "--key", "master.key"]);
    assert_eq!(r.code, 2);
}

#[test]
fn help_documents_exit_codes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let r = run(tmp.path(), &["--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Exit codes:"));
    let r = run(tmp.path(), &["batch", "--help"]);
    assert!(r.stdout.contains("--company-prefix") && r.stdout.contains("Examples:"));
}
