DELETE FROM level_changes WHERE cause = 'application';
ALTER TABLE level_changes DROP CONSTRAINT level_changes_cause_check;
ALTER TABLE level_changes ADD CONSTRAINT level_changes_cause_check
    CHECK (cause IN ('assessment', 'policy_change'));
DROP TABLE level_applications;
