-- Issue 20. tracking_events: the courier's track of a shipment (物流轨迹), one row per event, as
-- the shipper typed it or as the courier adapter fetched it. A fetched event carries the
-- courier's own id of it (external_id): fetching the track again adds nothing (the unique index;
-- NULLs, the typed events, are distinct in both databases). order_waybills.tracked_at: when the
-- courier was last asked, so the fetch job asks each open shipment at most once a period.
CREATE TABLE tracking_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id BIGINT NOT NULL REFERENCES restock_orders (id),
    at TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    place TEXT,
    detail TEXT NOT NULL,
    source TEXT NOT NULL,
    external_id TEXT,
    recorded_by BIGINT REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX tracking_events_external ON tracking_events (order_id, external_id);
CREATE INDEX tracking_events_order_at ON tracking_events (order_id, at);
ALTER TABLE order_waybills ADD COLUMN tracked_at TIMESTAMP;
