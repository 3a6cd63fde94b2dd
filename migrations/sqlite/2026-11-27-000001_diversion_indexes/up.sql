-- The flow matrix (expected province → observed province) as a rollup of counts per day, kept
-- by triggers in the same transaction as each sighting or scan alert is recorded: the matrix is
-- then a small GROUP BY over this table instead of a scan of every sighting (issue 7's benchmark:
-- 10,000,000 sightings). `shard` spreads one hot cell over several rows on PostgreSQL, where
-- verifications commit concurrently; SQLite has one writer and always uses shard 0.

CREATE TABLE diversion_flow_days (
    expected TEXT NOT NULL,
    observed TEXT NOT NULL,
    day TEXT NOT NULL,
    shard INTEGER NOT NULL DEFAULT 0,
    n BIGINT NOT NULL,
    PRIMARY KEY (day, expected, observed, shard)
);

INSERT INTO diversion_flow_days (expected, observed, day, shard, n)
SELECT expected, observed, day, 0, SUM(n) FROM (
    SELECT substr(expected_region, 1, 2) || '0000' AS expected,
           substr(region_code, 1, 2) || '0000' AS observed, date(at) AS day, COUNT(*) AS n
    FROM sightings
    WHERE expected_region IS NOT NULL AND region_code IS NOT NULL AND bot = FALSE
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT substr(expected_region, 1, 2) || '0000', substr(observed_region, 1, 2) || '0000',
           date(created_at), COUNT(*)
    FROM diversion_alerts
    WHERE channel = 'scan' AND expected_region IS NOT NULL AND observed_region IS NOT NULL
    GROUP BY 1, 2, 3
) f
GROUP BY expected, observed, day;

CREATE TRIGGER diversion_flow_sightings AFTER INSERT ON sightings
WHEN NEW.expected_region IS NOT NULL AND NEW.region_code IS NOT NULL AND NEW.bot = FALSE
BEGIN
    INSERT INTO diversion_flow_days (expected, observed, day, shard, n)
    VALUES (substr(NEW.expected_region, 1, 2) || '0000', substr(NEW.region_code, 1, 2) || '0000',
            date(NEW.at), 0, 1)
    ON CONFLICT (day, expected, observed, shard) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER diversion_flow_scan_alerts AFTER INSERT ON diversion_alerts
WHEN NEW.channel = 'scan' AND NEW.expected_region IS NOT NULL AND NEW.observed_region IS NOT NULL
BEGIN
    INSERT INTO diversion_flow_days (expected, observed, day, shard, n)
    VALUES (substr(NEW.expected_region, 1, 2) || '0000',
            substr(NEW.observed_region, 1, 2) || '0000', date(NEW.created_at), 0, 1)
    ON CONFLICT (day, expected, observed, shard) DO UPDATE SET n = n + 1;
END;
