"""The right-hand panel of the Redis browser: what the key is, and one page at a time of what it
holds (text, pretty JSON or escaped bytes for strings; a table for collections)."""

from __future__ import annotations

import json

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from studio_tui.services.redis_keys import display_key
from studio_tui.services.redis_service import KeyInfo, ValuePreview
from studio_tui.widgets.key_list import format_bytes, format_ttl

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


class ValuePanel(Vertical):
    DEFAULT_CSS = """
    ValuePanel { height: 1fr; }
    ValuePanel > #summary { height: auto; }
    ValuePanel > #string { height: auto; padding-top: 1; }
    ValuePanel > #items { height: 1fr; display: none; }
    ValuePanel.-collection > #items { display: block; }
    ValuePanel.-collection > #string { display: none; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="summary")
        yield Static("", id="string")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="items")

    @property
    def items(self) -> DataTable:
        return self.query_one("#items", DataTable)

    def clear(self) -> None:
        self.query_one("#summary", Static).update("")
        self.query_one("#string", Static).update("")
        self.items.clear(columns=True)
        self.remove_class("-collection")

    def show(self, key: bytes, info: KeyInfo, preview: ValuePreview, more: bool = False) -> None:
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold")
        table.add_column()
        table.add_row("Key", Text(display_key(key)))
        table.add_row("Type", info.type)
        table.add_row("TTL", format_ttl(info.ttl_ms))
        table.add_row("Memory", format_bytes(info.memory))
        if preview.length is not None:
            unit = "bytes" if info.type == "string" else "items"
            table.add_row("Size", f"{preview.length:,} {unit}")
        self.query_one("#summary", Static).update(table)
        columns = COLUMNS.get(info.type)
        self.set_class(columns is not None, "-collection")
        self.items.clear(columns=True)
        if columns is not None:
            self.items.add_columns(*columns)
        string = self.query_one("#string", Static)
        if preview.head is not None:
            string.update(render_string(preview.head, preview.length or 0))
        elif columns is None:
            string.update(Text(f"A {info.type} value; its viewer arrives in a coming version.",
                               style="dim"))

    def add_items(self, rows: list[tuple[str, ...]]) -> None:
        self.items.add_rows(rows)

    def show_string(self, shown: bytes, total: int) -> None:
        self.query_one("#string", Static).update(render_string(shown, total))


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
        rendered.append(f"\n… first {len(head):,} of {total:,} bytes; + loads more", style="dim")
    return rendered
