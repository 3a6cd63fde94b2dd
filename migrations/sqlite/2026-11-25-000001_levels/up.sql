-- The general level engine (issue 6, DOMAIN §9; SQLite). Kept column-for-column equal to the
-- PostgreSQL migration of the same name. Money is BIGINT cents, as in the network migration.

-- A level policy document (TOML): drafts are validated, one version is active.
CREATE TABLE level_policies (
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
CREATE UNIQUE INDEX level_policies_one_active ON level_policies(status) WHERE status = 'active';

-- What the level engine knows of an agent beyond its tier: when it reached the level it holds
-- (tier_rank is the level this row is about: when agents.tier_rank differs, the tier changed
-- elsewhere, e.g. a seed-004 top-up), the last day a decision was recorded for it (a day is
-- decided once), and its quotas (配额), one column per metric; quota_points in hundredths.
CREATE TABLE agent_levels (
    agent_id BIGINT PRIMARY KEY REFERENCES agents(id),
    tier_rank INTEGER NOT NULL,
    reached_on DATE NOT NULL,
    last_decided_on DATE,
    quota_invited_agents BIGINT NOT NULL DEFAULT 0,
    quota_bound_customers BIGINT NOT NULL DEFAULT 0,
    quota_personal_sales_cents BIGINT NOT NULL DEFAULT 0,
    quota_team_sales_cents BIGINT NOT NULL DEFAULT 0,
    quota_amount_paid_cents BIGINT NOT NULL DEFAULT 0,
    quota_orders BIGINT NOT NULL DEFAULT 0,
    quota_recharge_cents BIGINT NOT NULL DEFAULT 0,
    quota_points_centi BIGINT NOT NULL DEFAULT 0
);

-- Every level change (and every protection, 保级) with its reasons, as the agent reads them.
-- cause: 'assessment' (the daily or on-demand run for assessed_on) or 'policy_change'.
CREATE TABLE level_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id BIGINT NOT NULL REFERENCES agents(id),
    assessed_on DATE NOT NULL,
    cause TEXT NOT NULL CHECK (cause IN ('assessment', 'policy_change')),
    kind TEXT NOT NULL CHECK (kind IN ('upgrade', 'downgrade', 'protected')),
    from_rank INTEGER NOT NULL,
    to_rank INTEGER NOT NULL,
    level_policy_version BIGINT NOT NULL,
    summary_zh TEXT NOT NULL,
    summary_en TEXT NOT NULL,
    reasons TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- An assessment decides an agent once per day (a re-run changes nothing).
CREATE UNIQUE INDEX level_changes_once_a_day ON level_changes(agent_id, assessed_on)
    WHERE cause = 'assessment';
CREATE INDEX level_changes_agent ON level_changes(agent_id, id);

-- One row per assessment run: what it looked at and what it changed.
CREATE TABLE level_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assessed_on DATE NOT NULL,
    level_policy_version BIGINT NOT NULL,
    agents BIGINT NOT NULL,
    upgrades BIGINT NOT NULL,
    downgrades BIGINT NOT NULL,
    protected BIGINT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    started_by BIGINT REFERENCES users(id)
);
CREATE INDEX level_runs_day ON level_runs(assessed_on);

-- Activity the network's orders do not hold, recorded by HQ: customers bound to an agent
-- (绑定客户), wallet recharges (充值) and level prices paid (直接支付升级, level_key = tier key).
CREATE TABLE level_activity (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id BIGINT NOT NULL REFERENCES agents(id),
    kind TEXT NOT NULL CHECK (kind IN ('customer_bound', 'recharge', 'level_payment')),
    amount_cents BIGINT NOT NULL DEFAULT 0,
    level_key TEXT,
    note TEXT,
    at TIMESTAMP NOT NULL,
    recorded_by BIGINT REFERENCES users(id)
);
CREATE INDEX level_activity_agent ON level_activity(agent_id, at);

-- The window sums read orders by buyer and payment time.
CREATE INDEX restock_orders_buyer_paid ON restock_orders(buyer_id, paid_at);
CREATE INDEX agents_referrer_activated ON agents(referrer_id, activated_at);
