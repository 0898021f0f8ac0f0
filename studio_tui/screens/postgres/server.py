"""The PostgreSQL server view: database size and cache hit ratio, sessions (pg_stat_activity)
with who blocks whom, locks, and pg_stat_statements where it is installed; a session's query can
be cancelled or the session terminated (confirmed; refused on read-only entries)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static, TabbedContent, TabPane

from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.screens.base import DatabaseScreen
from studio_tui.services.errors import StudioError
from studio_tui.services.postgres.data_models import (
    Backend,
    LockInfo,
    ServerOverview,
    StatementsReport,
)
from studio_tui.services.postgres.server import ServerService, blocking_chains
from studio_tui.widgets.catalog_table import CatalogRow, CatalogTable
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter
from studio_tui.widgets.sizes import format_bytes

if TYPE_CHECKING:
    from studio_tui.services.platform.models import DatabaseEntry

REFRESH_EVERY = 5.0  # seconds between session list refreshes


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    if value < 60:
        return f"{value:.1f}s"
    return f"{int(value // 60)}m{int(value % 60):02d}s"


def _who(pid: int, backend: Backend | None) -> str:
    """A session in a blocking chain: its pid, user, state and how long, and its query's
    start."""
    if backend is None:
        return str(pid)
    query = " ".join(backend.query.split())
    query = query if len(query) <= 40 else query[:40] + "…"
    since = f" {_seconds(backend.running_for)}" if backend.running_for is not None else ""
    return f"{pid} ({backend.user}, {backend.state}{since}: {query})"


class ServerScreen(DatabaseScreen[None]):
    CSS_PATH = "../../styles/postgres_server.tcss"
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="pg.server.refresh"),
        Binding("x", "signal('cancel')", "Cancel query", id="pg.server.cancel"),
        Binding("K", "signal('terminate')", "Terminate", id="pg.server.terminate"),
        Binding("p", "pause", "Pause", show=False, id="pg.server.pause"),
    ]
    WRITE_ACTIONS = frozenset({("signal", "cancel"), ("signal", "terminate")})

    def __init__(self, entry: "DatabaseEntry", where: str) -> None:
        super().__init__(entry, where)
        self.server: ServerService | None = None
        self.backends: dict[str, Backend] = {}
        self.paused = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(f"{self.where} › {self.entry.name} › server{self.read_only_note}")
        with TabbedContent(id="tabs"):
            with TabPane("Overview", id="overview"):
                yield Static("", id="figures")
                yield Static("", id="chains")
            with TabPane("Sessions", id="sessions"):
                yield CatalogTable("Pid", "State", "For", "Blocked by", "Query", "User",
                                   "Database", "Application", "Client", "Wait",
                                   id="sessions-table")
            with TabPane("Locks", id="locks"):
                yield CatalogTable("Pid", "Type", "Mode", "On", "Granted", id="locks-table")
            with TabPane("Statements", id="statements"):
                yield Static("", id="statements-note")
                yield CatalogTable("Calls", "Total ms", "Mean ms", "Rows", "Query",
                                   id="statements-table")
        yield StatusLine("Reading…")
        yield StudioFooter()

    def on_mount(self) -> None:
        self.server = ServerService(self.studio.manager, self.entry.id)
        self.load()
        self.set_interval(REFRESH_EVERY, self._tick, name="pg-server-refresh")

    def _tick(self) -> None:
        if not self.paused:
            self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.say("Paused: r refreshes, p resumes." if self.paused
                 else f"Refreshing every {REFRESH_EVERY:g}s.")

    @work(group="pg-server-load", exclusive=True, exit_on_error=False, description="server")
    async def load(self, note: str = "") -> None:
        try:
            overview = await self.server.overview()
            backends = await self.server.activity()
            locks = await self.server.locks()
            statements = await self.server.statements()
        except StudioError as error:
            self.show_error(error)
            return
        self.show(overview, backends, locks, statements, note)

    def show(self, overview: ServerOverview, backends: list[Backend], locks: list[LockInfo],
             statements: StatementsReport, note: str = "") -> None:
        """Draw everything read (a test draws fixed figures to take a stable snapshot)."""
        figures = Table.grid(padding=(0, 2))
        figures.add_column(style="bold")
        figures.add_column()
        figures.add_row("server", Text(overview.version.split(" on ")[0]))
        figures.add_row("database", Text(overview.database))
        figures.add_row("size", format_bytes(overview.size_bytes))
        figures.add_row("cache hit ratio", "-" if overview.cache_hit_ratio is None
                        else f"{overview.cache_hit_ratio:.2%}")
        figures.add_row("connections", f"{overview.connections} of {overview.max_connections}")
        self.query_one("#figures", Static).update(figures)
        chains = blocking_chains(backends)
        text = Text("Blocking chains (waiter ← blocker ← …):\n", style="bold")
        if not chains:
            text.append("none: no session waits on another.", style="dim")
        by_pid = {b.pid: b for b in backends}
        for chain in chains:
            text.append(" ← ".join(_who(pid, by_pid.get(pid)) for pid in chain) + "\n",
                        style="yellow")
        self.query_one("#chains", Static).update(text)
        self.backends = {str(b.pid): b for b in backends}
        self.query_one("#sessions-table", CatalogTable).set_rows([
            # A server process (checkpointer, walwriter …) has no state: "background", its
            # kind where a session's application goes, so long kinds do not widen State.
            CatalogRow(str(b.pid), (str(b.pid), b.state or "background",
                                    _seconds(b.running_for), ", ".join(map(str, b.blocked_by)),
                                    " ".join(b.query.split())[:60], b.user, b.database,
                                    b.application or b.backend_type, b.client, b.wait),
                       f"{b.pid} {b.user} {b.application} {b.state} {b.query}".lower())
            for b in backends])
        self.query_one("#locks-table", CatalogTable).set_rows([
            CatalogRow(f"{n}", (str(lock.pid), lock.locktype, lock.mode, lock.relation,
                                "yes" if lock.granted else "WAITING"),
                       f"{lock.pid} {lock.mode} {lock.relation}".lower())
            for n, lock in enumerate(locks)])
        self.query_one("#statements-note", Static).update(statements.unavailable)
        self.query_one("#statements-table", CatalogTable).set_rows([
            CatalogRow(str(n), (f"{s.calls:,}", f"{s.total_ms:,.1f}", f"{s.mean_ms:,.2f}",
                                f"{s.rows:,}", " ".join(s.query.split())[:120]),
                       s.query.lower())
            for n, s in enumerate(statements.statements)])
        waiting = sum(1 for b in backends if b.blocked_by)
        self.say(f"{note}{' · ' if note else ''}{len(backends)} sessions · {waiting} waiting on "
                 f"a lock · {sum(1 for lock in locks if not lock.granted)} lock(s) not granted")

    def action_signal(self, action: str) -> None:
        self.query_one("#tabs", TabbedContent).active = "sessions"
        key = self.query_one("#sessions-table", CatalogTable).selected_key
        backend = self.backends.get(key or "")
        if backend is None:
            self.say("Choose a session in the Sessions tab first.")
            return
        what = ("cancel the running query of" if action == "cancel" else "terminate")
        detail = (f"{backend.user}@{backend.database} from {backend.client or 'local'} "
                  f"({backend.application or 'no application name'}), {backend.state}:\n"
                  f"{' '.join(backend.query.split())[:200]}")
        if action == "terminate":
            detail += "\n\nIts open transaction is rolled back and its connection closed."
        self.app.push_screen(
            ConfirmModal(f"{what.capitalize()} backend {backend.pid}?", detail,
                         confirm_label="Cancel query" if action == "cancel" else "Terminate"),
            lambda confirmed: self.signal(backend.pid, action) if confirmed else None)

    @work(group="pg-server-signal", exit_on_error=False, description="signal backend")
    async def signal(self, pid: int, action: str) -> None:
        try:
            await self.server.signal_backend(pid, action)
        except StudioError as error:
            self.show_error(error)
            return
        self.load(f"Backend {pid}: {'query cancelled' if action == 'cancel' else 'terminated'}")
