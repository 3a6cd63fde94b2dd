-- Joining the network (DOMAIN §3): invitations, applications and their custom fields, and
-- authorisation certificates (PostgreSQL). Kept column-for-column equal to the SQLite migration of
-- the same name.

-- Brand-defined fields an application asks for besides the profile (DOMAIN §3). The policy
-- document refuses unknown keys, so the fields live here. kind: text, number or choice;
-- choices: the allowed answers of a choice field, one per line.
CREATE TABLE join_fields (
    id BIGSERIAL PRIMARY KEY,
    field_key TEXT NOT NULL UNIQUE,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL,
    required BOOLEAN NOT NULL DEFAULT FALSE,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'number', 'choice')),
    choices TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

-- An agent's invitation (邀请码): the link /join/{code}; tier_key, when set, is the one tier the
-- link offers. code is random (80 bits), so links cannot be enumerated.
CREATE TABLE invitations (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    agent_id BIGINT NOT NULL REFERENCES agents(id),
    tier_key TEXT,
    created_at TIMESTAMP NOT NULL,
    created_by BIGINT REFERENCES users(id),
    revoked_at TIMESTAMP
);
CREATE INDEX invitations_agent ON invitations(agent_id);

-- An application to join through an invitation. referrer_id is the inviter; supplier_id the
-- would-be supplier when it was submitted (NULL = HQ), who decides first in two-stage approval.
-- status: awaiting_supplier, awaiting_hq, approved, rejected. fields: the custom answers as a
-- JSON object. id_number is stored as given (the brand's contract asks for it) and shown masked.
-- phone is unique among live applications: one person, one place in the network.
CREATE TABLE applications (
    id BIGSERIAL PRIMARY KEY,
    invitation_id BIGINT NOT NULL REFERENCES invitations(id),
    referrer_id BIGINT NOT NULL REFERENCES agents(id),
    supplier_id BIGINT REFERENCES agents(id),
    tier_key TEXT NOT NULL,
    approval_mode TEXT NOT NULL CHECK (approval_mode IN ('automatic', 'hq', 'supplier_then_hq')),
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    region TEXT NOT NULL,
    id_number TEXT NOT NULL,
    fields TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('awaiting_supplier', 'awaiting_hq', 'approved',
        'rejected')),
    supplier_decided_by BIGINT REFERENCES users(id),
    supplier_decided_at TIMESTAMP,
    decided_by BIGINT REFERENCES users(id),
    decided_at TIMESTAMP,
    reason TEXT,
    agent_id BIGINT REFERENCES agents(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX applications_status ON applications(status, id);
CREATE INDEX applications_supplier ON applications(supplier_id, status);
CREATE INDEX applications_phone ON applications(phone);

-- An authorisation certificate (授权证书) as issued: what it said then. code is random (128 bits)
-- and is the public check page's address /a/{code}.
CREATE TABLE certificates (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    agent_id BIGINT NOT NULL REFERENCES agents(id),
    holder_name TEXT NOT NULL,
    tier_rank INTEGER NOT NULL,
    tier_key TEXT NOT NULL,
    tier_name_zh TEXT NOT NULL,
    tier_name_en TEXT NOT NULL,
    region TEXT NOT NULL,
    valid_from TIMESTAMP NOT NULL,
    valid_until TIMESTAMP NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    issued_by BIGINT REFERENCES users(id)
);
CREATE INDEX certificates_agent ON certificates(agent_id, id);
