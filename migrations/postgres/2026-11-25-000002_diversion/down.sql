DROP TABLE diversion_alerts;
DROP INDEX sightings_serial_id;
ALTER TABLE sightings DROP COLUMN bot;
ALTER TABLE sightings DROP COLUMN expected_region;
ALTER TABLE sightings DROP COLUMN place_source;
ALTER TABLE sightings DROP COLUMN region_code;
DROP TABLE warehouse_regions;
DROP TABLE agent_regions;
