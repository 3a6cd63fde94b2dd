DROP TABLE leg_payments;
