-- The top-up rule of DOMAIN §5. An upgrade order is for the items still missing to the target
-- tier's entry quantity at the target price (goods = quantity × unit price, like every order);
-- upgrade_allowance_cents is the price-difference credit (差价) applied to it, which HQ bears:
-- the buyer pays goods − allowance. NULL: none (every other order, and top-ups placed before this
-- rule, which keep what they booked).
ALTER TABLE restock_orders ADD COLUMN upgrade_allowance_cents BIGINT;
-- entry_items: how many items the agent's entry order and top-ups bought (what entry_paid_cents
-- is the value of, at the prices on those orders). NULL for agents activated before it was kept
-- (or imported): their tier's entry quantity is assumed.
ALTER TABLE agents ADD COLUMN entry_items BIGINT;
