-- Bringing an existing network in (issue 23, docs/import.md). Kept column-for-column equal on
-- both backends.
--
-- One row per import: its digest (SHA-256 of the file's content as read, so the same rows as CSV
-- or XLSX are the same import) is unique, which makes importing the same file twice change
-- nothing, even when two imports of it race.
CREATE TABLE network_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    digest TEXT NOT NULL UNIQUE,
    file_names TEXT NOT NULL,
    agents BIGINT NOT NULL,
    balances BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    activity BIGINT NOT NULL,
    opening_cents BIGINT NOT NULL,
    -- JSON: where the old system named another supplier than the rule derives.
    report TEXT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    imported_by BIGINT REFERENCES users(id)
);

-- What the file said of each imported agent that the agents table does not keep: its phone
-- (also its user name), ID number, the row it came from and the supplier the old system had.
CREATE TABLE imported_agents (
    agent_id BIGINT PRIMARY KEY REFERENCES agents(id),
    import_id BIGINT NOT NULL REFERENCES network_imports(id),
    source_row BIGINT NOT NULL,
    phone TEXT NOT NULL,
    id_number TEXT NOT NULL,
    old_supplier TEXT
);
CREATE INDEX imported_agents_import ON imported_agents(import_id);

-- Historical orders: ordinary completed orders, marked so nothing books money on them again
-- (their money settled in the old system; what is still owed is the opening balance).
CREATE TABLE imported_orders (
    order_id BIGINT PRIMARY KEY REFERENCES restock_orders(id),
    import_id BIGINT NOT NULL REFERENCES network_imports(id),
    source_no TEXT NOT NULL,
    UNIQUE (import_id, source_no)
);

-- Opening frozen amounts with the day each becomes withdrawable; settlement releases them
-- (posting key import:{import}:release:{id}) on that day.
CREATE TABLE opening_frozen (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    import_id BIGINT NOT NULL REFERENCES network_imports(id),
    agent_id BIGINT NOT NULL REFERENCES agents(id),
    amount_cents BIGINT NOT NULL,
    release_on DATE NOT NULL,
    released_at TIMESTAMP
);
CREATE INDEX opening_frozen_due ON opening_frozen(released_at, release_on);

-- An upload HQ previewed and may confirm: the files as sent (base64 in JSON), for the confirm
-- step to import exactly what was previewed. Deleted on confirm, or after a day.
CREATE TABLE network_import_uploads (
    token TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    files TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Monthly statements show opening balances brought in apart from earnings and withdrawals.
ALTER TABLE monthly_statements ADD COLUMN migrated_cents BIGINT NOT NULL DEFAULT 0;
