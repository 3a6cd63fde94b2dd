DROP TABLE applicant_access;
DROP TABLE order_waybills;
