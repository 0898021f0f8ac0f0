"""Health of every database used in this session: whether it answers, breaker, pool, rates,
latencies, errors, and their trend over the last minutes. Refreshes every 2 s in place."""

from __future__ import annotations

import time
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
from studio_tui.widgets.status import status_text

if TYPE_CHECKING:
    from studio_tui.services.breaker import CircuitBreaker
    from studio_tui.services.metrics import DatabaseMetrics

REFRESH_SECONDS = 2.0
TREND_SPAN, TREND_STEP = 300, 5
BREAKER_STYLES = {BreakerState.CLOSED: "green", BreakerState.HALF_OPEN: "yellow",
                  BreakerState.OPEN: "red"}


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def _when(moment: float) -> str:
    """A wall-clock time as the time of day, and how long ago it was."""
    ago = max(0, round(time.time() - moment))
    span = f"{ago}s" if ago < 120 else f"{ago // 60}m" if ago < 7200 else f"{ago // 3600}h"
    return f"{time.strftime('%H:%M:%S', time.localtime(moment))} ({span} ago)"


def answer_line(metrics: "DatabaseMetrics", breaker: "CircuitBreaker | None") -> str:
    """Whether a database answers, and when it last did, in a sentence."""
    name = metrics.name
    if metrics.answering is None:
        return f"{name} has not been asked anything yet."
    if metrics.answering:
        return f"{name} answers: last answer at {_when(metrics.last_answer or time.time())}."
    if metrics.last_answer is None:
        text = f"{name} has not answered any call."
    else:
        text = (f"{name} is not answering: last answer at {_when(metrics.last_answer)}, "
                f"failing since {_when(metrics.silent_since or time.time())}.")
    if breaker is not None and breaker.state is BreakerState.OPEN:
        text += f" Calls fail at once; next probe in {breaker.retry_in():.0f}s."
    elif breaker is not None and breaker.state is BreakerState.HALF_OPEN:
        text += " A probe is due."
    return text


class HealthScreen(StudioScreen[None]):
    CSS_PATH = "../styles/health.tcss"
    BINDINGS = [
        Binding("p", "probe", "Probe now", id="health.probe"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb("Health")
        yield CatalogTable("Database", "Kind", "Status", "Breaker", "Pool t/a/p", "Active",
                           "ops/s", "p50 ms", "p95 ms", "Errors")
        yield Static("", id="answer", markup=False)
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
        self._show_selected(table.selected_key)
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
        answering = metrics.answering
        status = (Text("-") if answering is None else status_text("up") if answering else
                  status_text("no answer"))
        # Latencies from before a hang would say it is fine: none while it does not answer.
        p50, p95 = ((None, None) if answering is False else
                    (metrics.percentile(0.5), metrics.percentile(0.95)))
        cells = (metrics.name, metrics.kind, status, breaker_cell,
                 f"{pool.total}/{pool.available}/{pool.pending}", str(metrics.active_operations),
                 f"{metrics.ops_per_second():.1f}", _ms(p50), _ms(p95), errors or "-")
        return CatalogRow(database_id, cells, f"{metrics.name} {metrics.kind}".lower())

    def _show_selected(self, database_id: str | None) -> None:
        """The highlighted database's answer line and trends."""
        metrics = self._names().get(database_id or "")
        rates, latencies = ([], []) if metrics is None else metrics.trend(span=TREND_SPAN,
                                                                          step=TREND_STEP)
        self.query_one("#latency", Sparkline).data = latencies
        self.query_one("#rate", Sparkline).data = rates
        self.query_one("#answer", Static).update("" if metrics is None else answer_line(
            metrics, self.studio.manager.breaker(database_id or "")))

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_selected(self.query_one(CatalogTable).selected_key)

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
        shown = self.query_one("#probe-result", Static)
        shown.update("Probing…")
        report = await manager.check(database_id)
        outcome = f"Probe at {time.strftime('%H:%M:%S')}: {report.name}: {report.status}"
        if report.error is not None:
            outcome += f" ({report.error.title}) · {report.error.detail}"
        else:
            outcome += f" in {report.latency_ms} ms, version {report.version}"
        shown.update(f"{outcome} · breaker {report.breaker.replace('_', '-')}")
        self.refresh_metrics()
