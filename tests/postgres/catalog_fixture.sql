-- Every kind of object the PostgreSQL tree shows, with identifiers PostgreSQL allows but a
-- careless tool mangles: quotes, spaces, keywords, unicode, mixed case. Loaded into a fresh
-- database by tests/postgres/conftest.py; other PostgreSQL tests may load it too.

CREATE SCHEMA shop;
CREATE SCHEMA "Odd ""Schema"" ü";

CREATE TYPE shop.order_status AS ENUM ('new', 'paid', 'shipped');
CREATE TYPE shop.address AS (street text, city text, zip varchar(10));
CREATE DOMAIN shop.positive_amount AS numeric(12, 2) CHECK (VALUE > 0);

CREATE TABLE shop.customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    first_name text,
    last_name text,
    full_name text GENERATED ALWAYS AS (first_name || ' ' || last_name) STORED,
    home shop.address,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE shop.customers IS 'People who buy things';
COMMENT ON COLUMN shop.customers.email IS 'Where receipts go';

CREATE TABLE shop.orders (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES shop.customers (id) ON DELETE CASCADE,
    status shop.order_status NOT NULL DEFAULT 'new',
    amount shop.positive_amount NOT NULL,
    placed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT amount_cap CHECK (amount < 1000000)
);
CREATE INDEX orders_customer_idx ON shop.orders (customer_id);
INSERT INTO shop.customers (email, first_name, last_name)
    SELECT 'c' || g || '@example.com', 'First' || g, 'Last' || g FROM generate_series(1, 50) g;
INSERT INTO shop.orders (customer_id, amount) SELECT 1 + g % 50, g FROM generate_series(1, 200) g;
ANALYZE shop.customers;
ANALYZE shop.orders;

ALTER TABLE shop.orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.orders FORCE ROW LEVEL SECURITY;
CREATE POLICY own_orders ON shop.orders FOR SELECT TO PUBLIC
    USING (customer_id = current_setting('app.customer', true)::bigint);
CREATE POLICY insert_paid ON shop.orders AS RESTRICTIVE FOR INSERT TO postgres
    WITH CHECK (status = 'paid');

CREATE FUNCTION shop.touch_placed_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.placed_at := now();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION shop.touch_placed_at() IS 'Keeps placed_at current';
CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON shop.orders
    FOR EACH ROW EXECUTE FUNCTION shop.touch_placed_at();

CREATE FUNCTION shop.order_total(customer bigint, since timestamptz DEFAULT '-infinity')
    RETURNS numeric LANGUAGE sql STABLE
    AS $$ SELECT coalesce(sum(amount), 0) FROM shop.orders
          WHERE customer_id = customer AND placed_at >= since $$;
CREATE PROCEDURE shop.archive_orders(before timestamptz) LANGUAGE sql
    AS $$ DELETE FROM shop.orders WHERE placed_at < before $$;

CREATE VIEW shop.big_orders AS SELECT id, customer_id, amount FROM shop.orders WHERE amount > 100;
CREATE MATERIALIZED VIEW shop.customer_totals AS
    SELECT customer_id, sum(amount) AS total FROM shop.orders GROUP BY customer_id;
CREATE SEQUENCE shop.invoice_numbers START 1000;

-- A partitioned table and its partitions.
CREATE TABLE shop.events (
    id bigint NOT NULL,
    at date NOT NULL,
    payload jsonb
) PARTITION BY RANGE (at);
CREATE TABLE shop.events_2025 PARTITION OF shop.events
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE shop.events_2026 PARTITION OF shop.events
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');

-- A table without any key.
CREATE TABLE shop.audit_log (at timestamptz DEFAULT now(), message text);

-- A foreign table.
CREATE FOREIGN DATA WRAPPER fixture_fdw;
CREATE SERVER fixture_server FOREIGN DATA WRAPPER fixture_fdw;
CREATE FOREIGN TABLE shop.remote_rates (currency char(3), rate numeric) SERVER fixture_server;

-- Identifiers with quotes, spaces, keywords, unicode and mixed case.
CREATE TABLE "Odd ""Schema"" ü"."select" (
    "from" int PRIMARY KEY,
    "Mixed Case" text,
    "naïve ""quoted"" col" text,
    "日本語" text
);
CREATE TABLE "Odd ""Schema"" ü"."Table With Spaces" (id int);
CREATE VIEW "Odd ""Schema"" ü"."📈 view" AS SELECT 1 AS "one";

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Roles belong to the whole server, which other databases of the suite share.
DO $$ BEGIN CREATE ROLE fixture_reader NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE PUBLICATION fixture_pub FOR TABLE shop.orders, shop.customers
    WITH (publish = 'insert, update');
