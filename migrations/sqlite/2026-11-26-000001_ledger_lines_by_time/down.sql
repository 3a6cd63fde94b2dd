DROP INDEX posting_lines_at_account;
CREATE INDEX posting_lines_account ON posting_lines(account_id, created_at);
CREATE INDEX posting_lines_at ON posting_lines(created_at);
