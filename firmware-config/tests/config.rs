//! Config files as an installer writes them: the shipped profiles, each kind of mistake (with the
//! exact line and field reported), several mistakes at once, and a TOML round trip.

use std::path::Path;

use firmware_config::{Config, ConfigError, Display, Input, Language, Problem};

const GOOD: &str = r#"language = "en"
debounce_ms = 800

[device]
id = "hh-1"
warehouse = "SH-WH01"

[broker]
url = "mqtts://broker.example:8883"

[broker.tls]
ca_file = "/etc/ca.pem"

[credentials]
username = "hh-1"
password = "secret"

[journal]
path = "/var/lib/chainmark/journal"

[input]
kind = "serial"
port = "/dev/ttyUSB0"
baud = 9600
"#;

/// `GOOD` with line `line` (1-based) replaced by `with`.
fn edit(line: usize, with: &str) -> String {
    let mut lines: Vec<&str> = GOOD.lines().collect();
    lines[line - 1] = with;
    lines.join("\n") + "\n"
}

fn problems(text: &str) -> Vec<Problem> {
    match Config::parse(text, "handheld.toml") {
        Ok(config) => panic!("expected problems, got {config:?}"),
        Err(err) => err.problems().to_vec(),
    }
}

/// Exactly one problem, on `line`, for `field`, whose message contains `needle`.
fn assert_one(text: &str, line: usize, field: &str, needle: &str) {
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found:#?}");
    let p = &found[0];
    assert_eq!(
        (p.file.as_str(), p.line, p.field.as_str()),
        ("handheld.toml", line, field),
        "{p}"
    );
    assert!(p.message.contains(needle), "{p}");
}

#[test]
fn every_profile_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    let mut kinds = Vec::new();
    for name in [
        "usb-keyboard-wedge.toml",
        "serial-scanner.toml",
        "camera.toml",
    ] {
        let config = Config::load(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        kinds.push(config.input);
    }
    assert!(matches!(kinds[0], Input::KeyboardWedge { .. }));
    assert!(matches!(kinds[1], Input::Serial { baud: 9600, .. }));
    assert!(matches!(kinds[2], Input::Camera { poll_ms: 200, .. }));
}

#[test]
fn defaults_apply() {
    let text = GOOD.replace("debounce_ms = 800\n", "");
    let config = Config::parse(&text, "handheld.toml").expect("valid");
    assert_eq!(config.debounce_ms, 800);
    assert_eq!(config.language, Language::En);
    assert_eq!(config.broker.topic_prefix, "chainmark");
    assert_eq!(config.journal.max_bytes, 64 * 1024 * 1024);
    assert!(config.feedback.bell);
    assert_eq!(config.feedback.display, Display::Terminal);
    let wedge = GOOD.replace(
        "kind = \"serial\"\nport = \"/dev/ttyUSB0\"\nbaud = 9600",
        "kind = \"keyboard_wedge\"",
    );
    let config = Config::parse(&wedge, "handheld.toml").expect("valid");
    assert_eq!(
        config.input,
        Input::KeyboardWedge {
            prefix: String::new(),
            suffix: "\n".into()
        }
    );
}

#[test]
fn url_without_mqtt_scheme() {
    assert_one(
        &edit(9, r#"url = "http://x""#),
        9,
        "broker.url",
        r#""http://x" is not an mqtt:// or mqtts:// URL"#,
    );
    let err = Config::parse(&edit(9, r#"url = "http://x""#), "handheld.toml")
        .expect_err("invalid")
        .to_string();
    assert!(err.starts_with("handheld.toml:9: broker.url: "), "{err}");
}

#[test]
fn url_with_bad_or_missing_port() {
    assert_one(
        &edit(9, r#"url = "mqtts://b:99999""#),
        9,
        "broker.url",
        "invalid port",
    );
    assert_one(
        &edit(9, r#"url = "mqtts://b:0""#),
        9,
        "broker.url",
        "invalid port",
    );
    assert_one(&edit(9, r#"url = "mqtts://b""#), 9, "broker.url", "no port");
}

#[test]
fn tls_with_plain_mqtt() {
    assert_one(
        &edit(9, r#"url = "mqtt://b:1883""#),
        11,
        "broker.tls",
        "mqtts://",
    );
}

#[test]
fn client_cert_without_key() {
    assert_one(
        &edit(12, r#"client_cert = "/etc/device.crt""#),
        12,
        "broker.tls.client_cert",
        "without client_key",
    );
    assert_one(
        &edit(12, r#"client_key = "/etc/device.key""#),
        12,
        "broker.tls.client_key",
        "without client_cert",
    );
}

#[test]
fn password_and_password_file() {
    let both = GOOD.replace(
        "password = \"secret\"\n",
        "password = \"secret\"\npassword_file = \"/etc/pw\"\n",
    );
    assert_one(&both, 17, "credentials.password_file", "not both");
    let neither = GOOD.replace("password = \"secret\"\n", "");
    assert_one(&neither, 14, "credentials", "required");
}

#[test]
fn journal_below_one_mib() {
    let text = GOOD.replace(
        "path = \"/var/lib/chainmark/journal\"\n",
        "path = \"/var/lib/chainmark/journal\"\nmax_bytes = 1000\n",
    );
    assert_one(&text, 20, "journal.max_bytes", "1 MiB");
}

#[test]
fn non_standard_baud() {
    assert_one(
        &edit(24, "baud = 9601"),
        24,
        "input.baud",
        "not a standard rate",
    );
}

#[test]
fn debounce_over_ten_seconds() {
    assert_one(&edit(2, "debounce_ms = 10001"), 2, "debounce_ms", "10 s");
}

#[test]
fn device_id_charset_and_length() {
    assert_one(&edit(5, r#"id = "hh/1""#), 5, "device.id", "only A-Z");
    assert_one(&edit(5, r#"id = """#), 5, "device.id", "1 to 64");
    let long = format!("id = \"{}\"", "a".repeat(65));
    assert_one(&edit(5, &long), 5, "device.id", "1 to 64");
}

#[test]
fn several_problems_reported_together() {
    let text = GOOD
        .replace("debounce_ms = 800", "debounce_ms = 60000")
        .replace("id = \"hh-1\"", "id = \"hh 1\"")
        .replace("mqtts://broker.example:8883", "tcp://broker")
        .replace("baud = 9600", "baud = 1234");
    let found = problems(&text);
    let located: Vec<(usize, &str)> = found.iter().map(|p| (p.line, p.field.as_str())).collect();
    assert_eq!(
        located,
        [
            (2, "debounce_ms"),
            (5, "device.id"),
            (9, "broker.url"),
            (24, "input.baud")
        ]
    );
    let rendered = ConfigError::Invalid(found).to_string();
    assert_eq!(rendered.lines().count(), 4, "{rendered}");
}

#[test]
fn unknown_key_rejected_with_its_line() {
    let p = &problems(&edit(6, r#"warehous = "SH-WH01""#))[0];
    assert_eq!((p.line, p.field.as_str()), (6, "device.warehous"), "{p}");
    assert!(p.message.contains("unknown field `warehous`"), "{p}");

    let p = &problems(&edit(12, "colour = 3"))[0];
    assert_eq!((p.line, p.field.as_str()), (12, "broker.tls.colour"), "{p}");
    assert!(p.message.contains("unknown field `colour`"), "{p}");
}

#[test]
fn input_fields_checked_per_kind_on_their_line() {
    let p = &problems(&edit(24, "bauds = 9600"))[0];
    assert_eq!((p.line, p.field.as_str()), (24, "input.bauds"), "{p}");
    assert!(p.message.contains("unknown field `bauds`"), "{p}");

    let p = &problems(&edit(23, r#"suffix = "\r""#))[0];
    assert_eq!((p.line, p.field.as_str()), (23, "input.suffix"), "{p}");
    assert_eq!(p.message, r#"`suffix` does not apply to kind = "serial""#);

    // A missing key is reported on its table, naming the key to add.
    let p = &problems(&edit(23, ""))[0];
    assert_eq!((p.line, p.field.as_str()), (21, "input.port"), "{p}");
    assert!(p.message.contains("required"), "{p}");

    let p = &problems(&edit(22, r#"kind = "usb""#))[0];
    assert_eq!((p.line, p.field.as_str()), (22, "input.kind"), "{p}");
}

#[test]
fn type_and_syntax_errors_name_their_line() {
    let p = &problems(&edit(24, r#"baud = "fast""#))[0];
    assert_eq!((p.line, p.field.as_str()), (24, "input.baud"), "{p}");
    assert!(p.message.contains("invalid type"), "{p}");
    let p = &problems(&edit(6, r#"id = "again""#))[0];
    assert_eq!((p.line, p.field.as_str()), (6, "device.id"), "{p}");
    assert!(p.message.contains("duplicate key"), "{p}");
    let p = &problems(&edit(9, "url = = 1"))[0];
    assert_eq!((p.line, p.field.as_str()), (9, "broker.url"), "{p}");
    assert!(!p.to_string().contains('\n'), "{p}");
    let p = &problems(&edit(16, "password = secret"))[0];
    assert_eq!(
        (p.line, p.field.as_str()),
        (16, "credentials.password"),
        "{p}"
    );
    let p = &problems(&edit(1, r#"language = "fr""#))[0];
    assert_eq!((p.line, p.field.as_str()), (1, "language"), "{p}");
}

#[test]
fn missing_keys_named_on_their_table() {
    let p = &problems(&GOOD.replace("id = \"hh-1\"\n", ""))[0];
    assert_eq!((p.line, p.field.as_str()), (4, "device.id"), "{p}");
    assert!(p.message.contains("missing field `id`"), "{p}");
    let p = &problems(&GOOD.replace("language = \"en\"\n", ""))[0];
    assert_eq!((p.line, p.field.as_str()), (1, "language"), "{p}");
    assert!(p.message.contains("missing field `language`"), "{p}");
    // An inline table: the missing key is reported on the line that holds it.
    let inline = GOOD.replace(
        "debounce_ms = 800\n\n[device]\nid = \"hh-1\"\nwarehouse = \"SH-WH01\"\n",
        "debounce_ms = 800\ndevice = { warehouse = \"SH-WH01\" }\n",
    );
    let p = &problems(&inline)[0];
    assert_eq!((p.line, p.field.as_str()), (3, "device.id"), "{p}");
}

#[test]
fn round_trip_through_toml() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    for name in [
        "usb-keyboard-wedge.toml",
        "serial-scanner.toml",
        "camera.toml",
    ] {
        let config = Config::load(dir.join(name)).expect("profile");
        let text = config.to_toml().expect("serialize");
        let again = Config::parse(&text, name).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        assert_eq!(config, again, "{name}");
    }
}

#[test]
fn load_names_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("handheld.toml");
    std::fs::write(&path, edit(9, r#"url = "http://x""#)).expect("write");
    let err = Config::load(&path).expect_err("invalid");
    assert_eq!(err.problems()[0].file, path.display().to_string());
    assert!(matches!(
        Config::load(dir.path().join("missing.toml")),
        Err(ConfigError::Read { .. })
    ));
}

#[test]
fn debug_hides_the_password() {
    let config = Config::parse(GOOD, "handheld.toml").expect("valid");
    assert!(!format!("{config:?}").contains("secret"));
}
