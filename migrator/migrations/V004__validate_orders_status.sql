-- Expand: validating a NOT VALID constraint scans the table under a SHARE UPDATE EXCLUSIVE
-- lock, which lets reads and writes continue.
ALTER TABLE orders VALIDATE CONSTRAINT orders_status_known;
