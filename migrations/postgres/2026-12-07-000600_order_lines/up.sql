-- Orders of several lines (issue 19, DOMAIN §10): an order is a cart. Each line keeps its product,
-- quantity and price as placed, the supplier chain's prices for its product, what was shipped and
-- returned of it, and — from payment — its own booked money (shipper's part, rebate and award,
-- each rounded once per line). The order keeps the totals of its lines (quantity, goods,
-- shipped, returned) and what is one per order (buyer, seller, shipper, state, who earns).
CREATE TABLE order_lines (
    id BIGSERIAL PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES restock_orders(id),
    position INTEGER NOT NULL,
    product_id BIGINT NOT NULL REFERENCES products(id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_cents BIGINT NOT NULL,
    goods_amount_cents BIGINT NOT NULL,
    upgrade_allowance_cents BIGINT,
    supplier_chain TEXT NOT NULL,
    shipped_quantity BIGINT NOT NULL DEFAULT 0,
    returned_quantity BIGINT NOT NULL DEFAULT 0,
    shipper_amount_cents BIGINT,
    rebate_cents BIGINT,
    award_cents BIGINT,
    UNIQUE (order_id, position),
    UNIQUE (order_id, product_id)
);
CREATE INDEX order_lines_product ON order_lines(product_id);

-- Each forwarding leg's price and margin per line (the leg's buyer and seller are per order, in
-- order_legs, whose amounts are now the sums of its lines).
CREATE TABLE order_line_legs (
    id BIGSERIAL PRIMARY KEY,
    line_id BIGINT NOT NULL REFERENCES order_lines(id),
    position INTEGER NOT NULL,
    unit_price_cents BIGINT NOT NULL,
    goods_amount_cents BIGINT NOT NULL,
    margin_cents BIGINT,
    UNIQUE (line_id, position)
);

-- Every existing order becomes its own single line, unchanged.
INSERT INTO order_lines (order_id, position, product_id, quantity, unit_price_cents,
    goods_amount_cents, upgrade_allowance_cents, supplier_chain, shipped_quantity,
    returned_quantity, shipper_amount_cents, rebate_cents, award_cents)
SELECT id, 0, product_id, quantity, unit_price_cents, goods_amount_cents, upgrade_allowance_cents,
    supplier_chain, shipped_quantity, returned_quantity, shipper_amount_cents, rebate_cents,
    award_cents
FROM restock_orders ORDER BY id;

INSERT INTO order_line_legs (line_id, position, unit_price_cents, goods_amount_cents, margin_cents)
SELECT l.id, g.position, g.unit_price_cents, g.goods_amount_cents, g.margin_cents
FROM order_legs g JOIN order_lines l ON l.order_id = g.order_id AND l.position = 0
ORDER BY g.order_id, g.position;

-- Which line a refund returned items of.
ALTER TABLE order_refunds ADD COLUMN line_id BIGINT REFERENCES order_lines(id);
UPDATE order_refunds SET line_id =
    (SELECT l.id FROM order_lines l WHERE l.order_id = order_refunds.order_id AND l.position = 0);

-- The value of the returned items at their lines' prices: the level engine's sales windows read
-- goods − this from the covering index (one price per order no longer exists).
ALTER TABLE restock_orders ADD COLUMN returned_amount_cents BIGINT NOT NULL DEFAULT 0;
UPDATE restock_orders SET returned_amount_cents = returned_quantity * unit_price_cents;
DROP INDEX restock_orders_level_metrics;
CREATE INDEX restock_orders_level_metrics ON restock_orders(buyer_id, paid_at, state,
    goods_amount_cents, returned_amount_cents);

ALTER TABLE restock_orders DROP COLUMN product_id;
ALTER TABLE restock_orders DROP COLUMN unit_price_cents;
ALTER TABLE restock_orders DROP COLUMN supplier_chain;
ALTER TABLE order_legs DROP COLUMN unit_price_cents;
