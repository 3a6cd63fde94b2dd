-- Idempotency keys of requests that move money or stock (`Idempotency-Key` header): the first
-- answer to a (caller, route, key) is stored in the same transaction as the write it answers, so
-- a retry or a concurrent duplicate gets that answer back and books nothing. request_sha256 is a
-- hash of the method, the path and the parsed body: the same key with another request is refused.
-- Kept column-for-column equal on both backends.
CREATE TABLE idempotency_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    route TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    response_status INTEGER,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (user_id, route, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
