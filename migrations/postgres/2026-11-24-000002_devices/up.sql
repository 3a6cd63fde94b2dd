-- Warehouse handhelds (issue 5) and every scan they sent. A device's MQTT password and MAC
-- secret is derived from the server's device key, the device id and `secret_generation`
-- (bumped to re-key), so no secret is stored here.
CREATE TABLE devices (
    id TEXT PRIMARY KEY NOT NULL,
    warehouse TEXT NOT NULL,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('hq', 'agent')),
    owner_id BIGINT,
    secret_generation INTEGER NOT NULL DEFAULT 1,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    online BOOLEAN NOT NULL DEFAULT FALSE,
    last_seen_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    created_by BIGINT REFERENCES users(id)
);
-- One row per (device, seq): the primary key is what makes a resent or replayed event apply at
-- most once. `result` is 'accepted' or the rejection reason; a duplicate is answered from it.
CREATE TABLE device_scans (
    device_id TEXT NOT NULL REFERENCES devices(id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    context TEXT,
    scanned_at TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    result TEXT NOT NULL,
    items_moved INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX device_scans_context ON device_scans(context);
CREATE INDEX device_scans_received ON device_scans(received_at);
ALTER TABLE custody_events ADD COLUMN device_id TEXT;
ALTER TABLE custody_events ADD COLUMN device_seq BIGINT;
