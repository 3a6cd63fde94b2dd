//! `chainmark demo [--data DIR] [--listen ADDR]`: a working brand on this machine in one command.
//!
//! First run: creates DIR with a SQLite database, a master key, `chainmark.toml`, demo products,
//! an HQ admin with a one-time password, and a batch of 10,000 codes (its `print.csv` kept, so
//! real codes can be tried) of which the first 5,000 are released for sale, and a small agent
//! network (`demo_network.rs`). Every run then serves the folder and prints the URLs to open. A
//! folder with `chainmark.toml` is reused as it is.

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chainmark_server::accounts;
use chainmark_server::app::App;
use chainmark_server::config::Settings;
use chainmark_server::domain::Role;
use chainmark_server::registry::{self, ImportOptions, ProductInput};
use codegen::batch::{BatchSpec, write_batch};
use codegen::keys::MasterKey;
use serde::Serialize;

const CONFIG: &str = "chainmark.toml";
const PASSWORD_FILE: &str = "admin-password.txt";
const BATCH_ITEMS: u64 = 10_000;
const RELEASED: u64 = 5_000;

/// (SKU, name, English name, items per case)
const PRODUCTS: [(&str, &str, &str, u32); 3] = [
    (
        "DEMO-TEA-250",
        "明前龙井 250克",
        "Pre-Qingming Longjing tea, 250 g",
        24,
    ),
    (
        "DEMO-OIL-500",
        "山茶油 500毫升",
        "Camellia seed oil, 500 ml",
        12,
    ),
    (
        "DEMO-HONEY-1K",
        "百花蜂蜜 1千克",
        "Wildflower honey, 1 kg",
        6,
    ),
];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The demo's folder: created on the first run, reused afterwards.
    #[arg(long, default_value = "./chainmark-data")]
    pub data: PathBuf,
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

/// What goes into `DIR/chainmark.toml`: the settings the demo was set up with, environment
/// included (`CHAINMARK_DATABASE_URL`, `CHAINMARK_MQTT_*`), so later runs and other commands
/// given this file (`chainmark --config DIR/chainmark.toml device add ...`) use the same
/// database and broker.
#[derive(Serialize)]
struct DemoConfig {
    listen: String,
    database_url: String,
    key_files: Vec<String>,
    base_url: String,
    /// The demo courier plays each shipment's track (`CHAINMARK_COURIER` overrides it).
    courier: chainmark_server::network::tracking::CourierChoice,
    mqtt: DemoMqtt,
}

#[derive(Serialize)]
struct DemoMqtt {
    device_key_file: String,
    /// Where the embedded broker listens, and so the broker address devices are given.
    listen: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    broker_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_url: Option<String>,
}

/// The demo's handheld: its config file and provisioning QR are written to `DIR/devices/`.
const DEMO_DEVICE: &str = "demo-hh-01";

pub fn run(args: Args) -> anyhow::Result<()> {
    let dir = std::path::absolute(&args.data)
        .with_context(|| format!("cannot resolve {}", args.data.display()))?;
    let config = dir.join(CONFIG);
    let first_run = !config.exists();
    if first_run {
        let occupied = fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
        if occupied {
            bail!(
                "{} exists but holds no {CONFIG}, so it is not a finished demo folder (an earlier \
                 setup may have been interrupted): delete it, or pick another --data folder",
                dir.display()
            );
        }
        setup(&dir, args.listen)?;
    } else {
        println!(
            "reusing the demo in {} (delete the folder to start over)",
            dir.display()
        );
    }
    let mut settings = Settings::load(Some(&config))?;
    settings.listen = args.listen;
    let app = App::open(settings)?;
    print_urls(&dir, &app.settings, first_run)?;
    super::serve::serve_app(app)
}

fn setup(dir: &Path, listen: SocketAddr) -> anyhow::Result<()> {
    println!("setting up a demo brand in {}", dir.display());
    private_dir(dir)?;
    private_dir(&dir.join("batches"))?;
    println!(
        "  private: {} and its folders are 0700; chainmark.db (with -wal, -shm), print.csv, \
         import.jsonl and the keys are 0600",
        dir.display()
    );
    let key_path = dir.join("master.key");
    let key = MasterKey::generate_to(&key_path)?;
    let device_key_path = dir.join("device.key");
    chainmark_server::ingest::device_key::DeviceKey::load_or_create(&device_key_path)?;
    let base_url = format!("http://{listen}");
    let mut settings = Settings {
        listen,
        database_url: format!("sqlite://{}", dir.join("chainmark.db").display()),
        key_files: vec![key_path.clone()],
        base_url: base_url.clone(),
        // One connection while the new file is set up: several opening at once race to switch
        // it to WAL and log "database is locked".
        database_pool_size: 1,
        ..Settings::default()
    };
    settings.mqtt.device_key_file = Some(device_key_path.clone());
    settings.courier = chainmark_server::network::tracking::CourierChoice::Demo;
    settings.apply_env(|name| std::env::var(name).ok())?;
    // What the environment changed is written down too: a demo set up on PostgreSQL must not
    // come back on an empty SQLite file, nor its devices point at another broker port.
    let demo = DemoConfig {
        listen: listen.to_string(),
        database_url: settings.database_url.clone(),
        key_files: vec![key_path.display().to_string()],
        base_url: base_url.clone(),
        courier: settings.courier,
        mqtt: DemoMqtt {
            device_key_file: device_key_path.display().to_string(),
            listen: settings.mqtt.listen.to_string(),
            broker_url: settings.mqtt.broker_url.clone(),
            public_url: settings.mqtt.public_url.clone(),
        },
    };
    let app = App::open(settings)?;
    let mut conn = app.db.get()?;

    for (sku, name, name_en, case_size) in PRODUCTS {
        registry::create_product(
            &mut conn,
            ProductInput {
                sku: sku.into(),
                name: name.into(),
                name_en: Some(name_en.into()),
                case_size: Some(case_size),
                ..ProductInput::default()
            },
        )?;
    }
    println!("  products: {}", PRODUCTS.map(|p| p.0).join(", "));

    let (admin, password) =
        accounts::create_user(&mut conn, "admin", "HQ admin", Role::HqAdmin, None)?;
    let password = password.context("a generated password")?;
    write_private(&dir.join(PASSWORD_FILE), &format!("{password}\n"))?;
    println!("  HQ admin: admin, one-time password {password}");
    println!(
        "            (also in {}; change it at first sign-in)",
        dir.join(PASSWORD_FILE).display()
    );

    let (sku, _, _, case_size) = PRODUCTS[0];
    let staging = dir.join("batches").join("new");
    let mut spec = BatchSpec::new(sku, BATCH_ITEMS, &base_url, &staging);
    spec.case_size = case_size;
    spec.production_date = Some(chrono::Utc::now().date_naive());
    let summary = write_batch(&spec, &key, &mut |_| {})?;
    let batch_dir = dir.join("batches").join(summary.header.id.as_str());
    fs::rename(&staging, &batch_dir).with_context(|| {
        format!(
            "cannot rename {} to {}",
            staging.display(),
            batch_dir.display()
        )
    })?;
    let imported = registry::import_batch(
        &mut conn,
        &app.keys,
        &app.settings.key_files,
        &batch_dir,
        ImportOptions {
            create_product: false,
            actor: Some(admin.id),
        },
        &mut |_, _| {},
    )?;
    let rows = read_rows(&batch_dir)?;
    let last_released = rows
        .get(RELEASED as usize - 1)
        .context("print.csv is shorter than the batch")?;
    registry::release(
        &mut conn,
        &imported.batch_id,
        &rows[0].serial,
        &last_released.serial,
        Some(admin.id),
    )?;
    println!(
        "  batch {}: {} codes of {sku} imported, the first {RELEASED} released for sale",
        imported.batch_id, imported.items
    );
    println!("  printed codes: {}", batch_dir.join("print.csv").display());
    super::demo_network::setup(&mut conn, dir, &base_url, admin.id, &batch_dir, sku)?;
    demo_campaign(&mut conn, admin.id)?;

    if let Some(directory) = &app.devices {
        let registration = chainmark_server::devices::Registration {
            id: DEMO_DEVICE.into(),
            warehouse: "HQ-WH01".into(),
            owner_agent: None,
        };
        let device = chainmark_server::devices::register(
            &mut conn,
            directory,
            &app.settings.mqtt,
            Some(admin.id),
            &registration,
        )?;
        let devices = dir.join("devices");
        let data = devices.join(format!("{DEMO_DEVICE}-data"));
        super::device::write_files(&device, &devices, Some(&data))?;
    }

    drop(conn);
    super::demo_network::divert_one(&app, &batch_dir)?;

    // Written last: its presence marks a finished setup. Owner-only: a PostgreSQL URL may
    // carry a password.
    let text = toml::to_string(&demo).context("writing the config")?;
    write_private(
        &dir.join(CONFIG),
        &format!("# Written by `chainmark demo`.\n{text}"),
    )?;
    Ok(())
}

/// The demo's running scan-marketing campaign (扫码营销, issue 21): a lottery on the first
/// verification of any product — a red packet of ¥0.88 to ¥8.88, 50 points or a ¥10 coupon — for
/// 90 days, within a budget of ¥2,000.
fn demo_campaign(
    conn: &mut chainmark_server::store::DbConnection,
    admin: i64,
) -> anyhow::Result<()> {
    use chainmark_server::campaign_desk;
    use chainmark_server::domain::marketing::{
        CampaignAction, CampaignDraft, Prize, PrizeKind, Scope,
    };
    use chainmark_server::network::Actor;
    let now = chainmark_server::store::users::now();
    let prize = |name: &str, kind, points, min_cents, max_cents, odds_bp, stock| Prize {
        name: name.into(),
        kind,
        points,
        min_cents,
        max_cents,
        odds_bp,
        stock,
    };
    let draft = CampaignDraft {
        name: "扫码有礼".into(),
        scope: Scope::default(),
        starts_at: now,
        ends_at: now + chrono::Duration::days(90),
        budget: rust_decimal::Decimal::new(200_000, 2),
        daily_limit: 3,
        lottery: true,
        prizes: vec![
            prize("幸运红包", PrizeKind::Cash, 0, 88, 888, 3000, Some(500)),
            prize("会员积分", PrizeKind::Points, 50, 0, 0, 5000, None),
            prize(
                "十元优惠券",
                PrizeKind::Coupon,
                0,
                1000,
                1000,
                1000,
                Some(100),
            ),
        ],
    };
    // As the admin would on the desk: checked, audited.
    let hq = Actor::Hq {
        user: admin,
        role: Role::HqAdmin,
    };
    let id = campaign_desk::create(conn, hq, &draft)?.id;
    campaign_desk::act(conn, hq, id, CampaignAction::Start)?;
    println!("  campaign: 扫码有礼 runs for 90 days (a lottery on each code's first verification)");
    Ok(())
}

/// A file only its owner can read: it holds a password.
/// A folder only the demo's user may open (0700), made if missing: it holds the database, the
/// keys and a batch's `print.csv` with every security code in clear.
fn private_dir(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make {} private", path.display()))
}

pub(super) fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

struct Row {
    serial: String,
    security_code: String,
    verify_url: String,
}

/// `print.csv` of the demo batch. Its fields never contain commas or quotes (codes.md), so a
/// plain split is exact.
fn read_rows(batch_dir: &Path) -> anyhow::Result<Vec<Row>> {
    let path = batch_dir.join("print.csv");
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut f = line.split(',');
            Some(Row {
                serial: f.next()?.to_string(),
                security_code: f.next()?.to_string(),
                verify_url: f.next()?.to_string(),
            })
        })
        .collect())
}

fn demo_batch(dir: &Path) -> anyhow::Result<PathBuf> {
    let batches = dir.join("batches");
    let mut found: Vec<PathBuf> = fs::read_dir(&batches)
        .with_context(|| format!("cannot read {}", batches.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("print.csv").is_file())
        .collect();
    found.sort();
    found
        .into_iter()
        .next()
        .with_context(|| format!("no batch with print.csv in {}", batches.display()))
}

fn print_urls(dir: &Path, settings: &Settings, first_run: bool) -> anyhow::Result<()> {
    let site = format!("http://{}", settings.listen);
    let rows = read_rows(&demo_batch(dir)?)?;
    println!();
    println!("open:");
    println!("  HQ console   {site}/hq   (user admin)");
    println!("  API docs     {site}/api/docs");
    if !first_run {
        println!(
            "  the admin's one-time password was printed at the first run and is kept in {}",
            dir.join(PASSWORD_FILE).display()
        );
    }
    println!();
    let device_config = dir.join("devices").join(format!("{DEMO_DEVICE}.toml"));
    if settings.mqtt.enabled && device_config.is_file() {
        println!(
            "  handheld     chainmark-scanner --config {}   (MQTT broker on {})",
            device_config.display(),
            settings.mqtt.listen
        );
    }
    println!();
    println!("try these codes (scan or open the URL, then enter the security code):");
    for (i, what) in [
        (0, "released for sale"),
        (2_500, "released for sale"),
        (7_500, "not released: still at HQ"),
    ] {
        let Some(row) = rows.get(i) else { continue };
        // The codes were printed with the first run's address; serve them from this one.
        let url = row.verify_url.replacen(&settings.base_url, &site, 1);
        println!("  {url}");
        println!("      security code {}   ({what})", row.security_code);
    }
    println!();
    Ok(())
}
