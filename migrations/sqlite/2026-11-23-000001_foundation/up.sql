-- Foundation: accounts, products, the code registry and verification sightings (SQLite).
-- Kept column-for-column equal to the PostgreSQL migration of the same name: the server's
-- queries are shared by both backends.

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('hq_admin', 'hq_finance', 'hq_auditor', 'warehouse', 'agent')),
    must_change_password BOOLEAN NOT NULL DEFAULT 0,
    disabled BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('api', 'session')),
    csrf_token TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_en TEXT,
    gtin TEXT UNIQUE,
    case_size INTEGER NOT NULL CHECK (case_size > 0),
    image_url TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE batches (
    id TEXT PRIMARY KEY NOT NULL,
    key_id TEXT NOT NULL,
    product_id BIGINT NOT NULL REFERENCES products(id),
    item_count BIGINT NOT NULL,
    case_count BIGINT NOT NULL,
    case_size INTEGER NOT NULL,
    production_date TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    import_sha256 TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('active', 'voided', 'recalled'))
);

CREATE TABLE cases (
    code TEXT PRIMARY KEY NOT NULL,
    batch_id TEXT NOT NULL REFERENCES batches(id),
    case_index BIGINT NOT NULL,
    sscc TEXT UNIQUE,
    opened BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX cases_batch ON cases(batch_id);

-- custodian: 'hq', 'agent', 'transit', 'sold' (left the network through retail), 'void'.
CREATE TABLE items (
    serial TEXT PRIMARY KEY NOT NULL,
    batch_id TEXT NOT NULL REFERENCES batches(id),
    item_index BIGINT NOT NULL,
    case_code TEXT REFERENCES cases(code),
    code_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'voided', 'recalled')),
    custodian_kind TEXT NOT NULL CHECK (custodian_kind IN ('hq', 'agent', 'transit', 'sold')),
    custodian_id BIGINT,
    released_at TIMESTAMP,
    verify_count INTEGER NOT NULL DEFAULT 0,
    mismatch_count INTEGER NOT NULL DEFAULT 0,
    first_verified_at TIMESTAMP,
    first_verified_place TEXT
);
CREATE INDEX items_batch_index ON items(batch_id, item_index);
CREATE INDEX items_case ON items(case_code);

-- Every custody change, append-only (DOMAIN §6).
CREATE TABLE custody_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    serial TEXT NOT NULL REFERENCES items(serial),
    kind TEXT NOT NULL,
    from_kind TEXT,
    from_id BIGINT,
    to_kind TEXT,
    to_id BIGINT,
    actor_user_id BIGINT,
    note TEXT,
    at TIMESTAMP NOT NULL
);
CREATE INDEX custody_events_serial ON custody_events(serial);

-- Every verification attempt, genuine or not (DOMAIN §7): evidence for HQ.
CREATE TABLE sightings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    serial TEXT NOT NULL,
    known_item BOOLEAN NOT NULL,
    result TEXT NOT NULL,
    client_addr TEXT,
    user_agent TEXT,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    place TEXT,
    at TIMESTAMP NOT NULL
);
CREATE INDEX sightings_serial ON sightings(serial);
CREATE INDEX sightings_at ON sightings(at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_user_id BIGINT,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
