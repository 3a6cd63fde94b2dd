-- Issue 17. leg_payments: the offline payment of one forwarding leg (代发), confirmed by the leg's
-- seller. When a buyer pays its supplier offline, the margins of a forwarded order are settled
-- outside the books: the supplier pays its own supplier its price, and so on up to the shipper.
-- Each of those transfers is confirmed here by the party that received it, once (the primary
-- key makes a second confirmation, also a concurrent one, a no-op). Orders paid from a wallet or
-- to HQ settle their legs in the ledger and have no rows here.
CREATE TABLE leg_payments (
    order_id BIGINT NOT NULL REFERENCES restock_orders (id),
    position INTEGER NOT NULL,
    confirmed_by BIGINT REFERENCES users (id),
    paid_at TIMESTAMP NOT NULL,
    PRIMARY KEY (order_id, position)
);
