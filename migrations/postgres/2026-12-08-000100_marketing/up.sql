-- Issue 21. Scan marketing (扫码营销): rewards on a genuine first verification.
--
-- campaigns: what is rewarded (products, batches, regions, a window), with a budget in cents that
--   `spent_cents` may never pass (a CHECK, and the conditional update that spends), and a limit of
--   rewards a consumer may claim per day.
-- campaign_prizes: what a scan can win. A points, coupon or cash campaign has one prize at odds
--   10000 (every scan wins); a lottery has several, each with odds in basis points and a stock
--   (`remaining` never below zero). Cash is a fixed amount (min = max) or a random range.
-- campaign_rewards: one row per code ever (the serial is the key): the draw, what it won (possibly
--   nothing), its value in cents, who claimed it, and the payout that paid it.
-- campaign_days: the dashboard's counters per campaign, day (China time) and province.
-- consumers, consumer_codes, consumer_sessions: a consumer signs in by phone with a one-time code.
-- payout_batches: cash owed to consumers, exported for a bulk transfer and marked paid once.
CREATE TABLE campaigns (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('draft', 'running', 'paused', 'ended')),
    skus TEXT NOT NULL DEFAULT '',
    batches TEXT NOT NULL DEFAULT '',
    regions TEXT NOT NULL DEFAULT '',
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    budget_cents BIGINT NOT NULL CHECK (budget_cents > 0),
    spent_cents BIGINT NOT NULL DEFAULT 0 CHECK (spent_cents >= 0 AND spent_cents <= budget_cents),
    daily_limit INTEGER NOT NULL CHECK (daily_limit > 0),
    lottery BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    created_by BIGINT REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX campaigns_state ON campaigns (state, id);
CREATE TABLE campaign_prizes (
    id BIGSERIAL PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('points', 'coupon', 'cash')),
    points BIGINT NOT NULL DEFAULT 0 CHECK (points >= 0),
    min_cents BIGINT NOT NULL DEFAULT 0 CHECK (min_cents >= 0),
    max_cents BIGINT NOT NULL DEFAULT 0 CHECK (max_cents >= min_cents),
    odds_bp INTEGER NOT NULL CHECK (odds_bp > 0 AND odds_bp <= 10000),
    stock BIGINT CHECK (stock >= 0),
    remaining BIGINT CHECK (remaining >= 0),
    UNIQUE (campaign_id, position)
);
CREATE TABLE consumers (
    id BIGSERIAL PRIMARY KEY,
    phone TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE TABLE consumer_codes (
    id BIGSERIAL PRIMARY KEY,
    phone TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    used_at TIMESTAMP,
    client_addr TEXT
);
CREATE INDEX consumer_codes_phone ON consumer_codes (phone, id);
CREATE TABLE consumer_sessions (
    id BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    consumer_id BIGINT NOT NULL REFERENCES consumers (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX consumer_sessions_consumer ON consumer_sessions (consumer_id);
CREATE TABLE payout_batches (
    id BIGSERIAL PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('exported', 'paid')),
    total_cents BIGINT NOT NULL,
    line_count INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by BIGINT REFERENCES users (id),
    reference TEXT,
    paid_at TIMESTAMP,
    paid_by BIGINT REFERENCES users (id)
);
CREATE TABLE campaign_rewards (
    id BIGSERIAL PRIMARY KEY,
    serial TEXT NOT NULL UNIQUE,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    prize_id BIGINT REFERENCES campaign_prizes (id),
    kind TEXT CHECK (kind IN ('points', 'coupon', 'cash')),
    points BIGINT NOT NULL DEFAULT 0,
    amount_cents BIGINT NOT NULL DEFAULT 0 CHECK (amount_cents >= 0),
    coupon_code TEXT UNIQUE,
    claim_token_hash TEXT UNIQUE,
    consumer_id BIGINT REFERENCES consumers (id),
    region_code TEXT,
    drawn_at TIMESTAMP NOT NULL,
    claimed_at TIMESTAMP,
    payout_batch_id BIGINT REFERENCES payout_batches (id)
);
CREATE INDEX campaign_rewards_campaign ON campaign_rewards (campaign_id, id);
CREATE INDEX campaign_rewards_consumer ON campaign_rewards (consumer_id, claimed_at);
CREATE INDEX campaign_rewards_payout ON campaign_rewards (payout_batch_id);
CREATE TABLE campaign_days (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    day DATE NOT NULL,
    province TEXT NOT NULL,
    scans BIGINT NOT NULL DEFAULT 0,
    rewards BIGINT NOT NULL DEFAULT 0,
    claimed BIGINT NOT NULL DEFAULT 0,
    cost_cents BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, day, province)
);
