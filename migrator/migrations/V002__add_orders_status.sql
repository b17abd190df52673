-- Expand: a nullable column and a column with a constant default are invisible to the
-- running version, which neither reads nor writes them.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS shipped_at timestamptz;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'placed';
ALTER TABLE orders ADD CONSTRAINT orders_status_known
    CHECK (status IN ('placed', 'paid', 'shipped', 'cancelled')) NOT VALID;
