-- Issues 18/20. batch_jobs: a batch HQ asked for on /hq/batches, generated with codegen and
-- imported in the background. Its progress lives here (not only in one server's memory) so any
-- instance shows it; the form's key (form_key) makes a resubmitted form start nothing twice.
CREATE TABLE batch_jobs (
    id BIGSERIAL PRIMARY KEY,
    product_id BIGINT NOT NULL REFERENCES products (id),
    items BIGINT NOT NULL,
    case_size INTEGER NOT NULL,
    production_date TEXT,
    note TEXT,
    phase TEXT NOT NULL,
    written BIGINT NOT NULL,
    imported BIGINT NOT NULL,
    batch_id TEXT,
    problem TEXT,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX batch_jobs_batch ON batch_jobs (batch_id);

-- code_packs: an encrypted copy of a batch's print file (age, passphrase) for the printing
-- house. The password is shown once when the pack is made and kept nowhere; the file (0600 in
-- the data folder) is named by its row. Downloads are in the audit log.
CREATE TABLE code_packs (
    id BIGSERIAL PRIMARY KEY,
    batch_id TEXT NOT NULL REFERENCES batches (id),
    file_name TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX code_packs_batch ON code_packs (batch_id);
