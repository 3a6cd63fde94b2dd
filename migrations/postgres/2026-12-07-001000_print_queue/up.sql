-- Issue 20. The warehouse's label printers and their print queue (配备打印终端实现货单、快递单自动打印).
-- printers: a thermal label printer reached over raw TCP (address host:port, usually 9100).
-- print_jobs: what is sent to it, byte for byte (document), and how far it got: queued (waiting
-- for its turn or for the printer to come back: next_try_at), sending (an instance claimed it at
-- claimed_at), printed, uncertain (the connection broke after bytes went out, or an instance
-- died while sending: a person looks at the printer and reprints if needed; never resent by
-- itself), cancelled. A job is claimed by a conditional update, so two instances never send the
-- same job.
CREATE TABLE printers (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    address TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    last_ok_at TIMESTAMP,
    last_error TEXT,
    last_error_at TIMESTAMP
);
CREATE TABLE print_jobs (
    id BIGSERIAL PRIMARY KEY,
    printer_id BIGINT NOT NULL REFERENCES printers (id),
    kind TEXT NOT NULL,
    order_id BIGINT REFERENCES restock_orders (id),
    title TEXT NOT NULL,
    document TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try_at TIMESTAMP NOT NULL,
    claimed_by TEXT,
    claimed_at TIMESTAMP,
    last_error TEXT,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    printed_at TIMESTAMP
);
CREATE INDEX print_jobs_due ON print_jobs (state, next_try_at);
CREATE INDEX print_jobs_printer ON print_jobs (printer_id, id);
