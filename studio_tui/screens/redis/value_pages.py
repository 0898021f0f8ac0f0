"""The value on show, one page at a time (`+` for the next): a big string STRING_PAGE bytes at a
time, hashes and sets by HSCAN/SSCAN (narrowed by a MATCH pattern), lists and sorted sets by
rank (or by a score range), streams newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio_tui.services.redis.keys import parse_key
from studio_tui.services.redis.models import ItemsPage, ValuePreview
from studio_tui.widgets.redis.value_panel import COLUMNS, ValuePanel, short

if TYPE_CHECKING:
    from studio_tui.services.redis.service import RedisService

STRING_PAGE = 65_536  # bytes added to a shown string by each "+"


class ValuePages:
    """What narrows the shown value, where its next page starts, and the string shown so far."""

    def __init__(self) -> None:
        # A MATCH pattern (hash, set) or "min max" score range (zset) narrowing the value.
        self.filter = ""
        # (key, type, offset / cursor / index, or the last stream entry ID shown); None: no more.
        self.next: tuple[bytes, str, int | bytes] | None = None
        self._string = bytearray()
        self._string_total = 0

    def narrow(self, value_filter: str) -> None:
        """The filter the next load of the value applies."""
        self.filter = value_filter

    async def first(self, service: "RedisService", panel: ValuePanel, key: bytes,
                    preview: ValuePreview, *, keep_row: int = 0) -> None:
        """After the panel showed ``key``'s summary from ``preview``: a string goes on after its
        head; a JSON document is shown whole (or its shape); a collection gets its first page
        (a stream its groups too), the cursor back on ``keep_row``."""
        type_ = preview.type
        self.next = None
        if type_ == "string":
            self._string = bytearray(preview.head or b"")
            self._string_total = preview.length or 0
            if self._string_total > len(self._string):
                self.next = (key, type_, len(self._string))
        elif type_ == "ReJSON-RL":
            panel.show_json(await service.json_document(key))
        elif type_ in COLUMNS:
            self.next = (key, type_, b"-" if type_ == "stream" else 0)
            if type_ == "stream":
                panel.show_groups(await service.stream_groups(key))
            await self.more(service, panel)
            if 0 < keep_row < panel.items.row_count:
                panel.items.move_cursor(row=keep_row)

    async def more(self, service: "RedisService", panel: ValuePanel) -> None:
        """The next page into ``panel``, if there is one; a StudioError is the caller's to
        show."""
        if self.next is None:
            return
        key, type_, position = self.next
        if isinstance(position, bytes):  # a stream: the entries before the last one shown
            entries = await service.stream_page(key, position)
            panel.add_items(entries.entries, [(short(entry_id), ", ".join(
                f"{short(f)}={short(v)}" for f, v in fields.items()))
                for entry_id, fields in entries.entries])
            self.next = None if entries.last_id is None else (key, type_, entries.last_id)
            panel.show_items_loaded(more=self.next is not None)
            return
        if type_ == "string":
            chunk = await service.string_range(key, position, STRING_PAGE)
            self._string += chunk
            end = position + len(chunk)
            panel.show_string(bytes(self._string), self._string_total)
            self.next = (key, type_, end) if end < self._string_total else None
            return
        page = await self._items(service, key, type_, position, self.filter)
        panel.add_items(page.items, [tuple(short(part) for part in item if part is not None)
                                     for item in page.items])
        self.next = None if page.done else (key, type_, page.next)
        panel.show_items_loaded(more=self.next is not None, narrowed_by=self.filter)

    @staticmethod
    async def _items(service: "RedisService", key: bytes, type_: str, position: int,
                     value_filter: str) -> ItemsPage:
        match = parse_key(value_filter) if value_filter else None
        if type_ == "zset" and value_filter:
            low, _, high = value_filter.partition(" ")
            return await service.zset_by_score(key, low, high.strip() or "+inf", offset=position)
        if type_ == "hash":
            return await service.hash_page(key, position, match=match)
        if type_ == "set":
            return await service.set_page(key, position, match=match)
        if type_ == "list":
            return await service.list_page(key, position)
        return await service.zset_page(key, position)
