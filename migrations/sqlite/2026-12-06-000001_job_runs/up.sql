-- Background jobs run once per due time across server instances (issue 14). A job claims its
-- due time (a settlement slot, a month for statements, a day for the level assessment) by
-- inserting this row in the same transaction as its work: a second instance's insert waits for
-- the first's commit and then finds the row, so it skips; if the first rolls back, the row goes
-- with it and the next instance runs the job. Kept column-for-column equal across backends.
CREATE TABLE job_runs (
    job TEXT NOT NULL,
    due TEXT NOT NULL,
    instance TEXT NOT NULL,
    ran_at TIMESTAMP NOT NULL,
    PRIMARY KEY (job, due)
);

-- Facts about this database that every server instance on it shares, by name: `database_id`,
-- a random identity made once, which instances announce to each other on the MQTT broker so
-- that an instance on another database is noticed (ingest/fleet.rs).
CREATE TABLE server_facts (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
