"""Health of every database used in this session: breaker, pool, rates, latencies, errors, and
their trend over the last minutes. Refreshes every 2 s in place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Header, Label, Sparkline, Static

from studio_tui.screens.base import StudioScreen
from studio_tui.services.breaker import BreakerState
from studio_tui.widgets.catalog_table import CatalogRow, CatalogTable
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter

if TYPE_CHECKING:
    from studio_tui.services.metrics import DatabaseMetrics

REFRESH_SECONDS = 2.0
TREND_SPAN, TREND_STEP = 300, 5
BREAKER_STYLES = {BreakerState.CLOSED: "green", BreakerState.HALF_OPEN: "yellow",
                  BreakerState.OPEN: "red"}


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


class HealthScreen(StudioScreen[None]):
    CSS_PATH = "../styles/health.tcss"
    BINDINGS = [
        Binding("p", "probe", "Probe now", id="health.probe"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb("Health")
        yield CatalogTable("Database", "Kind", "Breaker", "Pool t/a/p", "Active", "ops/s",
                           "p50 ms", "p95 ms", "Errors")
        with Horizontal(id="trends"):
            with Vertical():
                yield Label("latency, mean ms per 5 s (last 5 min)", id="latency-label")
                yield Sparkline([], summary_function=max, id="latency")
            with Vertical():
                yield Label("operations per second (last 5 min)", id="rate-label")
                yield Sparkline([], summary_function=max, id="rate")
        yield Static("", id="probe-result", markup=False)
        yield StatusLine()
        yield StudioFooter()

    def on_mount(self) -> None:
        self.query_one(CatalogTable).focus_table()
        self.refresh_metrics()
        self.set_interval(REFRESH_SECONDS, self.refresh_metrics, name="health-refresh")

    def _names(self) -> dict[str, "DatabaseMetrics"]:
        if not self.studio.is_open:
            return {}
        return self.studio.manager.metrics.all()

    def refresh_metrics(self) -> None:
        table = self.query_one(CatalogTable)
        measured = self._names()
        rows = [self._row(database_id, metrics) for database_id, metrics in measured.items()]
        if [r.key for r in rows] != table.all_keys:
            table.set_rows(rows)
        else:
            for row in rows:
                for column, value in enumerate(row.cells):
                    table.update_cell(row.key, column, value)
        self._show_trend(table.selected_key)
        self.status_line.update(
            f"{len(rows)} database(s) used in this session · refreshes every "
            f"{REFRESH_SECONDS:g}s · p forces a breaker probe" if rows else
            "No database has been used in this session yet.")

    def _row(self, database_id: str, metrics: "DatabaseMetrics") -> CatalogRow:
        breaker = self.studio.manager.breaker(database_id)
        if breaker is None:
            breaker_cell = Text("-")
        else:
            state = breaker.state
            label = state.name.lower().replace("_", "-")
            if state is BreakerState.OPEN:
                label += f" (retry {breaker.retry_in():.0f}s)"
            breaker_cell = Text(label, style=BREAKER_STYLES[state])
        pool = metrics.pool
        errors = ", ".join(f"{code}×{count}" for code, count in sorted(metrics.errors.items()))
        cells = (metrics.name, metrics.kind, breaker_cell,
                 f"{pool.total}/{pool.available}/{pool.pending}", str(metrics.active_operations),
                 f"{metrics.ops_per_second():.1f}", _ms(metrics.percentile(0.5)),
                 _ms(metrics.percentile(0.95)), errors or "-")
        return CatalogRow(database_id, cells, f"{metrics.name} {metrics.kind}".lower())

    def _show_trend(self, database_id: str | None) -> None:
        metrics = self._names().get(database_id or "")
        rates, latencies = ([], []) if metrics is None else metrics.trend(span=TREND_SPAN,
                                                                          step=TREND_STEP)
        self.query_one("#latency", Sparkline).data = latencies
        self.query_one("#rate", Sparkline).data = rates

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_trend(self.query_one(CatalogTable).selected_key)

    def action_probe(self) -> None:
        database_id = self.query_one(CatalogTable).selected_key
        if database_id is not None:
            self.probe(database_id)

    @work(group="health-probe", exclusive=True, exit_on_error=False, description="probe")
    async def probe(self, database_id: str) -> None:
        manager = self.studio.manager
        breaker = manager.breaker(database_id)
        if breaker is not None:
            breaker.force_probe()
        report = await manager.check(database_id)
        outcome = f"{report.name}: {report.status}"
        if report.error is not None:
            outcome += f" ({report.error.title})"
        self.query_one("#probe-result", Static).update(outcome)
        self.refresh_metrics()
