//! Monthly statements (月结单, DOMAIN §5): generated for every agent at month end (by the
//! settlement run or `chainmark network settle`), shown to the agent as data or CSV. A month not
//! generated yet is computed on the fly.

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::network::ledger as ledger_store;
use crate::store::network::money;
use crate::store::network::statements::{self as store, StatementRow};
use crate::store::users::now;

/// A month, `YYYY-MM`, as the half-open UTC range `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Month {
    pub name: String,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

impl Month {
    pub fn parse(s: &str) -> Result<Month> {
        let bad = || Error::BadRequest(format!("month {s:?}: write it as YYYY-MM, e.g. 2026-11"));
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let (y, m) = (
            y.parse::<i32>().map_err(|_| bad())?,
            m.parse::<u32>().map_err(|_| bad())?,
        );
        let first = NaiveDate::from_ymd_opt(y, m, 1)
            .filter(|_| (1970..=9999).contains(&y))
            .ok_or_else(bad)?;
        let next = if m == 12 {
            NaiveDate::from_ymd_opt(y + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(y, m + 1, 1)
        }
        .ok_or_else(bad)?;
        Ok(Month {
            name: format!("{y:04}-{m:02}"),
            from: first.and_time(chrono::NaiveTime::MIN),
            to: next.and_time(chrono::NaiveTime::MIN),
        })
    }

    /// The month `at` falls in.
    pub fn of(at: NaiveDateTime) -> Result<Month> {
        Month::parse(&format!("{:04}-{:02}", at.year(), at.month()))
    }

    /// The month before this one.
    pub fn previous(&self) -> Result<Month> {
        Month::of(self.from - chrono::Duration::days(1))
    }
}

/// Generates (or regenerates) every agent's statement for `month`; returns how many.
pub fn generate(conn: &mut DbConnection, month: &Month) -> Result<usize> {
    let rows = store::compute(conn, &month.name, month.from, month.to, now())?;
    store::replace_month(conn, &month.name, &rows)?;
    tracing::info!(
        month = month.name,
        statements = rows.len(),
        "monthly statements generated"
    );
    Ok(rows.len())
}

/// One agent's statement: stored if generated, else computed now.
pub fn of_agent(conn: &mut DbConnection, agent: i64, month: &Month) -> Result<StatementRow> {
    if let Some(s) = store::get(conn, agent, &month.name)? {
        return Ok(s);
    }
    let all = store::compute(conn, &month.name, month.from, month.to, now())?;
    Ok(all
        .into_iter()
        .find(|s| s.agent_id == agent)
        .unwrap_or_else(|| StatementRow {
            agent_id: agent,
            month: month.name.clone(),
            generated_at: now(),
            ..StatementRow::default()
        }))
}

/// The month's lines of an agent's wallets as CSV (UTF-8, header first).
pub fn csv(conn: &mut DbConnection, agent: i64, month: &Month) -> Result<String> {
    let mut out = String::from("booked_at,posting,kind,wallet,amount,order_id,withdrawal_id\n");
    let mut after = 0;
    loop {
        let lines = ledger_store::lines(conn, Some(agent), month.from, month.to, after, 5000)?;
        let Some(last) = lines.last() else { break };
        after = last.id;
        for l in &lines {
            out.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                l.created_at.format("%Y-%m-%d %H:%M:%S"),
                l.key,
                l.kind.as_str(),
                l.wallet,
                money(l.amount_cents),
                l.order_id.map(|o| o.to_string()).unwrap_or_default(),
                l.withdrawal_id.map(|w| w.to_string()).unwrap_or_default(),
            ));
        }
    }
    Ok(out)
}
