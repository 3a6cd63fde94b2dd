//! The ledger's tables: accounts (with their running balance), postings (unique idempotency key)
//! and posting lines. Booking is append-only: a posting is inserted once, or — when its key was
//! booked before — compared with what is stored and either ignored (a replay) or refused (the
//! same event computed with different money: a bug to stop on).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{agent_id, agent_key, cents, money};
use crate::domain::network::{Account, HqAccount, Posting, PostingKind, Wallet};
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::schema::{ledger_accounts, posting_lines, postings};
use crate::store::users::now;
use crate::typed::Stored;

/// What a posting is about, stored beside it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Meta {
    pub kind: PostingKind,
    pub order_id: Option<i64>,
    pub withdrawal_id: Option<i64>,
    pub policy_version: Option<i64>,
}

/// What booking did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Booked {
    New,
    /// The key was booked before with the same lines: nothing happened.
    Replayed,
}

/// The column values of an account.
fn describe(account: &Account) -> (String, Option<i64>, &'static str) {
    let wallet = match account {
        Account::Agent(_, Wallet::Available) => "available",
        Account::Agent(_, Wallet::Frozen) => "frozen",
        Account::Hq(HqAccount::Sales) => "sales",
        Account::Hq(HqAccount::RebateExpense) => "rebate_expense",
        Account::Hq(HqAccount::Payables) => "payables",
        Account::Hq(HqAccount::Cash) => "cash",
        // What HQ took over owing from the previous system: a liability like payables. (The
        // column's CHECK lists the wallets; SQLite cannot change a CHECK without rebuilding the
        // table every posting line refers to, and the code tells the accounts apart anyway.)
        Account::Hq(HqAccount::Migration) => "payables",
        // Scan marketing (issue 21), within the same CHECK: the cost is an expense like rebates;
        // rewards owed, unclaimed or held by a consumer, are liabilities.
        Account::Hq(HqAccount::MarketingExpense) => "rebate_expense",
        Account::Hq(HqAccount::RewardsOwed) | Account::Consumer(..) => "payables",
    };
    let agent = match account {
        Account::Agent(a, _) => Some(agent_key(*a)),
        Account::Hq(_) | Account::Consumer(..) => None,
    };
    (account.to_string(), agent, wallet)
}

/// Account ids by code, creating agent accounts on first use.
pub fn account_ids(conn: &mut DbConnection, accounts: &[Account]) -> Result<HashMap<Account, i64>> {
    let mut by_code: HashMap<String, Account> = HashMap::new();
    for a in accounts {
        by_code.insert(a.to_string(), *a);
    }
    let codes: Vec<String> = by_code.keys().cloned().collect();
    let mut found = load_ids(conn, &codes)?;
    let missing: Vec<_> = by_code
        .iter()
        .filter(|(code, _)| !found.contains_key(*code))
        .map(|(_, a)| describe(a))
        .collect();
    if !missing.is_empty() {
        for chunk in missing.chunks(1000) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|(code, agent, wallet)| {
                    (
                        ledger_accounts::code.eq(code.clone()),
                        ledger_accounts::agent_id.eq(*agent),
                        ledger_accounts::wallet.eq(*wallet),
                        ledger_accounts::balance_cents.eq(0i64),
                    )
                })
                .collect();
            let insert = diesel::insert_into(ledger_accounts::table)
                .values(rows)
                .on_conflict(ledger_accounts::code)
                .do_nothing();
            per_backend!(conn, |c| insert.execute(c))?;
        }
        let codes: Vec<String> = missing.into_iter().map(|m| m.0).collect();
        found.extend(load_ids(conn, &codes)?);
    }
    by_code
        .into_iter()
        .map(|(code, a)| {
            found
                .get(&code)
                .map(|id| (a, *id))
                .ok_or_else(|| Error::Internal(format!("ledger account {code} missing")))
        })
        .collect()
}

fn load_ids(conn: &mut DbConnection, codes: &[String]) -> Result<HashMap<String, i64>> {
    let mut out = HashMap::new();
    for chunk in codes.chunks(1000) {
        let rows: Vec<(String, i64)> = ledger_accounts::table
            .filter(ledger_accounts::code.eq_any(chunk))
            .select((ledger_accounts::code, ledger_accounts::id))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Books each posting once, in one go: new postings and their lines are inserted and the
/// balances moved; a key booked before is compared line by line (replay or conflict).
pub fn book_all(conn: &mut DbConnection, items: &[(Posting, Meta)]) -> Result<Vec<Booked>> {
    let accounts: Vec<Account> = items
        .iter()
        .flat_map(|(p, _)| p.lines().iter().map(|l| l.account))
        .collect();
    let ids = account_ids(conn, &accounts)?;
    let at = now();
    let mut new_ids: HashMap<String, i64> = HashMap::new();
    for chunk in items.chunks(1000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(p, m)| {
                (
                    postings::idempotency_key.eq(p.key().to_string()),
                    postings::kind.eq(Stored(m.kind)),
                    postings::order_id.eq(m.order_id),
                    postings::withdrawal_id.eq(m.withdrawal_id),
                    postings::policy_version.eq(m.policy_version),
                    postings::created_at.eq(at),
                )
            })
            .collect();
        let insert = diesel::insert_into(postings::table)
            .values(rows)
            .on_conflict(postings::idempotency_key)
            .do_nothing()
            .returning((postings::idempotency_key, postings::id));
        let inserted: Vec<(String, i64)> = per_backend!(conn, |c| insert.get_results(c))?;
        new_ids.extend(inserted);
    }
    let mut outcome = Vec::with_capacity(items.len());
    let mut lines = Vec::new();
    let mut deltas: BTreeMap<i64, i64> = BTreeMap::new();
    for (p, _) in items {
        let Some(&posting_id) = new_ids.get(p.key()) else {
            check_replay(conn, p)?;
            outcome.push(Booked::Replayed);
            continue;
        };
        // A key listed twice in one call is booked once; the second is a replay.
        new_ids.remove(p.key());
        for l in p.lines() {
            let account_id = ids[&l.account];
            let amount = cents(l.amount)?;
            *deltas.entry(account_id).or_default() += amount;
            lines.push((posting_id, account_id, amount));
        }
        outcome.push(Booked::New);
    }
    for chunk in lines.chunks(2000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(p, a, amount)| {
                (
                    posting_lines::posting_id.eq(*p),
                    posting_lines::account_id.eq(*a),
                    posting_lines::amount_cents.eq(*amount),
                    posting_lines::created_at.eq(at),
                )
            })
            .collect();
        let insert = diesel::insert_into(posting_lines::table).values(rows);
        per_backend!(conn, |c| insert.execute(c))?;
    }
    // Accounts in id order, so two transactions touching the same accounts lock them alike.
    for (account, delta) in deltas {
        if delta != 0 {
            let update =
                diesel::update(ledger_accounts::table.filter(ledger_accounts::id.eq(account)))
                    .set(ledger_accounts::balance_cents.eq(ledger_accounts::balance_cents + delta));
            // On the concrete connection, which reuses the prepared statement (settlement runs
            // this once per account touched).
            per_backend!(conn, |c| update.execute(c))?;
        }
    }
    Ok(outcome)
}

/// Books one posting.
pub fn book(conn: &mut DbConnection, posting: &Posting, meta: Meta) -> Result<Booked> {
    let mut out = book_all(conn, &[(posting.clone(), meta)])?;
    out.pop()
        .ok_or_else(|| Error::Internal("booking returned nothing".into()))
}

/// The key was booked before: the same lines make it a replay, different ones a conflict.
fn check_replay(conn: &mut DbConnection, p: &Posting) -> Result<()> {
    let stored: Vec<(String, i64)> = posting_lines::table
        .inner_join(postings::table)
        .inner_join(ledger_accounts::table)
        .filter(postings::idempotency_key.eq(p.key()))
        .select((ledger_accounts::code, posting_lines::amount_cents))
        .load(conn)?;
    let mut stored: Vec<(String, i64)> = stored;
    let mut given = p
        .lines()
        .iter()
        .map(|l| Ok((l.account.to_string(), cents(l.amount)?)))
        .collect::<Result<Vec<_>>>()?;
    stored.sort();
    given.sort();
    if stored == given {
        Ok(())
    } else {
        tracing::error!(key = p.key(), "posting replayed with different lines");
        Err(Error::conflict(
            "posting_differs",
            format!(
                "posting {} was already booked with different amounts; nothing was booked",
                p.key()
            ),
        ))
    }
}

pub fn posting_exists(conn: &mut DbConnection, key: &str) -> Result<bool> {
    let n: i64 = postings::table
        .filter(postings::idempotency_key.eq(key))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The balance of one account (zero when it has never been used).
pub fn balance(conn: &mut DbConnection, account: &Account) -> Result<rust_decimal::Decimal> {
    let b: Option<i64> = ledger_accounts::table
        .filter(ledger_accounts::code.eq(account.to_string()))
        .select(ledger_accounts::balance_cents)
        .load(conn)?
        .pop();
    Ok(money(b.unwrap_or(0)))
}

#[derive(Debug, Clone, Queryable)]
pub struct AccountRow {
    pub id: i64,
    pub code: String,
    pub agent_id: Option<i64>,
    pub wallet: String,
    pub balance_cents: i64,
}

/// HQ's accounts, or one agent's.
pub fn accounts_of(conn: &mut DbConnection, agent: Option<i64>) -> Result<Vec<AccountRow>> {
    let q = ledger_accounts::table
        .select((
            ledger_accounts::id,
            ledger_accounts::code,
            ledger_accounts::agent_id,
            ledger_accounts::wallet,
            ledger_accounts::balance_cents,
        ))
        .order(ledger_accounts::id)
        .into_boxed();
    let q = match agent {
        Some(a) => q.filter(ledger_accounts::agent_id.eq(a)),
        None => q.filter(ledger_accounts::agent_id.is_null()),
    };
    Ok(q.load(conn)?)
}

/// One line with its posting, as an agent's statement shows it.
#[derive(Debug, Clone, Queryable)]
pub struct LineRow {
    pub id: i64,
    pub wallet: String,
    /// The account's code (`hq:cash`, `agent:7:available`, …).
    pub code: String,
    pub amount_cents: i64,
    pub key: String,
    pub kind: PostingKind,
    pub order_id: Option<i64>,
    pub withdrawal_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

/// How much each of an agent's (or HQ's) accounts moved in `[from, to)`, by account code: one
/// grouped query, so a month of many orders is summed by the database, not read line by line.
pub fn moved_by_account(
    conn: &mut DbConnection,
    agent: Option<i64>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(String, i64)>> {
    let accounts: Vec<i64> = accounts_of(conn, agent)?.iter().map(|a| a.id).collect();
    Ok(posting_lines::table
        .inner_join(ledger_accounts::table)
        .filter(posting_lines::created_at.ge(from))
        .filter(posting_lines::created_at.lt(to))
        .filter(posting_lines::account_id.eq_any(accounts))
        .group_by(ledger_accounts::code)
        .select((
            ledger_accounts::code,
            // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back (cents always fit).
            diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "CAST(COALESCE(SUM(posting_lines.amount_cents), 0) AS BIGINT)",
            ),
        ))
        .order(ledger_accounts::code)
        .load(conn)?)
}

/// The lines of an agent's (or HQ's) accounts booked in `[from, to)`, oldest first, after
/// line `after_id`, at most `limit`.
pub fn lines(
    conn: &mut DbConnection,
    agent: Option<i64>,
    from: NaiveDateTime,
    to: NaiveDateTime,
    after_id: i64,
    limit: i64,
) -> Result<Vec<LineRow>> {
    // The accounts first: lines are indexed by (time, account), so the month's index entries are
    // filtered by account without reading a row that is not the agent's.
    let accounts: Vec<i64> = accounts_of(conn, agent)?.iter().map(|a| a.id).collect();
    Ok(posting_lines::table
        .inner_join(postings::table)
        .inner_join(ledger_accounts::table)
        .filter(posting_lines::created_at.ge(from))
        .filter(posting_lines::created_at.lt(to))
        .filter(posting_lines::account_id.eq_any(accounts))
        .filter(posting_lines::id.gt(after_id))
        .order(posting_lines::id)
        .limit(limit)
        .select((
            posting_lines::id,
            ledger_accounts::wallet,
            ledger_accounts::code,
            posting_lines::amount_cents,
            postings::idempotency_key,
            postings::kind,
            postings::order_id,
            postings::withdrawal_id,
            posting_lines::created_at,
        ))
        .load(conn)?)
}

/// For audits and tests: each account's stored balance beside the sum of its lines.
pub fn balances_vs_lines(conn: &mut DbConnection) -> Result<Vec<(String, i64, i64)>> {
    let accounts: Vec<(i64, String, i64)> = ledger_accounts::table
        .select((
            ledger_accounts::id,
            ledger_accounts::code,
            ledger_accounts::balance_cents,
        ))
        .load(conn)?;
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast it back so both backends give an i64.
    let query = diesel::sql_query(
        "SELECT account_id, CAST(SUM(amount_cents) AS BIGINT) AS total \
         FROM posting_lines GROUP BY account_id",
    );
    let sums: Vec<AccountSum> = per_backend!(conn, |c| query.load(c))?;
    let sums: HashMap<i64, i64> = sums.into_iter().map(|s| (s.account_id, s.total)).collect();
    Ok(accounts
        .into_iter()
        .map(|(id, code, bal)| (code, bal, sums.get(&id).copied().unwrap_or(0)))
        .collect())
}

#[derive(QueryableByName)]
struct AccountSum {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    account_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    total: i64,
}

/// Parses an agent account's code back (for views).
pub fn agent_of_code(code: &str) -> Option<crate::domain::network::AgentId> {
    let mut parts = code.split(':');
    match (parts.next(), parts.next()) {
        (Some("agent"), Some(id)) => id.parse::<i64>().ok().map(agent_id),
        _ => None,
    }
}
