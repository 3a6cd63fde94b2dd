ALTER TABLE printers DROP COLUMN warehouse;
