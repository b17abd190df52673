-- Expand: built without blocking writes. CREATE INDEX CONCURRENTLY cannot run inside a
-- transaction, so this migration runs statement by statement in autocommit mode.
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_email_idx ON orders (customer_email);
