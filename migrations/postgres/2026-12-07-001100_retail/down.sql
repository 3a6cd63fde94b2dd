DROP TABLE retail_sale_items;
DROP TABLE retail_sales;
DROP TABLE retail_orders;
DROP TABLE end_customers;
