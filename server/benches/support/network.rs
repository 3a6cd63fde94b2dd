//! A large agent network for the benchmarks that need one: 10 总代, 100 省代, 1,000 市代, 10,000
//! 区代 and the rest 特约, each with its referrer and supplier (a third of the 区代 referred by
//! another 区代), inserted in bulk.

use chainmark_server::domain::network::AgentStatus;
use chainmark_server::store::DbConnection;
use chainmark_server::store::schema::agents;
use chainmark_server::store::typed::Stored;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Cities the agents are spread over (GB/T 2260): 杭州, 宁波, 温州, 广州, 深圳, 南京, 苏州,
/// 成都, 武汉, 西安, 郑州.
const CITIES: [&str; 11] = [
    "330100", "330200", "330300", "440100", "440300", "320100", "320500", "510100", "420100",
    "610100", "410100",
];

pub fn tier_of(id: i64) -> i32 {
    match id {
        1..=10 => 1,
        11..=110 => 2,
        111..=1110 => 3,
        1111..=11110 => 4,
        _ => 5,
    }
}

/// (referrer, supplier) of agent `id`.
pub fn upline(id: i64) -> (Option<i64>, Option<i64>) {
    match tier_of(id) {
        1 => (None, None),
        2 => (Some(1 + id % 10), Some(1 + id % 10)),
        3 => (Some(11 + id % 100), Some(11 + id % 100)),
        4 => {
            let city = 111 + id % 1000;
            // A third are referred by the previous 区代 (same tier): they buy from its supplier.
            if id % 3 == 0 && id > 1111 {
                (Some(id - 1), upline(id - 1).1)
            } else {
                (Some(city), Some(city))
            }
        }
        _ => {
            let district = 1111 + id % 10_000;
            (Some(district), Some(district))
        }
    }
}

/// The seed-004 price of a tier, in cents.
pub fn price_cents(tier: i32) -> i64 {
    [2000, 2500, 3100, 3800, 6000][usize::try_from(tier - 1).unwrap_or(0)]
}

pub fn exec<Q>(conn: &mut DbConnection, q: Q)
where
    Q: diesel::query_dsl::methods::ExecuteDsl<diesel::SqliteConnection>,
{
    let DbConnection::Sqlite(c) = conn else {
        panic!("the benchmark runs on SQLite")
    };
    diesel::query_dsl::methods::ExecuteDsl::execute(q, c).expect("insert");
}

/// Inserts agents 1..=`n`, all active since `at`.
pub fn seed_agents(conn: &mut DbConnection, n: i64, at: NaiveDateTime) {
    let ids: Vec<i64> = (1..=n).collect();
    for chunk in ids.chunks(2000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|&id| {
                let (referrer, supplier) = upline(id);
                (
                    agents::id.eq(id),
                    agents::name.eq(format!("agent-{id}")),
                    agents::tier_rank.eq(tier_of(id)),
                    agents::referrer_id.eq(referrer),
                    agents::supplier_id.eq(supplier),
                    agents::region.eq(CITIES[usize::try_from(id).unwrap_or(0) % CITIES.len()]),
                    agents::status.eq(Stored(AgentStatus::Active)),
                    agents::joined_at.eq(at),
                    agents::activated_at.eq(Some(at)),
                    agents::activated_tier_rank.eq(Some(tier_of(id))),
                    agents::policy_version.eq(1i64),
                )
            })
            .collect();
        exec(conn, diesel::insert_into(agents::table).values(rows));
    }
}
