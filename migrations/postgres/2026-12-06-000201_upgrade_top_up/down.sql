ALTER TABLE agents DROP COLUMN entry_items;
ALTER TABLE restock_orders DROP COLUMN upgrade_allowance_cents;
