-- Level applications with approval (issue 6; SQLite). Kept column-for-column equal to the
-- PostgreSQL migration of the same name.

-- An agent's application for a level (等级申请, seed 000 方式一/方式四) through a path of the
-- level policy whose approval is 'hq' or 'supplier_then_hq'. It claims one path of one policy
-- version (path_index counts the level's paths in the document) from the level it held
-- (from_rank); when either moved before a decision, the application lapses.
-- status: awaiting_supplier, awaiting_hq (open), approved, rejected, withdrawn, lapsed.
-- evidence: the path's reasons (JSON, domain::levels::Reason) on the day applied; the
-- approval_evidence: the same path's reasons on the day HQ approved (met or not).
-- supplier_*: the first stage of two-stage approval, decided by the applicant's supplier then
-- (supplier_agent_id); hq_*: HQ's stage. closed_at: when withdrawn or lapsed.
CREATE TABLE level_applications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id BIGINT NOT NULL REFERENCES agents(id),
    level_policy_version BIGINT NOT NULL,
    from_rank INTEGER NOT NULL,
    to_rank INTEGER NOT NULL,
    level_key TEXT NOT NULL,
    path_index INTEGER NOT NULL,
    approval_mode TEXT NOT NULL CHECK (approval_mode IN ('hq', 'supplier_then_hq')),
    status TEXT NOT NULL CHECK (status IN ('awaiting_supplier', 'awaiting_hq', 'approved',
        'rejected', 'withdrawn', 'lapsed')),
    note TEXT,
    evidence TEXT NOT NULL,
    applied_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    supplier_agent_id BIGINT REFERENCES agents(id),
    supplier_decided_by BIGINT REFERENCES users(id),
    supplier_decided_at TIMESTAMP,
    supplier_approved BOOLEAN,
    supplier_note TEXT,
    hq_decided_by BIGINT REFERENCES users(id),
    hq_decided_at TIMESTAMP,
    hq_approved BOOLEAN,
    hq_note TEXT,
    approval_evidence TEXT,
    closed_at TIMESTAMP,
    lapse_reason TEXT CHECK (lapse_reason IN ('agent_inactive', 'level_changed',
        'rules_changed'))
);
-- One open application per agent, also under concurrent submissions.
CREATE UNIQUE INDEX level_applications_one_open ON level_applications(agent_id)
    WHERE status IN ('awaiting_supplier', 'awaiting_hq');
CREATE INDEX level_applications_status ON level_applications(status, id);
CREATE INDEX level_applications_agent ON level_applications(agent_id, id);

-- A level change may now come from an approved application (cause 'application'). SQLite cannot
-- alter a CHECK constraint: the table is rebuilt with its rows, ids and indexes.
CREATE TABLE level_changes_next (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id BIGINT NOT NULL REFERENCES agents(id),
    assessed_on DATE NOT NULL,
    cause TEXT NOT NULL CHECK (cause IN ('assessment', 'policy_change', 'application')),
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
