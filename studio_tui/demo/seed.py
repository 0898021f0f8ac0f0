"""Load the demo shop into the three servers, in bulk (pipelines, insert_many, COPY): each
loader takes about a second. Each returns what it wrote, by name, for the demo to print."""

from __future__ import annotations

import asyncio
import hashlib
import json
import struct
from datetime import timedelta
from decimal import Decimal

from studio_tui.demo.dataset import NOW, Order, Shop, shop

# -- Redis ------------------------------------------------------------------------------------
SESSIONS, CARTS, RATE_LIMITED, EVENTS = 200, 150, 100, 2_000


def _ttl(rng_value: int, unit: int) -> int:
    """A TTL half-way through a unit (1.5 days, 2.5 hours): the key list's coarse figure ("1d11h")
    stays put for a while, and no key expires during a demo."""
    return rng_value * unit + unit // 2


def seed_redis(url: str, *, expire: bool = True) -> dict[str, int]:
    """Keys under ``shop:``; ``expire=False`` leaves out TTLs (snapshots)."""
    import redis

    data = shop()
    client = redis.Redis.from_url(url, protocol=2)
    try:
        pipe = client.pipeline(transaction=False)
        # A second load starts these afresh (a stream takes no entry older than its last).
        pipe.delete("shop:leaderboard:units-sold", "shop:events:orders",
                    "shop:categories", "shop:queue:emails")
        for number in range(1, SESSIONS + 1):
            customer = data.customer(number * 7 % len(data.customers) + 1)
            key = f"shop:session:{hashlib.sha256(b'%d' % number).hexdigest()[:32]}"
            pipe.hset(key, mapping={
                "customer_id": customer.id, "email": customer.email,
                "cart": f"shop:cart:{customer.id}", "locale": f"en-{customer.country}",
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/144.0",
                "created_at": (NOW - timedelta(minutes=number * 3)).isoformat()})
            if expire:
                pipe.expire(key, _ttl(number % 7, 86_400))
        for number in range(1, CARTS + 1):
            customer_id = number * 11 % len(data.customers) + 1
            products = data.products[number % 90: number % 90 + 1 + number % 4]
            pipe.hset(f"shop:cart:{customer_id}",
                      mapping={p.sku: 1 + (number + p.id) % 3 for p in products})
        for number in range(1, RATE_LIMITED + 1):
            key = f"shop:ratelimit:api:10.0.{number // 50}.{number % 50 + 10}"
            pipe.set(key, 5 + number * 37 % 240)
            if expire:
                pipe.expire(key, _ttl(1, 3_600))  # an hourly quota
        sold: dict[str, int] = {}
        for order in data.orders[-2_000:]:
            for line in order.lines:
                product = data.product(line.product_id)
                sold[f"{product.sku} {product.name}"] = sold.get(
                    f"{product.sku} {product.name}", 0) + line.quantity
        pipe.zadd("shop:leaderboard:units-sold", sold)
        for order in data.orders[-EVENTS:]:
            millis = int(order.created_at.timestamp() * 1000)
            pipe.xadd("shop:events:orders", {
                "type": "order." + order.status, "order_id": order.id,
                "customer_id": order.customer_id, "total": str(order.total),
                "items": sum(line.quantity for line in order.lines)}, id=f"{millis}-{order.id}")
        for product in data.products:
            pipe.execute_command("JSON.SET", f"shop:product:{product.sku}", "$", json.dumps({
                "sku": product.sku, "name": product.name, "category": product.category,
                "variant": product.variant, "price": float(product.price),
                "stock": product.stock, "active": product.active,
                "tags": [product.category, product.variant.lower()],
                "dimensions": {"weight_g": 250 + product.id * 17 % 900, "fragile":
                               product.category == "mugs"}}))
        pipe.sadd("shop:categories", *sorted({p.category for p in data.products}))
        # The latest orders are all still open: some of them shipped.
        pipe.rpush("shop:queue:emails", *[json.dumps({
            "template": "order-shipped", "order_id": o.id,
            "to": data.customer(o.customer_id).email})
            for o in data.orders[-40:] if o.status == "shipped"])
        pipe.set("shop:config:free-shipping-threshold", "49.00")
        pipe.set("shop:config:maintenance", "off")
        pipe.set("shop:stats:orders:total", len(data.orders))
        pipe.execute()
        return {"keys": client.dbsize(), "stream entries": EVENTS}
    finally:
        client.close()


# -- MongoDB ----------------------------------------------------------------------------------
def _object_id(kind: int, number: int, when) -> object:
    """An ObjectId made from the document's own time and number: the same on every load, and
    sorting by _id sorts by time as it does on a real collection."""
    from bson import ObjectId

    return ObjectId(struct.pack(">IBxxxI", int(when.timestamp()), kind, number))


def _money(value: Decimal):
    from bson import Decimal128

    return Decimal128(value)


def _order_document(data: Shop, order: Order) -> dict:
    customer = data.customer(order.customer_id)
    return {
        "_id": _object_id(2, order.id, order.created_at), "order_id": order.id,
        "customer_id": customer.id,
        "customer": {"name": customer.name, "email": customer.email},
        "status": order.status, "created_at": order.created_at, "updated_at": order.updated_at,
        "shipping": {"address": {"street": customer.street, "city": customer.city,
                                 "postcode": customer.postcode, "country": customer.country},
                     "method": "express" if order.total > 100 else "standard"},
        "items": [{"sku": data.product(line.product_id).sku,
                   "name": data.product(line.product_id).name,
                   "quantity": line.quantity, "unit_price": _money(line.unit_price)}
                  for line in order.lines],
        "total": _money(order.total),
        "payment": {"method": order.payment_method,
                    "captured": order.status not in ("pending", "cancelled")},
    }


MONGO_ORDERS, MONGO_REVIEWS = 2_500, 600


def seed_mongo(url: str) -> dict[str, int]:
    """The ``shop`` database: customers, products, the latest orders and reviews."""
    from pymongo import ASCENDING, DESCENDING, MongoClient

    data = shop()
    with MongoClient(url, tz_aware=True) as client:
        client.drop_database("shop")
        db = client["shop"]
        db.customers.insert_many([{
            "_id": _object_id(1, c.id, c.created_at), "customer_id": c.id, "name": c.name,
            "email": c.email, "address": {"street": c.street, "city": c.city,
                                          "postcode": c.postcode, "country": c.country},
            "marketing_opt_in": c.marketing_opt_in, "created_at": c.created_at,
            "tags": ["newsletter"] if c.marketing_opt_in else []} for c in data.customers])
        db.products.insert_many([{
            "_id": _object_id(3, p.id, NOW), "sku": p.sku, "name": p.name,
            "category": p.category, "variant": p.variant, "price": _money(p.price),
            "stock": p.stock, "active": p.active} for p in data.products])
        db.orders.insert_many([_order_document(data, o) for o in data.orders[-MONGO_ORDERS:]])
        db.reviews.insert_many([{
            "_id": _object_id(4, r.id, r.created_at),
            "product_sku": data.product(r.product_id).sku, "customer_id": r.customer_id,
            "order_id": r.order_id, "rating": r.rating, "title": r.title, "body": r.body,
            "created_at": r.created_at, "helpful_votes": r.id * 7 % 23}
            for r in data.reviews[-MONGO_REVIEWS:]])
        db.customers.create_index("email", unique=True)
        db.products.create_index("sku", unique=True)
        db.orders.create_index([("customer_id", ASCENDING), ("created_at", DESCENDING)])
        db.orders.create_index("status")
        db.reviews.create_index([("product_sku", ASCENDING), ("rating", DESCENDING)])
        return {name: db[name].estimated_document_count()
                for name in ("customers", "products", "orders", "reviews")}


# -- PostgreSQL -------------------------------------------------------------------------------
POSTGRES_DATABASE = "shop"
SCHEMA_SQL = """
CREATE ROLE shop_staff NOLOGIN;
CREATE ROLE shop_customer NOLOGIN;
-- The shop's schema is the database's only one, and the default for unqualified names.
DROP SCHEMA public;
CREATE SCHEMA shop;
COMMENT ON SCHEMA shop IS 'The demo shop: customers, products, orders and their reviews';
CREATE TYPE shop.order_status AS ENUM
    ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded');
CREATE SEQUENCE shop.invoice_number START 100000;

CREATE TABLE shop.customers (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE CHECK (position('@' IN email) > 1),
    full_name text NOT NULL,
    street text NOT NULL,
    city text NOT NULL,
    postcode text NOT NULL,
    country char(2) NOT NULL,
    marketing_opt_in boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE shop.products (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    name text NOT NULL,
    category text NOT NULL,
    variant text NOT NULL,
    price numeric(10, 2) NOT NULL CHECK (price > 0),
    stock integer NOT NULL DEFAULT 0 CHECK (stock >= 0),
    active boolean NOT NULL DEFAULT true
);
CREATE TABLE shop.orders (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES shop.customers (id),
    status shop.order_status NOT NULL DEFAULT 'pending',
    payment_method text NOT NULL,
    invoice_number bigint UNIQUE DEFAULT nextval('shop.invoice_number'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE shop.order_items (
    order_id integer NOT NULL REFERENCES shop.orders (id) ON DELETE CASCADE,
    line_no smallint NOT NULL,
    product_id integer NOT NULL REFERENCES shop.products (id),
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price numeric(10, 2) NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
CREATE TABLE shop.reviews (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    product_id integer NOT NULL REFERENCES shop.products (id),
    customer_id integer NOT NULL REFERENCES shop.customers (id),
    order_id integer REFERENCES shop.orders (id) ON DELETE SET NULL,
    rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title text NOT NULL,
    body text,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE shop.orders IS 'One row per checkout; its lines are in order_items';
CREATE INDEX orders_customer_recent ON shop.orders (customer_id, created_at DESC);
CREATE INDEX orders_open ON shop.orders (status) WHERE status IN ('pending', 'paid', 'shipped');
CREATE INDEX order_items_product ON shop.order_items (product_id);
CREATE INDEX reviews_product_rating ON shop.reviews (product_id, rating DESC);
"""
AFTER_LOAD_SQL = """
CREATE FUNCTION shop.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER orders_touch_updated_at BEFORE UPDATE ON shop.orders
    FOR EACH ROW EXECUTE FUNCTION shop.touch_updated_at();

CREATE VIEW shop.order_totals AS
SELECT o.id AS order_id, o.created_at, o.status, c.full_name AS customer, c.country,
       count(i.*) AS lines, sum(i.quantity * i.unit_price) AS total
FROM shop.orders o
JOIN shop.customers c ON c.id = o.customer_id
JOIN shop.order_items i ON i.order_id = o.id
GROUP BY o.id, c.id;

CREATE MATERIALIZED VIEW shop.product_sales AS
SELECT p.id AS product_id, p.sku, p.name, sum(i.quantity) AS units_sold,
       sum(i.quantity * i.unit_price) AS revenue,
       (SELECT round(avg(r.rating), 2) FROM shop.reviews r WHERE r.product_id = p.id)
           AS average_rating
FROM shop.products p
JOIN shop.order_items i ON i.product_id = p.id
JOIN shop.orders o ON o.id = i.order_id AND o.status NOT IN ('cancelled', 'refunded')
GROUP BY p.id;
CREATE UNIQUE INDEX product_sales_product ON shop.product_sales (product_id);

-- Customers see their own orders (the app sets shop.customer_id); staff see every order.
ALTER TABLE shop.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_own ON shop.orders FOR SELECT TO shop_customer
    USING (customer_id = current_setting('shop.customer_id', true)::integer);
CREATE POLICY orders_staff ON shop.orders TO shop_staff USING (true) WITH CHECK (true);
GRANT USAGE ON SCHEMA shop TO shop_staff, shop_customer;
GRANT SELECT ON ALL TABLES IN SCHEMA shop TO shop_staff, shop_customer;

SELECT setval(pg_get_serial_sequence('shop.customers', 'id'), max(id)) FROM shop.customers;
SELECT setval(pg_get_serial_sequence('shop.products', 'id'), max(id)) FROM shop.products;
SELECT setval(pg_get_serial_sequence('shop.orders', 'id'), max(id)) FROM shop.orders;
SELECT setval(pg_get_serial_sequence('shop.reviews', 'id'), max(id)) FROM shop.reviews;
SELECT setval('shop.invoice_number', max(invoice_number)) FROM shop.orders;
"""


def postgres_database_url(server_url: str) -> str:
    """The server's URL, on the demo's own database."""
    return server_url.rsplit("/", 1)[0] + f"/{POSTGRES_DATABASE}"


def seed_postgres(server_url: str) -> dict[str, int]:
    """Creates the ``shop`` database (dropped first if there is one) and loads it."""
    return asyncio.run(_seed_postgres(server_url))


async def _seed_postgres(server_url: str) -> dict[str, int]:
    import asyncpg

    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {POSTGRES_DATABASE}")
        await admin.execute(f"ALTER DATABASE {POSTGRES_DATABASE} SET search_path = shop")
        # Roles belong to the whole server; a reload into the same server keeps them.
        await admin.execute("DROP ROLE IF EXISTS shop_staff; DROP ROLE IF EXISTS shop_customer")
    finally:
        await admin.close()
    data = shop()
    connection = await asyncpg.connect(postgres_database_url(server_url))
    try:
        async with connection.transaction():
            await connection.execute(SCHEMA_SQL)
            tables = {
                "customers": [(c.id, c.email, c.name, c.street, c.city, c.postcode, c.country,
                               c.marketing_opt_in, c.created_at) for c in data.customers],
                "products": [(p.id, p.sku, p.name, p.category, p.variant, p.price, p.stock,
                              p.active) for p in data.products],
                "orders": [(o.id, o.customer_id, o.status, o.payment_method, 100_000 + o.id,
                            o.created_at, o.updated_at) for o in data.orders],
                "order_items": [(o.id, number, line.product_id, line.quantity, line.unit_price)
                                for o in data.orders
                                for number, line in enumerate(o.lines, 1)],
                "reviews": [(r.id, r.product_id, r.customer_id, r.order_id, r.rating, r.title,
                             r.body, r.created_at) for r in data.reviews],
            }
            for table, records in tables.items():
                await connection.copy_records_to_table(table, records=records, schema_name="shop")
            await connection.execute(AFTER_LOAD_SQL)
        # Planner statistics and a visibility map, as a database in use has.
        await connection.execute("VACUUM ANALYZE")
        return {table: len(records) for table, records in tables.items()}
    finally:
        await connection.close()
