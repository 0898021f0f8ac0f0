"""`i` in the Redis browser: INFO by section, the SLOWLOG (with reset) and connected clients."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from studio_tui.screens.confirm_modal import ConfirmModal
from studio_tui.services.errors import StudioError
from studio_tui.services.redis_insight import clients, info_sections, reset_slowlog, slowlog
from studio_tui.widgets.catalog_table import CatalogRow, CatalogTable
from studio_tui.widgets.status import error_text

if TYPE_CHECKING:
    from studio_tui.services.platform.models import DatabaseEntry
    from studio_tui.services.redis_service import RedisService

CLIENT_FIELDS = ("id", "addr", "name", "age", "idle", "db", "cmd")


class RedisInsightScreen(Screen[None]):
    CSS_PATH = "../styles/redis_insight.tcss"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="nav.back"),
        Binding("r", "refresh", "Refresh", id="insight.refresh"),
        Binding("x", "reset_slowlog", "Reset slowlog", id="insight.reset_slowlog"),
    ]

    def __init__(self, entry: "DatabaseEntry", service: "RedisService", where: str) -> None:
        super().__init__()
        self.entry = entry
        self.service = service
        self.where = where

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"{self.where} › {self.entry.name} › server", id="breadcrumb", markup=False)
        with TabbedContent(id="tabs"):
            with TabPane("Info", id="info"):
                yield CatalogTable("Section", "Field", "Value", id="info-table")
            with TabPane("Slowlog", id="slowlog"):
                yield CatalogTable("Id", "When", "µs", "Command", "Client", id="slowlog-table")
            with TabPane("Clients", id="clients"):
                yield CatalogTable(*[f.capitalize() for f in CLIENT_FIELDS], id="clients-table")
        yield Static("", id="status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def action_refresh(self) -> None:
        self.load()

    @work(group="insight-load", exclusive=True, exit_on_error=False, description="server info")
    async def load(self) -> None:
        status = self.query_one("#status", Static)
        try:
            sections = await info_sections(self.service)
            slow = await slowlog(self.service)
            connected = await clients(self.service)
        except StudioError as error:
            status.update(error_text(error))
            return
        self.query_one("#info-table", CatalogTable).set_rows([
            CatalogRow(f"{section}.{field}", (section, field, str(value)),
                       f"{section} {field} {value}".lower())
            for section, fields in sections.items() for field, value in fields.items()])
        now = time.time()
        self.query_one("#slowlog-table", CatalogTable).set_rows([
            CatalogRow(str(e.id), (str(e.id), f"{max(0, int(now - e.at))}s ago",
                                   f"{e.micros:,}", e.command, e.client),
                       f"{e.command} {e.client}".lower())
            for e in slow])
        self.query_one("#clients-table", CatalogTable).set_rows([
            CatalogRow(c.get("id", str(n)), tuple(c.get(f, "") for f in CLIENT_FIELDS),
                       " ".join(c.values()).lower())
            for n, c in enumerate(connected)])
        server = sections.get("server", {})
        memory = sections.get("memory", {})
        status.update(f"Redis {server.get('redis_version', '?')} · "
                      f"{memory.get('used_memory_human', '?')} used · {len(slow)} slowlog "
                      f"entr(y/ies) · {len(connected)} client(s)")

    def action_reset_slowlog(self) -> None:
        self.app.push_screen(
            ConfirmModal(f"Reset the slowlog of {self.entry.name}?",
                         "SLOWLOG RESET empties the server's slow command log for everyone.",
                         confirm_label="Reset"),
            lambda confirmed: self.reset() if confirmed else None)

    @work(group="insight-reset", exit_on_error=False, description="reset slowlog")
    async def reset(self) -> None:
        try:
            await reset_slowlog(self.service)
        except StudioError as error:
            self.query_one("#status", Static).update(
                error_text(error))
            return
        self.load()
