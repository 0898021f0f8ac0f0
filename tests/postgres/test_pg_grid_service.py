"""The data grid's service against a real PostgreSQL: keyset pages without gaps or duplicates
(ties, NULLs, composite keys, descending), the ctid and OFFSET fallbacks and what they say,
the filter builder with hostile names and values, long values cut short in the query, and
row edits with their conflicts and refusals."""

from __future__ import annotations

import asyncpg
import pytest

from pg_grid_data import HOSTILE_COLUMN, HOSTILE_SCHEMA, HOSTILE_TABLE, create_grid_database
from studio_tui.services.errors import ConflictError, ReadOnlyError, ServerError, ValidationError
from studio_tui.services.postgres.edits import RowEdits
from studio_tui.services.postgres.grid import CUT_CHARS, GridService, page_query
from studio_tui.services.postgres.data_models import Condition, Paging, Sort


@pytest.fixture(scope="module")
def db_url(postgres_server) -> str:
    return create_grid_database(postgres_server.url, "grid_service")


@pytest.fixture
async def grid(catalog, project_id, manager, db_url) -> GridService:
    entry = await catalog.add_database(project_id, "shop", db_url)
    return GridService(manager, entry.id)


@pytest.fixture
async def raw(db_url):
    connection = await asyncpg.connect(db_url)
    yield connection
    await connection.close()


async def walk(grid, shape, *, sort=None, conditions=(), limit=37):
    rows, after, pages = [], None, 0
    while True:
        page = await grid.page(shape, sort=sort, conditions=conditions, after=after, limit=limit)
        rows += page.rows
        pages += 1
        if page.next is None:
            return rows, pages
        after = page.next


def ids(shape, rows, column="id"):
    index = shape.column_names.index(column)
    return [row.values[index] for row in rows]


async def test_keyset_pages_cover_every_row_once_in_key_order(grid):
    shape = await grid.shape("public", "people")
    assert shape.paging is Paging.KEYSET and shape.key == ("id",)
    assert shape.key_source == "primary key" and shape.paging_note == ""
    assert shape.estimated_rows == 1000
    rows, pages = await walk(grid, shape)
    assert ids(shape, rows) == [str(n) for n in range(1, 1001)] and pages == 28


@pytest.mark.parametrize("descending", [False, True])
async def test_sorted_keyset_pages_handle_ties_and_nulls(grid, raw, descending):
    shape = await grid.shape("public", "people")
    rows, _ = await walk(grid, shape, sort=Sort("age", descending), limit=23)
    direction = "DESC NULLS FIRST" if descending else "ASC NULLS LAST"
    expected = [str(r["id"]) for r in await raw.fetch(
        f"SELECT id FROM people ORDER BY age {direction}, id")]
    assert ids(shape, rows) == expected
    ages = ids(shape, rows, "age")
    assert (ages[0] is None) == descending and (ages[-1] is None) != descending


async def test_composite_keys_page_in_order(grid):
    shape = await grid.shape("public", "pairs")
    assert shape.key == ("a", "b")
    rows, _ = await walk(grid, shape, limit=17)
    pairs = [(int(r.values[0]), r.values[1]) for r in rows]
    assert pairs == sorted(pairs) and len(set(pairs)) == 500
    rows, _ = await walk(grid, shape, sort=Sort("v", True), limit=17)
    assert [int(r.values[2]) for r in rows] == list(range(499, -1, -1))


async def test_a_unique_not_null_index_serves_as_the_key(grid):
    shape = await grid.shape("public", "uniq")
    assert shape.key == ("code",) and shape.key_source == "unique index uniq_code"
    rows, _ = await walk(grid, shape, limit=41)
    assert len({r.values[0] for r in rows}) == 300


async def test_a_table_without_a_key_pages_by_ctid_and_says_so(grid):
    shape = await grid.shape("public", "nokey")
    assert shape.paging is Paging.CTID and "ctid" in shape.paging_note
    assert "no primary key" in shape.edit_refusal
    rows, _ = await walk(grid, shape, limit=40)
    assert sorted(r.values[1] for r in rows) == sorted(f"row {n}" for n in range(1, 451))
    rows, _ = await walk(grid, shape, sort=Sort("x"), limit=40)  # ties broken by ctid
    assert [int(r.values[0]) for r in rows] == sorted(n % 50 for n in range(1, 451))
    assert len({r.values[1] for r in rows}) == 450


async def test_a_view_pages_by_offset_and_says_so(grid):
    shape = await grid.shape("public", "nokey_view")
    assert shape.kind == "view" and shape.paging is Paging.OFFSET
    assert "OFFSET" in shape.paging_note and shape.estimated_rows is None
    rows, _ = await walk(grid, shape, limit=40)  # one order from page to page
    assert sorted(r.values[1] for r in rows) == sorted(f"row {n}" for n in range(1, 451))
    rows, _ = await walk(grid, shape, sort=Sort("y"), limit=40)
    assert [r.values[1] for r in rows] == sorted(f"row {n}" for n in range(1, 451))
    mv = await grid.shape("public", "people_mv")
    assert mv.kind == "materialized view" and mv.paging is Paging.CTID


async def test_filters_bind_values_cast_by_the_server(grid):
    shape = await grid.shape("public", "people")
    rows, _ = await walk(grid, shape, conditions=[Condition("age", ">=", "8"),
                                                  Condition("id", "<", "40")])
    assert ids(shape, rows) == [str(n) for n in range(1, 40) if n % 7 and n % 10 >= 8]
    rows, _ = await walk(grid, shape, conditions=[Condition("age", "IS NULL")])
    assert len(rows) == 142
    rows, _ = await walk(grid, shape, conditions=[Condition("id", "IN", '5, 6,"7"')])
    assert ids(shape, rows) == ["5", "6", "7"]
    rows, _ = await walk(grid, shape, conditions=[Condition("name", "ILIKE", "PERSON 99_")])
    assert ids(shape, rows) == [str(n) for n in range(990, 1000)]
    rows, _ = await walk(grid, shape, conditions=[Condition("data", "LIKE", '%"n": 12,%')])
    assert ids(shape, rows) == ["12"]
    with pytest.raises(ServerError, match="invalid input syntax for type integer"):
        await grid.page(shape, conditions=[Condition("age", "=", "ten")])
    with pytest.raises(ValidationError):
        await grid.page(shape, conditions=[Condition("age", "; DROP", "1")])


async def test_hostile_names_and_values_stay_names_and_values(grid, raw):
    shape = await grid.shape(HOSTILE_SCHEMA, HOSTILE_TABLE)
    assert shape.column_names == ("id", HOSTILE_COLUMN)
    hostile = "x'); DROP TABLE people; --"
    rows, _ = await walk(grid, shape, conditions=[Condition(HOSTILE_COLUMN, "=", hostile)])
    assert [r.values[1] for r in rows] == [hostile]
    rows, _ = await walk(grid, shape, conditions=[Condition(HOSTILE_COLUMN, "IN",
                                                            f'"{hostile}", it\'s')])
    assert sorted(r.values[1] for r in rows) == sorted([hostile, "it's"])
    rows, _ = await walk(grid, shape, sort=Sort(HOSTILE_COLUMN, True), limit=2)
    assert [r.values[1] for r in rows] == [None, hostile, "plain", "it's"]
    sql, values = page_query(shape, conditions=[Condition(HOSTILE_COLUMN, "=", hostile)])
    assert hostile not in sql and hostile in values
    assert await raw.fetchval("SELECT count(*) FROM people") == 1000


async def test_long_values_are_cut_in_the_query_with_their_full_size(grid):
    shape = await grid.shape("public", "people")
    page = await grid.page(shape, conditions=[Condition("id", "IN", "3,4,5")])
    bio, photo = shape.column_names.index("bio"), shape.column_names.index("photo")
    long_row, bytes_row, short_row = page.rows
    assert len(long_row.values[bio]) == CUT_CHARS and long_row.sizes[bio] == 9 * 20000
    assert long_row.is_cut(bio) and not short_row.is_cut(bio)
    assert bytes_row.is_cut(photo) and bytes_row.sizes[photo] == 5000
    assert bytes_row.values[photo].startswith("\\xabab") and len(bytes_row.values[photo]) == 502
    assert short_row.values[photo] == "\\xcafe"
    whole = await grid.full_value(shape, long_row, "bio")
    assert whole == "long bio " * 20000
    data = shape.column("data")
    assert data.is_json


async def test_exact_count_honours_the_filter(grid):
    shape = await grid.shape("public", "people")
    assert await grid.exact_count(shape) == 1000
    assert await grid.exact_count(shape, [Condition("age", "=", "3")]) == 86


# -- edits ----------------------------------------------------------------------------------
@pytest.fixture
async def people_row(grid, raw):
    await raw.execute("DELETE FROM people WHERE id >= 5000")
    await raw.execute("INSERT INTO people (id, name, age, bio) VALUES (5001, 'edit me', 1, $1)",
                      "x" * 2000)
    shape = await grid.shape("public", "people")
    page = await grid.page(shape, conditions=[Condition("id", "=", "5001")])
    yield shape, page.rows[0]
    await raw.execute("DELETE FROM people WHERE id >= 5000")


async def test_a_cell_edit_is_keyed_and_checked_and_cast_by_the_server(grid, raw, people_row):
    shape, row = people_row
    edits = RowEdits(grid)
    stored = await edits.update(shape, row, {"age": "42", "name": "it's; --"})
    assert stored.values[shape.column_names.index("age")] == "42"
    assert await raw.fetchval("SELECT name FROM people WHERE id = 5001") == "it's; --"
    with pytest.raises(ServerError, match="integer"):
        await edits.update(shape, stored, {"age": "forty"})
    again = await edits.update(shape, stored, {"age": None})  # NULL
    assert again.values[shape.column_names.index("age")] is None


async def test_a_row_changed_meanwhile_is_a_conflict_and_nothing_is_written(grid, raw,
                                                                           people_row):
    shape, row = people_row
    edits = RowEdits(grid)
    await raw.execute("UPDATE people SET bio = bio || 'y', age = NULL WHERE id = 5001")
    with pytest.raises(ConflictError) as conflict:
        await edits.update(shape, row, {"name": "mine"})
    # What changed, as the grid shows it (bio is cut short, so its size is what differs).
    assert conflict.value.detail.startswith(
        "Someone else changed the row since it was read: age is now NULL (was '1'); bio "
        "changed past the part shown (now 2,001 bytes, was 2,000). Nothing was written; your "
        "input is kept.")
    assert await raw.fetchval("SELECT name FROM people WHERE id = 5001") == "edit me"
    with pytest.raises(ConflictError):
        await edits.delete(shape, [row])
    assert await raw.fetchval("SELECT count(*) FROM people WHERE id = 5001") == 1
    await raw.execute("DELETE FROM people WHERE id = 5001")
    with pytest.raises(ConflictError, match="The row was deleted"):
        await edits.update(shape, row, {"name": "mine"})


async def test_insert_leaves_defaults_and_generated_columns_to_the_server(grid, raw):
    shape = await grid.shape("public", "gen")
    edits = RowEdits(grid)
    row = await edits.insert(shape, {"price": "3.333"})
    values = dict(zip(shape.column_names, row.values))
    assert values["qty"] == "2" and values["price"] == "3.33" and values["total"] == "6.66"
    assert int(values["id"]) >= 2
    with pytest.raises(ValidationError, match="filled by the server"):
        await edits.insert(shape, {"id": "99"})
    with pytest.raises(ServerError, match="too long"):
        await edits.insert(shape, {"note": "longer than five"})
    await raw.execute("DELETE FROM gen WHERE id <> 1")


async def test_deleting_marked_rows_is_all_or_nothing(grid, raw, people_row):
    shape, _ = people_row
    await raw.execute("INSERT INTO people (id, name) SELECT n, 'del ' || n "
                      "FROM generate_series(5002, 5004) n")
    rows = (await grid.page(shape, conditions=[Condition("id", ">", "5001")])).rows
    edits = RowEdits(grid)
    await raw.execute("UPDATE people SET name = 'moved' WHERE id = 5003")
    with pytest.raises(ConflictError, match="1 of the 3 rows"):
        await edits.delete(shape, rows)
    assert await raw.fetchval("SELECT count(*) FROM people WHERE id > 5001") == 3
    rows = (await grid.page(shape, conditions=[Condition("id", ">", "5001")])).rows
    assert await edits.delete(shape, rows) == 3
    assert await raw.fetchval("SELECT count(*) FROM people WHERE id > 5001") == 0


async def test_tables_without_a_key_and_views_refuse_edits(grid):
    edits = RowEdits(grid)
    for name in ("nokey", "nokey_view"):
        shape = await grid.shape("public", name)
        row = (await grid.page(shape, limit=1)).rows[0]
        with pytest.raises(ValidationError, match="no primary key"):
            await edits.update(shape, row, {"y": "z"})
        with pytest.raises(ValidationError, match="no primary key"):
            await edits.delete(shape, [row])


async def test_a_read_only_entry_refuses_every_edit(catalog, project_id, manager, db_url, raw):
    entry = await catalog.add_database(project_id, "ro", db_url, read_only=True)
    grid = GridService(manager, entry.id)
    shape = await grid.shape("public", "people")
    row = (await grid.page(shape, limit=1)).rows[0]
    edits = RowEdits(grid)
    with pytest.raises(ReadOnlyError):
        await edits.update(shape, row, {"name": "no"})
    with pytest.raises(ReadOnlyError):
        await edits.insert(shape, {"id": "9999", "name": "no"})
    with pytest.raises(ReadOnlyError):
        await edits.delete(shape, [row])
    assert await raw.fetchval("SELECT name FROM people WHERE id = 1") == "person 1"


# -- through pg-meta ----------------------------------------------------------------------------
@pytest.fixture
async def meta_grid(catalog, project_id, manager, db_url, pg_meta):
    from studio_tui.services.postgres.meta import MetaSource
    from studio_tui.services.postgres.source import open_source

    entry = await catalog.add_database(project_id, "shop-meta", db_url,
                                       pg_meta=(pg_meta.url, pg_meta.key))
    opened = await open_source(manager, entry)
    assert isinstance(opened.source, MetaSource), opened.note
    posts: list[str] = []

    async def seen(request) -> None:
        posts.append(request.url.path)

    opened.source._http().event_hooks["request"].append(seen)
    yield GridService(manager, entry.id, opened.source), posts
    await opened.source.close()


@pytest.mark.parametrize("relation, sort, conditions", [
    ("people", None, ()),
    ("people", Sort("age", True), (Condition("name", "LIKE", "person 1%"),)),
    ("nokey", None, ()),  # by ctid
    ("nokey_view", None, ()),  # by OFFSET
    ("pairs", Sort("v"), ()),  # a key of two columns
])
async def test_pg_meta_reads_the_same_shapes_pages_counts_and_values(
        grid, meta_grid, relation, sort, conditions):
    over_meta, posts = meta_grid
    shape = await grid.shape("public", relation)
    assert await over_meta.shape("public", relation) == shape
    direct_rows, direct_pages = await walk(grid, shape, sort=sort, conditions=conditions)
    meta_rows, meta_pages = await walk(over_meta, shape, sort=sort, conditions=conditions)
    assert meta_rows == direct_rows and meta_pages == direct_pages > 1
    assert await over_meta.exact_count(shape, conditions) == \
        await grid.exact_count(shape, conditions) == len(direct_rows)
    assert len(posts) >= 3 + meta_pages + 1 and set(posts) == {"/query"}


async def test_pg_meta_reads_a_cut_value_whole(grid, meta_grid):
    over_meta, _ = meta_grid
    shape = await over_meta.shape("public", "people")
    rows, _ = await walk(over_meta, shape, limit=5)
    bio = shape.column_names.index("bio")
    assert rows[2].is_cut(bio) and rows[2].sizes[bio] == len("long bio ") * 20000
    assert await over_meta.full_value(shape, rows[2], "bio") == "long bio " * 20000
