-- The agent network (DOMAIN §2–§5): policy versions, agents, restock orders, the ledger,
-- withdrawals and monthly statements (SQLite). Kept column-for-column equal to the PostgreSQL
-- migration of the same name.
--
-- Money is BIGINT cents (`*_cents`), on both backends. Every amount the network stores is whole
-- cents (prices are validated so, and every computed amount is rounded to the cent once, where it
-- is booked), so an integer holds it exactly and `Decimal::new(cents, 2)` gives it back exactly.
-- NUMERIC would not: SQLite gives NUMERIC columns REAL affinity (binary floating point). TEXT would
-- round-trip, but SQL could not add it up: SUM over TEXT casts to REAL on SQLite. With integers
-- the database sums balances and statements exactly on both backends.

-- A tier policy document (TOML) and its life: drafts are validated, one version is active.
CREATE TABLE policy_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version BIGINT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    created_at TIMESTAMP NOT NULL,
    created_by BIGINT REFERENCES users(id),
    activated_at TIMESTAMP,
    activated_by BIGINT REFERENCES users(id)
);
CREATE UNIQUE INDEX policy_versions_one_active ON policy_versions(status) WHERE status = 'active';

-- An agent (代理). supplier_id NULL means HQ supplies it. tier_rank is the rank in the policy
-- version it was placed under (1 = top). activated_tier_rank: the tier its entry order activated
-- it at, which is what counts for its referrer's upgrade. entry_paid_cents: what it paid to enter
-- its current tier (entry order, plus top-ups), which the next upgrade's top-up is reduced by.
CREATE TABLE agents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT UNIQUE REFERENCES users(id),
    name TEXT NOT NULL,
    tier_rank INTEGER NOT NULL CHECK (tier_rank >= 1),
    referrer_id BIGINT REFERENCES agents(id),
    supplier_id BIGINT REFERENCES agents(id),
    region TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'suspended')),
    joined_at TIMESTAMP NOT NULL,
    activated_at TIMESTAMP,
    activated_tier_rank INTEGER,
    policy_version BIGINT NOT NULL,
    entry_paid_cents BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX agents_referrer ON agents(referrer_id);
CREATE INDEX agents_supplier ON agents(supplier_id);

-- A restock order (进货单). seller/shipper: kind 'hq' (id NULL) or 'agent'. supplier_chain is the
-- chain fixed when placed, nearest first, as "agent@unit_price_cents" joined by ','. The columns
-- from shipper_kind to return_days are the order's money fixed at payment (BookedOrder); margins
-- are in order_legs. due_at is when the next automatic step is due (auto-receive once shipped,
-- completion once received; NULL otherwise); the jobs walk one state in id order (index
-- restock_orders_state), so a run is one pass whatever the backlog. Who did what
-- when is in order_events.
CREATE TABLE restock_orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('entry', 'restock', 'upgrade')),
    buyer_id BIGINT NOT NULL REFERENCES agents(id),
    product_id BIGINT NOT NULL REFERENCES products(id),
    tier_rank INTEGER NOT NULL,
    seller_kind TEXT NOT NULL CHECK (seller_kind IN ('hq', 'agent')),
    seller_id BIGINT REFERENCES agents(id),
    supplier_chain TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_cents BIGINT NOT NULL,
    goods_amount_cents BIGINT NOT NULL,
    policy_version BIGINT NOT NULL,
    receive_days INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('submitted', 'accepted', 'forwarded', 'rejected', 'paid',
        'shipping', 'shipped', 'received', 'completed', 'cancelled', 'partially_refunded', 'refunded')),
    shipper_kind TEXT CHECK (shipper_kind IN ('hq', 'agent')),
    shipper_id BIGINT REFERENCES agents(id),
    shipper_amount_cents BIGINT,
    paid_via TEXT CHECK (paid_via IN ('offline', 'wallet')),
    rebate_agent_id BIGINT REFERENCES agents(id),
    rebate_cents BIGINT,
    award_agent_id BIGINT REFERENCES agents(id),
    award_cents BIGINT,
    return_days INTEGER,
    shipped_quantity BIGINT NOT NULL DEFAULT 0,
    returned_quantity BIGINT NOT NULL DEFAULT 0,
    open_case BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    paid_at TIMESTAMP,
    shipped_at TIMESTAMP,
    received_at TIMESTAMP,
    due_at TIMESTAMP
);
CREATE INDEX restock_orders_buyer ON restock_orders(buyer_id, id);
CREATE INDEX restock_orders_seller ON restock_orders(seller_id, id);
CREATE INDEX restock_orders_shipper ON restock_orders(shipper_id, id);
CREATE INDEX restock_orders_state ON restock_orders(state, id);

-- Forwarding (一键提交上级代发): leg 0 is the original order, leg i > 0 the linked order the
-- agent `buyer_id` placed with its own supplier, earning margin_cents (差价).
CREATE TABLE order_legs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id BIGINT NOT NULL REFERENCES restock_orders(id),
    position INTEGER NOT NULL,
    buyer_id BIGINT NOT NULL REFERENCES agents(id),
    seller_kind TEXT NOT NULL CHECK (seller_kind IN ('hq', 'agent')),
    seller_id BIGINT REFERENCES agents(id),
    unit_price_cents BIGINT NOT NULL,
    goods_amount_cents BIGINT NOT NULL,
    margin_cents BIGINT,
    UNIQUE (order_id, position)
);
CREATE INDEX order_legs_seller ON order_legs(seller_id);

-- The order's state history, append-only.
CREATE TABLE order_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id BIGINT NOT NULL REFERENCES restock_orders(id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor_user_id BIGINT REFERENCES users(id),
    note TEXT,
    at TIMESTAMP NOT NULL
);
CREATE INDEX order_events_order ON order_events(order_id);

-- Which items were shipped against which order (allocations), and what became of each.
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id BIGINT NOT NULL REFERENCES restock_orders(id),
    serial TEXT NOT NULL REFERENCES items(serial),
    shipped_at TIMESTAMP NOT NULL,
    shipped_by BIGINT REFERENCES users(id),
    received_at TIMESTAMP,
    returned_at TIMESTAMP,
    UNIQUE (order_id, serial)
);
CREATE INDEX order_items_serial ON order_items(serial);

-- Refunds by returned quantity; the id is part of the refund posting's idempotency key.
CREATE TABLE order_refunds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id BIGINT NOT NULL REFERENCES restock_orders(id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    returned_before BIGINT NOT NULL,
    after_completion BOOLEAN NOT NULL,
    reason TEXT NOT NULL,
    actor_user_id BIGINT REFERENCES users(id),
    at TIMESTAMP NOT NULL,
    UNIQUE (order_id, returned_before)
);

-- Ledger accounts; code is the domain's name for it ('hq:sales', 'agent:7:available').
-- balance_cents is the sum of the account's lines, kept in the same transaction as the lines so
-- a withdrawal can check cover atomically.
CREATE TABLE ledger_accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    agent_id BIGINT REFERENCES agents(id),
    wallet TEXT NOT NULL CHECK (wallet IN ('available', 'frozen', 'sales', 'rebate_expense',
        'payables', 'cash')),
    balance_cents BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX ledger_accounts_agent ON ledger_accounts(agent_id);
INSERT INTO ledger_accounts (code, agent_id, wallet, balance_cents) VALUES
    ('hq:sales', NULL, 'sales', 0),
    ('hq:rebate_expense', NULL, 'rebate_expense', 0),
    ('hq:payables', NULL, 'payables', 0),
    ('hq:cash', NULL, 'cash', 0);

-- A posting: booked once per idempotency key (the business event), never edited.
CREATE TABLE postings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    order_id BIGINT REFERENCES restock_orders(id),
    withdrawal_id BIGINT,
    policy_version BIGINT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX postings_order ON postings(order_id);

-- A posting's lines sum to zero; a positive amount credits the account.
CREATE TABLE posting_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    posting_id BIGINT NOT NULL REFERENCES postings(id),
    account_id BIGINT NOT NULL REFERENCES ledger_accounts(id),
    amount_cents BIGINT NOT NULL CHECK (amount_cents <> 0),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX posting_lines_posting ON posting_lines(posting_id);
CREATE INDEX posting_lines_account ON posting_lines(account_id, created_at);
CREATE INDEX posting_lines_at ON posting_lines(created_at);

-- Withdrawals: requested by the agent, approved (paid out) or rejected by HQ finance.
CREATE TABLE withdrawals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id BIGINT NOT NULL REFERENCES agents(id),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    status TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'rejected', 'paid')),
    requested_at TIMESTAMP NOT NULL,
    requested_by BIGINT REFERENCES users(id),
    decided_at TIMESTAMP,
    decided_by BIGINT REFERENCES users(id),
    paid_at TIMESTAMP,
    reference TEXT,
    note TEXT
);
CREATE INDEX withdrawals_agent ON withdrawals(agent_id, id);
CREATE INDEX withdrawals_status ON withdrawals(status, id);

-- One statement per agent and month ('YYYY-MM', UTC): opening and closing balances of both
-- wallets and the month's net movement by kind of event. closing = opening + the movements.
CREATE TABLE monthly_statements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id BIGINT NOT NULL REFERENCES agents(id),
    month TEXT NOT NULL,
    opening_available_cents BIGINT NOT NULL,
    opening_frozen_cents BIGINT NOT NULL,
    earned_cents BIGINT NOT NULL,
    settled_cents BIGINT NOT NULL,
    refunds_cents BIGINT NOT NULL,
    payments_cents BIGINT NOT NULL,
    withdrawals_cents BIGINT NOT NULL,
    closing_available_cents BIGINT NOT NULL,
    closing_frozen_cents BIGINT NOT NULL,
    line_count BIGINT NOT NULL,
    generated_at TIMESTAMP NOT NULL,
    UNIQUE (agent_id, month)
);

-- Stock is counted from item custody (DOMAIN §4): an agent's stock is the items it holds.
CREATE INDEX items_custodian ON items(custodian_kind, custodian_id);
