ALTER TABLE monthly_statements DROP COLUMN migrated_cents;
DROP TABLE network_import_uploads;
DROP TABLE opening_frozen;
DROP TABLE imported_orders;
DROP TABLE imported_agents;
DROP TABLE network_imports;
