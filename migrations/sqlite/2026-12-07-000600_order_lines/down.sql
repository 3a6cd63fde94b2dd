-- Back to one product per order: only possible while every order has a single line.
ALTER TABLE restock_orders ADD COLUMN product_id BIGINT REFERENCES products(id);
ALTER TABLE restock_orders ADD COLUMN unit_price_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE restock_orders ADD COLUMN supplier_chain TEXT NOT NULL DEFAULT '';
ALTER TABLE order_legs ADD COLUMN unit_price_cents BIGINT NOT NULL DEFAULT 0;
UPDATE restock_orders SET
    product_id = (SELECT l.product_id FROM order_lines l WHERE l.order_id = restock_orders.id AND l.position = 0),
    unit_price_cents = (SELECT l.unit_price_cents FROM order_lines l WHERE l.order_id = restock_orders.id AND l.position = 0),
    supplier_chain = (SELECT l.supplier_chain FROM order_lines l WHERE l.order_id = restock_orders.id AND l.position = 0);
UPDATE order_legs SET unit_price_cents = (SELECT g.unit_price_cents FROM order_line_legs g
    JOIN order_lines l ON l.id = g.line_id
    WHERE l.order_id = order_legs.order_id AND l.position = 0 AND g.position = order_legs.position);
DROP INDEX restock_orders_level_metrics;
CREATE INDEX restock_orders_level_metrics ON restock_orders(buyer_id, paid_at, state,
    goods_amount_cents, returned_quantity, unit_price_cents);
ALTER TABLE restock_orders DROP COLUMN returned_amount_cents;
ALTER TABLE order_refunds DROP COLUMN line_id;
DROP TABLE order_line_legs;
DROP TABLE order_lines;
