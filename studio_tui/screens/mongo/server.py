"""The MongoDB server view (parallel to the Redis one): topology (standalone, replica set,
mongos), `serverStatus` figures over time (operations per second, connections, resident
memory), the running operations with `killOp` (confirmed; not on read-only entries), and the
replica set's members and their states."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static, TabbedContent, TabPane

from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.screens.mongo.tool import MongoToolScreen
from studio_tui.services.errors import StudioError
from studio_tui.services.mongo import server
from studio_tui.widgets.catalog_table import CatalogRow, CatalogTable
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter
from studio_tui.widgets.vitals import VitalSparkline

VITALS_EVERY = 2.0  # seconds between serverStatus samples


class ServerScreen(MongoToolScreen[None]):
    CSS_PATH = "../../styles/mongo_tools.tcss"
    TOOL = "server"
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="mongo.server.refresh"),
        Binding("k", "kill_op", "Kill op", id="mongo.server.kill"),
        Binding("I", "toggle_idle", "Idle ops", show=False, id="mongo.server.idle"),
    ]
    WRITE_ACTIONS = frozenset({("kill_op", None)})

    def __init__(self, entry, where: str) -> None:
        super().__init__(entry, where)
        self.previous: server.Vitals | None = None
        self.include_idle = False
        self.ops: dict[str, server.RunningOp] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(self.crumb)
        with TabbedContent(id="tabs"):
            with TabPane("Overview", id="overview"):
                yield Static("", id="topology", classes="caption")
                yield VitalSparkline("ops/s", lambda value: f"{value:,.0f}", id="ops")
                yield VitalSparkline("connections", lambda value: f"{value:,.0f}",
                                     id="connections")
                yield VitalSparkline("resident", lambda value: f"{value:,.0f} MB", id="memory")
                yield Static("", id="counters", classes="caption")
            with TabPane("Operations", id="operations"):
                yield Static("", id="ops-note", classes="caption")
                yield CatalogTable("Opid", "Op", "Namespace", "Secs", "Client", "Command",
                                   id="ops-table")
            with TabPane("Replica set", id="replica"):
                yield Static("", id="members-note", classes="caption")
                yield CatalogTable("Member", "State", "Health", "Lag", id="members-table")
        yield StatusLine()
        yield StudioFooter()

    def on_mount(self) -> None:
        self.load()
        self.sample_vitals()
        self.set_interval(VITALS_EVERY, self.sample_vitals, name="mongo-vitals")

    def action_refresh(self) -> None:
        self.load()

    def action_toggle_idle(self) -> None:
        self.include_idle = not self.include_idle
        self.load_ops()

    @work(group="mongo-vitals", exclusive=True, exit_on_error=False, description="serverStatus")
    async def sample_vitals(self) -> None:
        try:
            figures = await server.vitals(self.scope)
        except StudioError as error:
            if self.previous is None:  # e.g. a managed tier that refuses serverStatus
                self.query_one("#counters", Static).update(
                    f"serverStatus unavailable: {error.detail}")
            return  # the next tick retries
        self.query_one("#ops", VitalSparkline).add(figures.ops_per_second(self.previous))
        rates = figures.rates(self.previous)
        if rates:
            self.query_one("#counters", Static).update(
                "per second: " + " · ".join(f"{name} {rate:,.0f}" for name, rate in rates.items())
                + f" · up {figures.uptime_seconds:,}s")
        self.previous = figures
        self.query_one("#connections", VitalSparkline).add(figures.connections_current)
        if figures.resident_mb is not None:
            self.query_one("#memory", VitalSparkline).add(figures.resident_mb)

    @work(group="mongo-server", exclusive=True, exit_on_error=False, description="server")
    async def load(self) -> None:
        try:
            found = await server.topology(self.scope)
        except StudioError as error:
            self.show_error(error)
            return
        where = f" · primary {found.primary}" if found.primary else ""
        self.query_one("#topology", Static).update(
            f"MongoDB {found.version or '?'} · {found.label}{where} · transactions "
            f"{'supported' if found.supports_transactions else 'not supported'}")
        if found.kind == "replica set":
            try:
                listed = await server.members(self.scope)
            except StudioError as error:
                listed = server.Members([], error.detail)
        else:
            listed = server.Members([], f"Not a replica set: this server is a {found.label}.")
        self.query_one("#members-note", Static).update(
            listed.note or f"{len(listed.members)} member(s) of {found.set_name}.")
        self.query_one("#members-table", CatalogTable).set_rows([
            CatalogRow(m.name, (m.name + (" (this one)" if m.is_self else ""), m.state, m.health,
                                "-" if m.lag_seconds is None else f"{m.lag_seconds}s"),
                       f"{m.name} {m.state}".lower())
            for m in listed.members])
        await self._load_ops()
        self.say(f"{found.label} · {len(self.ops)} operation(s) running")

    @work(group="mongo-ops", exclusive=True, exit_on_error=False, description="currentOp")
    async def load_ops(self) -> None:
        await self._load_ops()

    async def _load_ops(self) -> None:
        try:
            listing = await server.current_ops(self.scope, include_idle=self.include_idle)
        except StudioError as error:
            self.query_one("#ops-note", Static).update(f"Operations unavailable: {error.detail}")
            return
        self.ops = {str(op.opid): op for op in listing.ops if op.killable}
        note = listing.note or f"From {listing.source}."
        idle = "idle connections shown" if self.include_idle else "active only (I shows idle)"
        self.query_one("#ops-note", Static).update(f"{note} {idle}; k kills the highlighted one.")
        self.query_one("#ops-table", CatalogTable).set_rows([
            CatalogRow(str(op.opid), (str(op.opid), op.op, op.namespace, str(op.seconds),
                                      op.client, op.command[:60]),
                       f"{op.op} {op.namespace} {op.client} {op.command}".lower())
            for op in listing.ops if op.killable])

    def action_kill_op(self) -> None:
        tabs = self.query_one("#tabs", TabbedContent)
        if tabs.active != "operations":
            tabs.active = "operations"
            self.say("Highlight an operation, then k.")
            return
        key = self.query_one("#ops-table", CatalogTable).selected_key
        op = self.ops.get(key or "")
        if op is None:
            self.say("No operation highlighted.")
            return
        self.app.push_screen(
            ConfirmModal(f"Kill operation {op.opid}?",
                         f"{op.op} on {op.namespace or '(no namespace)'} from {op.client}, "
                         f"running {op.seconds}s: {op.command[:120]}", confirm_label="Kill"),
            lambda confirmed: self.kill(op.opid) if confirmed else None)

    @work(group="mongo-kill", exit_on_error=False, description="killOp")
    async def kill(self, opid) -> None:
        try:
            answer = await server.kill_op(self.scope, opid)
        except StudioError as error:
            self.show_error(error)
            return
        self.say(f"killOp {opid}: {answer}")
        self.load_ops()

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "operations":
            self.query_one("#ops-table", CatalogTable).focus_table()
