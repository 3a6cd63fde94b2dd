-- Posting lines are found by when they were booked (statements, ledger pages: always a month),
-- then by account. Indexing them by account first put every new line at a random place of a
-- large index: month-end settlement of 1,000,000 orders spent a third of its time there and got
-- slower per order as the ledger grew (BENCHMARKS.md). By time first, new lines append.
DROP INDEX posting_lines_account;
DROP INDEX posting_lines_at;
CREATE INDEX posting_lines_at_account ON posting_lines(created_at, account_id);
