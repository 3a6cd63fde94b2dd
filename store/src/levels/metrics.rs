//! The window sums the level decisions read, set-based: one GROUP BY per source over a range of
//! agent ids, each row tagged with the *bucket* its timestamp falls in. With the policy's bounded
//! windows sorted shortest first, bucket i holds what is inside window i but not inside window
//! i−1; the sum over a window is the sum of its buckets and those before. So one pass over the
//! orders serves every window, whatever their number.
//!
//! Windows end on the assessment day (inclusive): nothing at or after the next midnight counts,
//! so assessing a past day gives the answer that day would have given.

use crate::domain::levels::ActivityKind;
use crate::schema::sql_types::ActivityKindText;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

use crate::domain::levels::Window;
use crate::error::{Error, Result};
use crate::store::DbConnection;

/// The buckets of a day's windows.
#[derive(Debug, Clone)]
pub struct Buckets {
    /// The policy's windows: bounded ones shortest first, then unbounded if read.
    pub windows: Vec<Window>,
    /// Start (midnight) of each bounded window, latest first.
    starts: Vec<NaiveDateTime>,
    /// The midnight after the assessment day.
    end: NaiveDateTime,
}

impl Buckets {
    pub fn new(mut windows: Vec<Window>, day: NaiveDate) -> Result<Buckets> {
        windows.sort_by_key(|w| w.0.map_or(u64::MAX, u64::from));
        windows.dedup();
        let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or_default();
        let starts = windows
            .iter()
            .filter_map(|w| w.0)
            .map(|days| {
                day.checked_sub_days(Days::new(u64::from(days.saturating_sub(1))))
                    .map(midnight)
                    .ok_or_else(|| Error::BadRequest(format!("{day} minus {days} days")))
            })
            .collect::<Result<Vec<_>>>()?;
        let end = day
            .checked_add_days(Days::new(1))
            .map(midnight)
            .ok_or_else(|| Error::BadRequest(format!("{day} is out of range")))?;
        Ok(Buckets {
            windows,
            starts,
            end,
        })
    }

    /// How many buckets a row may fall in (the last is "before every bounded window").
    pub fn len(&self) -> usize {
        self.starts.len() + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// How many leading buckets window `i` (an index into `windows`) sums.
    pub fn span(&self, i: usize) -> usize {
        match self.windows.get(i).and_then(|w| w.0) {
            Some(_) => i + 1,
            None => self.len(),
        }
    }

    /// `CASE WHEN col >= start0 THEN 0 … ELSE n END`, with placeholders from `first`.
    fn case(&self, col: &str, b: Dialect, first: usize) -> String {
        if self.starts.is_empty() {
            return "0".into();
        }
        let mut s = String::from("CASE");
        for i in 0..self.starts.len() {
            s.push_str(&format!(" WHEN {col} >= {} THEN {i}", b.ph(first + i)));
        }
        s.push_str(&format!(" ELSE {} END", self.starts.len()));
        s
    }
}

/// Placeholder style: `?` on SQLite, `$n` on PostgreSQL.
#[derive(Clone, Copy)]
enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    fn of(conn: &DbConnection) -> Dialect {
        match conn {
            DbConnection::Sqlite(_) => Dialect::Sqlite,
            DbConnection::Postgres(_) => Dialect::Postgres,
        }
    }

    fn ph(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => "?".into(),
            Dialect::Postgres => format!("${n}"),
        }
    }
}

/// One agent's sums in one bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sums {
    pub orders: i64,
    pub paid_cents: i64,
    pub sales_cents: i64,
    pub invited: i64,
    pub customers: i64,
    pub recharge_cents: i64,
    pub products: BTreeSet<String>,
    pub level_payments: BTreeMap<String, i64>,
}

#[derive(QueryableByName)]
struct OrderRow {
    #[diesel(sql_type = BigInt)]
    agent_id: i64,
    #[diesel(sql_type = Integer)]
    bucket: i32,
    #[diesel(sql_type = BigInt)]
    orders: i64,
    #[diesel(sql_type = BigInt)]
    paid_cents: i64,
    #[diesel(sql_type = BigInt)]
    sales_cents: i64,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    agent_id: i64,
    #[diesel(sql_type = Integer)]
    bucket: i32,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct ActivityRow {
    #[diesel(sql_type = BigInt)]
    agent_id: i64,
    #[diesel(sql_type = Integer)]
    bucket: i32,
    #[diesel(sql_type = ActivityKindText)]
    kind: ActivityKind,
    #[diesel(sql_type = Nullable<Text>)]
    level_key: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    cents: i64,
}

#[derive(QueryableByName)]
struct ProductRow {
    #[diesel(sql_type = BigInt)]
    agent_id: i64,
    #[diesel(sql_type = Integer)]
    bucket: i32,
    #[diesel(sql_type = Text)]
    sku: String,
}

/// Personal sales (成交金额): goods of completed orders net of returned items (each at its line's
/// price: `returned_amount_cents`).
const SALES: &str = "CASE WHEN state IN ('completed', 'partially_refunded') \
    THEN goods_amount_cents - returned_amount_cents ELSE 0 END";

/// Runs `sql` with the bucket starts, the end and the id range bound, in that order.
macro_rules! load_bucketed {
    ($conn:expr, $row:ty, $sql:expr, $b:expr, $lo:expr, $hi:expr) => {{
        let starts = $b.starts.clone();
        let end = $b.end;
        per_backend!($conn, |c| {
            let mut q = diesel::sql_query($sql.clone()).into_boxed();
            for s in &starts {
                q = q.bind::<Timestamp, _>(*s);
            }
            q.bind::<Timestamp, _>(end)
                .bind::<BigInt, _>($lo)
                .bind::<BigInt, _>($hi)
                .load::<$row>(c)
        })
    }};
}

fn slot<'a>(
    out: &'a mut HashMap<i64, Vec<Sums>>,
    b: &Buckets,
    agent: i64,
    bucket: i32,
) -> &'a mut Sums {
    let v = out
        .entry(agent)
        .or_insert_with(|| vec![Sums::default(); b.len()]);
    let i = usize::try_from(bucket).unwrap_or(0).min(b.len() - 1);
    &mut v[i]
}

/// Personal sales per bucket of the agents `lo..=hi` who bought (the team roll-up's input).
pub fn sales(
    conn: &mut DbConnection,
    b: &Buckets,
    lo: i64,
    hi: i64,
) -> Result<Vec<(i64, i32, i64)>> {
    let d = Dialect::of(conn);
    let n = b.starts.len();
    let sql = format!(
        "SELECT buyer_id AS agent_id, {case} AS bucket, COUNT(*) AS orders, \
         CAST(0 AS BIGINT) AS paid_cents, CAST(SUM({SALES}) AS BIGINT) AS sales_cents \
         FROM restock_orders WHERE paid_at IS NOT NULL AND paid_at < {end} \
         AND buyer_id >= {lo} AND buyer_id <= {hi} GROUP BY buyer_id, bucket",
        case = b.case("paid_at", d, 1),
        end = d.ph(n + 1),
        lo = d.ph(n + 2),
        hi = d.ph(n + 3),
    );
    let rows = load_bucketed!(conn, OrderRow, sql, b, lo, hi)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.agent_id, r.bucket, r.sales_cents))
        .collect())
}

/// Personal sales per bucket of the agents `ids` (one agent's team, for its own assessment or
/// application: the roll-up over the whole tree is for runs).
pub fn sales_of(conn: &mut DbConnection, b: &Buckets, ids: &[i64]) -> Result<Vec<(i64, i32, i64)>> {
    let d = Dialect::of(conn);
    let n = b.starts.len();
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        // Ids are integers from the database: listed inline, nothing to quote.
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let sql = format!(
            "SELECT buyer_id AS agent_id, {case} AS bucket, COUNT(*) AS orders, \
             CAST(0 AS BIGINT) AS paid_cents, CAST(SUM({SALES}) AS BIGINT) AS sales_cents \
             FROM restock_orders WHERE paid_at IS NOT NULL AND paid_at < {end} \
             AND buyer_id >= {lo} AND buyer_id <= {hi} AND buyer_id IN ({list}) \
             GROUP BY buyer_id, bucket",
            case = b.case("paid_at", d, 1),
            end = d.ph(n + 1),
            lo = d.ph(n + 2),
            hi = d.ph(n + 3),
            list = list.join(", "),
        );
        let (lo, hi) = (
            chunk.iter().copied().min().unwrap_or(0),
            chunk.iter().copied().max().unwrap_or(0),
        );
        let rows = load_bucketed!(conn, OrderRow, sql, b, lo, hi)?;
        out.extend(
            rows.into_iter()
                .map(|r| (r.agent_id, r.bucket, r.sales_cents)),
        );
    }
    Ok(out)
}

/// Every sum of the agents `lo..=hi`, per bucket; agents without activity are absent.
/// `skus`: the designated upgrade products whose purchases are looked for.
pub fn sums(
    conn: &mut DbConnection,
    b: &Buckets,
    lo: i64,
    hi: i64,
    skus: &[String],
) -> Result<HashMap<i64, Vec<Sums>>> {
    let d = Dialect::of(conn);
    let n = b.starts.len();
    let tail = |col: &str| {
        format!(
            "{col} < {} AND {{id}} >= {} AND {{id}} <= {}",
            d.ph(n + 1),
            d.ph(n + 2),
            d.ph(n + 3)
        )
    };
    let mut out: HashMap<i64, Vec<Sums>> = HashMap::new();

    let sql = format!(
        "SELECT buyer_id AS agent_id, {case} AS bucket, COUNT(*) AS orders, \
         CAST(SUM(goods_amount_cents - COALESCE(upgrade_allowance_cents, 0)) AS BIGINT) \
         AS paid_cents, \
         CAST(SUM({SALES}) AS BIGINT) AS sales_cents \
         FROM restock_orders WHERE paid_at IS NOT NULL AND {w} GROUP BY buyer_id, bucket",
        case = b.case("paid_at", d, 1),
        w = tail("paid_at").replace("{id}", "buyer_id"),
    );
    for r in load_bucketed!(conn, OrderRow, sql, b, lo, hi)? {
        let s = slot(&mut out, b, r.agent_id, r.bucket);
        s.orders += r.orders;
        s.paid_cents += r.paid_cents;
        s.sales_cents += r.sales_cents;
    }

    let sql = format!(
        "SELECT referrer_id AS agent_id, {case} AS bucket, COUNT(*) AS n FROM agents \
         WHERE activated_at IS NOT NULL AND {w} GROUP BY referrer_id, bucket",
        case = b.case("activated_at", d, 1),
        w = tail("activated_at").replace("{id}", "referrer_id"),
    );
    for r in load_bucketed!(conn, CountRow, sql, b, lo, hi)? {
        slot(&mut out, b, r.agent_id, r.bucket).invited += r.n;
    }

    let sql = format!(
        "SELECT agent_id, {case} AS bucket, kind, level_key, COUNT(*) AS n, \
         CAST(SUM(amount_cents) AS BIGINT) AS cents FROM level_activity \
         WHERE {w} GROUP BY agent_id, bucket, kind, level_key",
        case = b.case("at", d, 1),
        w = tail("at").replace("{id}", "agent_id"),
    );
    for r in load_bucketed!(conn, ActivityRow, sql, b, lo, hi)? {
        let s = slot(&mut out, b, r.agent_id, r.bucket);
        match (r.kind, r.level_key) {
            (ActivityKind::CustomerBound, _) => s.customers += r.n,
            (ActivityKind::Recharge, _) => s.recharge_cents += r.cents,
            (ActivityKind::LevelPayment, Some(key)) => {
                *s.level_payments.entry(key).or_default() += r.cents
            }
            // A level payment names its tier (the use case refuses one without).
            (ActivityKind::LevelPayment, None) => {}
        }
    }

    if !skus.is_empty() {
        let quoted: Vec<String> = skus
            .iter()
            .map(|s| format!("'{}'", s.replace('\'', "''")))
            .collect();
        let sql = format!(
            "SELECT o.buyer_id AS agent_id, {case} AS bucket, p.sku AS sku \
             FROM restock_orders o JOIN order_lines l ON l.order_id = o.id \
             JOIN products p ON p.id = l.product_id \
             WHERE o.paid_at IS NOT NULL AND o.state <> 'refunded' AND p.sku IN ({list}) AND {w} \
             GROUP BY o.buyer_id, bucket, p.sku",
            case = b.case("o.paid_at", d, 1),
            list = quoted.join(", "),
            w = tail("o.paid_at").replace("{id}", "o.buyer_id"),
        );
        for r in load_bucketed!(conn, ProductRow, sql, b, lo, hi)? {
            slot(&mut out, b, r.agent_id, r.bucket)
                .products
                .insert(r.sku);
        }
    }
    Ok(out)
}
