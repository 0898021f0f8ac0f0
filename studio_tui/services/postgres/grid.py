"""Rows of one table, view or materialized view, page by page, for the data grid.

Pages follow the primary key (or a unique not-null index) with keyset conditions, so a deep page
costs what the first does; a relation with neither is paged by ctid (plain tables and
materialized views) or by OFFSET, and says so. Sorting keeps the keyset: the sort column, then
the key as tiebreak, NULLs last ascending and first descending (PostgreSQL's own defaults, so a
btree index serves both). Filters are parameterized: every identifier is quoted, every value is
bound as text and cast by the server to the column's type (``$1::text::integer``), so it is
checked and converted exactly as if typed in SQL. Long values are cut short in the query."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from studio_tui.services.errors import NotFoundError, ValidationError
from studio_tui.services.manager import ConnectionManager
from studio_tui.services.postgres.identifiers import qualified, quote_ident
from studio_tui.services.postgres.data_models import (
    OPERATORS,
    Column,
    Condition,
    PageCursor,
    Paging,
    RelationShape,
    Row,
    RowPage,
    Sort,
)

if TYPE_CHECKING:
    from studio_tui.services.postgres.source import CatalogSource

PAGE_SIZE = 200
CUT_CHARS = 500  # characters of a long text, json or array value fetched for the grid
CUT_BYTES = 250  # bytes of a bytea value (500 hex digits)

RELKINDS = {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view",
            "f": "foreign table"}
CTID_KINDS = ("r", "m")  # heap relations, whose ctid is a row's address

_RELATION = """
SELECT c.oid, c.relkind::text AS relkind, c.reltuples::bigint AS reltuples
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2
"""

_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS shown,
       format_type(a.atttypid, NULL) AS cast_to, a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid) AS default_expr, a.attidentity::text AS identity,
       a.attgenerated::text AS generated,
       coalesce(nullif(t.typbasetype, 0), t.oid)::regtype::text AS base,
       t.typlen, t.typcategory::text AS category,
       t.typcategory = 'S' OR EXISTS (
           SELECT 1 FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
           WHERE am.amname = 'btree' AND oc.opcdefault
             AND oc.opcintype = coalesce(nullif(t.typbasetype, 0), t.oid)) AS sortable
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

# Unique indexes whose key columns are all NOT NULL, primary key first, then the narrowest
# (names as text[]: pg-meta's node-postgres reads a name[] as one string).
_KEYS = """
SELECT i.indisprimary, ic.relname,
       ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) AS columns,
       (SELECT bool_and(a.attnotnull) FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE k.ord <= i.indnkeyatts) AS not_null
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = $1 AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
  AND i.indexprs IS NULL
ORDER BY i.indisprimary DESC, i.indnkeyatts, ic.relname
"""


class Params:
    """Bound values in order; ``add`` returns the ``$n`` that stands for one in the SQL."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"

    def typed(self, value: str | None, column: Column) -> str:
        """A value as text, cast on the server to the column's type."""
        return f"{self.add(value)}::text::{column.cast}"


def _cut_kind(base: str, typlen: int) -> str:
    if base == "bytea":
        return "bytes"
    return "text" if typlen == -1 else ""


def parse_list(text: str) -> list[str]:
    """The values of an IN condition: separated by commas, quoted as in CSV when they hold one."""
    try:
        row = next(csv.reader(io.StringIO(text), skipinitialspace=True), [])
    except csv.Error as error:
        raise ValidationError(f"The list {text!r} cannot be read: {error}.",
                              field_errors={"value": "a list"}) from None
    values = [value.strip() for value in row]
    if not values or not any(values):
        raise ValidationError("IN needs at least one value (separated by commas).",
                              field_errors={"value": "values"})
    return values


def cut_expressions(column: Column) -> tuple[str, str]:
    """SQL for the part of a long value the grid shows, and for its full size. The edits check
    a row against the same two, so a value cut short is compared as it was seen."""
    name = quote_ident(column.name)
    if column.cut == "bytes":
        preview = (f"'\\x' || encode(substring({name} "  # sql-splice: a quoted name
                   f"FROM 1 FOR {CUT_BYTES}), 'hex')")
        return preview, f"octet_length({name})"
    return f"left({name}::text, {CUT_CHARS})", f"octet_length({name}::text)"


def select_list(shape: RelationShape, *, keep_whole: Sequence[str] = ()) -> str:
    """One preview expression per column (``c0``…) and one size per column that may be cut
    (``s0``…), then the ctid when rows are paged by it. Key columns and ``keep_whole`` (the sort
    column) are never cut: their values name where the next page starts."""
    whole = set(shape.key) | set(keep_whole)
    parts = []
    for index, column in enumerate(shape.columns):
        if column.name in whole or not column.cut:
            parts.append(f"{quote_ident(column.name)}::text AS c{index}")
        else:
            preview, size = cut_expressions(column)
            parts.append(f"{preview} AS c{index}")
            parts.append(f"{size}::bigint AS s{index}")
    if shape.paging is Paging.CTID:
        parts.append("ctid::text AS _ctid")
    return ", ".join(parts)


def where_clause(shape: RelationShape, conditions: Sequence[Condition],
                 params: Params) -> list[str]:
    """The filter as SQL conditions (joined by AND by the caller)."""
    out = []
    for condition in conditions:
        column = shape.column(condition.column)
        name = quote_ident(column.name)
        operator = condition.operator.upper()
        if operator not in OPERATORS:
            raise ValidationError(f"Unknown operator {condition.operator!r}; one of "
                                  f"{', '.join(OPERATORS)}.", field_errors={"operator": "unknown"})
        if operator in ("IS NULL", "IS NOT NULL"):
            out.append(f"{name} {operator}")
        elif operator in ("LIKE", "ILIKE"):
            # On the text form, so a pattern works on any type (numbers, dates, json).
            out.append(f"{name}::text {operator} {params.add(condition.value)}")
        elif operator == "IN":
            values = parse_list(condition.value)
            out.append(f"{name} = ANY({params.add(values)}::text[]::{column.cast}[])")
        else:
            out.append(f"{name} {operator} {params.typed(condition.value, column)}")
    return out


def _after(shape: RelationShape, sort: Sort | None, cursor: PageCursor, params: Params) -> str:
    """The keyset condition for rows after ``cursor`` in the grid's order."""
    if shape.paging is Paging.CTID:
        tiebreak = f"ctid > {params.add(cursor.ctid)}::text::tid"
    else:
        key_columns = [shape.column(name) for name in shape.key]
        names = ", ".join(quote_ident(c.name) for c in key_columns)
        values = ", ".join(params.typed(v, c) for v, c in zip(cursor.key, key_columns, strict=True))
        tiebreak = f"({names}) > ({values})"
    if sort is None:
        return tiebreak
    column = shape.column(sort.column)
    name = quote_ident(column.name)
    # NULLs come last ascending, first descending. Every piece below is a quoted name or a
    # $n placeholder (Params): no value enters the text.
    if cursor.sort_value is None:
        if sort.descending:
            return (f"(({name} IS NULL AND {tiebreak})"  # sql-splice: names and placeholders
                    f" OR {name} IS NOT NULL)")
        return f"({name} IS NULL AND {tiebreak})"  # sql-splice: names and placeholders
    value = params.typed(cursor.sort_value, column)
    beyond = "<" if sort.descending else ">"
    nulls_after = "" if sort.descending else \
        f" OR {name} IS NULL"  # sql-splice: a quoted name
    return (f"({name} {beyond} {value} OR ({name} = {value} AND {tiebreak})"
            f"{nulls_after})")  # sql-splice: names and placeholders


def order_by(shape: RelationShape, sort: Sort | None) -> str:
    parts = []
    if sort is not None:
        direction = "DESC NULLS FIRST" if sort.descending else "ASC NULLS LAST"
        parts.append(f"{quote_ident(shape.column(sort.column).name)} {direction}")
    if shape.paging is Paging.KEYSET:
        parts += [quote_ident(name) for name in shape.key]
    elif shape.paging is Paging.CTID:
        parts.append("ctid")
    else:
        # OFFSET pages need one order from query to query: every column that has one.
        parts += [quote_ident(c.name) for c in shape.columns
                  if c.sortable and (sort is None or c.name != sort.column)]
    if not parts:
        return ""
    return f" ORDER BY {', '.join(parts)}"  # sql-splice: quoted names only


def page_query(shape: RelationShape, *, sort: Sort | None = None,
               conditions: Sequence[Condition] = (), after: PageCursor | None = None,
               limit: int = PAGE_SIZE) -> tuple[str, list[Any]]:
    """The SQL and bound values of one page."""
    params = Params()
    where = where_clause(shape, conditions, params)
    if after is not None and shape.paging is not Paging.OFFSET:
        where.append(_after(shape, sort, after, params))
    columns = select_list(shape, keep_whole=[sort.column] if sort else [])
    # Composed from quoted names and $n placeholders (Params) only: the values are bound.
    sql = (f"SELECT {columns} "  # sql-splice: names and placeholders
           f"FROM {qualified(shape.schema, shape.name)}{and_where(where)}"
           f"{order_by(shape, sort)} LIMIT {params.add(limit)}")
    if after is not None and shape.paging is Paging.OFFSET:
        sql += f" OFFSET {params.add(after.offset)}"  # sql-splice: a placeholder
    return sql, params.values


def and_where(conditions: Sequence[str]) -> str:
    """`` WHERE a AND b`` from conditions made of quoted names and placeholders; "" for none."""
    if not conditions:
        return ""
    return " WHERE " + " AND ".join(conditions)  # sql-splice: names and placeholders


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def row_from_record(shape: RelationShape, record: Any) -> Row:
    values = tuple(record[f"c{i}"] for i in range(len(shape.columns)))
    keys = set(record.keys())
    sizes = tuple(_int(record[f"s{i}"]) if f"s{i}" in keys else None
                  for i in range(len(shape.columns)))
    return Row(values, sizes, record["_ctid"] if "_ctid" in keys else None)


def row_key(shape: RelationShape, row: Row) -> tuple[str | None, ...]:
    index = {name: i for i, name in enumerate(shape.column_names)}
    return tuple(row.values[index[name]] for name in shape.key)


def next_cursor(shape: RelationShape, sort: Sort | None, rows: list[Row], offset: int,
                limit: int) -> PageCursor | None:
    if len(rows) < limit:
        return None
    last = rows[-1]
    sort_value = None
    if sort is not None:
        sort_value = last.values[shape.column_names.index(sort.column)]
    return PageCursor(key=row_key(shape, last) if shape.paging is Paging.KEYSET else (),
                      sort_value=sort_value, ctid=last.ctid, offset=offset + len(rows))


def pretty(column: Column, text: str | None) -> str:
    """A value for reading: json and jsonb indented, anything else as it is."""
    if text is None:
        return "NULL"
    if column.is_json:
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            return text
    return text


class GridService:
    """Reads of one entry's relations for the grid. Stateless; one per opened grid.

    With a ``source`` (the entry's pg-meta), reads go through it, as the catalog's do; edits
    (``run(write=True)``, in ``edits.py``) always use the direct connection."""

    def __init__(self, manager: ConnectionManager, database_id: str,
                 source: "CatalogSource | None" = None) -> None:
        self.manager = manager
        self.database_id = database_id
        self.source = source

    async def _rows(self, operation: str, sql: str, *params: Any,
                    long: bool = False) -> Sequence[Mapping[str, Any]]:
        """``sql``'s rows, read by column name, through the source when there is one."""
        if self.source is not None:
            return await self.source.fetch(operation, sql, *params, long=long)

        async def fetch(connection) -> list:
            return await connection.fetch(sql, *params)

        return await self.run(operation, fetch, long=long)

    async def run(self, operation: str, fn, *, write: bool = False, long: bool = False,
                  timeout: float | None = None, target: str = "") -> Any:
        return await self.manager.run(self.database_id, operation, fn, write=write, long=long,
                                      timeout=timeout, target=target)

    async def shape(self, schema: str, name: str) -> RelationShape:
        """The relation's columns, key and paging, from the catalog."""
        found = await self._rows("describe relation", _RELATION, schema, name)
        if not found:
            raise NotFoundError(f"There is no table or view {schema}.{name}.")
        relation = found[0]
        relkind = relation["relkind"]
        if relkind not in RELKINDS:
            raise ValidationError(f"{schema}.{name} is not a table or view.")
        oid = int(relation["oid"])
        columns = tuple(
            Column(r["attname"], r["shown"], r["cast_to"], nullable=not r["attnotnull"],
                   default=r["default_expr"], identity=r["identity"].strip("\x00"),
                   generated=bool(r["generated"].strip("\x00")),
                   cut=_cut_kind(r["base"], int(r["typlen"])),
                   is_json=r["base"] in ("json", "jsonb"), sortable=r["sortable"])
            for r in await self._rows("describe columns", _COLUMNS, oid))
        key: tuple[str, ...] = ()
        source = ""
        for index in await self._rows("describe keys", _KEYS, oid):
            if index["not_null"]:
                key = tuple(index["columns"])
                source = ("primary key" if index["indisprimary"]
                          else f"unique index {index['relname']}")
                break
        if key:
            paging = Paging.KEYSET
        elif relkind in CTID_KINDS:
            paging = Paging.CTID
        else:
            paging = Paging.OFFSET
        tuples = _int(relation["reltuples"])  # pg-meta sends a bigint as text
        estimated = None if relkind in ("v", "f") or tuples is None or tuples < 0 else tuples
        if relkind == "p":
            estimated = _int((await self._rows(
                "estimate rows",
                "SELECT nullif(sum(greatest(c.reltuples, 0)), 0)::bigint AS n "
                "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = $1", oid))[0]["n"])
        return RelationShape(schema, name, RELKINDS[relkind], columns, key, source, paging,
                             estimated)

    async def page(self, shape: RelationShape, *, sort: Sort | None = None,
                   conditions: Sequence[Condition] = (), after: PageCursor | None = None,
                   limit: int = PAGE_SIZE) -> RowPage:
        """One page of rows in the grid's order, starting after ``after`` (None: the first)."""
        sql, values = page_query(shape, sort=sort, conditions=conditions, after=after,
                                 limit=limit)

        # A filter or a sort on an unindexed column may scan the table: the user asked for it.
        records = await self._rows("read rows", sql, *values, long=bool(conditions or sort))
        rows = [row_from_record(shape, record) for record in records]
        offset = after.offset if after is not None else 0
        return RowPage(rows, next_cursor(shape, sort, rows, offset, limit))

    async def exact_count(self, shape: RelationShape,
                          conditions: Sequence[Condition] = ()) -> int:
        """count(*), with the filter; long work, within the tier's query timeout."""
        params = Params()
        where = where_clause(shape, conditions, params)
        sql = (f"SELECT count(*) AS n FROM {qualified(shape.schema, shape.name)}"
               f"{and_where(where)}")  # sql-splice: names and placeholders
        return int((await self._rows("count rows", sql, *params.values, long=True))[0]["n"])

    async def full_value(self, shape: RelationShape, row: Row, column_name: str) -> str | None:
        """The whole value of one cell that the grid shows cut short."""
        column = shape.column(column_name)
        params = Params()
        match = row_match(shape, row, params)
        sql = (f"SELECT {quote_ident(column.name)}::text AS v FROM "
               f"{qualified(shape.schema, shape.name)}"
               f"{and_where([match])} LIMIT 1")  # sql-splice: names and placeholders
        found = await self._rows("read value", sql, *params.values, long=True)
        if not found:
            raise NotFoundError("The row is no longer there (deleted, or its key changed).")
        return found[0]["v"]


def row_match(shape: RelationShape, row: Row, params: Params) -> str:
    """SQL naming ``row``: by its key, else by its ctid; a row of neither cannot be named."""
    if shape.key:
        index = {name: i for i, name in enumerate(shape.column_names)}
        return " AND ".join(
            f"{quote_ident(name)} = {params.typed(row.values[index[name]], shape.column(name))}"
            for name in shape.key)
    if row.ctid is not None:
        return f"ctid = {params.add(row.ctid)}::text::tid"
    raise ValidationError(f"{shape.schema}.{shape.name} has no key, so its rows cannot be "
                          "fetched one by one.")
