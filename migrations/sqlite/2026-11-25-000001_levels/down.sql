DROP INDEX agents_referrer_activated;
DROP INDEX restock_orders_buyer_paid;
DROP TABLE level_activity;
DROP TABLE level_runs;
DROP TABLE level_changes;
DROP TABLE agent_levels;
DROP TABLE level_policies;
