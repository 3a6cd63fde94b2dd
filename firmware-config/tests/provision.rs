//! The provisioning payload as the server prints it and a handheld scans it: round trips, the
//! config made from it, and each way a scanned line can be wrong, with its specific error.

use std::path::Path;

use data_encoding::BASE64URL_NOPAD;
use firmware_config::provision::{self, DEFAULT_DATA_DIR};
use firmware_config::{
    Config, ConfigError, Display, Input, Language, ProvisionError, Provisioning,
};

fn sample() -> Provisioning {
    Provisioning {
        device_id: "sh-wh01-hh-007".to_owned(),
        warehouse: "SH-WH01".to_owned(),
        broker_url: "mqtt://10.0.0.5:1883".to_owned(),
        topic_prefix: "chainmark".to_owned(),
        username: "sh-wh01-hh-007".to_owned(),
        secret: "Zm9vYmFyYmF6cXV4LXNlY3JldC0zMi1ieXRlcw".to_owned(),
    }
}

fn error_of(text: &str) -> ProvisionError {
    match provision::decode(text) {
        Err(ConfigError::Provisioning(err)) => err,
        other => panic!("expected a provisioning error for {text:?}, got {other:?}"),
    }
}

/// A payload with the given JSON body, encoded as the server would.
fn with_json(json: &str) -> String {
    format!("CMPROV1:{}", BASE64URL_NOPAD.encode(json.as_bytes()))
}

#[test]
fn encode_decode_round_trip() {
    let text = provision::encode(&sample());
    assert!(text.starts_with("CMPROV1:"), "{text}");
    // Only characters a keyboard-wedge scanner types on any layout.
    assert!(
        text.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_:".contains(c)),
        "{text}"
    );
    assert!(
        text.len() < 400,
        "{} characters is too dense a QR",
        text.len()
    );
    let back = provision::decode(&text).expect("decode");
    assert_eq!(back, sample());
    // A scanner's Enter or a stray space around it does not matter.
    assert_eq!(
        provision::decode(&format!("  {text}\r\n")).expect("decode"),
        sample()
    );
}

#[test]
fn unicode_values_survive() {
    let mut p = sample();
    p.warehouse = "上海一号仓".to_owned();
    let back = provision::decode(&provision::encode(&p)).expect("decode");
    assert_eq!(back.warehouse, "上海一号仓");
}

#[test]
fn config_from_payload_is_complete_and_valid() {
    let config = sample()
        .to_config(Path::new("/data/hh"), Language::ZhCn)
        .expect("config");
    assert_eq!(config.device.id, "sh-wh01-hh-007");
    assert_eq!(config.device.warehouse, "SH-WH01");
    assert_eq!(config.broker.url, "mqtt://10.0.0.5:1883");
    assert_eq!(config.broker.topic_prefix, "chainmark");
    assert_eq!(config.credentials.username, "sh-wh01-hh-007");
    assert_eq!(
        config.credentials.password.as_deref(),
        Some(sample().secret.as_str())
    );
    // Its own journal, named after the device: two devices never share one.
    assert_eq!(
        config.journal.path,
        Path::new("/data/hh/journal-sh-wh01-hh-007")
    );
    let other = Provisioning {
        device_id: "sh-wh01-hh-008".into(),
        ..sample()
    }
    .to_config(Path::new("/data/hh"), Language::ZhCn)
    .expect("config");
    assert_ne!(other.journal.path, config.journal.path);
    assert_eq!(config.language, Language::ZhCn);
    assert_eq!(config.feedback.display, Display::Terminal);
    assert!(matches!(
        config.input,
        Input::KeyboardWedge { ref prefix, ref suffix } if prefix.is_empty() && suffix == "\n"
    ));
    // The TOML the server writes for `chainmark device add` reads back to the same config.
    let text = sample()
        .to_config_toml(Path::new("/data/hh"), Language::ZhCn)
        .expect("toml");
    assert!(
        text.starts_with("# chainmark handheld sh-wh01-hh-007"),
        "{text}"
    );
    assert_eq!(Config::parse(&text, "hh.toml").expect("parse"), config);
}

#[test]
fn wrong_prefix() {
    assert_eq!(
        error_of("https://v.example.cn/s/7K3M9QX2PA4T8W1C"),
        ProvisionError::NotProvisioning
    );
    assert_eq!(error_of(""), ProvisionError::NotProvisioning);
    assert_eq!(error_of("CMPROV"), ProvisionError::NotProvisioning);
    assert_eq!(error_of("CMPROVx:abc"), ProvisionError::NotProvisioning);
    assert_eq!(error_of("cmprov1:abc"), ProvisionError::NotProvisioning);
}

#[test]
fn unknown_version() {
    let text = provision::encode(&sample()).replacen("CMPROV1:", "CMPROV2:", 1);
    assert_eq!(
        error_of(&text),
        ProvisionError::UnknownVersion("2".to_owned())
    );
    let message = ConfigError::Provisioning(error_of(&text)).to_string();
    assert!(message.contains("version \"2\""), "{message}");
}

#[test]
fn bad_base64() {
    assert!(matches!(
        error_of("CMPROV1:not base64!"),
        ProvisionError::BadBase64(_)
    ));
    // Padding is not part of the format: a scanner that adds it is misconfigured.
    assert!(matches!(
        error_of("CMPROV1:e30="),
        ProvisionError::BadBase64(_)
    ));
}

#[test]
fn bad_json() {
    assert!(matches!(
        error_of(&with_json("{not json")),
        ProvisionError::BadJson(_)
    ));
    assert!(matches!(
        error_of(&with_json("[1,2]")),
        ProvisionError::BadJson(_)
    ));
    let extra = serde_json::json!({
        "device_id": "a", "warehouse": "w", "broker_url": "mqtt://h:1", "topic_prefix": "p",
        "username": "u", "secret": "s", "admin": true
    });
    match error_of(&with_json(&extra.to_string())) {
        ProvisionError::BadJson(message) => assert!(message.contains("admin"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_field_named() {
    for field in [
        "device_id",
        "warehouse",
        "broker_url",
        "topic_prefix",
        "username",
        "secret",
    ] {
        let mut value = serde_json::to_value(sample()).expect("json");
        value
            .as_object_mut()
            .expect("object")
            .remove(field)
            .expect("present");
        assert_eq!(
            error_of(&with_json(&value.to_string())),
            ProvisionError::MissingField(field.to_owned()),
            "{field}"
        );
    }
}

#[test]
fn invalid_values_named_by_payload_field() {
    type Spoil = fn(&mut Provisioning);
    let cases: [(Spoil, &str); 5] = [
        (|p| p.device_id = "hh/7".to_owned(), "device_id"),
        (|p| p.broker_url = "http://h:1".to_owned(), "broker_url"),
        (|p| p.topic_prefix = "a/#".to_owned(), "topic_prefix"),
        (|p| p.username = String::new(), "username"),
        (|p| p.secret = String::new(), "secret"),
    ];
    for (spoil, field) in cases {
        let mut p = sample();
        spoil(&mut p);
        match error_of(&provision::encode(&p)) {
            ProvisionError::InvalidField { field: f, .. } => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
        assert!(
            p.to_config(Path::new(DEFAULT_DATA_DIR), Language::En)
                .is_err(),
            "{field}"
        );
    }
}

#[test]
fn too_long_refused_before_decoding() {
    let text = format!("CMPROV1:{}", "A".repeat(3000));
    assert_eq!(error_of(&text), ProvisionError::TooLong(3008));
}

#[test]
fn debug_hides_the_secret() {
    let shown = format!("{:?}", sample());
    assert!(!shown.contains(&sample().secret), "{shown}");
    assert!(shown.contains("sh-wh01-hh-007"));
}
