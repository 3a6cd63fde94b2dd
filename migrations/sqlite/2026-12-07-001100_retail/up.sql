-- Issue 20. Retail (零售开单出库, 管理终端会员, O2O扫码下单; DOMAIN §10).
-- end_customers: an agent's members, one per phone per agent (a sale, a consumer joining from a
-- verified item, a reorder all find the same row).
-- retail_orders: a consumer's reorder from an item's code, addressed to one agent; open until the
-- agent fulfils it by a sale or cancels it.
-- retail_sales: an agent's sale of scanned items to a customer (or a walk-in, no customer); at
-- most one sale fulfils an order (the unique index; NULLs are distinct).
-- retail_sale_items: the items of each sale; an item is sold at retail once (the key).
CREATE TABLE end_customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_purchase_at TIMESTAMP,
    UNIQUE (agent_id, phone)
);
CREATE TABLE retail_orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    customer_id BIGINT NOT NULL REFERENCES end_customers (id),
    product_id BIGINT NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL,
    note TEXT,
    from_serial TEXT,
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    closed_by BIGINT REFERENCES users (id)
);
CREATE INDEX retail_orders_agent ON retail_orders (agent_id, state, id);
CREATE TABLE retail_sales (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    customer_id BIGINT REFERENCES end_customers (id),
    retail_order_id BIGINT REFERENCES retail_orders (id),
    item_count INTEGER NOT NULL,
    sold_by BIGINT REFERENCES users (id),
    sold_at TIMESTAMP NOT NULL
);
CREATE INDEX retail_sales_agent ON retail_sales (agent_id, id);
CREATE INDEX retail_sales_customer ON retail_sales (customer_id, id);
CREATE UNIQUE INDEX retail_sales_order ON retail_sales (retail_order_id);
CREATE TABLE retail_sale_items (
    serial TEXT PRIMARY KEY REFERENCES items (serial),
    sale_id BIGINT NOT NULL REFERENCES retail_sales (id)
);
CREATE INDEX retail_sale_items_sale ON retail_sale_items (sale_id);
