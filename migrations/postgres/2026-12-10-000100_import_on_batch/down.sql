-- Back to an `import` custody event per item. The older version reads an item's history and
-- the EPCIS export in event id order, so every import must come before the events that followed
-- it: the events are written again, the imports first (batches in import order, items in index
-- order), then every other event in its old order. Their ids change, and with them the custody
-- eventIDs of the older version's EPCIS exports.
CREATE TEMPORARY TABLE later_custody_events AS SELECT * FROM custody_events;
DELETE FROM custody_events;

INSERT INTO custody_events (serial, kind, to_kind, actor_user_id, at)
SELECT i.serial, 'import', 'hq', b.imported_by, b.imported_at
FROM items i JOIN batches b ON b.id = i.batch_id
ORDER BY b.imported_at, i.batch_id, i.item_index;

INSERT INTO custody_events (serial, kind, from_kind, from_id, to_kind, to_id, actor_user_id, note,
                            at, device_id, device_seq)
SELECT serial, kind, from_kind, from_id, to_kind, to_id, actor_user_id, note, at, device_id,
       device_seq
FROM later_custody_events ORDER BY id;

DROP TABLE later_custody_events;

ALTER TABLE batches DROP COLUMN imported_by;
