"""A table of catalog rows with an incremental `/` filter (which says when nothing matches); Enter
chooses the highlighted row."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from studio_tui.widgets.ordered_input import OrderedInput


@dataclass(frozen=True, slots=True)
class CatalogRow:
    key: str
    cells: tuple[str | Text, ...]
    search: str  # what `/` matches against, lower-cased words


def _width(cell: str | Text) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


class CatalogTable(Vertical):
    DEFAULT_CSS = """
    CatalogTable { height: 1fr; }
    CatalogTable > #filter { display: none; height: 3; }
    CatalogTable.-filtering > #filter { display: block; }
    CatalogTable > #no-match { display: none; height: 1; padding: 0 1; color: $text-warning; }
    CatalogTable.-no-match > #no-match { display: block; }
    CatalogTable > DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("slash", "start_filter", "Filter", id="list.filter"),
        # Only while there is a filter (check_action); otherwise esc is the screen's.
        Binding("escape", "clear_filter", "Clear filter", show=False, id="list.clear_filter"),
    ]

    @dataclass
    class RowChosen(Message):
        """Enter (or a click) on the row ``key``."""

        table: "CatalogTable"
        key: str

        @property
        def control(self) -> "CatalogTable":
            return self.table

    def __init__(self, *columns: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self._columns = columns
        self._rows: list[CatalogRow] = []
        self._shown: list[str] = []

    def compose(self) -> ComposeResult:
        yield OrderedInput(placeholder="filter… (Esc clears)", id="filter")
        yield Static("", id="no-match", markup=False)
        yield DataTable(cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self._render_rows()

    @property
    def table(self) -> DataTable:
        return self.query_one(DataTable)

    @property
    def filter_text(self) -> str:
        return self.query_one("#filter", Input).value

    @property
    def selected_key(self) -> str | None:
        table = self.table
        if not self._shown or table.cursor_row < 0 or table.cursor_row >= len(self._shown):
            return None
        return self._shown[table.cursor_row]

    @property
    def all_keys(self) -> list[str]:
        return [row.key for row in self._rows]

    @property
    def shown_keys(self) -> list[str]:
        return list(self._shown)

    def focus_table(self) -> None:
        self.table.focus()

    def set_rows(self, rows: list[CatalogRow]) -> None:
        """Replace the rows, keeping the filter and the highlighted row where it still exists."""
        self._rows = rows
        self._render_rows()

    def update_cell(self, key: str, column: int, value: str | Text) -> None:
        """Change one cell in place (no flicker); the row may be filtered out."""
        for index, row in enumerate(self._rows):
            if row.key == key:
                cells = list(row.cells)
                cells[column] = value
                self._rows[index] = CatalogRow(key, tuple(cells), row.search)
        if key not in self._shown:
            return
        if _width(value) > self.table.columns[str(column)].width:
            self._render_rows()  # a wider value: re-measure (lists here are small)
        else:
            self.table.update_cell(key, str(column), value)

    def _render_rows(self) -> None:
        table = self.table
        keep = self.selected_key
        words = self.filter_text.lower().split()
        visible = [r for r in self._rows if all(w in r.search for w in words)]
        # Explicit widths, measured over every row so columns hold still while filtering;
        # DataTable's own auto width is measured on idle and can miss a fast refill.
        table.clear(columns=True)
        for index, label in enumerate(self._columns):
            width = max([cell_len(label), *(_width(row.cells[index]) for row in self._rows)])
            table.add_column(label, key=str(index), width=width)
        for row in visible:
            table.add_row(*row.cells, key=row.key)
        self._shown = [r.key for r in visible]
        nothing = bool(words) and not visible
        if nothing:
            self.query_one("#no-match", Static).update(
                f"Nothing matches {self.filter_text.strip()!r} · esc clears the filter")
        self.set_class(nothing, "-no-match")
        if keep in self._shown:
            table.move_cursor(row=self._shown.index(keep))

    def action_start_filter(self) -> None:
        self.add_class("-filtering")
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._render_rows()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.focus_table()

    def clear_filter(self) -> bool:
        """Clear and hide the filter; False if there was nothing to clear."""
        if not self.has_class("-filtering") and not self.filter_text:
            return False
        self.query_one("#filter", Input).value = ""
        self.remove_class("-filtering")
        self._render_rows()
        self.focus_table()
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return self.has_class("-filtering")
        return True

    def action_clear_filter(self) -> None:
        self.clear_filter()

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.RowChosen(self, event.row_key.value))
