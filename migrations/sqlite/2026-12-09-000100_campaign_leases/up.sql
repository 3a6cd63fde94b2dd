-- Scan marketing at full speed: each server instance takes a campaign's budget and its prizes'
-- stock in leases (a block at a time, by one conditional update) and spends them in memory, so
-- a draw touches no row another draw touches. A reward drawn is settled a moment later in groups:
-- one ledger posting per group and the dashboard's counters.
--
-- campaign_leases: what one instance (holder) holds of a campaign's budget; cents is what it took
--   in all and has not given back. What is left of a lease is cents minus the amounts of the
--   rewards drawn under it (campaign_rewards.lease_id), so a lease whose holder died is given
--   back to the cent.
-- campaign_lease_stock: the units of a prize's stock a lease holds, the same way.
-- campaign_rewards.lease_id: the lease a reward was paid from (no reference: a lease given back
--   is deleted, and its rewards keep the number).
-- campaign_rewards.settled: whether the reward's posting and counters are booked. Rewards drawn
--   before this migration were booked at their draw, each under its own key (reward:{serial}).
-- campaign_rewards.posting_id: the posting that booked the reward: one per group settled at
--   once, keyed by the group's first reward (rewards:{id}); a reward claimed before it was
--   settled is a group of its own.
CREATE TABLE campaign_leases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    holder TEXT NOT NULL,
    cents BIGINT NOT NULL DEFAULT 0 CHECK (cents >= 0),
    renewed_at TIMESTAMP NOT NULL,
    UNIQUE (campaign_id, holder)
);
CREATE TABLE campaign_lease_stock (
    lease_id BIGINT NOT NULL REFERENCES campaign_leases (id),
    prize_id BIGINT NOT NULL REFERENCES campaign_prizes (id),
    units BIGINT NOT NULL DEFAULT 0 CHECK (units >= 0),
    PRIMARY KEY (lease_id, prize_id)
);
ALTER TABLE campaign_rewards ADD COLUMN lease_id BIGINT;
ALTER TABLE campaign_rewards ADD COLUMN settled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE campaign_rewards ADD COLUMN posting_id BIGINT REFERENCES postings (id);
CREATE INDEX campaign_rewards_lease ON campaign_rewards (lease_id) WHERE lease_id IS NOT NULL;
CREATE INDEX campaign_rewards_unsettled ON campaign_rewards (id) WHERE NOT settled;
