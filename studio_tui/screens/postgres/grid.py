"""A table, view, materialized view or foreign table in the virtual grid: pages read as the cursor
nears the end (keyset on the key, or the fallback the status line names), sort, filter, the
exact count on request, long values in full, a row's detail, and, in write mode on an entry that
takes writes, cell edits, new rows and deletes that never overwrite someone else's change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header

from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.dialogs.fields import Field, FieldsModal
from studio_tui.dialogs.postgres.filter import FilterModal
from studio_tui.dialogs.postgres.value import RowDetailModal, ValueModal
from studio_tui.screens.base import DatabaseScreen
from studio_tui.screens.postgres.entry_source import EntrySource
from studio_tui.services.errors import StudioError
from studio_tui.services.postgres.edits import NULL_TEXT, RowEdits, typed_value
from studio_tui.services.postgres.grid import GridService, pretty
from studio_tui.services.postgres.data_models import (
    Condition,
    PageCursor,
    RelationShape,
    Row,
    Sort,
)
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter
from studio_tui.widgets.data_grid import DataGrid, GridColumn
from studio_tui.widgets.sizes import format_bytes

if TYPE_CHECKING:
    from studio_tui.services.platform.models import DatabaseEntry

NUMERIC = ("smallint", "integer", "bigint", "numeric", "real", "double precision", "money")


def cell_text(row: Row, index: int) -> str | None:
    """What the grid shows: the value, and for one cut short, how big it really is."""
    value = row.values[index]
    if value is not None and row.is_cut(index):
        return f"{value}… [{format_bytes(row.sizes[index])}]"
    return value


class GridScreen(EntrySource, DatabaseScreen[None]):
    CSS_PATH = "../../styles/postgres_grid.tcss"
    BINDINGS = [
        Binding("f", "filter", "Filter", id="pg.grid.filter"),
        Binding("s", "sort", "Sort", id="pg.grid.sort"),
        Binding("v", "show_value", "Show all", id="pg.grid.value"),
        Binding("c", "count", "Count", id="pg.grid.count"),
        Binding("r", "reload", "Reload", show=False, id="pg.grid.reload"),
        Binding("y", "copy_cell", "Copy", show=False, id="pg.grid.copy"),
        Binding("ctrl+w", "write_mode", "Write mode", id="pg.grid.write_mode"),
        Binding("e", "edit_cell", "Edit", id="pg.grid.edit"),
        Binding("n", "insert_row", "Insert", id="pg.grid.insert"),
        Binding("d", "delete_rows", "Delete", id="pg.grid.delete"),
    ]
    FOOTER_PRIORITY = ("pg.grid.filter", "pg.grid.edit", "pg.grid.insert", "pg.grid.delete",
                       "pg.grid.sort", "pg.grid.write_mode", "pg.grid.value", "pg.grid.count")
    WRITE_ACTIONS = frozenset({("write_mode", None), ("edit_cell", None), ("insert_row", None),
                               ("delete_rows", None)})

    def __init__(self, entry: "DatabaseEntry", where: str, schema: str, name: str) -> None:
        super().__init__(entry, where)
        self.schema = schema
        self.relation = name
        self.service: GridService | None = None
        self.shape: RelationShape | None = None
        self.rows: list[Row] = []
        self.sort: Sort | None = None
        self.conditions: list[Condition] = []
        self.next: PageCursor | None = None
        self.write_mode = False
        self.exact: int | None = None

    # -- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(self._crumb())
        yield DataGrid(id="grid")
        yield StatusLine("Reading…")
        yield StudioFooter()

    def _crumb(self) -> str:
        mode = " · write mode" if self.write_mode else ""
        return (f"{self.where} › {self.entry.name} › {self.schema}.{self.relation}"
                f"{self.source_note}{self.read_only_note}{mode}")

    @property
    def grid(self) -> DataGrid:
        return self.query_one(DataGrid)

    def on_mount(self) -> None:
        self.service = GridService(self.studio.manager, self.entry.id)
        self.grid.focus()
        self.open_relation()

    # -- reading --------------------------------------------------------------------------------
    @work(group="pg-grid-read", exclusive=True, exit_on_error=False, description="read rows")
    async def open_relation(self) -> None:
        self.service.source = await self.open_entry_source("reading rows")
        self.breadcrumb_line.update(self._crumb())
        try:
            self.shape = await self.service.shape(self.schema, self.relation)
        except StudioError as error:
            self.show_error(error)
            return
        self._set_columns()
        await self._read(None)

    def _set_columns(self) -> None:
        shape = self.shape
        columns = []
        for column in shape.columns:
            detail = column.type
            if column.name in shape.key:
                detail += " · key"
            if self.sort is not None and self.sort.column == column.name:
                detail += " ▼" if self.sort.descending else " ▲"
            columns.append(GridColumn(column.name, detail,
                                      align_right=column.cast in NUMERIC))
        self.grid.set_columns(columns)
        self.rows = []
        self.next = None

    async def _read(self, after: PageCursor | None) -> None:
        try:
            page = await self.service.page(self.shape, sort=self.sort,
                                           conditions=self.conditions, after=after)
        except StudioError as error:
            self.show_error(error)
            return
        self.rows.extend(page.rows)
        self.next = page.next
        self.grid.append_rows([cell_text(row, i) for i in range(len(row.values))]
                              for row in page.rows)
        self._describe()

    @work(group="pg-grid-read", exclusive=True, exit_on_error=False, description="more rows")
    async def read_more(self) -> None:
        await self._read(self.next)

    def reload(self) -> None:
        if self.shape is None:
            self.open_relation()
            return
        self._set_columns()
        self.exact = None
        self.run_worker(self._read(None), group="pg-grid-read", exclusive=True,
                        exit_on_error=False, description="read rows")

    @on(DataGrid.NearEnd)
    def _near_end(self) -> None:
        if self.next is not None and not self._reading():
            self.read_more()

    def _reading(self) -> bool:
        return any(w.is_running and w.group == "pg-grid-read" for w in self.workers)

    def _describe(self, note: str = "") -> None:
        shape = self.shape
        if shape is None:
            return
        # What is shown first: the filter and the order, then how many rows, then how pages
        # are read (the status line is one line; the end is what gets cut).
        parts = [shape.kind]
        if self.conditions:
            parts.append("where " + " and ".join(c.describe() for c in self.conditions))
        if self.sort is not None:
            parts.append(f"sorted by {self.sort.column} "
                         f"{'descending' if self.sort.descending else 'ascending'}")
        if self.exact is not None:
            total = f"{self.exact:,} rows (counted)"
        elif shape.estimated_rows is not None and self.conditions:
            # The catalog's estimate is the table's, not the filter's.
            total = f"~{shape.estimated_rows:,} rows in all (c counts the matches)"
        elif shape.estimated_rows is not None:
            total = f"~{shape.estimated_rows:,} rows (estimate; c counts)"
        else:
            total = "rows unknown (c counts)"
        parts += [total, f"{len(self.rows):,} loaded" + ("" if self.next else ", all")]
        if shape.key:
            parts.append(f"keyset on {shape.key_source} ({', '.join(shape.key)})")
        text = " · ".join(parts)
        if shape.paging_note:
            text = f"{shape.paging_note} {text}"
        self.say(f"{note} {text}".strip() if note else text)

    def action_back(self) -> None:
        running = [w for w in self.workers if w.is_running and w.group in (
            "pg-grid-read", "pg-grid-count", "pg-grid-value")]
        if not running:
            self.dismiss()
            return
        for worker in running:
            worker.cancel()  # the driver cancels the query on the server
        self.say("Stopped: the query was cancelled on the server.")

    # -- sort, filter, count ------------------------------------------------------------------
    def _cursor_column(self) -> str | None:
        if self.shape is None or not self.shape.columns:
            return None
        return self.shape.columns[min(self.grid.cursor_column, len(self.shape.columns) - 1)].name

    def action_sort(self) -> None:
        name = self._cursor_column()
        if name is None:
            return
        if self.sort is None or self.sort.column != name:
            self.sort = Sort(name)
        elif not self.sort.descending:
            self.sort = Sort(name, True)
        else:
            self.sort = None
        self.reload()

    def action_filter(self) -> None:
        if self.shape is None:
            return

        def chosen(conditions: list[Condition] | None) -> None:
            if conditions is None:
                return
            self.conditions = conditions
            self.reload()

        self.app.push_screen(FilterModal(self.shape.column_names, self.conditions,
                                         self._cursor_column()), chosen)

    def action_count(self) -> None:
        if self.shape is not None:
            self.say("Counting… (esc stops it)")
            self.count_rows()

    @work(group="pg-grid-count", exclusive=True, exit_on_error=False, description="count rows")
    async def count_rows(self) -> None:
        try:
            self.exact = await self.service.exact_count(self.shape, self.conditions)
        except StudioError as error:
            self.show_error(error)
            return
        self._describe()

    def action_reload(self) -> None:
        self.reload()

    # -- reading values -------------------------------------------------------------------------
    def _current(self) -> tuple[int, Row, int] | None:
        if self.shape is None or not self.rows:
            return None
        index = min(self.grid.cursor_row, len(self.rows) - 1)
        return index, self.rows[index], min(self.grid.cursor_column, len(self.shape.columns) - 1)

    @on(DataGrid.Selected)
    def _row_detail(self, event: DataGrid.Selected) -> None:
        current = self._current()
        if current is None:
            return
        _, row, _ = current
        fields = []
        for index, column in enumerate(self.shape.columns):
            value = row.values[index]
            note = ""
            if row.is_cut(index):
                note = f"cut short: {format_bytes(row.sizes[index])}; v shows all"
            fields.append((column.name, column.type, None if value is None else
                           pretty(column, value) if not note else value, note))
        key = ", ".join(f"{name} = {row.values[self.shape.column_names.index(name)]}"
                        for name in self.shape.key) or f"row {current[0] + 1}"
        self.app.push_screen(RowDetailModal(f"{self.schema}.{self.relation} · {key}", fields))

    def action_show_value(self) -> None:
        current = self._current()
        if current is not None:
            self.show_value(current[1], current[2])

    @work(group="pg-grid-value", exclusive=True, exit_on_error=False, description="read value")
    async def show_value(self, row: Row, index: int) -> None:
        column = self.shape.columns[index]
        value = row.values[index]
        if row.is_cut(index):
            try:
                value = await self.service.full_value(self.shape, row, column.name)
            except StudioError as error:
                self.show_error(error)
                return
        self.app.push_screen(ValueModal(f"{column.name} ({column.type})", pretty(column, value)))

    def action_copy_cell(self) -> None:
        current = self._current()
        if current is not None:
            value = current[1].values[current[2]]
            self.app.copy_to_clipboard("" if value is None else value)
            self.say("Copied the cell" + (" (cut short: v shows all)."
                                          if current[1].is_cut(current[2]) else "."))

    # -- writes ---------------------------------------------------------------------------------
    def action_write_mode(self) -> None:
        self.write_mode = not self.write_mode
        self.breadcrumb_line.update(self._crumb())
        if self.write_mode:
            refusal = self.shape.edit_refusal if self.shape else None
            self.say(refusal or "Write mode: e edits a cell, n inserts a row, space marks rows "
                     "and d deletes them; ctrl+w leaves it.")
        else:
            self.say("Write mode is off.")

    def _may_edit(self) -> bool:
        if self.shape is None:
            return False
        if not self.write_mode:
            self.say("Write mode is off: ctrl+w switches it on.")
            return False
        refusal = self.shape.edit_refusal
        if refusal is not None:
            self.say(refusal)
            return False
        return True

    def action_edit_cell(self) -> None:
        current = self._current()
        if current is None or not self._may_edit():
            return
        self.edit_cell(*current)

    @work(group="pg-grid-value", exclusive=True, exit_on_error=False, description="edit cell")
    async def edit_cell(self, index: int, row: Row, column_index: int) -> None:
        shape = self.shape
        column = shape.columns[column_index]
        value = row.values[column_index]
        if row.is_cut(column_index):  # edit the whole value, not the part shown
            try:
                value = await self.service.full_value(shape, row, column.name)
            except StudioError as error:
                self.show_error(error)
                return
        edits = RowEdits(self.service)

        async def save(values: dict[str, str]) -> Row:
            return await edits.update(shape, row, {column.name: typed_value(values["value"])})

        key = ", ".join(f"{name} = {row.values[shape.column_names.index(name)]}"
                        for name in shape.key)
        self.app.push_screen(
            FieldsModal(f"Edit {column.name} where {key}",
                        [Field("value", column.name[:12], NULL_TEXT if value is None else value,
                               placeholder=column.type)],
                        save, note=f"{column.type}: the server casts the text. {NULL_TEXT} is "
                        "NULL."),
            lambda stored: self._stored(index, stored, "Saved."))

    def _stored(self, index: int, stored: Row | None, message: str) -> None:
        if stored is None:
            return
        if index < len(self.rows):
            self.rows[index] = stored
            self.grid.replace_row(index, [cell_text(stored, i)
                                          for i in range(len(stored.values))])
        self.say(message)

    def action_insert_row(self) -> None:
        if not self._may_edit():
            return
        shape = self.shape
        columns = [(n, c) for n, c in enumerate(shape.columns) if c.insertable]
        edits = RowEdits(self.service)

        async def save(values: dict[str, str]) -> Row:
            given = {shape.columns[n].name: typed_value(values[f"c{n}"])
                     for n, _ in columns if values[f"c{n}"] != ""}
            return await edits.insert(shape, given)

        fields = [Field(f"c{n}", c.name[:12],
                        placeholder=f"{c.type}, default {c.default}" if c.default
                        else (f"{c.type} (identity)" if c.identity else c.type))
                  for n, c in columns]
        self.app.push_screen(
            FieldsModal(f"Insert into {self.schema}.{self.relation}", fields, save,
                        save_label="Insert", note=f"Empty fields get their default; "
                        f"{NULL_TEXT} is NULL; text is cast by the server."),
            self._inserted)

    def _inserted(self, stored: Row | None) -> None:
        if stored is None:
            return
        self.rows.append(stored)
        self.grid.append_rows([[cell_text(stored, i) for i in range(len(stored.values))]])
        self.grid.cursor_row = len(self.rows) - 1
        self.say("Inserted 1 row (shown last until r reloads).")

    def action_delete_rows(self) -> None:
        if not self._may_edit() or not self.rows:
            return
        marked = self.grid.marked_rows or [min(self.grid.cursor_row, len(self.rows) - 1)]
        rows = [self.rows[i] for i in marked]
        shape = self.shape
        keys = [", ".join(f"{name} = {row.values[shape.column_names.index(name)]}"
                          for name in shape.key) for row in rows]
        detail = "\n".join(keys[:8]) + (f"\n… and {len(keys) - 8} more" if len(keys) > 8 else "")
        self.app.push_screen(
            ConfirmModal(f"Delete {len(rows)} row{'s' if len(rows) != 1 else ''} from "
                         f"{self.schema}.{self.relation}?",
                         f"{detail}\n\nAll or none: if any changed meanwhile, nothing is deleted."),
            lambda confirmed: self.delete_rows(marked, rows) if confirmed else None)

    @work(group="pg-grid-write", exclusive=True, exit_on_error=False, description="delete rows")
    async def delete_rows(self, indexes: list[int], rows: list[Row]) -> None:
        try:
            deleted = await RowEdits(self.service).delete(self.shape, rows)
        except StudioError as error:
            self.show_error(error)
            return
        gone = set(indexes)
        self.rows = [row for n, row in enumerate(self.rows) if n not in gone]
        self.grid.remove_rows(indexes)
        self.say(f"Deleted {deleted} row{'s' if deleted != 1 else ''}.")
