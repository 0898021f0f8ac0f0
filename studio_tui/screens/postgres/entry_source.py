"""The entry's source for a PostgreSQL screen that reads through it (the grid, the SQL editor):
pg-meta when the entry has one and it answers, else the direct connection, saying why."""

from __future__ import annotations

import asyncio

from studio_tui.services.errors import StudioError
from studio_tui.services.postgres.source import CatalogSource, open_source


class EntrySource:
    """Mixed into a ``DatabaseScreen``: opens the source once, closes it on unmount."""

    entry_source: CatalogSource | None = None
    _source_opened = False

    async def open_entry_source(self, doing: str) -> CatalogSource | None:
        """pg-meta's source, or None for the direct connection (also when neither answers:
        the read that follows then says why). Opened once per screen."""
        if self._source_opened:
            return self.entry_source
        self._source_opened = True
        try:
            opened = await open_source(self.studio.manager, self.entry)
        except StudioError as error:
            self.remember(error)
            return None
        if opened.problem is not None:
            self.remember(opened.problem)
            self.say(opened.note.replace("reading the catalog", doing) + ".")
        if opened.source.mode == "direct":
            return None
        self.entry_source = opened.source
        return opened.source

    @property
    def source_note(self) -> str:
        """For the breadcrumb: `` · pg-meta at host:port`` when reads go through it."""
        return f" · {self.entry_source.description}" if self.entry_source is not None else ""

    def on_unmount(self) -> None:
        super().on_unmount()
        source, self.entry_source = self.entry_source, None
        if source is not None:
            asyncio.get_running_loop().create_task(source.close())
