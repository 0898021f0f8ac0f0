"""A value or a whole row, to read: a long value in full (json and jsonb indented), and a wide
row as one column per line."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static, TextArea

from studio_tui.dialogs.base import Dialog


class ValueModal(Dialog[None]):
    DEFAULT_CSS = """
    ValueModal #dialog { width: 100; height: 90%; }
    ValueModal TextArea { height: 1fr; border: none; }
    """
    BINDINGS = [Binding("escape,q", "close", "Close", id="value.close")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self._title = title
        self._text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self._title, id="title", markup=False)
            yield TextArea(self._text, read_only=True, soft_wrap=True, id="value")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_close(self) -> None:
        self.dismiss(None)


class RowDetailModal(Dialog[None]):
    """One row, one column per line: name, type and value (cut values say how big they are)."""

    DEFAULT_CSS = """
    RowDetailModal #dialog { width: 110; height: 90%; }
    RowDetailModal VerticalScroll { height: 1fr; }
    """
    BINDINGS = [Binding("escape,q,enter", "close", "Close", id="row.close")]

    def __init__(self, title: str, fields: Sequence[tuple[str, str, str | None, str]]) -> None:
        """``fields``: (column, type, value or None, a note such as "cut: 180 KB")."""
        super().__init__()
        self._title = title
        self._fields = fields

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold", no_wrap=True, max_width=30)
        table.add_column(style="dim", no_wrap=True, max_width=20)
        table.add_column()
        for name, type_, value, note in self._fields:
            shown = Text("NULL", style="italic dim") if value is None else Text(value)
            if note:
                shown.append(f"  ({note})", style="yellow")
            table.add_row(Text(name), Text(type_), shown)
        with Vertical(id="dialog"):
            yield Label(self._title, id="title", markup=False)
            with VerticalScroll(id="fields"):
                yield Static(table)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
