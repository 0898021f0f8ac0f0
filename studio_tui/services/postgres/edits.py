"""Row edits from the grid, as a table editor makes them, none silently overwriting someone
else's change.

Each edit is one statement keyed by the row's key, that also checks every value the user saw
(``IS NOT DISTINCT FROM``, on the same cut-short text the grid shows, and the full size of a
value that was cut): a row changed or deleted meanwhile matches nothing, and the edit raises
``ConflictError`` having written nothing. Values are bound as text and cast by the server to the
column's type. Every edit is a write, so a read-only entry refuses it in the connection manager
(and its server refuses it too)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from studio_tui.services.errors import ConflictError, ValidationError
from studio_tui.services.postgres.grid import (
    GridService,
    Params,
    and_where,
    cut_expressions,
    row_from_record,
    row_match,
    select_list,
)
from studio_tui.services.postgres.identifiers import qualified, quote_ident
from studio_tui.services.postgres.data_models import RelationShape, Row

NULL_TEXT = "\\N"  # typed for NULL, as COPY writes it


def typed_value(text: str) -> str | None:
    """What the user typed, with ``\\N`` meaning NULL."""
    return None if text == NULL_TEXT else text


def _refuse(shape: RelationShape) -> None:
    reason = shape.edit_refusal
    if reason is not None:
        raise ValidationError(reason)


def _unchanged(shape: RelationShape, row: Row, params: Params) -> str:
    """The row's key, and every value as the user saw it: SQL of quoted names and $n
    placeholders (Params) only."""
    checks = [row_match(shape, row, params)]
    for index, column in enumerate(shape.columns):
        if column.name in shape.key:
            continue
        if row.sizes[index] is not None:  # fetched cut short: compare the same cut, and size
            preview, size = cut_expressions(column)
            seen, seen_size = params.add(row.values[index]), params.add(row.sizes[index])
            checks.append(f"{preview} IS NOT DISTINCT FROM {seen}")  # sql-splice: placeholder
            checks.append(f"{size} IS NOT DISTINCT FROM {seen_size}::bigint")  # sql-splice: same
        else:
            seen = params.add(row.values[index])
            checks.append(f"{quote_ident(column.name)}::text "
                          f"IS NOT DISTINCT FROM {seen}")  # sql-splice: a placeholder
    return " AND ".join(checks)


_KEPT = "Nothing was written; your input is kept."
SHOWN_CHANGES = 3


def _shown(value: str | None) -> str:
    if value is None:
        return "NULL"
    return repr(value if len(value) <= 40 else value[:40] + "…")


async def _what_changed(connection, shape: RelationShape, row: Row) -> str:
    """Why an edit of ``row`` matched nothing: the row is gone, or these columns changed (read
    in the edit's own connection, right after it)."""
    params = Params()
    sql = (f"SELECT {select_list(shape)} FROM {qualified(shape.schema, shape.name)}"
           f"{and_where([row_match(shape, row, params)])}")  # sql-splice: names, $n
    record = await connection.fetchrow(sql, *params.values)
    if record is None:
        return f"The row was deleted (or its key changed) since it was read. {_KEPT}"
    now = row_from_record(shape, record)
    changed = []
    for i, name in enumerate(shape.column_names):
        if now.values[i] != row.values[i]:
            changed.append(f"{name} is now {_shown(now.values[i])} (was {_shown(row.values[i])})")
        elif now.sizes[i] != row.sizes[i]:  # a long value, changed past the part shown
            changed.append(f"{name} changed past the part shown (now {now.sizes[i]:,} bytes, "
                           f"was {row.sizes[i]:,})")
    if len(changed) > SHOWN_CHANGES:
        changed = changed[:SHOWN_CHANGES] + [f"{len(changed) - SHOWN_CHANGES} more"]
    what = "; ".join(changed) or "it was written again"
    return (f"Someone else changed the row since it was read: {what}. {_KEPT} Reload (r) to "
            "edit the row as it is now.")


class RowEdits:
    """The writes to one entry's tables, each through the connection manager as a write."""

    def __init__(self, grid: GridService) -> None:
        self.grid = grid

    async def update(self, shape: RelationShape, row: Row,
                     changes: Mapping[str, str | None]) -> Row:
        """Set columns of one row to new values (text, or None for NULL); returns the row as
        stored."""
        _refuse(shape)
        if not changes:
            raise ValidationError("Nothing to change.")
        params = Params()
        sets = ", ".join(f"{quote_ident(name)} = {params.typed(value, shape.column(name))}"
                         for name, value in changes.items())
        for name in changes:
            column = shape.column(name)
            if column.generated or column.identity == "a":
                raise ValidationError(f"{name} is filled by the server (generated or identity "
                                      "ALWAYS) and cannot be set.",
                                      field_errors={name: "generated"})
        unchanged = _unchanged(shape, row, params)
        sql = (f"UPDATE {qualified(shape.schema, shape.name)} SET {sets}"  # sql-splice: names, $n
               f"{and_where([unchanged])} RETURNING {select_list(shape)}")

        async def apply(connection) -> Row:
            records = await connection.fetch(sql, *params.values)
            if len(records) != 1:
                raise ConflictError(await _what_changed(connection, shape, row))
            return row_from_record(shape, records[0])

        return await self.grid.run("update row", apply, write=True,
                                   target=f"{shape.schema}.{shape.name}")

    async def insert(self, shape: RelationShape, values: Mapping[str, str | None]) -> Row:
        """A new row; columns left out get their default (identity, serial, generated columns
        are the server's). Returns the row as stored."""
        _refuse(shape)
        params = Params()
        names, placeholders = [], []
        for name, value in values.items():
            column = shape.column(name)
            if not column.insertable:
                raise ValidationError(f"{name} is filled by the server and cannot be given.",
                                      field_errors={name: "generated"})
            names.append(quote_ident(name))
            placeholders.append(params.typed(value, column))
        table = qualified(shape.schema, shape.name)
        if names:
            sql = (f"INSERT INTO {table} ({', '.join(names)}) "  # sql-splice: names and $n
                   f"VALUES ({', '.join(placeholders)})")
        else:
            sql = f"INSERT INTO {table} DEFAULT VALUES"  # sql-splice: a qualified name
        sql += f" RETURNING {select_list(shape)}"  # sql-splice: quoted names

        async def apply(connection) -> Row:
            return row_from_record(shape, await connection.fetchrow(sql, *params.values))

        return await self.grid.run("insert row", apply, write=True,
                                   target=f"{shape.schema}.{shape.name}")

    async def delete(self, shape: RelationShape, rows: Sequence[Row]) -> int:
        """Delete ``rows``, all or none: one statement in a transaction, rolled back when any
        of them changed meanwhile. Returns how many were deleted."""
        _refuse(shape)
        if not rows:
            raise ValidationError("No rows are marked.")
        params = Params()
        matches = " OR ".join(f"({_unchanged(shape, row, params)})" for row in rows)
        sql = (f"DELETE FROM {qualified(shape.schema, shape.name)}"
               f"{and_where([matches])}")  # sql-splice: names and placeholders

        async def apply(connection) -> int:
            async with connection.transaction():
                status = await connection.execute(sql, *params.values)
                deleted = int(status.split()[-1])
                if deleted != len(rows):
                    # Raising rolls the transaction back: nothing is deleted.
                    raise ConflictError(
                        f"{len(rows) - deleted} of the {len(rows)} rows changed or were deleted "
                        "since they were read. Nothing was deleted. Reload (r) and mark them "
                        "again.")
                return deleted

        return await self.grid.run("delete rows", apply, write=True,
                                   target=f"{shape.schema}.{shape.name}")
