-- An import is recorded once, on its batch, instead of one identical `import` custody event per
-- item: who imported it (`imported_at` already says when). Every reader of an item's custody
-- history (the item look-up, diversion evidence and trace, EPCIS commissioning) starts it from
-- its batch's import. At 10,000,000 codes the per-item events were a second table as large as
-- `items` and a third of the import's time (BENCHMARKS.md, issue 22).
ALTER TABLE batches ADD COLUMN imported_by BIGINT;

-- Every import event of a batch was written by one statement with the same actor and time
-- (`at` = `batches.imported_at`), so the first item's event says who imported the batch.
UPDATE batches SET imported_by = (
    SELECT e.actor_user_id FROM custody_events e
    WHERE e.kind = 'import'
      AND e.serial = (SELECT i.serial FROM items i WHERE i.batch_id = batches.id
                      ORDER BY i.item_index LIMIT 1)
    ORDER BY e.id LIMIT 1);

DELETE FROM custody_events WHERE kind = 'import';
