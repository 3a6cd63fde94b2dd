DROP TABLE campaign_days;
DROP TABLE campaign_rewards;
DROP TABLE payout_batches;
DROP TABLE consumer_sessions;
DROP TABLE consumer_codes;
DROP TABLE consumers;
DROP TABLE campaign_prizes;
DROP TABLE campaigns;
