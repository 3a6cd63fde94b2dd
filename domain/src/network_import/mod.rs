//! Bringing an existing network in (issue 23): the rules an import file must pass and the plan
//! it becomes. Pure: the file is already read into [`Table`]s (strings per cell) and what the
//! database knows is handed in as a [`World`]; the use case in `crate::network_import` reads,
//! loads and writes.
//!
//! Every problem is collected (not only the first), each named by file, sheet, row and column;
//! a file with any problem becomes no plan, so nothing is written.

pub mod columns;
pub mod problems;
mod values;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::diversion::region::RegionBook;
use super::network::placement::{self, AgentGraph};
use super::network::{AgentId, Party, TierRank};
pub use crate::levels::ActivityKind;
pub use columns::{Column, Sheet};
pub use problems::{Place, Problem, ProblemKind};
pub use values::normalise_phone;
use values::{parse_cents, parse_date, parse_quantity, phone};

/// One sheet as read: its headers and its rows, each with the row number the spreadsheet shows
/// (the header is row 1). Blank rows are left out by the reader, numbers kept.
#[derive(Debug, Clone)]
pub struct Table {
    pub file: String,
    pub sheet: Sheet,
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// A tier of the active policy.
#[derive(Debug, Clone)]
pub struct TierInfo {
    pub rank: u8,
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
}

/// Why a phone cannot be imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    Account,
    Pending,
}

/// An agent already in the database, as the supplier rule sees it.
#[derive(Debug, Clone)]
pub struct KnownAgent {
    pub referrer: Option<i64>,
    pub tier_rank: u8,
    pub active: bool,
    pub phone: Option<String>,
}

/// What the database knows that the checks need.
pub struct World<'a> {
    pub tiers: Vec<TierInfo>,
    pub today: NaiveDate,
    pub regions: &'a RegionBook,
    /// Phones (user names) that already sign in here, or have an application pending.
    pub taken: HashMap<String, Taken>,
    /// Existing agents by the phone they sign in with.
    pub agents_by_phone: HashMap<String, i64>,
    /// Existing agents referred to by the file and everyone above them.
    pub known: HashMap<i64, KnownAgent>,
    /// Product ids by SKU.
    pub skus: HashMap<String, i64>,
}

/// What the use case must look up before checking: the phones the file names and its SKUs.
#[derive(Debug, Default)]
pub struct Wanted {
    pub phones: BTreeSet<String>,
    pub skus: BTreeSet<String>,
}

/// An agent's upline as planned: in the database, or another agent of the file (its index in
/// [`Plan::agents`], which lists every referrer before those it referred).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upline {
    Hq,
    Known(i64),
    File(usize),
}

#[derive(Debug, Clone)]
pub struct PlannedAgent {
    pub row: usize,
    pub phone: String,
    pub name: String,
    pub id_number: String,
    pub tier_rank: u8,
    pub tier_key: String,
    /// `Hq` when nobody referred it.
    pub referrer: Upline,
    /// Derived by the usual rule (DOMAIN §3).
    pub supplier: Upline,
    pub regions: Vec<String>,
    pub joined_on: NaiveDate,
    pub reached_on: NaiveDate,
    pub active: bool,
    /// The supplier the old system named (a phone, or `None` for HQ), if the file says.
    pub old_supplier: Option<Option<String>>,
}

#[derive(Debug, Clone)]
pub struct PlannedBalance {
    pub row: usize,
    pub agent: usize,
    pub cents: i64,
    /// `None`: available; a day: frozen until then.
    pub release_on: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct PlannedOrder {
    pub row: usize,
    pub agent: usize,
    pub order_no: String,
    pub paid_on: NaiveDate,
    pub product_id: i64,
    pub quantity: i64,
    pub amount_cents: i64,
}

#[derive(Debug, Clone)]
pub struct PlannedActivity {
    pub row: usize,
    pub agent: usize,
    pub on: NaiveDate,
    pub kind: ActivityKind,
    pub cents: i64,
    pub level_key: Option<String>,
}

/// Where the old system named another supplier than the rule derives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierDifference {
    pub row: usize,
    pub phone: String,
    /// `None`: HQ.
    pub old: Option<String>,
    pub derived: Option<String>,
}

/// A file that passed every check: what the import writes.
#[derive(Debug, Clone)]
pub struct Plan {
    /// SHA-256 of the rows as read (hex): the same rows twice are the same import.
    pub digest: String,
    pub agents: Vec<PlannedAgent>,
    pub balances: Vec<PlannedBalance>,
    pub orders: Vec<PlannedOrder>,
    pub activity: Vec<PlannedActivity>,
    pub supplier_differences: Vec<SupplierDifference>,
}

impl Plan {
    /// Opening balances in total, cents.
    pub fn opening_cents(&self) -> i64 {
        self.balances.iter().map(|b| b.cents).sum()
    }
}

/// A table's cells by column.
struct Rows<'t> {
    table: &'t Table,
    index: HashMap<Column, usize>,
}

impl<'t> Rows<'t> {
    fn cell<'r>(&self, cells: &'r [String], c: Column) -> &'r str {
        self.index
            .get(&c)
            .and_then(|&i| cells.get(i))
            .map_or("", |s| s.trim())
    }

    fn place(&self, row: usize, column: Column) -> Place {
        Place {
            file: self.table.file.clone(),
            sheet: Some(self.table.sheet),
            row: Some(row),
            column: Some(column),
        }
    }
}

/// Maps headers to columns, naming unknown, doubled and missing ones.
fn columns_of<'t>(table: &'t Table, problems: &mut Vec<Problem>) -> Rows<'t> {
    let mut index = HashMap::new();
    let at = |column: Option<Column>| Place {
        file: table.file.clone(),
        sheet: Some(table.sheet),
        row: Some(1),
        column,
    };
    for (i, h) in table.headers.iter().enumerate() {
        if h.trim().is_empty() {
            continue;
        }
        match Column::by_header(table.sheet, h) {
            None => problems.push(Problem {
                place: at(None),
                kind: ProblemKind::UnknownColumn(h.trim().to_string()),
            }),
            Some(c) if index.contains_key(&c) => problems.push(Problem {
                place: at(Some(c)),
                kind: ProblemKind::ColumnTwice,
            }),
            Some(c) => {
                index.insert(c, i);
            }
        }
    }
    for &c in table.sheet.required() {
        if !index.contains_key(&c) {
            problems.push(Problem {
                place: at(Some(c)),
                kind: ProblemKind::MissingColumn,
            });
        }
    }
    Rows { table, index }
}

/// The phones and SKUs a set of tables names, for the use case to look up.
pub fn wanted(tables: &[Table]) -> Wanted {
    let mut w = Wanted::default();
    for t in tables {
        let mut ignore = Vec::new();
        let rows = columns_of(t, &mut ignore);
        for (_, cells) in &t.rows {
            for c in [Column::Phone, Column::Referrer, Column::OldSupplier] {
                if let Some(p) = normalise_phone(rows.cell(cells, c)) {
                    w.phones.insert(p);
                }
            }
            if t.sheet == Sheet::Orders {
                let sku = rows.cell(cells, Column::Sku);
                if !sku.is_empty() {
                    w.skus.insert(sku.to_string());
                }
            }
        }
    }
    w
}

/// SHA-256 over the rows as read, column by column in the template's order, sheet by sheet: the
/// same content gives the same digest whatever the file format, header language or column
/// order.
pub fn digest(tables: &[Table]) -> String {
    let mut sorted: Vec<&Table> = tables.iter().collect();
    sorted.sort_by_key(|t| t.sheet);
    let mut h = Sha256::new();
    for t in sorted {
        let mut ignore = Vec::new();
        let rows = columns_of(t, &mut ignore);
        h.update(t.sheet.key().as_bytes());
        h.update([0x1d]);
        for (_, cells) in &t.rows {
            for &c in t.sheet.columns() {
                h.update(rows.cell(cells, c).as_bytes());
                h.update([0x1f]);
            }
            h.update([0x1e]);
        }
    }
    data_encoding::HEXLOWER.encode(&h.finalize())
}

/// Checks every row of every table against the rules and the database, and plans the import;
/// or names every problem found.
pub fn plan(tables: &[Table], world: &World<'_>) -> Result<Plan, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut by_sheet: HashMap<Sheet, &Table> = HashMap::new();
    for t in tables {
        if by_sheet.insert(t.sheet, t).is_some() {
            problems.push(Problem {
                place: Place {
                    file: t.file.clone(),
                    sheet: Some(t.sheet),
                    row: None,
                    column: None,
                },
                kind: ProblemKind::SheetTwice,
            });
        }
    }
    let Some(agents_table) = by_sheet.get(&Sheet::Agents).filter(|t| !t.rows.is_empty()) else {
        problems.push(Problem {
            place: Place {
                file: tables.first().map(|t| t.file.clone()).unwrap_or_default(),
                sheet: Some(Sheet::Agents),
                row: None,
                column: None,
            },
            kind: ProblemKind::NoAgents,
        });
        return Err(problems);
    };
    let mut agents = agent_rows(agents_table, world, &mut problems);
    let by_phone: HashMap<String, usize> = agents
        .iter()
        .enumerate()
        .map(|(i, a)| (a.phone.clone(), i))
        .collect();
    let order = referrals(agents_table, &mut agents, &by_phone, world, &mut problems);
    let mut balances = Vec::new();
    let mut orders = Vec::new();
    let mut activity = Vec::new();
    if let Some(t) = by_sheet.get(&Sheet::Balances) {
        balances = balance_rows(t, &by_phone, &mut problems);
    }
    if let Some(t) = by_sheet.get(&Sheet::Orders) {
        orders = order_rows(t, &agents, &by_phone, world, &mut problems);
    }
    if let Some(t) = by_sheet.get(&Sheet::Activity) {
        activity = activity_rows(t, &agents, &by_phone, world, &mut problems);
    }
    if !problems.is_empty() {
        problems.sort_by(|a, b| a.place.cmp(&b.place));
        return Err(problems);
    }
    let Some(order) = order else {
        return Err(problems);
    };
    Ok(finish(
        tables, agents, order, balances, orders, activity, world,
    ))
}

/// An agent row as parsed, before its uplines are resolved.
struct Parsed {
    row: usize,
    phone: String,
    name: String,
    id_number: String,
    tier: Option<TierInfo>,
    referrer: Option<String>,
    regions: Vec<String>,
    joined_on: Option<NaiveDate>,
    reached_on: Option<NaiveDate>,
    active: bool,
    old_supplier: Option<Option<String>>,
    /// Resolved by [`referrals`].
    upline: Upline,
}

fn agent_rows(t: &Table, world: &World<'_>, problems: &mut Vec<Problem>) -> Vec<Parsed> {
    let rows = columns_of(t, problems);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (row, cells) in &t.rows {
        let row = *row;
        let mut bad = |c: Column, kind: ProblemKind| {
            problems.push(Problem {
                place: rows.place(row, c),
                kind,
            })
        };
        let raw_phone = rows.cell(cells, Column::Phone);
        let phone = match phone(raw_phone) {
            Ok(p) => p,
            Err(k) => {
                bad(Column::Phone, k);
                String::new()
            }
        };
        if !phone.is_empty() {
            if let Some(&first_row) = seen.get(&phone) {
                bad(Column::Phone, ProblemKind::DuplicatePhone { first_row });
            } else {
                seen.insert(phone.clone(), row);
                match world.taken.get(&phone) {
                    Some(Taken::Account) => bad(Column::Phone, ProblemKind::PhoneTaken),
                    Some(Taken::Pending) => bad(Column::Phone, ProblemKind::PhonePending),
                    None => {}
                }
            }
        }
        let name = values::text(rows.cell(cells, Column::Name), 100).unwrap_or_else(|k| {
            bad(Column::Name, k);
            String::new()
        });
        let id_number = values::id_number(rows.cell(cells, Column::IdNumber)).unwrap_or_else(|k| {
            bad(Column::IdNumber, k);
            String::new()
        });
        let tier = values::tier(rows.cell(cells, Column::Tier), &world.tiers)
            .map_err(|k| bad(Column::Tier, k))
            .ok();
        let referrer = match rows.cell(cells, Column::Referrer) {
            "" => None,
            r => match values::phone(r) {
                Ok(p) => Some(p),
                Err(k) => {
                    bad(Column::Referrer, k);
                    None
                }
            },
        };
        let regions = values::regions(rows.cell(cells, Column::Regions), world.regions)
            .unwrap_or_else(|k| {
                bad(Column::Regions, k);
                Vec::new()
            });
        let joined_on = date_not_after(rows.cell(cells, Column::JoinedOn), world.today, true)
            .map_err(|k| bad(Column::JoinedOn, k))
            .ok()
            .flatten();
        let reached_on =
            date_not_after(rows.cell(cells, Column::TierReachedOn), world.today, false)
                .map_err(|k| bad(Column::TierReachedOn, k))
                .ok()
                .flatten()
                .or(joined_on);
        if let (Some(j), Some(r)) = (joined_on, reached_on) {
            if r < j {
                bad(Column::TierReachedOn, ProblemKind::BeforeJoined);
            }
        }
        let active = values::status(rows.cell(cells, Column::Status))
            .map_err(|k| bad(Column::Status, k))
            .unwrap_or(true);
        let old_supplier = match rows.cell(cells, Column::OldSupplier) {
            "" => None,
            s if values::is_hq(s) => Some(None),
            s => match values::phone(s) {
                Ok(p) => Some(Some(p)),
                Err(k) => {
                    bad(Column::OldSupplier, k);
                    None
                }
            },
        };
        if referrer.is_some() && referrer == Some(phone.clone()) {
            bad(Column::Referrer, ProblemKind::SelfReferrer);
        }
        out.push(Parsed {
            row,
            phone,
            name,
            id_number,
            tier,
            referrer,
            regions,
            joined_on,
            reached_on,
            active,
            old_supplier,
            upline: Upline::Hq,
        });
    }
    out
}

/// A date that is given (or blank when not `required`) and not after today.
fn date_not_after(
    raw: &str,
    today: NaiveDate,
    required: bool,
) -> Result<Option<NaiveDate>, ProblemKind> {
    if raw.is_empty() {
        return if required {
            Err(ProblemKind::Required)
        } else {
            Ok(None)
        };
    }
    let d = parse_date(raw)?;
    if d > today {
        return Err(ProblemKind::InFuture);
    }
    Ok(Some(d))
}

/// Resolves each referrer (in the file, else in the database), finds rings, and orders the agents
/// so every referrer comes before those it referred. `None` when any referrer is unresolved.
fn referrals(
    t: &Table,
    agents: &mut [Parsed],
    by_phone: &HashMap<String, usize>,
    world: &World<'_>,
    problems: &mut Vec<Problem>,
) -> Option<Vec<usize>> {
    let place = |row: usize| Place {
        file: t.file.clone(),
        sheet: Some(t.sheet),
        row: Some(row),
        column: Some(Column::Referrer),
    };
    let mut ok = true;
    for a in agents.iter_mut() {
        let Some(r) = a.referrer.clone() else {
            continue;
        };
        if r == a.phone {
            ok = false;
            continue;
        }
        if let Some(&i) = by_phone.get(&r) {
            a.upline = Upline::File(i);
        } else if let Some(&id) = world.agents_by_phone.get(&r) {
            a.upline = Upline::Known(id);
        } else {
            ok = false;
            problems.push(Problem {
                place: place(a.row),
                kind: ProblemKind::ReferrerMissing(r),
            });
        }
    }
    // Rings among the file's agents: walk up from each agent not yet placed; meeting an agent of
    // the current walk closes a ring (reported once, with its rows).
    let n = agents.len();
    let mut state = vec![0u8; n]; // 0 new, 1 on the current walk, 2 done
    for start in 0..n {
        let mut path = Vec::new();
        let mut at = start;
        loop {
            match state[at] {
                2 => break,
                1 => {
                    let from = path.iter().position(|&p| p == at).unwrap_or(0);
                    let mut ring: Vec<usize> = path[from..]
                        .iter()
                        .map(|&i: &usize| agents[i].row)
                        .collect();
                    ring.sort_unstable();
                    ok = false;
                    problems.push(Problem {
                        place: place(ring[0]),
                        kind: ProblemKind::ReferrerCycle(ring),
                    });
                    break;
                }
                _ => {}
            }
            state[at] = 1;
            path.push(at);
            match agents[at].upline {
                Upline::File(up) => at = up,
                _ => break,
            }
        }
        for p in path {
            state[p] = 2;
        }
    }
    if !ok {
        return None;
    }
    // Depth from the top of the file's trees; sorting by it puts referrers first.
    let mut depth: Vec<Option<usize>> = vec![None; n];
    for start in 0..n {
        let mut chain = Vec::new();
        let mut at = start;
        let base = loop {
            if let Some(d) = depth[at] {
                break d + 1;
            }
            chain.push(at);
            match agents[at].upline {
                Upline::File(up) => at = up,
                _ => break 0,
            }
        };
        for (k, &i) in chain.iter().rev().enumerate() {
            depth[i] = Some(base + k);
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (depth[i].unwrap_or(0), i));
    Some(order)
}

fn agent_index(
    rows: &Rows<'_>,
    row: usize,
    cells: &[String],
    by_phone: &HashMap<String, usize>,
    problems: &mut Vec<Problem>,
) -> Option<usize> {
    let raw = rows.cell(cells, Column::Phone);
    match phone(raw) {
        Ok(p) => match by_phone.get(&p) {
            Some(&i) => Some(i),
            None => {
                problems.push(Problem {
                    place: rows.place(row, Column::Phone),
                    kind: ProblemKind::UnknownAgent(p),
                });
                None
            }
        },
        Err(k) => {
            problems.push(Problem {
                place: rows.place(row, Column::Phone),
                kind: k,
            });
            None
        }
    }
}

fn balance_rows(
    t: &Table,
    by_phone: &HashMap<String, usize>,
    problems: &mut Vec<Problem>,
) -> Vec<PlannedBalance> {
    let rows = columns_of(t, problems);
    let mut available_at: HashMap<usize, usize> = HashMap::new();
    let mut out = Vec::new();
    for (row, cells) in &t.rows {
        let row = *row;
        let agent = agent_index(&rows, row, cells, by_phone, problems);
        let mut bad = |c: Column, kind: ProblemKind| {
            problems.push(Problem {
                place: rows.place(row, c),
                kind,
            })
        };
        let frozen = values::wallet(rows.cell(cells, Column::Wallet))
            .map_err(|k| bad(Column::Wallet, k))
            .ok();
        let cents = parse_cents(rows.cell(cells, Column::Amount))
            .map_err(|k| bad(Column::Amount, k))
            .ok();
        let release = rows.cell(cells, Column::ReleaseOn);
        let release_on = match (frozen, release.is_empty()) {
            (Some(true), true) => {
                bad(Column::ReleaseOn, ProblemKind::ReleaseRequired);
                None
            }
            (Some(true), false) => parse_date(release)
                .map_err(|k| bad(Column::ReleaseOn, k))
                .ok(),
            (Some(false), false) => {
                bad(Column::ReleaseOn, ProblemKind::ReleaseNotAllowed);
                None
            }
            _ => None,
        };
        if frozen == Some(true) && cents.is_some_and(|c| c <= 0) {
            bad(Column::Amount, ProblemKind::NotPositive);
        }
        if frozen == Some(false) {
            if let Some(a) = agent {
                if let Some(&first_row) = available_at.get(&a) {
                    bad(Column::Wallet, ProblemKind::AvailableTwice { first_row });
                } else {
                    available_at.insert(a, row);
                }
            }
        }
        if let (Some(agent), Some(frozen), Some(cents)) = (agent, frozen, cents) {
            if frozen && release_on.is_none() {
                continue;
            }
            out.push(PlannedBalance {
                row,
                agent,
                cents,
                release_on,
            });
        }
    }
    out
}

fn order_rows(
    t: &Table,
    agents: &[Parsed],
    by_phone: &HashMap<String, usize>,
    world: &World<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<PlannedOrder> {
    let rows = columns_of(t, problems);
    let mut numbers: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (row, cells) in &t.rows {
        let row = *row;
        let agent = agent_index(&rows, row, cells, by_phone, problems);
        let mut bad = |c: Column, kind: ProblemKind| {
            problems.push(Problem {
                place: rows.place(row, c),
                kind,
            })
        };
        let order_no = values::text(rows.cell(cells, Column::OrderNo), 64)
            .map_err(|k| bad(Column::OrderNo, k))
            .ok();
        if let Some(no) = &order_no {
            if let Some(&first_row) = numbers.get(no) {
                bad(Column::OrderNo, ProblemKind::DuplicateOrderNo { first_row });
            } else {
                numbers.insert(no.clone(), row);
            }
        }
        let paid_on = date_not_after(rows.cell(cells, Column::PaidOn), world.today, true)
            .map_err(|k| bad(Column::PaidOn, k))
            .ok()
            .flatten();
        if let (Some(a), Some(d)) = (agent, paid_on) {
            if agents[a].joined_on.is_some_and(|j| d < j) {
                bad(Column::PaidOn, ProblemKind::BeforeJoined);
            }
        }
        let sku = rows.cell(cells, Column::Sku);
        let product_id = if sku.is_empty() {
            bad(Column::Sku, ProblemKind::Required);
            None
        } else {
            let p = world.skus.get(sku).copied();
            if p.is_none() {
                bad(Column::Sku, ProblemKind::UnknownSku(sku.to_string()));
            }
            p
        };
        let quantity = parse_quantity(rows.cell(cells, Column::Quantity))
            .map_err(|k| bad(Column::Quantity, k))
            .ok();
        let amount = parse_cents(rows.cell(cells, Column::Amount))
            .map_err(|k| bad(Column::Amount, k))
            .ok();
        if amount.is_some_and(|a| a <= 0) {
            bad(Column::Amount, ProblemKind::NotPositive);
        }
        if let (
            Some(agent),
            Some(order_no),
            Some(paid_on),
            Some(product_id),
            Some(quantity),
            Some(amount_cents),
        ) = (agent, order_no, paid_on, product_id, quantity, amount)
        {
            out.push(PlannedOrder {
                row,
                agent,
                order_no,
                paid_on,
                product_id,
                quantity,
                amount_cents,
            });
        }
    }
    out
}

fn activity_rows(
    t: &Table,
    agents: &[Parsed],
    by_phone: &HashMap<String, usize>,
    world: &World<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<PlannedActivity> {
    let rows = columns_of(t, problems);
    let mut out = Vec::new();
    for (row, cells) in &t.rows {
        let row = *row;
        let agent = agent_index(&rows, row, cells, by_phone, problems);
        let mut bad = |c: Column, kind: ProblemKind| {
            problems.push(Problem {
                place: rows.place(row, c),
                kind,
            })
        };
        let on = date_not_after(rows.cell(cells, Column::Date), world.today, true)
            .map_err(|k| bad(Column::Date, k))
            .ok()
            .flatten();
        if let (Some(a), Some(d)) = (agent, on) {
            if agents[a].joined_on.is_some_and(|j| d < j) {
                bad(Column::Date, ProblemKind::BeforeJoined);
            }
        }
        let kind = values::activity_kind(rows.cell(cells, Column::Kind))
            .map_err(|k| bad(Column::Kind, k))
            .ok();
        let raw_amount = rows.cell(cells, Column::Amount);
        let cents = match kind {
            Some(ActivityKind::CustomerBound) | None => Some(0),
            Some(_) if raw_amount.is_empty() => {
                bad(Column::Amount, ProblemKind::AmountRequired);
                None
            }
            Some(_) => match parse_cents(raw_amount) {
                Ok(c) if c > 0 => Some(c),
                Ok(_) => {
                    bad(Column::Amount, ProblemKind::NotPositive);
                    None
                }
                Err(k) => {
                    bad(Column::Amount, k);
                    None
                }
            },
        };
        let level_key = match (kind, rows.cell(cells, Column::Level)) {
            (Some(ActivityKind::LevelPayment), "") => {
                bad(Column::Level, ProblemKind::LevelRequired);
                None
            }
            (Some(ActivityKind::LevelPayment), l) => values::tier(l, &world.tiers)
                .map_err(|k| bad(Column::Level, k))
                .ok()
                .map(|t| t.key),
            _ => None,
        };
        if kind == Some(ActivityKind::LevelPayment) && level_key.is_none() {
            continue;
        }
        if let (Some(agent), Some(on), Some(kind), Some(cents)) = (agent, on, kind, cents) {
            out.push(PlannedActivity {
                row,
                agent,
                on,
                kind,
                cents,
                level_key,
            });
        }
    }
    out
}

/// The referral graph of the database's agents and the file's, as the supplier rule reads it:
/// file agents get ids above every database id.
struct Combined<'a> {
    world: &'a World<'a>,
    agents: &'a [Parsed],
}

const FILE_BASE: u64 = 1 << 62;

impl AgentGraph for Combined<'_> {
    fn referrer(&self, id: AgentId) -> Option<AgentId> {
        if id.0 >= FILE_BASE {
            let a = self.agents.get(usize::try_from(id.0 - FILE_BASE).ok()?)?;
            match a.upline {
                Upline::Hq => None,
                Upline::Known(k) => Some(AgentId(k.unsigned_abs())),
                Upline::File(i) => Some(AgentId(FILE_BASE + i as u64)),
            }
        } else {
            let k = self.world.known.get(&i64::try_from(id.0).ok()?)?;
            k.referrer.map(|r| AgentId(r.unsigned_abs()))
        }
    }

    fn tier(&self, id: AgentId) -> TierRank {
        // Only active agents supply (network::agents): others read as the lowest possible tier.
        let (rank, active) = if id.0 >= FILE_BASE {
            match usize::try_from(id.0 - FILE_BASE)
                .ok()
                .and_then(|i| self.agents.get(i))
            {
                Some(a) => (a.tier.as_ref().map_or(u8::MAX, |t| t.rank), a.active),
                None => (u8::MAX, false),
            }
        } else {
            match i64::try_from(id.0)
                .ok()
                .and_then(|i| self.world.known.get(&i))
            {
                Some(k) => (k.tier_rank, k.active),
                None => (u8::MAX, false),
            }
        };
        TierRank(if active { rank } else { u8::MAX })
    }
}

/// The subject's own tier counts even when it is suspended (as `network::agents` does).
struct AsSeenBy<'a> {
    graph: &'a Combined<'a>,
    subject: AgentId,
}

impl AgentGraph for AsSeenBy<'_> {
    fn referrer(&self, id: AgentId) -> Option<AgentId> {
        self.graph.referrer(id)
    }
    fn tier(&self, id: AgentId) -> TierRank {
        if id == self.subject {
            let i = usize::try_from(id.0 - FILE_BASE).unwrap_or(usize::MAX);
            return TierRank(
                self.graph
                    .agents
                    .get(i)
                    .and_then(|a| a.tier.as_ref())
                    .map_or(u8::MAX, |t| t.rank),
            );
        }
        self.graph.tier(id)
    }
}

fn finish(
    tables: &[Table],
    parsed: Vec<Parsed>,
    order: Vec<usize>,
    balances: Vec<PlannedBalance>,
    orders: Vec<PlannedOrder>,
    activity: Vec<PlannedActivity>,
    world: &World<'_>,
) -> Plan {
    let graph = Combined {
        world,
        agents: &parsed,
    };
    // Position of each parsed agent in the plan's order.
    let mut position = vec![0usize; parsed.len()];
    for (pos, &i) in order.iter().enumerate() {
        position[i] = pos;
    }
    let to_plan = |u: Upline| match u {
        Upline::File(i) => Upline::File(position[i]),
        other => other,
    };
    let mut agents = Vec::with_capacity(parsed.len());
    let mut differences = Vec::new();
    for &i in &order {
        let a = &parsed[i];
        let id = AgentId(FILE_BASE + i as u64);
        let supplier = match placement::supplier_of(
            &AsSeenBy {
                graph: &graph,
                subject: id,
            },
            id,
        ) {
            Ok(Party::Agent(s)) if s.0 >= FILE_BASE => {
                Upline::File(position[(s.0 - FILE_BASE) as usize])
            }
            Ok(Party::Agent(s)) => Upline::Known(i64::try_from(s.0).unwrap_or(i64::MAX)),
            // A ring was refused before; a chain the walk gives up on supplies from HQ.
            Ok(Party::Hq) | Err(_) => Upline::Hq,
        };
        let tier = a.tier.clone().unwrap_or(TierInfo {
            rank: u8::MAX,
            key: String::new(),
            name_zh: String::new(),
            name_en: String::new(),
        });
        agents.push(PlannedAgent {
            row: a.row,
            phone: a.phone.clone(),
            name: a.name.clone(),
            id_number: a.id_number.clone(),
            tier_rank: tier.rank,
            tier_key: tier.key,
            referrer: to_plan(a.upline),
            supplier,
            regions: a.regions.clone(),
            joined_on: a.joined_on.unwrap_or(world.today),
            reached_on: a.reached_on.or(a.joined_on).unwrap_or(world.today),
            active: a.active,
            old_supplier: a.old_supplier.clone(),
        });
    }
    let phone_of = |u: Upline, agents: &[PlannedAgent]| match u {
        Upline::Hq => None,
        Upline::Known(id) => world.known.get(&id).and_then(|k| k.phone.clone()),
        Upline::File(i) => agents.get(i).map(|a| a.phone.clone()),
    };
    for a in &agents {
        if let Some(old) = &a.old_supplier {
            let derived = phone_of(a.supplier, &agents);
            if *old != derived {
                differences.push(SupplierDifference {
                    row: a.row,
                    phone: a.phone.clone(),
                    old: old.clone(),
                    derived,
                });
            }
        }
    }
    differences.sort_by_key(|d| d.row);
    let remap = |i: usize| position[i];
    Plan {
        digest: digest(tables),
        agents,
        balances: balances
            .into_iter()
            .map(|b| PlannedBalance {
                agent: remap(b.agent),
                ..b
            })
            .collect(),
        orders: orders
            .into_iter()
            .map(|o| PlannedOrder {
                agent: remap(o.agent),
                ..o
            })
            .collect(),
        activity: activity
            .into_iter()
            .map(|a| PlannedActivity {
                agent: remap(a.agent),
                ..a
            })
            .collect(),
        supplier_differences: differences,
    }
}
