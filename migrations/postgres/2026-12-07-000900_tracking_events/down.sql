ALTER TABLE order_waybills DROP COLUMN tracked_at;
DROP TABLE tracking_events;
