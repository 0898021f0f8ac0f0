"""A virtual list of Redis keys: holds them as bytes and draws only the rows on screen, so a
million keys cost memory for the keys and nothing more (Textual's Line API)."""

from __future__ import annotations

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

from studio_tui.services.redis.keys import display_key
from studio_tui.services.redis.models import KeyInfo
from studio_tui.widgets.sizes import format_bytes
from studio_tui.widgets.redis.key_store import KeyStore
from studio_tui.widgets.row_cursor import RowCursor, row_cursor_bindings

TYPE_WIDTH, TTL_WIDTH, MEMORY_WIDTH = 10, 9, 9
RESIZE_EVERY = 0.5  # seconds between list size updates while keys arrive


def ttl_seconds(ttl_ms: int) -> int:
    """The seconds redis-cli's TTL prints for a PTTL of ``ttl_ms``: the server rounds to the
    nearest second ((ms + 500) / 1000), so 59.9 s is 60, not 59."""
    return (ttl_ms + 500) // 1000


def format_ttl(ttl_ms: int) -> str:
    """A TTL in at most 8 columns, from the seconds TTL gives: 45s, 1m40s, 1h1m, 3d4h."""
    if ttl_ms == -1:
        return "∞"
    if ttl_ms < 0:
        return "gone"
    seconds = ttl_seconds(ttl_ms)
    for unit, size, next_unit, next_size in (("d", 86400, "h", 3600), ("h", 3600, "m", 60),
                                             ("m", 60, "s", 1)):
        if seconds >= size:
            whole, rest = divmod(seconds, size)
            rest //= next_size
            return f"{whole}{unit}{rest}{next_unit}" if rest and whole < 100 else f"{whole}{unit}"
    return f"{seconds}s"


def format_ttl_detail(ttl_ms: int) -> str:
    """The detail pane's TTL: TTL's own figure, and the short form beside it once it helps."""
    if ttl_ms < 0:
        return format_ttl(ttl_ms)
    seconds = ttl_seconds(ttl_ms)
    return f"{seconds:,}s" + (f" ({format_ttl(ttl_ms)})" if seconds >= 60 else "")


class KeyList(RowCursor, ScrollView, can_focus=True):
    DEFAULT_CSS = """
    KeyList { height: 1fr; }
    KeyList > .key-list--cursor { background: $accent 40%; text-style: bold; }
    KeyList:focus > .key-list--cursor { background: $accent; color: $text; }
    KeyList > .key-list--meta { color: $text-muted; }
    KeyList > .key-list--mark { color: $warning; text-style: bold; }
    """
    COMPONENT_CLASSES = {"key-list--cursor", "key-list--meta", "key-list--mark"}
    BINDINGS = row_cursor_bindings("keys") + [
        Binding("enter", "choose", "Open", show=False, id="keys.open"),
        Binding("space", "toggle_mark", "Mark", show=False, id="keys.mark"),
    ]

    def cursor_rows(self) -> int:
        return len(self._keys)

    cursor: reactive[int] = reactive(0, repaint=False)

    @dataclass
    class Highlighted(Message, bubble=True):
        """The cursor moved to ``key`` (None when the list is empty)."""

        key: bytes | None

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, KeyList.Highlighted)

    @dataclass
    class MarksChanged(Message, bubble=True):
        """How many keys are marked now."""

        count: int

    @dataclass
    class VisibleChanged(Message, bubble=True):
        """Rows [start, end) are on screen: time to fetch their details, or more keys."""

        start: int
        end: int
        total: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, KeyList.VisibleChanged)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._keys = KeyStore()
        self._infos: dict[bytes, KeyInfo] = {}
        self._marked: dict[bytes, None] = {}  # marked with space, in the order marked
        self._resize_pending = False

    # -- data -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> KeyStore:
        return self._keys

    @property
    def selected_key(self) -> bytes | None:
        return self._keys[self.cursor] if 0 <= self.cursor < len(self._keys) else None

    @property
    def marked(self) -> list[bytes]:
        return list(self._marked)

    def clear_marks(self) -> None:
        self._marked = {}
        self.refresh()

    def action_toggle_mark(self) -> None:
        key = self.selected_key
        if key is None:
            return
        if key in self._marked:
            del self._marked[key]
        else:
            self._marked[key] = None
        self.post_message(self.MarksChanged(len(self._marked)))
        self.action_move(1)
        self.refresh()

    def clear(self) -> None:
        self._keys = KeyStore()
        self._infos = {}
        self._marked = {}
        self.cursor = 0
        self._resize()
        self.post_message(self.Highlighted(None))

    def append(self, keys: list[bytes]) -> None:
        if not keys:
            return
        was_empty = not self._keys
        self._keys.extend(keys)
        if was_empty:
            self._resize()
            self.post_message(self.Highlighted(self._keys[0]))
            self._report_visible()
        elif not self._resize_pending:
            # A new virtual size means a new layout of the whole screen; while a scan pours
            # in pages, do that a few times a second rather than once per page.
            self._resize_pending = True
            self.set_timer(RESIZE_EVERY, self._flush_resize)

    def _flush_resize(self) -> None:
        self._resize_pending = False
        self._resize()
        self._report_visible()

    def set_infos(self, infos: list[KeyInfo]) -> None:
        for info in infos:
            self._infos[info.key] = info
        self.refresh()

    def info(self, key: bytes) -> KeyInfo | None:
        return self._infos.get(key)

    def remove(self, key: bytes) -> None:
        """Drop a key (deleted or renamed); the cursor stays on the same row number."""
        try:
            self._keys.remove(key)
        except ValueError:
            return
        self._infos.pop(key, None)
        self._marked.pop(key, None)
        self.cursor = min(self.cursor, max(0, len(self._keys) - 1))
        self._resize()
        self.post_message(self.Highlighted(self.selected_key))

    def remove_many(self, keys: list[bytes]) -> None:
        gone = set(keys)
        self._keys.remove_many(gone)
        for key in gone:
            self._infos.pop(key, None)
            self._marked.pop(key, None)
        self.cursor = min(self.cursor, max(0, len(self._keys) - 1))
        self._resize()
        self.post_message(self.Highlighted(self.selected_key))

    def replace(self, old: bytes, new: bytes) -> None:
        """A renamed key keeps its row."""
        index = self._keys.replace(old, new)
        if index is None:
            return
        info = self._infos.pop(old, None)
        if info is not None:
            self._infos[new] = KeyInfo(new, info.type, info.ttl_ms, info.memory)
        self.refresh()
        if index == self.cursor:
            self.post_message(self.Highlighted(new))

    def visible_range(self) -> tuple[int, int]:
        start = int(self.scroll_offset.y)
        return start, min(len(self._keys), start + self.scrollable_content_region.height)

    def _resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._keys))
        self.refresh()

    def _report_visible(self) -> None:
        start, end = self.visible_range()
        self.post_message(self.VisibleChanged(start, end, len(self._keys)))

    # -- drawing ----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        if index >= len(self._keys):
            return Strip.blank(width, self.rich_style)
        key = self._keys[index]
        info = self._infos.get(key)
        meta_width = TYPE_WIDTH + TTL_WIDTH + MEMORY_WIDTH
        name_width = max(8, width - meta_width)
        name = display_key(key)
        # Cut and padded by terminal cells, not characters: a name in CJK or emoji takes two
        # cells a character, and would push the type, TTL and size columns off the row.
        if cell_len(name) > name_width - 1:
            name = set_cell_size(name, name_width - 2) + "…"
        if info is None:
            meta = "".rjust(meta_width)
        else:
            meta = (info.type[:TYPE_WIDTH - 1].ljust(TYPE_WIDTH)
                    + format_ttl(info.ttl_ms).rjust(TTL_WIDTH - 1) + " "
                    + format_bytes(info.memory).rjust(MEMORY_WIDTH - 1))
        base = self.rich_style
        if index == self.cursor:
            base = base + self.get_component_rich_style("key-list--cursor")
            meta_style = base
        else:
            meta_style = base + self.get_component_rich_style("key-list--meta")
        if key in self._marked:
            mark = Segment("●", base + self.get_component_rich_style("key-list--mark"))
        else:
            mark = Segment(" ", base)
        segments = [mark, Segment(set_cell_size(name, name_width - 1), base),
                    Segment(meta, meta_style)]
        return Strip(segments).adjust_cell_length(width, base if index == self.cursor
                                                  else Style())

    # -- movement ---------------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh(Region(0, old - int(self.scroll_offset.y), self.size.width, 1))
        self.scroll_to_region(Region(0, new, 1, 1), animate=False, immediate=True)
        self.refresh(Region(0, new - int(self.scroll_offset.y), self.size.width, 1))
        self.post_message(self.Highlighted(self.selected_key))

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._report_visible()

    def on_resize(self) -> None:
        self._resize()
        self._report_visible()

    def on_click(self, event) -> None:
        index = int(self.scroll_offset.y) + event.y
        if 0 <= index < len(self._keys):
            self.cursor = index

    def action_choose(self) -> None:
        if self.selected_key is not None:
            self.post_message(self.Highlighted(self.selected_key))
