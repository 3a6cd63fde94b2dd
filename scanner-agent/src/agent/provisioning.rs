//! `chainmark-scanner --provision`: the first valid provisioning code scanned becomes the
//! device's config file, and the agent runs on with it. A line that is not one is refused with
//! its reason and the operator scans again; nothing is written until a code is valid.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use firmware_config::{Config, ConfigError, Language, provision};

use crate::display::{Display, View};
use crate::error::Error;
use crate::input::Lines;
use crate::note::Note;
use crate::operator::Mode;

/// Reads lines until one is a valid provisioning code, writes the config for it to
/// `config_path` (journal under `data_dir`) and returns the config.
pub async fn provision(
    lines: &mut Lines,
    config_path: &Path,
    data_dir: &Path,
    language: Language,
    display: &mut Display,
) -> Result<Config, Error> {
    if config_path.exists() {
        return Err(Error::ConfigExists(config_path.to_owned()));
    }
    loop {
        let Some(line) = lines.recv().await? else {
            return Err(Error::NoProvisioning);
        };
        let payload = match provision::decode(&line) {
            Ok(p) => p,
            Err(ConfigError::Provisioning(e)) => {
                display.show(&Note::ProvisionRefused {
                    reason: e.code(),
                    detail: e.to_string(),
                });
                flush(display, "");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let text = payload.to_config_toml(data_dir, language)?;
        write_new(config_path, &text)?;
        // Read back through the normal loader, so what runs is exactly what the file says.
        let config = Config::load(config_path)?;
        tracing::info!(device = %config.device.id, path = %config_path.display(), "provisioned");
        display.show(&Note::Provisioned {
            device_id: config.device.id.clone(),
            path: config_path.display().to_string(),
        });
        flush(display, &config.device.id);
        return Ok(config);
    }
}

/// Writes a new file readable by its owner only (it holds the device secret), durably.
fn write_new(path: &Path, text: &str) -> Result<(), Error> {
    let err = |source| Error::WriteConfig {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(err)
}

fn flush(display: &mut Display, device_id: &str) {
    display.flush(&View {
        device_id: device_id.to_owned(),
        online: false,
        mode: Mode::Idle,
        counts: Default::default(),
    });
}
