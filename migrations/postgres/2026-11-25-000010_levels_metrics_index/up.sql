-- The level assessment's window sums read, per buyer and payment time, the state and the amounts
-- of each order: a covering index lets both backends answer them from the index alone (a run over
-- millions of orders otherwise spends its time fetching table rows).
DROP INDEX restock_orders_buyer_paid;
CREATE INDEX restock_orders_level_metrics ON restock_orders(buyer_id, paid_at, state,
    goods_amount_cents, returned_quantity, unit_price_cents);
