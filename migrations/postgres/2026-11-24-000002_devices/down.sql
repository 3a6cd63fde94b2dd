ALTER TABLE custody_events DROP COLUMN device_seq;
ALTER TABLE custody_events DROP COLUMN device_id;
DROP TABLE device_scans;
DROP TABLE devices;
