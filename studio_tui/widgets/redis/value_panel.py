"""The right-hand panel of the Redis browser: what the key is, and one page at a time of what it
holds (text, pretty JSON or escaped bytes for strings; a table for collections), with how much
of it is loaded. A text value scrolls from the keyboard once the panel has the focus (tab)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from studio_tui.services.redis.keys import display_key
from studio_tui.services.redis.models import JsonDocument, KeyInfo, StreamGroup, ValuePreview
from studio_tui.widgets.redis.key_list import format_bytes, format_ttl_detail
from studio_tui.widgets.status import error_text

if TYPE_CHECKING:
    from studio_tui.services.errors import StudioError

SCORE_WIDTH = 12  # room kept for a zset score; most scores are shorter
CELL_CHARS = 200  # a cell shows the start of a long value; the editor will show it whole

COLUMNS = {
    "hash": ("Field", "Value"),
    "list": ("Index", "Value"),
    "set": ("Member",),
    "zset": ("Member", "Score"),
    "stream": ("ID", "Fields"),
}


def short(raw: bytes) -> str:
    text = display_key(raw)
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


class ValuePanel(VerticalScroll, can_focus=False):
    """Focusable (its text scrolls with the arrow and page keys) while it shows a text value; a
    collection's table takes the focus instead."""

    raw_items: list[tuple]

    DEFAULT_CSS = """
    ValuePanel { height: 1fr; }
    ValuePanel > #loaded { dock: bottom; height: auto; color: $text-muted; display: none; }
    ValuePanel > #loaded.-shown { display: block; }
    ValuePanel > #summary { height: auto; }
    ValuePanel > #string { height: auto; padding-top: 1; }
    ValuePanel > #extra { height: auto; color: $text-muted; }
    ValuePanel > #items { height: 1fr; display: none; }
    ValuePanel.-collection > #items { display: block; }
    ValuePanel.-collection > #string { display: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.raw_items = []
        self._length: int | None = None  # of the value shown: bytes or items
        self._loading: bytes | None = None  # the key on its way, until it is shown

    def compose(self) -> ComposeResult:
        yield Static("", id="summary")
        yield Static("", id="string")
        yield Static("", id="extra")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="items")
        yield Static("", id="loaded", markup=False)

    @property
    def items(self) -> DataTable:
        return self.query_one("#items", DataTable)

    def clear(self) -> None:
        self.raw_items = []
        self._length = None
        for part in ("#summary", "#string", "#extra"):
            self.query_one(part, Static).update("")
        self._say_loaded("")
        self.items.clear(columns=True)
        self.remove_class("-collection")
        self.can_focus = False

    def show_loading(self, key: bytes) -> None:
        """The key the pane is about to show, so it never shows another one meanwhile."""
        self.clear()
        self._loading = key
        self.query_one("#summary", Static).update(
            Text.assemble(("Loading ", "dim"), display_key(key), ("…", "dim")))

    def show_failed(self, key: bytes, error: "StudioError") -> None:
        """``key`` could not be loaded: say which, and why (unless a value is already shown)."""
        if self._loading == key:
            self.clear()
            self.query_one("#summary", Static).update(Text.assemble(
                ("Could not load ", "dim"), display_key(key), "\n", error_text(error)))

    def selected_item(self) -> tuple | None:
        """The full, untruncated item under the table's cursor (what edits compare against)."""
        row = self.items.cursor_row
        return self.raw_items[row] if self.items.row_count and 0 <= row < len(
            self.raw_items) else None

    def show(self, key: bytes, info: KeyInfo, preview: ValuePreview,
             location: tuple[int, str] | None = None) -> None:
        self._loading = None
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold")
        table.add_column()
        table.add_row("Key", Text(display_key(key)))
        table.add_row("Type", info.type)
        table.add_row("TTL", format_ttl_detail(info.ttl_ms))
        table.add_row("Memory", format_bytes(info.memory))
        if location is not None:
            table.add_row("Slot", f"{location[0]} on {location[1]}")
        if preview.length is not None:
            unit = "bytes" if info.type == "string" else "items"
            table.add_row("Size", f"{preview.length:,} {unit}")
        self.query_one("#summary", Static).update(table)
        columns = COLUMNS.get(info.type)
        self.set_class(columns is not None, "-collection")
        self.can_focus = columns is None
        self.scroll_home(animate=False)
        self.items.clear(columns=True)
        self.raw_items = []
        self._length = preview.length
        self.query_one("#extra", Static).update("")
        self._say_loaded("")
        if columns == COLUMNS["zset"]:
            # A long member would push the score off the pane: the member column gets what
            # the pane has left once a score of up to SCORE_WIDTH characters fits.
            member_width = max(12, self.scrollable_content_region.width - SCORE_WIDTH - 6)
            self.items.add_column("Member", width=member_width)
            self.items.add_column("Score")
        elif columns is not None:
            self.items.add_columns(*columns)
        string = self.query_one("#string", Static)
        if preview.head is not None:
            self.show_string(preview.head, preview.length or 0)
        elif columns is None:
            string.update(Text(f"A {info.type} value.", style="dim"))

    def add_items(self, raw: list[tuple], rows: list[tuple[str, ...]]) -> None:
        self.raw_items.extend(raw)
        self.items.add_rows(rows)

    def show_items_loaded(self, *, more: bool, narrowed_by: str = "") -> None:
        """Under the table: how many items are loaded, of how many, while ``+`` has more."""
        loaded = len(self.raw_items)
        if not more:
            self._say_loaded("")
        elif narrowed_by:
            self._say_loaded(f"{loaded:,} loaded matching {narrowed_by} · + for more")
        elif self._length is not None:
            self._say_loaded(f"{loaded:,} of {self._length:,} loaded · + for more")
        else:
            self._say_loaded(f"{loaded:,} loaded · + for more")

    def _say_loaded(self, text: str) -> None:
        loaded = self.query_one("#loaded", Static)
        loaded.update(text)
        loaded.set_class(bool(text), "-shown")

    def show_members(self, title: str, members: list[bytes], count: int) -> None:
        """A computed result (set algebra): not a key, so nothing in it is editable."""
        self.clear()
        shown = f" (first {len(members):,})" if count > len(members) else ""
        self.query_one("#summary", Static).update(Text(f"{title}: {count:,} member(s){shown}",
                                                       style="bold"))
        self.add_class("-collection")
        self.items.add_columns("Member")
        self.add_items([(m, None) for m in members], [(short(m),) for m in members])

    def show_json(self, document: JsonDocument) -> None:
        string = self.query_one("#string", Static)
        if document.text is not None:
            string.update(render_string(document.text, len(document.text)))
            return
        shape = Text(f"A {format_bytes(document.size)} JSON {document.kind}; too big to show "
                     "whole.\n", style="dim")
        if document.keys is not None:
            shape.append("Top-level keys: " + ", ".join(display_key(k) for k in document.keys))
        elif document.length is not None:
            shape.append(f"{document.length:,} elements")
        string.update(shape)

    def show_groups(self, groups: list[StreamGroup]) -> None:
        if not groups:
            self.query_one("#extra", Static).update("No consumer groups.")
            return
        lines = Text()
        for group in groups:
            lag = "?" if group.lag is None else f"{group.lag:,}"
            lines.append(f"Group {display_key(group.name)}", style="bold")
            lines.append(f" · {group.pending:,} pending · lag {lag} · last "
                         f"{group.last_delivered.decode()}\n")
            for name, pending, idle in group.consumers:
                lines.append(f"  {display_key(name)}: {pending:,} pending, idle "
                             f"{idle // 1000}s\n")
        lines.rstrip()
        self.query_one("#extra", Static).update(lines)

    def show_string(self, shown: bytes, total: int) -> None:
        self.query_one("#string", Static).update(render_string(shown, total))
        self._say_loaded(f"{len(shown):,} of {total:,} bytes loaded · + for more"
                         if total > len(shown) else "")


def render_string(head: bytes, total: int) -> Text:
    """Pretty JSON, plain text, or escaped bytes for binary; says when only the start is shown."""
    cut = total > len(head)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or not all(c.isprintable() or c in "\n\r\t" for c in text):
        rendered = Text(display_key(head), style="cyan")
        rendered.append("  (binary; \\xNN escapes)", style="dim")
    else:
        if not cut:
            try:
                text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
            except ValueError:
                pass
        rendered = Text(text)
    if cut:
        rendered.append(" …", style="dim")  # how much is loaded: the line under the panel
    return rendered
