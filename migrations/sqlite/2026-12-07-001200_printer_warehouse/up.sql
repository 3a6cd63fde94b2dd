-- Issue 20. Each label printer stands in a warehouse: the print queues are the warehouse's, and
-- pages group and filter printers and jobs by it. Printers added before this have none ('').
ALTER TABLE printers ADD COLUMN warehouse TEXT NOT NULL DEFAULT '';
