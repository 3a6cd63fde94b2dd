//! Topic names. Device ids are validated so they always fit inside one topic level.

/// Device ids are non-empty, at most 64 characters of `[A-Za-z0-9_.-]`, so they are safe inside
/// a topic level (no `/`, `+`, `#`) and in file names.
pub fn valid_device_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// `{prefix}/devices/{device_id}/scans`: device → server events.
pub fn scans_topic(prefix: &str, device_id: &str) -> String {
    format!("{prefix}/devices/{device_id}/scans")
}

/// `{prefix}/devices/{device_id}/acks`: server → device acks.
pub fn acks_topic(prefix: &str, device_id: &str) -> String {
    format!("{prefix}/devices/{device_id}/acks")
}

/// `{prefix}/devices/{device_id}/state`: retained `online`/`offline`, the latter as last will.
pub fn state_topic(prefix: &str, device_id: &str) -> String {
    format!("{prefix}/devices/{device_id}/state")
}

/// The shared subscription servers use to split every device's events between instances.
pub fn shared_scans_filter(group: &str, prefix: &str) -> String {
    format!("$share/{group}/{prefix}/devices/+/scans")
}

/// The device id named by a scans topic, so the server can check it equals the signed one.
pub fn device_of_scans_topic<'a>(prefix: &str, topic: &'a str) -> Option<&'a str> {
    let rest = topic.strip_prefix(prefix)?.strip_prefix("/devices/")?;
    let id = rest.strip_suffix("/scans")?;
    valid_device_id(id).then_some(id)
}
