INSERT INTO custody_events (serial, kind, to_kind, actor_user_id, at)
SELECT i.serial, 'import', 'hq', b.imported_by, b.imported_at
FROM items i JOIN batches b ON b.id = i.batch_id
ORDER BY b.imported_at, i.batch_id, i.item_index;

ALTER TABLE batches DROP COLUMN imported_by;
