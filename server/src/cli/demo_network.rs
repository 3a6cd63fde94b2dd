//! The demo's agent network, set up on the first run of `chainmark demo`: the seed-004 policy
//! active, four agents of four tiers in one referral line, each with an `agent` account, and
//! orders in the states a brand sees every day — so whoever opens the demo finds a network on
//! `/hq/network` and in the agent portal (`/agent`), not empty pages.
//!
//! Everything goes through the network's use cases, acting as HQ or as the agent would, so the
//! demo's data obeys the same rules (stock, payment, activation, ledger) as real use.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, bail};
use chainmark_server::accounts;
use chainmark_server::domain::Role;
use chainmark_server::domain::network::PaidVia;
use chainmark_server::joining::{self, certificates};
use chainmark_server::network::{Actor, agents, orders, payment, policy, shipping};
use chainmark_server::store::DbConnection;
use chainmark_server::store::diversion_places as places;

/// Where the agents' one-time passwords are written, next to the admin's.
pub const PASSWORD_FILE: &str = "agent-passwords.txt";

/// (username, name, tier key, region). Each is referred by the one before it, so the line
/// reads 总代 → 省代 → 市代 → 区代 and every tier below the first has a supplier of its own.
const AGENTS: [(&str, &str, &str, &str); 4] = [
    ("agent-national", "张伟", "national", "浙江省"),
    ("agent-provincial", "李娜", "provincial", "浙江省"),
    ("agent-city", "王芳", "city", "杭州市"),
    ("agent-district", "刘洋", "district", "杭州市西湖区"),
];

/// The GB/T 2260 regions the agents are authorised for (diversion audit, DOMAIN §8), in the
/// order of `AGENTS`: 浙江省, 浙江省, 杭州市, 杭州市西湖区.
const REGION_CODES: [&str; 4] = ["330000", "330000", "330100", "330106"];

/// The demo products' prices per tier where they differ from the tier's own (the tea's): each
/// tier pays more than the one above it, so forwarding up the chain leaves every agent a margin.
const DEMO_PRICES: &str = r#"
# The demo's price list: products other than the tea cost more than the tier's own price.
[prices.DEMO-OIL-500]
national = "30.00"
provincial = "36.00"
city = "44.00"
district = "52.00"
special = "78.00"

[prices.DEMO-HONEY-1K]
national = "48.00"
provincial = "58.00"
city = "70.00"
district = "84.00"
special = "128.00"
"#;

/// One demo agent once it exists.
struct Made {
    username: &'static str,
    tier: &'static str,
    actor: Actor,
    id: i64,
}

/// Builds the network. `batch_dir` is the demo batch (its `print.csv` names the codes HQ ships
/// from), `sku` its product, `admin` the HQ admin acting for HQ.
pub fn setup(
    conn: &mut DbConnection,
    dir: &Path,
    base_url: &str,
    admin: i64,
    batch_dir: &Path,
    sku: &str,
) -> anyhow::Result<()> {
    let hq = Actor::Hq {
        user: admin,
        role: Role::HqAdmin,
    };
    // A fresh database activates the shipped seed-004 preset on first use; one already holding
    // an active policy keeps it. The demo's range then gets its price list (授权价格, DOMAIN
    // §10): the tea at each tier's own price, the oil and the honey at theirs.
    let (current, _) = policy::active(conn)?;
    if !current.document.contains("[prices") {
        // The same document with the price list, as the next version.
        let bumped: Vec<String> = current
            .document
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("version") && l.contains('=') {
                    format!("version = {}", current.version + 1)
                } else {
                    l.to_string()
                }
            })
            .collect();
        let priced = format!("{}\n{DEMO_PRICES}", bumped.join("\n").trim_end());
        let draft = policy::save_draft(conn, &priced, Some(admin))?;
        policy::activate(conn, draft.version, Some(admin))?;
    }
    let (row, policy) = policy::active(conn)?;
    let entry = |tier: &str| -> anyhow::Result<i64> {
        let t = policy
            .tier_by_key(tier)
            .with_context(|| format!("the active policy has no tier {tier}"))?;
        // A brand counting its entry in money: the whole items at the tier's price that reach it.
        match t.entry {
            chainmark_server::domain::network::Entry::Quantity(q) => Ok(i64::from(q)),
            chainmark_server::domain::network::Entry::Amount(a) => {
                let price = policy
                    .price(t.rank, sku)
                    .with_context(|| format!("{sku} has no price at {tier}"))?;
                let items = (a / price).ceil();
                items
                    .to_string()
                    .parse::<i64>()
                    .with_context(|| format!("entry amount {a} at {price}"))
            }
        }
    };

    let mut made: Vec<Made> = Vec::new();
    let mut passwords = String::new();
    for (username, name, tier, region) in AGENTS {
        let (user, password) = accounts::create_user(conn, username, name, Role::Agent, None)?;
        let password = password.context("a generated password")?;
        writeln!(passwords, "{username} {password}")?;
        let input = agents::NewAgentInput {
            name: name.into(),
            tier: tier.into(),
            referrer_id: made.last().map(|m| m.id),
            region: region.into(),
            user_id: Some(user.id),
        };
        let id = agents::create(conn, input, Some(admin))?.id;
        places::set_agent_regions(conn, id, &[REGION_CODES[made.len()].to_string()])?;
        let actor = Actor::Agent {
            user: user.id,
            agent: id,
        };
        made.push(Made {
            username,
            tier,
            actor,
            id,
        });
        // Each agent but the last becomes active (its entry order paid) before the next one
        // joins below it: only an active agent refers.
        let order = |q| orders::OrderInput::single(sku, q);
        match made.len() {
            // 总代 buys from HQ: accepted, transfer confirmed, shipped and received, so it holds
            // the stock the agents below it are served from.
            1 => {
                let o = orders::submit(conn, actor, &order(entry(tier)?))?.id;
                orders::accept(conn, o, hq)?;
                payment::pay(conn, o, PaidVia::Offline, hq)?;
                let serials = hq_serials(batch_dir, entry(tier)?)?;
                let shipped = shipping::ship_items(conn, o, Some(admin), &serials)?;
                if !shipped.rejected.is_empty()
                    || shipped.state != chainmark_server::domain::network::OrderState::Shipped
                {
                    bail!(
                        "shipping the demo order #{o} left it {} with {} codes refused",
                        shipped.state,
                        shipped.rejected.len()
                    );
                }
                shipping::receive(conn, o, actor, false)?;
            }
            // 省代 buys from its 总代, which holds the stock: accepted and paid, left for the
            // 总代 to ship from its portal.
            2 => {
                let seller = made[0].actor;
                let o = orders::submit(conn, actor, &order(entry(tier)?))?.id;
                orders::accept(conn, o, seller)?;
                payment::pay(conn, o, PaidVia::Offline, seller)?;
            }
            // 市代 buys from its 省代, which holds nothing: forwarded up to the 总代 (the 省代
            // earns the margin) and paid to the 省代.
            3 => {
                let seller = made[1].actor;
                let o = orders::submit(conn, actor, &order(entry(tier)?))?.id;
                orders::forward(conn, o, seller)?;
                payment::pay(conn, o, PaidVia::Offline, seller)?;
            }
            // 区代's entry order waits on its 市代 to accept or forward it.
            _ => {
                orders::submit(conn, actor, &order(entry(tier)?))?;
            }
        }
    }
    let password_file = dir.join(PASSWORD_FILE);
    super::demo::write_private(&password_file, &passwords)?;

    let national = &made[0];
    let certificate = certificates::issue(conn, national.actor, national.id, None)?;
    let provincial = &made[1];
    let invitation = joining::invite(conn, provincial.actor, provincial.id, Some("city"))?;

    println!(
        "  agent network: policy {} v{} active; agents (sign in at {base_url}/login, then /agent):",
        row.name, row.version
    );
    for m in &made {
        let t = policy.tier_by_key(m.tier).context("a tier of the policy")?;
        println!("    {:<18} {} ({})", m.username, t.name_zh, t.name_en);
    }
    println!(
        "            one-time passwords in {} (change them at first sign-in)",
        password_file.display()
    );
    println!(
        "    orders: 总代's entry shipped and received; 省代's paid, to ship; 市代's forwarded \
         to the 总代 and paid; 区代's waiting on its 市代"
    );
    println!(
        "    invitation (市代): {}",
        joining::join_url(base_url, &invitation.code)
    );
    println!(
        "    certificate (总代): {}",
        certificates::check_url(base_url, &certificate.code)
    );
    Ok(())
}

/// `count` codes HQ ships, from the end of the batch's `print.csv`: the demo shows a few codes
/// from the start (and one at 7,500 as still at HQ), which must stay where they are.
fn hq_serials(batch_dir: &Path, count: i64) -> anyhow::Result<Vec<String>> {
    let path = batch_dir.join("print.csv");
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    // The serial is the first field; codes never contain commas (codes.md).
    let serials: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').next())
        .map(String::from)
        .collect();
    let count = usize::try_from(count).context("an entry quantity")?;
    let Some(start) = serials.len().checked_sub(count) else {
        bail!(
            "the demo batch has {} codes, fewer than the {count} of the first entry order",
            serials.len()
        );
    };
    if start <= 7_500 {
        bail!("the demo batch is too small to ship {count} codes past the ones it shows");
    }
    Ok(serials[start..].to_vec())
}

/// One diversion alert for the audit console (`/hq/audit`): a consumer in 广州 天河区 verifies,
/// through the real verification use case, the last code of the batch — one the 总代, authorised
/// for 浙江省, received. Runs once the setup has released its connection (the demo's pool holds
/// one while it sets up).
pub fn divert_one(app: &chainmark_server::app::App, batch_dir: &Path) -> anyhow::Result<()> {
    let path = batch_dir.join("print.csv");
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let last = text.lines().last().context("an empty print.csv")?;
    let fields: Vec<&str> = last.split(',').collect();
    let (Some(serial), Some(code), Some(url)) = (fields.first(), fields.get(1), fields.get(2))
    else {
        bail!("print.csv's last line has too few fields");
    };
    let tag = url
        .split("t=")
        .nth(1)
        .context("a verify URL without its tag")?;
    let request = chainmark_server::verify::Request {
        serial: (*serial).to_string(),
        tag: tag.to_string(),
        security_code: Some((*code).to_string()),
        client: std::net::Ipv4Addr::LOCALHOST.into(),
        user_agent: Some(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/126.0 Mobile Safari/537.36"
                .into(),
        ),
        latitude: Some(23.12),
        longitude: Some(113.36),
        region: None,
        consumer: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(chainmark_server::verify::verify(app, request))?;
    println!(
        "    diversion: {serial} (the 总代's, 浙江省) verified in 广州 天河区 — one alert on \
         /hq/audit/alerts"
    );
    Ok(())
}
