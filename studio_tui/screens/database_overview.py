"""What opening a database shows until its kind's browser exists: the connection, checked live."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static

from studio_tui.screens.base import DatabaseScreen
from studio_tui.services.kinds import KINDS
from studio_tui.services.tiers import TIER_LIMITS
from studio_tui.widgets.chrome import Breadcrumb, StudioFooter
from studio_tui.widgets.status import error_text, status_text

if TYPE_CHECKING:
    from studio_tui.services.manager import HealthReport



class DatabaseOverviewScreen(DatabaseScreen[None]):
    CSS_PATH = "../styles/database_overview.tcss"
    BINDINGS = [
        Binding("t", "test", "Test again", id="overview.test"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(f"{self.where} › {self.entry.name}")
        yield Static(self._details(None), id="details")
        yield Static(Text(f"The {KINDS[self.entry.kind].display_name} browser arrives in a "
                          "coming version; this screen shows the connection.", style="italic"),
                     id="note")
        yield StudioFooter()

    def on_mount(self) -> None:
        self.action_test()

    def action_test(self) -> None:
        self.query_one("#details", Static).update(self._details(None, checking=True))
        self.check()

    @work(group="overview-check", exclusive=True, exit_on_error=False, description="check")
    async def check(self) -> None:
        report = await self.studio.manager.check(self.entry.id)
        self.query_one("#details", Static).update(self._details(report))

    def _details(self, report: "HealthReport | None", *, checking: bool = False) -> Table:
        entry = self.entry
        limits = TIER_LIMITS[entry.tier]
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        status = "checking" if checking else (report.status if report else "unknown")
        table.add_row("Status", status_text(status))
        table.add_row("Kind", entry.kind.value)
        table.add_row("URL", Text(entry.masked_url))
        table.add_row("Mode", "read-only" if entry.read_only else "read-write")
        table.add_row("Tier", f"{entry.tier.value}: pool {limits.min_pool}–{limits.max_pool}, "
                              f"{limits.max_concurrent} concurrent, query timeout "
                              f"{limits.query_timeout:g}s, connect timeout "
                              f"{limits.connect_timeout:g}s")
        if entry.tags:
            table.add_row("Tags", ", ".join(entry.tags))
        if report is not None and report.error is None:
            table.add_row("Server", report.version)
            table.add_row("Round trip", f"{report.latency_ms:.1f} ms")
        if report is not None and report.error is not None:
            table.add_row("Error", error_text(report.error))
        return table
