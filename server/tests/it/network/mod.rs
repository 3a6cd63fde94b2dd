//! The agent network on the real store, SQLite and PostgreSQL: DOMAIN's scenarios with seed 004's
//! numbers, the ledger's properties, concurrency, the known traps, and the API's checks.

mod api;
mod carts;
mod concurrency;
mod form_keys;
mod ledger;
mod money;
mod printing;
mod retail;
mod scenarios;
mod tracking;
mod traps;

use chainmark_server::domain::Role;
use chainmark_server::domain::custody::{CustodianKind, ItemStatus};
use chainmark_server::domain::network::{Account, HqAccount, Posting};
use chainmark_server::domain::network::{OrderState, PartyKind};
use chainmark_server::network::{Actor, agents, orders, payment, settlement, shipping};
use chainmark_server::store::DbConnection;
use chainmark_server::store::network::ledger::{self as ledger_store, Meta};
use chainmark_server::store::network::{agents as agents_store, orders as orders_store};
use chainmark_server::store::schema::{batches, items};
use chainmark_server::store::typed::Stored;
use chainmark_server::store::users::now;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rust_decimal::Decimal;

use crate::common::{Backend, TestApp};

pub const SKU: &str = "TEA-250";

/// A brand with one product, HQ staff, and helpers to grow a network on the real store.
pub struct Net {
    pub app: TestApp,
    pub batch: String,
    pub admin: Actor,
    pub finance: Actor,
    next_item: std::cell::Cell<i64>,
}

pub fn dec(s: &str) -> Decimal {
    s.parse().expect("a decimal literal")
}

fn user(conn: &mut DbConnection, name: &str, role: Role) -> i64 {
    let username = format!("user-{name}");
    chainmark_server::store::users::create_user(
        conn,
        &username,
        name,
        role,
        "not-a-real-hash",
        false,
    )
    .expect("user")
    .id
}

impl Net {
    pub fn new(backend: Backend) -> Net {
        let app = TestApp::new(backend);
        let mut conn = app.conn();
        let product = chainmark_server::store::products::create(
            &mut conn,
            &chainmark_server::store::products::NewProduct::named(SKU, "龙井 250克", 72),
        )
        .expect("product")
        .id;
        let batch = "NETB0001".to_string();
        diesel::insert_into(batches::table)
            .values((
                batches::id.eq(&batch),
                batches::key_id.eq("k"),
                batches::product_id.eq(product),
                batches::item_count.eq(0i64),
                batches::case_count.eq(0i64),
                batches::case_size.eq(72),
                batches::production_date.eq(""),
                batches::created_at.eq(now()),
                batches::imported_at.eq(now()),
                batches::import_sha256.eq("fixture"),
                batches::status.eq(Stored(ItemStatus::Active)),
            ))
            .execute(&mut conn)
            .expect("batch");
        let admin = Actor::Hq {
            user: user(&mut conn, "hq-admin", Role::HqAdmin),
            role: Role::HqAdmin,
        };
        let finance = Actor::Hq {
            user: user(&mut conn, "hq-finance", Role::HqFinance),
            role: Role::HqFinance,
        };
        drop(conn);
        Net {
            app,
            batch,
            admin,
            finance,
            next_item: std::cell::Cell::new(0),
        }
    }

    pub fn conn(&self) -> chainmark_server::store::PooledConn {
        self.app.conn()
    }

    /// `n` new items of the product held by `holder` (`(CustodianKind::Hq, None)` or `(CustodianKind::Agent, Some(id))`).
    pub fn items(&self, holder: (CustodianKind, Option<i64>), n: i64) -> Vec<String> {
        let start = self.next_item.get();
        self.next_item.set(start + n);
        let serials: Vec<String> = (start..start + n)
            .map(|i| format!("{}{i:08}", self.batch))
            .collect();
        let mut conn = self.conn();
        for chunk in serials.chunks(500) {
            let rows: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    (
                        items::serial.eq(s.clone()),
                        items::batch_id.eq(self.batch.clone()),
                        items::item_index.eq(start + k as i64),
                        items::code_hash.eq("h"),
                        items::status.eq(Stored(ItemStatus::Active)),
                        items::custodian_kind.eq(Stored(holder.0)),
                        items::custodian_id.eq(holder.1),
                    )
                })
                .collect();
            let insert = diesel::insert_into(items::table).values(rows);
            // Multi-row INSERT is per backend in diesel.
            match &mut *conn {
                DbConnection::Sqlite(c) => insert.execute(c),
                DbConnection::Postgres(c) => insert.execute(c),
            }
            .expect("items");
        }
        serials
    }

    /// An agent created by HQ (pending) with an account of its own.
    pub fn pending(&self, name: &str, tier: &str, referrer: Option<i64>) -> (i64, Actor) {
        let mut conn = self.conn();
        let user = user(&mut conn, name, Role::Agent);
        let input = agents::NewAgentInput {
            name: name.into(),
            tier: tier.into(),
            referrer_id: referrer,
            region: "330100".into(),
            user_id: Some(user),
        };
        let row = agents::create(&mut conn, input, self.admin.user()).expect("create agent");
        (
            row.id,
            Actor::Agent {
                user,
                agent: row.id,
            },
        )
    }

    /// An agent already active at its tier (as an import of an existing network would be).
    pub fn active(&self, name: &str, tier: &str, referrer: Option<i64>) -> (i64, Actor) {
        let (id, actor) = self.pending(name, tier, referrer);
        let mut conn = self.conn();
        let row = agents_store::get(&mut conn, id).expect("agent");
        assert!(agents_store::activate(&mut conn, id, row.tier_rank, 0).expect("activate"));
        agents::recompute_below(&mut conn, id, true).expect("recompute");
        (id, actor)
    }

    pub fn agent(&self, id: i64) -> agents_store::AgentRow {
        agents_store::get(&mut self.conn(), id).expect("agent")
    }

    pub fn order(&self, id: i64) -> orders_store::OrderRow {
        orders_store::get(&mut self.conn(), id).expect("order")
    }

    /// Submits an order as `buyer`.
    pub fn submit(&self, buyer: Actor, quantity: i64) -> i64 {
        let input = orders::OrderInput::single(SKU, quantity);
        orders::submit(&mut self.conn(), buyer, &input)
            .expect("submit")
            .id
    }

    /// Ships the order from its shipper's custody (every item accepted) and has the buyer
    /// receive it.
    pub fn ship_and_receive(&self, order: i64, buyer: Actor) {
        let row = self.order(order);
        let holder = match row.shipper_kind {
            Some(PartyKind::Hq) => (CustodianKind::Hq, None),
            _ => (CustodianKind::Agent, row.shipper_id),
        };
        let serials = self.held(holder, row.quantity);
        let out = shipping::ship_items(&mut self.conn(), order, None, &serials).expect("ship");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        assert_eq!(out.state, OrderState::Shipped);
        shipping::receive(&mut self.conn(), order, buyer, false).expect("receive");
    }

    /// Serials of `n` items `holder` holds.
    pub fn held(&self, holder: (CustodianKind, Option<i64>), n: i64) -> Vec<String> {
        let mut q = items::table
            .filter(items::custodian_kind.eq(Stored(holder.0)))
            .select(items::serial)
            .order(items::serial)
            .limit(n)
            .into_boxed();
        q = match holder.1 {
            Some(id) => q.filter(items::custodian_id.eq(id)),
            None => q.filter(items::custodian_id.is_null()),
        };
        q.load(&mut self.conn()).expect("held items")
    }

    /// Runs the settlement job as if it were `days` from now.
    pub fn settle_after(&self, days: i64) -> settlement::Settled {
        settlement::tick(&mut self.conn(), later(days)).expect("settle")
    }

    pub fn pay(&self, order: i64, via: chainmark_server::domain::network::PaidVia, actor: Actor) {
        payment::pay(&mut self.conn(), order, via, actor).expect("pay");
    }

    /// A deposit into an agent's wallet (money in HQ's bank), as a top-up would be.
    pub fn deposit(&self, agent: i64, amount: &str) {
        let to = Account::available(chainmark_server::store::network::agent_id(agent));
        let p = Posting::transfers(
            format!("deposit:{agent}:{amount}"),
            [(Account::Hq(HqAccount::Cash), to, dec(amount))],
        )
        .expect("lines");
        let meta = Meta {
            kind: chainmark_server::domain::network::PostingKind::Deposit,
            ..Meta::default()
        };
        ledger_store::book(&mut self.conn(), &p, meta).expect("deposit");
    }

    pub fn balance(&self, account: Account) -> Decimal {
        ledger_store::balance(&mut self.conn(), &account).expect("balance")
    }

    pub fn available(&self, agent: i64) -> Decimal {
        self.balance(Account::available(
            chainmark_server::store::network::agent_id(agent),
        ))
    }

    pub fn frozen(&self, agent: i64) -> Decimal {
        self.balance(Account::frozen(chainmark_server::store::network::agent_id(
            agent,
        )))
    }

    pub fn hq(&self, account: HqAccount) -> Decimal {
        self.balance(Account::Hq(account))
    }

    /// The ledger's invariants: every stored balance is the sum of its lines, and all balances
    /// together are zero.
    pub fn assert_books_balance(&self) {
        let rows = ledger_store::balances_vs_lines(&mut self.conn()).expect("balances");
        let mut total = 0i64;
        for (code, balance, lines) in rows {
            assert_eq!(balance, lines, "{code}: stored balance vs its lines");
            total += balance;
        }
        assert_eq!(total, 0, "the whole ledger sums to zero");
    }
}

pub fn later(days: i64) -> NaiveDateTime {
    now() + Duration::days(days)
}
