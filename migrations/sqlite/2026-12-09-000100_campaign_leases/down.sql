DROP INDEX campaign_rewards_unsettled;
DROP INDEX campaign_rewards_lease;
ALTER TABLE campaign_rewards DROP COLUMN posting_id;
ALTER TABLE campaign_rewards DROP COLUMN settled;
ALTER TABLE campaign_rewards DROP COLUMN lease_id;
DROP TABLE campaign_lease_stock;
DROP TABLE campaign_leases;
