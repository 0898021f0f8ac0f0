"""A virtual grid of text cells, for any kind's rows: documents as columns, table rows, query
results. Only the lines on screen are drawn (Textual's Line API), so 100,000 rows cost the memory
of their text and nothing more; Textual's own DataTable lays out every row and blocks for seconds.

Cells arrive formatted: a kind's screen turns its values into text (services do the formatting),
and None stands for "no value" (SQL NULL, a missing field), drawn as ``null_text``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from studio_tui.widgets.row_cursor import RowCursor, row_cursor_bindings

Cell = str | None
Row = Sequence[Cell]

MIN_WIDTH, MAX_WIDTH = 3, 40  # a column's measured width stays within these
MEASURE_ROWS = 200  # rows of each appended batch that widen the columns (the rest are cut)
NEAR_END = 2  # screens before the last loaded row at which more rows are asked for
# Characters that would break a line or move the cursor, shown as what they are instead.
_VISIBLE = str.maketrans({"\n": "↵", "\r": "␍", "\t": "⇥", **{chr(c): "·" for c in range(32)
                                                              if c not in (9, 10, 13)},
                          "\x7f": "·"})


def one_line(text: str) -> str:
    return text.translate(_VISIBLE)


@dataclass(frozen=True, slots=True)
class GridColumn:
    name: str
    detail: str = ""  # a type name, say; shown in the header after the name when it fits
    width: int | None = None  # fixed; None measures the header and the rows seen
    align_right: bool = False  # numbers

    @property
    def title(self) -> str:
        return f"{self.name} {self.detail}" if self.detail else self.name


class DataGrid(RowCursor, ScrollView, can_focus=True):
    """Rows under one fixed header line, a cell cursor, marks on rows (``space``), and
    horizontal scrolling that follows the cursor. The owner adds rows as it reads them, and
    hears ``NearEnd`` when the user gets close to the last one loaded."""

    DEFAULT_CSS = """
    DataGrid { height: 1fr; }
    DataGrid > .data-grid--header { text-style: bold; background: $boost; }
    DataGrid > .data-grid--cursor-row { background: $accent 15%; }
    DataGrid > .data-grid--cursor { background: $accent 40%; text-style: bold; }
    DataGrid:focus > .data-grid--cursor { background: $accent; color: $text; }
    DataGrid > .data-grid--null { color: $text-muted; text-style: italic; }
    DataGrid > .data-grid--mark { color: $warning; text-style: bold; }
    """
    COMPONENT_CLASSES = {"data-grid--header", "data-grid--cursor-row", "data-grid--cursor",
                         "data-grid--null", "data-grid--mark"}
    BINDINGS = row_cursor_bindings("grid") + [
        Binding("left,h", "move_column(-1)", "Left", show=False, id="grid.left"),
        Binding("right,l", "move_column(1)", "Right", show=False, id="grid.right"),
        Binding("0", "first_column", "First column", show=False, id="grid.first_column"),
        Binding("dollar_sign", "last_column", "Last column", show=False, id="grid.last_column"),
        Binding("enter", "select", "Open", show=False, id="grid.open"),
        Binding("space", "toggle_mark", "Mark", show=False, id="grid.mark"),
    ]

    CURSOR = "cursor_row"

    def cursor_rows(self) -> int:
        return len(self._rows)

    def page_rows(self) -> int:
        return max(1, self._body_height - 1)

    cursor_row: reactive[int] = reactive(0, repaint=False)
    cursor_column: reactive[int] = reactive(0, repaint=False)

    @dataclass
    class CursorMoved(Message, bubble=True):
        grid: "DataGrid"
        row: int  # -1 when the grid is empty
        column: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DataGrid.CursorMoved) and message.grid is self.grid

    @dataclass
    class Selected(Message, bubble=True):
        """``enter`` on a cell."""

        grid: "DataGrid"
        row: int
        column: int

    @dataclass
    class NearEnd(Message, bubble=True):
        """The cursor or the view is within two screens of the last row loaded."""

        grid: "DataGrid"
        loaded: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DataGrid.NearEnd) and message.grid is self.grid

    @dataclass
    class MarksChanged(Message, bubble=True):
        grid: "DataGrid"
        count: int

    def __init__(self, *, null_text: str = "NULL", markable: bool = True,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.null_text = null_text
        self.markable = markable
        self._columns: list[GridColumn] = []
        self._widths: list[int] = []
        self._starts: list[int] = []  # each column's first cell, in line coordinates
        self._rows: list[tuple[Cell, ...]] = []
        self._marked: dict[int, None] = {}  # row indexes, in the order marked

    # -- data -------------------------------------------------------------------------------
    @property
    def columns(self) -> list[GridColumn]:
        return list(self._columns)

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def row(self, index: int) -> tuple[Cell, ...]:
        return self._rows[index]

    @property
    def marked_rows(self) -> list[int]:
        return list(self._marked)

    def set_columns(self, columns: Iterable[GridColumn]) -> None:
        """New columns, and no rows."""
        self._columns = list(columns)
        self._widths = [column.width or min(MAX_WIDTH, max(MIN_WIDTH, cell_len(column.title)))
                        for column in self._columns]
        self.clear()

    def add_columns(self, columns: Iterable[GridColumn]) -> None:
        """More columns, keeping the rows (their missing cells are drawn as ``null_text``): for
        rows whose fields are only known as they arrive, such as documents."""
        added = list(columns)
        self._columns.extend(added)
        self._widths.extend(column.width or min(MAX_WIDTH, max(MIN_WIDTH, cell_len(column.title)))
                            for column in added)
        self._measure(self._rows[-MEASURE_ROWS:])
        self._layout()

    def clear(self) -> None:
        self._rows = []
        self._marked = {}
        self.cursor_row = 0
        self.cursor_column = min(self.cursor_column, max(0, len(self._columns) - 1))
        self._layout()
        self.post_message(self.CursorMoved(self, -1, self.cursor_column))

    def append_rows(self, rows: Iterable[Row]) -> None:
        added = [tuple(row) for row in rows]
        if not added:
            return
        was_empty = not self._rows
        self._rows.extend(added)
        self._measure(added[:MEASURE_ROWS])
        self._layout()
        if was_empty:
            self.post_message(self.CursorMoved(self, self.cursor_row, self.cursor_column))

    def replace_row(self, index: int, row: Row) -> None:
        self._rows[index] = tuple(row)
        self._measure([self._rows[index]])
        self._layout()

    def remove_rows(self, indexes: Iterable[int]) -> None:
        gone = set(indexes)
        self._rows = [row for number, row in enumerate(self._rows) if number not in gone]
        self._marked = {}
        self.post_message(self.MarksChanged(self, 0))
        self.cursor_row = min(self.cursor_row, max(0, len(self._rows) - 1))
        self._layout()
        self.post_message(self.CursorMoved(self, self.cursor_row if self._rows else -1,
                                           self.cursor_column))

    def clear_marks(self) -> None:
        self._marked = {}
        self.post_message(self.MarksChanged(self, 0))
        self.refresh()

    def _measure(self, rows: list[tuple[Cell, ...]]) -> None:
        for index, column in enumerate(self._columns):
            if column.width is not None:
                continue
            widest = self._widths[index]
            for row in rows:
                if index < len(row) and row[index] is not None and widest < MAX_WIDTH:
                    widest = max(widest, min(MAX_WIDTH, cell_len(row[index])))
            self._widths[index] = widest

    def _layout(self) -> None:
        self._starts, start = [], 2  # the mark gutter, then each cell with a space either side
        for width in self._widths:
            self._starts.append(start)
            start += width + 2
        self.virtual_size = Size(start, len(self._rows) + 1)  # + the header line
        self.refresh()

    # -- drawing ----------------------------------------------------------------------------
    def _cell_text(self, value: Cell, width: int, column: GridColumn) -> str:
        text = self.null_text if value is None else one_line(value)
        if cell_len(text) > width:
            return set_cell_size(text, width - 1) + "…"
        return text.rjust(width) if column.align_right and value is not None else \
            set_cell_size(text, width)

    def _line(self, cells: Sequence[Cell], base: Style, *, header: bool = False,
              cursor_column: int | None = None, marked: bool = False) -> list[Segment]:
        mark_style = base + self.get_component_rich_style("data-grid--mark")
        segments = [Segment("● " if marked else "  ", mark_style if marked else base)]
        null_style = base + self.get_component_rich_style("data-grid--null")
        cursor_style = base + self.get_component_rich_style("data-grid--cursor")
        for index, (column, width) in enumerate(zip(self._columns, self._widths)):
            value = column.title if header else (cells[index] if index < len(cells) else None)
            style = cursor_style if index == cursor_column else \
                null_style if value is None else base
            segments.append(Segment(" " + self._cell_text(value, width, column) + " ", style))
        return segments

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x = int(self.scroll_offset.x)
        if y == 0:
            base = self.rich_style + self.get_component_rich_style("data-grid--header")
            segments = self._line([], base, header=True)
        else:
            index = int(self.scroll_offset.y) + y - 1
            if index >= len(self._rows):
                return Strip.blank(width, self.rich_style)
            on_cursor = index == self.cursor_row
            base = self.rich_style
            if on_cursor:
                base = base + self.get_component_rich_style("data-grid--cursor-row")
            segments = self._line(self._rows[index], base,
                                  cursor_column=self.cursor_column if on_cursor else None,
                                  marked=index in self._marked)
        return Strip(segments).crop(scroll_x, scroll_x + width).adjust_cell_length(
            width, base)

    # -- movement ---------------------------------------------------------------------------
    @property
    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _refresh_row(self, index: int) -> None:
        self.refresh(Region(0, index - int(self.scroll_offset.y) + 1, self.size.width, 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._refresh_row(old)
        top = int(self.scroll_offset.y)
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + self._body_height:
            self.scroll_to(y=new - self._body_height + 1, animate=False, immediate=True)
        self._refresh_row(new)
        if self._rows:
            self.post_message(self.CursorMoved(self, new, self.cursor_column))
        self._check_near_end()

    def watch_cursor_column(self, old: int, new: int) -> None:
        if not self._columns:
            return
        left = self._starts[new] - 2 if new else 0
        right = self._starts[new] + self._widths[new] + 1
        view = self.scrollable_content_region.width
        scroll_x = int(self.scroll_offset.x)
        if left < scroll_x:
            self.scroll_to(x=left, animate=False, immediate=True)
        elif right > scroll_x + view:
            self.scroll_to(x=min(left, right - view), animate=False, immediate=True)
        self._refresh_row(self.cursor_row)
        if self._rows:
            self.post_message(self.CursorMoved(self, self.cursor_row, new))

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._check_near_end()

    def _check_near_end(self) -> None:
        if not self._rows:
            return
        reach = max(self.cursor_row, int(self.scroll_offset.y) + self._body_height)
        if reach >= len(self._rows) - NEAR_END * self._body_height:
            self.post_message(self.NearEnd(self, len(self._rows)))

    def on_resize(self) -> None:
        self._layout()

    def on_click(self, event) -> None:
        index = int(self.scroll_offset.y) + event.y - 1
        if event.y >= 1 and 0 <= index < len(self._rows):
            self.cursor_row = index
        x = int(self.scroll_offset.x) + event.x
        for column, start in enumerate(self._starts):
            if start - 1 <= x < start + self._widths[column] + 1:
                self.cursor_column = column
                break

    def action_move_column(self, delta: int) -> None:
        if self._columns:
            self.cursor_column = max(0, min(len(self._columns) - 1, self.cursor_column + delta))

    def action_first_column(self) -> None:
        self.action_move_column(-len(self._columns))

    def action_last_column(self) -> None:
        self.action_move_column(len(self._columns))

    def action_select(self) -> None:
        if self._rows:
            self.post_message(self.Selected(self, self.cursor_row, self.cursor_column))

    def action_toggle_mark(self) -> None:
        if not self.markable or not self._rows:
            return
        if self.cursor_row in self._marked:
            del self._marked[self.cursor_row]
        else:
            self._marked[self.cursor_row] = None
        self.post_message(self.MarksChanged(self, len(self._marked)))
        self._refresh_row(self.cursor_row)
        self.action_move(1)
