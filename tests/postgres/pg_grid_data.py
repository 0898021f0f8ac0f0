"""The data the grid, edit, SQL editor and server view tests read: a database of its own on the
session's PostgreSQL, made once per test module, and an entry for it in a test catalog."""

from __future__ import annotations

from pgservers import create_database

HOSTILE_SCHEMA = 'we"ird sch;ema'
HOSTILE_TABLE = 'Tab;le "x"'
HOSTILE_COLUMN = 'col"; DROP TABLE people; --'

SCHEMA_SQL = f"""
CREATE TABLE people (
    id integer PRIMARY KEY,
    name text NOT NULL,
    age integer,
    bio text,
    data jsonb,
    photo bytea
);
INSERT INTO people
SELECT n, 'person ' || n,
       CASE WHEN n % 7 = 0 THEN NULL ELSE n % 10 END,
       CASE WHEN n = 3 THEN repeat('long bio ', 20000) ELSE 'bio ' || n END,
       jsonb_build_object('n', n, 'tags', jsonb_build_array('a', 'b')),
       CASE WHEN n = 4 THEN decode(repeat('ab', 5000), 'hex') ELSE decode('cafe', 'hex') END
FROM generate_series(1, 1000) n;
ANALYZE people;

CREATE TABLE pairs (a integer, b text, v integer, PRIMARY KEY (a, b));
INSERT INTO pairs SELECT n / 10, 'k' || (n % 10), n FROM generate_series(0, 499) n;

CREATE TABLE nokey (x integer, y text);
INSERT INTO nokey SELECT n % 50, 'row ' || n FROM generate_series(1, 450) n;
CREATE VIEW nokey_view AS SELECT x, y FROM nokey;
CREATE MATERIALIZED VIEW people_mv AS SELECT id, name FROM people WHERE id <= 300;

CREATE TABLE uniq (code text NOT NULL, label text);
CREATE UNIQUE INDEX uniq_code ON uniq (code);
INSERT INTO uniq SELECT 'c' || lpad(n::text, 4, '0'), 'label ' || n FROM generate_series(1, 300) n;

CREATE TABLE gen (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    price numeric(8, 2) NOT NULL DEFAULT 1,
    qty integer NOT NULL DEFAULT 2,
    total numeric GENERATED ALWAYS AS (price * qty) STORED,
    note varchar(5)
);
INSERT INTO gen (price, qty, note) VALUES (2.50, 4, 'first');

CREATE SCHEMA "{HOSTILE_SCHEMA.replace('"', '""')}";
CREATE TABLE "{HOSTILE_SCHEMA.replace('"', '""')}"."{HOSTILE_TABLE.replace('"', '""')}" (
    id serial PRIMARY KEY,
    "{HOSTILE_COLUMN.replace('"', '""')}" text
);
INSERT INTO "{HOSTILE_SCHEMA.replace('"', '""')}"."{HOSTILE_TABLE.replace('"', '""')}"
    ("{HOSTILE_COLUMN.replace('"', '""')}")
VALUES ('it''s'), ('x''); DROP TABLE people; --'), (NULL), ('plain');

CREATE VIEW slow AS SELECT pg_sleep(30)::text AS slept, 1 AS one;
ANALYZE;  -- stable plans and estimates: autovacuum finds nothing left to analyze
"""


# Autovacuum off: no background ANALYZE changes the statistics, so plans and their costs stay
# the same however long the suite runs beside it.
FROZEN_SQL = """
ALTER TABLE people SET (autovacuum_enabled = false);
ALTER TABLE pairs SET (autovacuum_enabled = false);
"""


def create_grid_database(server_url: str, database: str, *, frozen: bool = False) -> str:
    """A fresh database holding SCHEMA_SQL; its URL. ``frozen``: for plans in snapshots, a
    database nothing else writes to, whose statistics never change."""
    return create_database(server_url, database, SCHEMA_SQL + (FROZEN_SQL if frozen else ""))
