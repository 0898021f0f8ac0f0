"""Bad input, PostgreSQL against the real server: identifiers (``quote_ident`` / ``qualified``:
create a schema, a table and a column under any generated name, then find them through the
grid's catalog reads) and the grid's filter builder (``where_clause`` through
``GridService.page`` and ``exact_count``) with any operator and value on every common type.

Property: a name PostgreSQL can hold round-trips exactly; one it cannot (empty, NUL, over 63
bytes) is refused before any SQL is sent. A filter returns rows that match, or a StudioError
saying what is wrong with the value (PostgreSQL's own "invalid input syntax for type …")."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import pgservers
from fuzz_checks import assert_specific, fuzz_settings
from studio_tui.services.catalog import Catalog
from studio_tui.services.errors import StudioError, ValidationError
from studio_tui.services.manager import ConnectionManager
from studio_tui.services.platform.sqlite_store import SqliteCatalogStore
from studio_tui.services.postgres.data_models import OPERATORS, Condition
from studio_tui.services.postgres.grid import GridService
from studio_tui.services.postgres.identifiers import qualified, quote_ident
from studio_tui.services.vault import KeyMaterial, Vault

TYPED = """
CREATE TABLE typed (
    id serial PRIMARY KEY, i integer, b bigint, n numeric(10, 2), f double precision,
    t text, v varchar(8), ok boolean, d date, ts timestamptz, u uuid, j jsonb, a int[],
    by bytea, ip inet, iv interval
);
INSERT INTO typed (i, b, n, f, t, v, ok, d, ts, u, j, a, by, ip, iv) VALUES
    (1, 10000000000, 3.14, 2.5, 'hello', 'x', true, '2024-01-31', '2024-01-31 12:00+00',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1, 2]}', '{1,2}', '\\x00ff', '10.0.0.1',
     '1 day'),
    (NULL, NULL, NULL, 'NaN', 'ключ %_\\', NULL, false, NULL, NULL, NULL, 'null', '{}', '',
     NULL, NULL);
"""
NAMES = st.one_of(
    st.text(min_size=1, max_size=30),
    st.sampled_from(['"', '""', "a b", "select", "User", "Ü", "x.y", "$1", "%s", "--", "/*",
                     "\\", "'", ";drop table typed;", "😀" * 15, "a" * 63, "a" * 64, " ",
                     "\x00", ""]),
)
COLUMNS = ["id", "i", "b", "n", "f", "t", "v", "ok", "d", "ts", "u", "j", "a", "by", "ip", "iv"]
VALUES = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "1", "-1", "1e400", "3.14", "NaN", "Infinity", "true", "yes", "2024-02-30",
                     "2024-01-31", "now", "epoch", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "{1,2}",
                     "{", '{"k": 1}', "\\x00ff", "10.0.0.1/33", "1 day", "99999999999999999999",
                     "'; drop table typed; --", "%", "_", "a,b", '"a,b",c', '"unclosed', "\x00"]),
)


@pytest.fixture(scope="module")
def pg(postgres_server, tmp_path_factory):
    url = pgservers.create_database(postgres_server.url, "fuzz_input", TYPED)
    with asyncio.Runner() as runner:
        async def start():
            store = SqliteCatalogStore(tmp_path_factory.mktemp("fuzz-pg") / "catalog.sqlite3")
            await store.__aenter__()
            catalog = Catalog(store, Vault(KeyMaterial(b"k" * 32, "fuzz key")))
            org = await catalog.create_organization("Fuzz")
            project = await catalog.create_project(org.id, "sql")
            entry = await catalog.add_database(project.id, "fuzz-pg", url)
            manager = ConnectionManager(catalog)
            await manager.__aenter__()
            raw = await asyncpg.connect(url)
            return store, manager, GridService(manager, entry.id), raw

        store, manager, grid, raw = runner.run(start())
        yield runner, grid, raw
        runner.run(raw.close())
        runner.run(manager.__aexit__(None, None, None))
        runner.run(store.__aexit__(None, None, None))


async def _create_and_find(grid: GridService, raw, schema: str, table: str, column: str) -> None:
    await raw.execute(f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE")
    await raw.execute(f"CREATE SCHEMA {quote_ident(schema)}")
    try:
        await raw.execute(f"CREATE TABLE {qualified(schema, table)} "
                          f"({quote_ident(column)} text PRIMARY KEY)")
        await raw.execute(f"INSERT INTO {qualified(schema, table)} VALUES ($1)", column)
        shape = await grid.shape(schema, table)
        assert (shape.schema, shape.name) == (schema, table)
        assert [c.name for c in shape.columns] == [column]
        page = await grid.page(shape, conditions=[Condition(column, "=", column)])
        assert len(page.rows) == 1
    finally:
        await raw.execute(f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE")


def test_any_identifier_round_trips_or_is_refused_before_sql(pg) -> None:
    runner, grid, raw = pg

    @fuzz_settings(ci=40)
    @given(NAMES, NAMES, NAMES)
    @example("fuzz s", 'my "t"', "select")
    @example("fuzz", "a" * 64, "c")  # PostgreSQL would truncate it to another name
    @example("fuzz", "é" * 32, "c")  # 64 bytes in UTF-8
    @example("fuzz", "t", "\x00")
    def check(schema: str, table: str, column: str) -> None:
        try:
            for name in (schema, table, column):
                quote_ident(name)
        except ValidationError as error:
            assert_specific(error)
            assert any(not n or "\x00" in n or len(n.encode()) > 63
                       for n in (schema, table, column))
            return
        if schema.startswith("pg_"):  # reserved for the system
            schema = "u" + schema
        runner.run(_create_and_find(grid, raw, schema, table, column))

    check()


def test_any_filter_returns_matching_rows_or_a_specific_error(pg) -> None:
    runner, grid, raw = pg
    shape = runner.run(grid.shape("public", "typed"))

    @fuzz_settings(ci=150)
    @given(st.sampled_from(COLUMNS), st.sampled_from(OPERATORS) | st.sampled_from(
        ["like", "==", "!=", "IN ", "between", ""]), VALUES)
    @example("i", "=", "1e400")
    @example("t", "=", "\x00")
    @example("u", "IN", '"unclosed')
    @example("d", ">", "2024-02-30")
    @example("t", "LIKE", "%\\")
    def check(column: str, operator: str, value: str) -> None:
        conditions = [Condition(column, operator, value)]
        try:
            page = runner.run(grid.page(shape, conditions=conditions))
            count = runner.run(grid.exact_count(shape, conditions))
        except StudioError as error:
            assert_specific(error)
            return
        except Exception as error:  # noqa: BLE001 - the property: nothing but a StudioError
            assert_specific(error)
        assert len(page.rows) == count <= 2
        if operator.upper() == "IS NULL":
            index = COLUMNS.index(column)
            assert all(row.values[index] is None for row in page.rows)

    check()
