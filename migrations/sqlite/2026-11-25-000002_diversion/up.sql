-- Diversion audit (防串货, issue 7): agents' authorised regions, where each sighting was and
-- where it was expected, and the alerts HQ auditors decide on.

CREATE TABLE agent_regions (
    agent_id BIGINT NOT NULL REFERENCES agents(id),
    region_code TEXT NOT NULL,
    PRIMARY KEY (agent_id, region_code)
);

-- HQ warehouses and auditors' kits have no agent: their handhelds place scans by warehouse.
CREATE TABLE warehouse_regions (
    warehouse TEXT PRIMARY KEY NOT NULL,
    region_code TEXT NOT NULL
);

ALTER TABLE sightings ADD COLUMN region_code TEXT;
ALTER TABLE sightings ADD COLUMN place_source TEXT;
ALTER TABLE sightings ADD COLUMN expected_region TEXT;
ALTER TABLE sightings ADD COLUMN bot BOOLEAN NOT NULL DEFAULT 0;
CREATE INDEX sightings_serial_id ON sightings(serial, id);

CREATE TABLE diversion_alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    serial TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    expected_region TEXT,
    observed_region TEXT,
    place_source TEXT NOT NULL,
    agent_id BIGINT,
    risk INTEGER NOT NULL,
    evidence TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    note TEXT,
    action TEXT,
    penalty_cents BIGINT,
    decided_by BIGINT,
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX diversion_alerts_status ON diversion_alerts(status, id);
CREATE INDEX diversion_alerts_agent ON diversion_alerts(agent_id, created_at);
CREATE INDEX diversion_alerts_serial ON diversion_alerts(serial);
CREATE INDEX diversion_alerts_created ON diversion_alerts(created_at);
