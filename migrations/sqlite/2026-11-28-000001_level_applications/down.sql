DELETE FROM level_changes WHERE cause = 'application';
CREATE TABLE level_changes_next (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id BIGINT NOT NULL REFERENCES agents(id),
    assessed_on DATE NOT NULL,
    cause TEXT NOT NULL CHECK (cause IN ('assessment', 'policy_change')),
    kind TEXT NOT NULL CHECK (kind IN ('upgrade', 'downgrade', 'protected')),
    from_rank INTEGER NOT NULL,
    to_rank INTEGER NOT NULL,
    level_policy_version BIGINT NOT NULL,
    summary_zh TEXT NOT NULL,
    summary_en TEXT NOT NULL,
    reasons TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO level_changes_next SELECT id, agent_id, assessed_on, cause, kind, from_rank, to_rank,
    level_policy_version, summary_zh, summary_en, reasons, created_at FROM level_changes;
DROP TABLE level_changes;
ALTER TABLE level_changes_next RENAME TO level_changes;
CREATE UNIQUE INDEX level_changes_once_a_day ON level_changes(agent_id, assessed_on)
    WHERE cause = 'assessment';
CREATE INDEX level_changes_agent ON level_changes(agent_id, id);
DROP TABLE level_applications;
