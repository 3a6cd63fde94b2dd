-- The flow matrix (expected province → observed province) as a rollup of counts per day, kept
-- by triggers in the same transaction as each sighting or scan alert is recorded: the matrix is
-- then a small GROUP BY over this table instead of a scan of every sighting (issue 7's benchmark:
-- 10,000,000 sightings). `shard` (the row's id modulo 8) spreads one hot cell over several rows,
-- so concurrent verifications of the same province on the same day do not queue on one row lock.

CREATE TABLE diversion_flow_days (
    expected TEXT NOT NULL,
    observed TEXT NOT NULL,
    day DATE NOT NULL,
    shard INTEGER NOT NULL DEFAULT 0,
    n BIGINT NOT NULL,
    PRIMARY KEY (day, expected, observed, shard)
);

INSERT INTO diversion_flow_days (expected, observed, day, shard, n)
SELECT expected, observed, day, 0, SUM(n) FROM (
    SELECT substr(expected_region, 1, 2) || '0000' AS expected,
           substr(region_code, 1, 2) || '0000' AS observed, at::date AS day, COUNT(*) AS n
    FROM sightings
    WHERE expected_region IS NOT NULL AND region_code IS NOT NULL AND bot = FALSE
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT substr(expected_region, 1, 2) || '0000', substr(observed_region, 1, 2) || '0000',
           created_at::date, COUNT(*)
    FROM diversion_alerts
    WHERE channel = 'scan' AND expected_region IS NOT NULL AND observed_region IS NOT NULL
    GROUP BY 1, 2, 3
) f
GROUP BY expected, observed, day;

CREATE FUNCTION diversion_flow_count(p_expected TEXT, p_observed TEXT, p_day DATE, p_shard INTEGER)
RETURNS VOID AS $$
    INSERT INTO diversion_flow_days AS f (expected, observed, day, shard, n)
    VALUES (substr(p_expected, 1, 2) || '0000', substr(p_observed, 1, 2) || '0000', p_day, p_shard, 1)
    ON CONFLICT (day, expected, observed, shard) DO UPDATE SET n = f.n + 1;
$$ LANGUAGE sql;

CREATE FUNCTION diversion_flow_sighting() RETURNS TRIGGER AS $$
BEGIN
    PERFORM diversion_flow_count(NEW.expected_region, NEW.region_code, NEW.at::date,
                                 (NEW.id % 8)::integer);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION diversion_flow_scan_alert() RETURNS TRIGGER AS $$
BEGIN
    PERFORM diversion_flow_count(NEW.expected_region, NEW.observed_region, NEW.created_at::date,
                                 (NEW.id % 8)::integer);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER diversion_flow_sightings AFTER INSERT ON sightings FOR EACH ROW
WHEN (NEW.expected_region IS NOT NULL AND NEW.region_code IS NOT NULL AND NOT NEW.bot)
EXECUTE FUNCTION diversion_flow_sighting();

CREATE TRIGGER diversion_flow_scan_alerts AFTER INSERT ON diversion_alerts FOR EACH ROW
WHEN (NEW.channel = 'scan' AND NEW.expected_region IS NOT NULL AND NEW.observed_region IS NOT NULL)
EXECUTE FUNCTION diversion_flow_scan_alert();
