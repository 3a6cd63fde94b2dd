-- Issue 17. order_waybills: the courier company and waybill number a shipper records on an order
-- it ships (物流单号), one row per order, replaced when corrected. Kept apart from restock_orders
-- so the order row stays the engine's.
CREATE TABLE order_waybills (
    order_id BIGINT PRIMARY KEY REFERENCES restock_orders (id),
    carrier TEXT NOT NULL,
    waybill TEXT NOT NULL,
    recorded_by BIGINT REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL
);
-- applicant_access: what lets an applicant follow its own application without an account: the
-- SHA-256 of the secret in its status link, and the password it chose when applying (argon2 hash),
-- which its account gets when it is approved — credentials never go only through the approver.
CREATE TABLE applicant_access (
    application_id BIGINT PRIMARY KEY REFERENCES applications (id),
    token_hash TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL
);
