//! Bringing an existing network in (issue 23; docs/import.md): read the files, check them against
//! the rules (`domain::network_import`) and the database, and write everything in one
//! transaction — or nothing, naming every problem by file, sheet, row and column.
//!
//! - Agents get `agent` accounts (user name = phone) with one-time passwords, returned once, as
//!   an approval gives them (`joining::approve_now`); they must be changed at first sign-in.
//! - Suppliers are derived from the referrer chain (DOMAIN §3); where the old system said
//!   otherwise the import reports it.
//! - Opening balances are postings against `hq:migration` (`import:{id}:opening:{agent}`);
//!   frozen amounts are released on their day by the settlement job ([`release_due`]).
//! - Historical orders and activity are dated in the past, so the level engine's windows and
//!   the referrer's invitation counts (activation = the day it joined) see them.
//! - The same content twice (its digest) changes nothing.

pub mod read;
pub mod sample;
pub mod template;

use std::collections::{BTreeSet, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use rand::SeedableRng;
use rust_decimal::Decimal;

use crate::auth::password;
use crate::domain::network::AgentStatus;
use crate::domain::network::{Account, AgentId, HqAccount, Line, Posting};
use crate::domain::network_import::{
    self as rules, KnownAgent, Plan, Problem, SupplierDifference, Table, Taken, TierInfo, Upline,
    World,
};
use crate::error::{Error, Result};
use crate::store::levels::changes::ActivityRow;
use crate::store::levels::state::AgentLevelRow;
use crate::store::network::history::{self, HistoricalOrder};
use crate::store::network::ledger::{self as ledger_store, Meta};
use crate::store::network::{agents as agent_store, money};
use crate::store::network_import::{self as store, ImportRow, NewImport};
use crate::store::users::now;
use crate::store::{DbConnection, audit};
pub use read::Upload;

/// What checking a file found.
#[derive(Debug)]
pub enum Checked {
    /// Every problem; nothing was written.
    Problems(Vec<Problem>),
    /// This content was imported before: nothing to do.
    AlreadyImported(ImportRow),
    /// It would import as planned.
    Ready(Box<Plan>),
}

/// An agent's sign-in, to hand over once.
#[derive(Debug, Clone)]
pub struct Credential {
    pub phone: String,
    pub name: String,
    pub password: String,
}

/// What an import did.
#[derive(Debug)]
pub struct Imported {
    pub import: ImportRow,
    pub credentials: Vec<Credential>,
    pub differences: Vec<SupplierDifference>,
}

#[derive(Debug)]
pub enum Outcome {
    Problems(Vec<Problem>),
    AlreadyImported(ImportRow),
    Imported(Box<Imported>),
}

/// A step of the work, for a progress bar: `(step, done, total)`.
pub type Progress<'a> = &'a mut dyn FnMut(&'static str, u64, u64);

/// Reads every file; problems of all of them at once.
pub fn read_all(files: &[Upload]) -> std::result::Result<Vec<Table>, Vec<Problem>> {
    let mut tables = Vec::new();
    let mut problems = Vec::new();
    for f in files {
        match read::read(f) {
            Ok(t) => tables.extend(t),
            Err(p) => problems.extend(p),
        }
    }
    if problems.is_empty() {
        Ok(tables)
    } else {
        Err(problems)
    }
}

/// Reads and checks the files against the database without writing.
pub fn check(conn: &mut DbConnection, files: &[Upload]) -> Result<Checked> {
    let tables = match read_all(files) {
        Ok(t) => t,
        Err(p) => return Ok(Checked::Problems(p)),
    };
    check_tables(conn, &tables)
}

fn check_tables(conn: &mut DbConnection, tables: &[Table]) -> Result<Checked> {
    Ok(plan_tables(conn, tables)?.0)
}

/// The check, with what was loaded for it when it passed (the write needs it too).
fn plan_tables(conn: &mut DbConnection, tables: &[Table]) -> Result<(Checked, Option<Loaded>)> {
    let digest = rules::digest(tables);
    if let Some(done) = store::by_digest(conn, &digest)? {
        return Ok((Checked::AlreadyImported(done), None));
    }
    let loaded = load_world(conn, tables)?;
    let world = loaded.world();
    Ok(match rules::plan(tables, &world) {
        Ok(plan) => (Checked::Ready(Box::new(plan)), Some(loaded)),
        Err(problems) => (Checked::Problems(problems), None),
    })
}

/// What the database knows that the rules need (owned; [`World`] borrows the region book).
struct Loaded {
    tiers: Vec<TierInfo>,
    today: NaiveDate,
    taken: HashMap<String, Taken>,
    agents_by_phone: HashMap<String, i64>,
    known: HashMap<i64, KnownAgent>,
    skus: HashMap<String, i64>,
    policy_version: i64,
}

impl Loaded {
    fn world(&self) -> World<'_> {
        World {
            tiers: self.tiers.clone(),
            today: self.today,
            regions: crate::diversion::regions(),
            taken: self.taken.clone(),
            agents_by_phone: self.agents_by_phone.clone(),
            known: self.known.clone(),
            skus: self.skus.clone(),
        }
    }
}

fn load_world(conn: &mut DbConnection, tables: &[Table]) -> Result<Loaded> {
    let (policy_row, policy) = crate::network::policy::active(conn)?;
    let tiers = policy
        .tiers()
        .iter()
        .map(|t| TierInfo {
            rank: t.rank.0,
            key: t.key.clone(),
            name_zh: t.name_zh.clone(),
            name_en: t.name_en.clone(),
        })
        .collect();
    let wanted = rules::wanted(tables);
    let phones: Vec<String> = wanted.phones.into_iter().collect();
    let mut taken = HashMap::new();
    let mut agents_by_phone = HashMap::new();
    for (name, agent) in store::accounts(conn, &phones)? {
        taken.insert(name.clone(), Taken::Account);
        if let Some(id) = agent {
            agents_by_phone.insert(name, id);
        }
    }
    for phone in store::pending_phones(conn, &phones)? {
        taken.entry(phone).or_insert(Taken::Pending);
    }
    // Existing agents named by the file and everyone above them: the supplier rule walks up.
    let mut known = HashMap::new();
    for &id in agents_by_phone.values() {
        if known.contains_key(&id) {
            continue;
        }
        for row in agent_store::with_ancestors(conn, id)? {
            known.insert(
                row.id,
                KnownAgent {
                    referrer: row.referrer_id,
                    tier_rank: u8::try_from(row.tier_rank).unwrap_or(u8::MAX),
                    active: row.is_active(),
                    phone: None,
                },
            );
        }
    }
    let ids: Vec<i64> = known.keys().copied().collect();
    for (id, phone) in store::phones_of(conn, &ids)? {
        if let Some(k) = known.get_mut(&id) {
            k.phone = Some(phone);
        }
    }
    let skus: Vec<String> = wanted.skus.into_iter().collect();
    Ok(Loaded {
        tiers,
        today: now().date(),
        taken,
        agents_by_phone,
        known,
        skus: store::products_by_sku(conn, &skus)?,
        policy_version: policy_row.version,
    })
}

/// Reads, checks and imports the files in one transaction; a problem anywhere writes nothing.
pub fn import(
    conn: &mut DbConnection,
    files: &[Upload],
    by: Option<i64>,
    progress: Progress<'_>,
) -> Result<Outcome> {
    let tables = match read_all(files) {
        Ok(t) => t,
        Err(p) => return Ok(Outcome::Problems(p)),
    };
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    let names = names.join(", ");
    crate::store::in_transaction(conn, |conn| {
        let (plan, loaded) = match plan_tables(conn, &tables)? {
            (Checked::Problems(p), _) => return Ok(Outcome::Problems(p)),
            (Checked::AlreadyImported(row), _) => return Ok(Outcome::AlreadyImported(row)),
            (Checked::Ready(plan), Some(loaded)) => (plan, loaded),
            (Checked::Ready(_), None) => {
                return Err(Error::Internal("a plan without its world".into()));
            }
        };
        write(conn, &plan, &loaded, &names, by, progress)
            .map(|done| Outcome::Imported(Box::new(done)))
    })
}

fn midday(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(12, 0, 0).unwrap_or_default()
}

fn midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(0, 0, 0).unwrap_or_default()
}

fn write(
    conn: &mut DbConnection,
    plan: &Plan,
    loaded: &Loaded,
    names: &str,
    by: Option<i64>,
    progress: Progress<'_>,
) -> Result<Imported> {
    let at = now();
    let report: Vec<serde_json::Value> = plan
        .supplier_differences
        .iter()
        .map(|d| {
            serde_json::json!({
                "row": d.row, "phone": d.phone, "old": d.old, "derived": d.derived,
            })
        })
        .collect();
    let import = store::insert_import(
        conn,
        &NewImport {
            digest: plan.digest.clone(),
            file_names: names.chars().take(500).collect(),
            agents: plan.agents.len() as i64,
            balances: plan.balances.len() as i64,
            orders: plan.orders.len() as i64,
            activity: plan.activity.len() as i64,
            opening_cents: plan.opening_cents(),
            report: serde_json::Value::Array(report).to_string(),
            imported_at: at,
            imported_by: by,
        },
    )?;
    let total = plan.agents.len() as u64;

    // Accounts: one-time passwords from one seeded generator, hashed for one-time use.
    let mut rng = rand::rngs::StdRng::from_rng(rand::rngs::OsRng)
        .map_err(|e| Error::Internal(format!("random generator: {e}")))?;
    let credentials: Vec<Credential> = plan
        .agents
        .iter()
        .map(|a| Credential {
            phone: a.phone.clone(),
            name: a.name.clone(),
            password: password::generate_password_with(&mut rng),
        })
        .collect();
    let hashes: Vec<String> = credentials
        .iter()
        .map(|c| password::hash_generated(&c.password))
        .collect();
    let accounts: Vec<store::NewAccount<'_>> = plan
        .agents
        .iter()
        .zip(&hashes)
        .map(|(a, h)| store::NewAccount {
            username: &a.phone,
            display_name: &a.name,
            password_hash: h,
        })
        .collect();
    let user_ids = store::insert_accounts(conn, &accounts, at)?;

    // Agents in the plan's order (referrers first); a batch is cut before an agent whose
    // referrer or supplier is still in it, so every upline has its id when it is needed.
    let mut ids: Vec<Option<i64>> = vec![None; plan.agents.len()];
    let mut batch: Vec<usize> = Vec::new();
    let resolve = |u: Upline, ids: &[Option<i64>]| -> Result<Option<i64>> {
        match u {
            Upline::Hq => Ok(None),
            Upline::Known(id) => Ok(Some(id)),
            Upline::File(i) => ids
                .get(i)
                .copied()
                .flatten()
                .map(Some)
                .ok_or_else(|| Error::Internal(format!("agent {i} of the plan has no id yet"))),
        }
    };
    let mut flush = |batch: &mut Vec<usize>, ids: &mut Vec<Option<i64>>| -> Result<()> {
        let mut rows = Vec::with_capacity(batch.len());
        for &i in batch.iter() {
            let a = &plan.agents[i];
            rows.push(store::NewImportedAgent {
                user_id: *user_ids
                    .get(&a.phone)
                    .ok_or_else(|| Error::Internal(format!("no account for {}", a.phone)))?,
                name: a.name.clone(),
                tier_rank: i32::from(a.tier_rank),
                referrer_id: resolve(a.referrer, ids)?,
                supplier_id: resolve(a.supplier, ids)?,
                region: a.regions.first().cloned().unwrap_or_default(),
                status: if a.active {
                    AgentStatus::Active
                } else {
                    AgentStatus::Suspended
                },
                joined_at: midnight(a.joined_on),
                policy_version: loaded.policy_version,
            });
        }
        let made = store::insert_agents(conn, &rows)?;
        for &i in batch.iter() {
            let user = user_ids.get(&plan.agents[i].phone).copied().unwrap_or(0);
            ids[i] = made.get(&user).copied();
        }
        batch.clear();
        progress(
            "agents",
            ids.iter().filter(|i| i.is_some()).count() as u64,
            total,
        );
        Ok(())
    };
    for (i, a) in plan.agents.iter().enumerate() {
        let pending = |u: Upline| matches!(u, Upline::File(j) if ids[j].is_none());
        if pending(a.referrer) || pending(a.supplier) || batch.len() >= 1000 {
            flush(&mut batch, &mut ids)?;
        }
        batch.push(i);
    }
    flush(&mut batch, &mut ids)?;
    let ids: Vec<i64> = ids
        .into_iter()
        .map(|i| i.ok_or_else(|| Error::Internal("an imported agent has no id".into())))
        .collect::<Result<_>>()?;

    let mut regions = Vec::new();
    let mut profiles = Vec::with_capacity(ids.len());
    let mut levels = Vec::with_capacity(ids.len());
    for (a, &id) in plan.agents.iter().zip(&ids) {
        regions.extend(a.regions.iter().map(|r| (id, r.clone())));
        profiles.push(store::ImportedAgent {
            agent_id: id,
            source_row: a.row as i64,
            phone: a.phone.clone(),
            id_number: a.id_number.clone(),
            old_supplier: a
                .old_supplier
                .clone()
                .map(|s| s.unwrap_or_else(|| "HQ".into())),
        });
        levels.push(AgentLevelRow::new(id, i32::from(a.tier_rank), a.reached_on));
    }
    store::insert_regions(conn, &regions)?;
    store::insert_imported_agents(conn, import.id, &profiles)?;
    store::insert_levels(conn, &levels)?;

    book_openings(conn, plan, &ids, import.id, progress)?;

    let orders: Vec<HistoricalOrder> = plan
        .orders
        .iter()
        .map(|o| {
            let a = &plan.agents[o.agent];
            Ok(HistoricalOrder {
                buyer_id: ids[o.agent],
                seller_id: resolve_final(a.supplier, &ids),
                tier_rank: i32::from(a.tier_rank),
                product_id: o.product_id,
                quantity: o.quantity,
                goods_amount_cents: o.amount_cents,
                policy_version: loaded.policy_version,
                paid_at: midday(o.paid_on),
                source_no: o.order_no.clone(),
            })
        })
        .collect::<Result<_>>()?;
    progress("orders", 0, orders.len() as u64);
    history::insert_historical(conn, import.id, &orders)?;
    progress("orders", orders.len() as u64, orders.len() as u64);

    let activity: Vec<ActivityRow> = plan
        .activity
        .iter()
        .map(|e| ActivityRow {
            id: 0,
            agent_id: ids[e.agent],
            kind: e.kind,
            amount_cents: e.cents,
            level_key: e.level_key.clone(),
            note: Some(format!("import {} row {}", import.id, e.row)),
            at: midday(e.on),
            recorded_by: by,
        })
        .collect();
    store::insert_activity(conn, &activity)?;
    progress("activity", activity.len() as u64, activity.len() as u64);

    audit::record(
        conn,
        by,
        "network.import",
        &format!("import:{}", import.id),
        &serde_json::json!({
            "files": names,
            "agents": plan.agents.len(),
            "balances": plan.balances.len(),
            "orders": plan.orders.len(),
            "activity": plan.activity.len(),
            "opening": money(plan.opening_cents()).to_string(),
            "supplier_differences": plan.supplier_differences.len(),
        }),
    )?;
    let differences = plan.supplier_differences.clone();
    tracing::info!(
        import = import.id,
        agents = plan.agents.len(),
        orders = plan.orders.len(),
        "network imported"
    );
    Ok(Imported {
        import,
        credentials,
        differences,
    })
}

fn resolve_final(u: Upline, ids: &[i64]) -> Option<i64> {
    match u {
        Upline::Hq => None,
        Upline::Known(id) => Some(id),
        Upline::File(i) => ids.get(i).copied(),
    }
}

/// One balanced posting per agent with a balance: its available and frozen credited, HQ's
/// migration account debited; frozen amounts remembered with their release day.
fn book_openings(
    conn: &mut DbConnection,
    plan: &Plan,
    ids: &[i64],
    import_id: i64,
    progress: Progress<'_>,
) -> Result<()> {
    let mut per_agent: HashMap<usize, (i64, i64)> = HashMap::new();
    let mut frozen = Vec::new();
    for b in &plan.balances {
        let e = per_agent.entry(b.agent).or_default();
        match b.release_on {
            None => e.0 += b.cents,
            Some(day) => {
                e.1 += b.cents;
                frozen.push((ids[b.agent], b.cents, day));
            }
        }
    }
    let agents: BTreeSet<usize> = per_agent.keys().copied().collect();
    let mut postings = Vec::with_capacity(agents.len());
    for i in agents {
        let (available, held) = per_agent[&i];
        let agent = AgentId(ids[i].unsigned_abs());
        let mut lines = Vec::new();
        for (account, cents) in [
            (Account::available(agent), available),
            (Account::frozen(agent), held),
            (Account::Hq(HqAccount::Migration), -(available + held)),
        ] {
            if cents != 0 {
                lines.push(Line {
                    account,
                    amount: Decimal::new(cents, 2),
                });
            }
        }
        if lines.is_empty() {
            continue;
        }
        let posting = Posting::new(format!("import:{import_id}:opening:{}", ids[i]), lines)
            .map_err(|e| Error::Internal(format!("opening posting: {e}")))?;
        postings.push((
            posting,
            Meta {
                kind: crate::domain::network::PostingKind::Opening,
                ..Meta::default()
            },
        ));
    }
    let total = postings.len() as u64;
    for (n, chunk) in postings.chunks(5000).enumerate() {
        ledger_store::book_all(conn, chunk)?;
        progress(
            "balances",
            ((n + 1) * 5000).min(chunk.len() + n * 5000) as u64,
            total,
        );
    }
    store::insert_opening_frozen(conn, import_id, &frozen)?;
    Ok(())
}

/// Releases opening frozen amounts whose day has come: frozen → available, one posting each
/// (`import:{import}:release:{id}`), so a run repeated or overlapping books once. Run by the
/// settlement job; returns how many were released.
pub fn release_due(conn: &mut DbConnection, at: NaiveDateTime) -> Result<usize> {
    let mut released = 0;
    loop {
        let due = store::frozen_due(conn, at.date(), 5000)?;
        if due.is_empty() {
            return Ok(released);
        }
        let n = crate::store::in_transaction::<_, Error>(conn, |conn| {
            let mut postings = Vec::with_capacity(due.len());
            for d in &due {
                let agent = AgentId(d.agent_id.unsigned_abs());
                let posting = Posting::transfers(
                    format!("import:{}:release:{}", d.import_id, d.id),
                    [(
                        Account::frozen(agent),
                        Account::available(agent),
                        Decimal::new(d.amount_cents, 2),
                    )],
                )
                .ok_or_else(|| chainmark_store::Error::Internal("an empty release".into()))?;
                postings.push((
                    posting,
                    Meta {
                        kind: crate::domain::network::PostingKind::Release,
                        ..Meta::default()
                    },
                ));
            }
            ledger_store::book_all(conn, &postings)?;
            let ids: Vec<i64> = due.iter().map(|d| d.id).collect();
            Ok(store::mark_released(conn, &ids, at)?)
        })?;
        released += n;
        if due.len() < 5000 {
            return Ok(released);
        }
    }
}

/// The credentials as CSV (UTF-8 with a BOM): phone, name, one-time password.
pub fn credentials_csv(credentials: &[Credential], zh: bool) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = if zh {
        ["手机号(登录名)", "姓名", "一次性密码"]
    } else {
        ["Phone (user name)", "Name", "One-time password"]
    };
    w.write_record(header)
        .map_err(|e| Error::Internal(format!("credentials: {e}")))?;
    for c in credentials {
        w.write_record([&c.phone, &c.name, &c.password])
            .map_err(|e| Error::Internal(format!("credentials: {e}")))?;
    }
    let body = w
        .into_inner()
        .map_err(|e| Error::Internal(format!("credentials: {e}")))?;
    let mut out = "\u{feff}".as_bytes().to_vec();
    out.extend(body);
    Ok(out)
}
