//! `chainmark device add|list|show|rekey|revoke|reinstate`: warehouse handhelds from the command
//! line. `add` writes the device's config file and its provisioning QR into a folder.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chainmark_server::config::Settings;
use chainmark_server::devices::{self, Provisioned, Registration};
use chainmark_server::ingest::device_key::DeviceKey;
use chainmark_server::ingest::directory::DeviceDirectory;
use chainmark_server::store::{Db, devices as store};

#[derive(Debug, clap::Subcommand)]
pub enum DeviceCommand {
    /// Register a handheld and write its config file (`<id>.toml`) and provisioning QR
    /// (`<id>-provisioning.png`) into --out. Scan the QR on a fresh `chainmark-scanner --provision`
    /// or copy the config file onto the device. Both hold the device's secret: keep them private.
    Add {
        /// Device id: 1-64 of A-Z a-z 0-9 _ . - (also its MQTT user name), e.g. sh-wh01-hh-001.
        id: String,
        /// The warehouse it scans in.
        #[arg(long)]
        warehouse: String,
        /// The agent whose stock it scans (an agent id); omit for an HQ warehouse.
        #[arg(long)]
        agent: Option<i64>,
        /// Folder for the config file and the QR image (created if missing).
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// List handhelds and their status.
    List,
    /// Write a registered handheld's config file and provisioning QR again.
    Show {
        id: String,
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Give a handheld a new secret (the old one stops working at once) and write its files.
    Rekey {
        id: String,
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Revoke a handheld: the broker refuses it and its scans are not applied.
    Revoke { id: String },
    /// Reinstate a revoked handheld.
    Reinstate { id: String },
}

pub fn run(settings: Settings, cmd: DeviceCommand) -> anyhow::Result<()> {
    let key_file = settings.mqtt.device_key_file.clone().context(
        "no device key configured: set mqtt.device_key_file in the settings file or \
         CHAINMARK_DEVICE_KEY_FILE (chainmark demo creates one in its data folder)",
    )?;
    let directory = DeviceDirectory::new(DeviceKey::load(&key_file)?);
    let db = Db::open(&settings.database_url, 1)?;
    db.migrate()?;
    let mut conn = db.get()?;
    let mqtt = &settings.mqtt;
    match cmd {
        DeviceCommand::Add {
            id,
            warehouse,
            agent,
            out,
        } => {
            let reg = Registration {
                id,
                warehouse,
                owner_agent: agent,
            };
            let p = devices::register(&mut conn, &directory, mqtt, None, &reg)?;
            write_files(&p, &out, None)?;
        }
        DeviceCommand::Show { id, out } => {
            let p = devices::provisioning(&mut conn, &directory, mqtt, &id)?;
            write_files(&p, &out, None)?;
        }
        DeviceCommand::Rekey { id, out } => {
            let p = devices::rekey(&mut conn, &directory, mqtt, None, &id)?;
            write_files(&p, &out, None)?;
        }
        DeviceCommand::Revoke { id } => {
            devices::set_revoked(&mut conn, &directory, None, &id, true)?;
            println!("device {id} revoked: the broker refuses it from its next connection");
        }
        DeviceCommand::Reinstate { id } => {
            devices::set_revoked(&mut conn, &directory, None, &id, false)?;
            println!("device {id} reinstated");
        }
        DeviceCommand::List => {
            let all = store::list(&mut conn)?;
            if all.is_empty() {
                println!("no devices yet: chainmark device add <id> --warehouse <name>");
            }
            for d in all {
                let owner = match d.owner_id {
                    Some(agent) => format!("agent {agent}"),
                    None => "HQ".into(),
                };
                let status = match (d.revoked, d.online) {
                    (true, _) => "revoked",
                    (false, true) => "online",
                    (false, false) => "offline",
                };
                println!("{}\t{}\t{owner}\t{status}", d.id, d.warehouse);
            }
        }
    }
    Ok(())
}

/// Writes `<id>.toml` and `<id>-provisioning.png` (owner-only permissions: they hold the secret).
/// With `data_dir`, the config keeps the device's journal there (a handheld on this machine, as in
/// the demo) instead of the handheld default.
pub fn write_files(p: &Provisioned, out: &Path, data_dir: Option<&Path>) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let config = out.join(format!("{}.toml", p.device.id));
    let qr = out.join(format!("{}-provisioning.png", p.device.id));
    let caption = format!("{} {}", p.device.id, p.device.warehouse);
    let text = match data_dir {
        Some(dir) => firmware_config::provision::decode(&p.provisioning)?
            .to_config_toml(dir, firmware_config::Language::ZhCn)?,
        None => p.config_toml.clone(),
    };
    write_private(&config, text.as_bytes())?;
    write_private(&qr, &devices::provisioning_png(&p.provisioning, &caption)?)?;
    println!("device {} ({})", p.device.id, p.device.warehouse);
    println!("  config file:       {}", config.display());
    println!("  provisioning QR:   {}", qr.display());
    println!(
        "  run it with:       chainmark-scanner --config {}",
        config.display()
    );
    println!("  or on a fresh one: chainmark-scanner --provision   (then scan the QR)");
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}
