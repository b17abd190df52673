-- Orders placed by customers: the first table of the demo application.
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_email text NOT NULL,
    total_cents bigint NOT NULL DEFAULT 0,
    legacy_note text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX orders_created_at_idx ON orders (created_at);
