DROP INDEX restock_orders_level_metrics;
CREATE INDEX restock_orders_buyer_paid ON restock_orders(buyer_id, paid_at);
