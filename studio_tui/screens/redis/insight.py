"""`i` in the Redis browser: an overview (ops/s and memory over the last minutes, keys per logical
database, Enter switches the browser to one), memory (MEMORY STATS, and a sampled scan of the
biggest keys and prefixes drawn as bars), INFO by section, the SLOWLOG (with reset) and the
connected clients."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import (
    Header,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.screens.base import DatabaseScreen
from studio_tui.services.errors import StudioError
from studio_tui.services.redis.edits import RedisEdits
from studio_tui.services.redis.insight import (
    MemorySample,
    clients,
    cluster_nodes,
    info_sections,
    keyspace,
    memory_stats,
    random_memory_sample,
    sample_memory,
    slowlog,
    vitals,
)
from studio_tui.services.redis.keys import display_key
from studio_tui.widgets.catalog_table import CatalogRow, CatalogTable
from studio_tui.widgets.redis.key_list import format_bytes, format_ttl
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter
from studio_tui.widgets.vitals import VitalSparkline, bar
from studio_tui.widgets.status import error_text

if TYPE_CHECKING:
    from studio_tui.services.platform.models import DatabaseEntry
    from studio_tui.services.redis.service import RedisService

CLIENT_FIELDS = ("id", "addr", "name", "age", "idle", "db", "cmd")
VITALS_EVERY = 2.0  # seconds between overview samples
RANDOM_SAMPLE = 10_000  # keys drawn by `s`
MEMORY_FIGURES = ("peak.allocated", "total.allocated", "startup.allocated", "dataset.bytes",
                  "dataset.percentage", "overhead.total", "keys.count", "keys.bytes-per-key",
                  "fragmentation", "allocator.fragmentation.ratio", "clients.normal")


def _memory_figure(name: str, value: object) -> str:
    if isinstance(value, (str, bytes)):  # RESP2 sends floats as strings
        try:
            value = float(value)
        except ValueError:
            return value.decode() if isinstance(value, bytes) else value
    if isinstance(value, (int, float)) and name.endswith(
            ("allocated", "bytes", "overhead.total", "clients.normal", "bytes-per-key")):
        return format_bytes(int(value))
    if isinstance(value, float):
        return f"{value:.2f}" + ("%" if name.endswith("percentage") else "")
    return str(value)


class RedisInsightScreen(DatabaseScreen[int | None]):
    """Dismisses with a logical database number when the user picks one, else None."""

    CSS_PATH = "../../styles/redis_insight.tcss"
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="insight.refresh"),
        Binding("a", "analyze_memory", "Analyze memory", id="insight.analyze"),
        Binding("s", "sample_memory", "Sample memory", show=False, id="insight.sample"),
        Binding("x", "reset_slowlog", "Reset slowlog", id="insight.reset_slowlog"),
    ]

    service: "RedisService"

    def __init__(self, entry: "DatabaseEntry", where: str, service: "RedisService") -> None:
        super().__init__(entry, where, service)
        self.sample: MemorySample | None = None
        self.node: str | None = None  # on a cluster, the node server-wide figures come from

    def compose(self) -> ComposeResult:
        db = "" if self.service.db is None else f" db {self.service.db}"
        yield Header()
        with Horizontal(id="top"):
            yield Breadcrumb(f"{self.where} › {self.entry.name}{db} › server")
            yield Select([], prompt="node: first primary", id="node")
        with TabbedContent(id="tabs"):
            with TabPane("Overview", id="overview"):
                yield VitalSparkline("ops/s", lambda value: f"{value:,.0f}", id="ops")
                yield VitalSparkline("memory", lambda value: format_bytes(int(value)),
                                     id="memory-vital")
                yield Static("Keys per logical database (Enter opens one):", classes="caption")
                yield CatalogTable("DB", "Keys", "With TTL", "Average TTL", id="keyspace-table")
            with TabPane("Memory", id="memory"):
                with VerticalScroll():
                    yield Static("", id="memory-stats")
                    yield Static("a walks every key (SCAN and MEMORY USAGE, esc stops); s "
                                 f"draws a random sample of {RANDOM_SAMPLE:,} keys.",
                                 id="sample-progress")
                    yield Static("", id="top-keys")
                    yield Static("", id="top-prefixes")
            with TabPane("Info", id="info"):
                yield CatalogTable("Section", "Field", "Value", id="info-table")
            with TabPane("Slowlog", id="slowlog"):
                yield CatalogTable("Id", "When", "µs", "Command", "Client", id="slowlog-table")
            with TabPane("Clients", id="clients"):
                yield CatalogTable(*[f.capitalize() for f in CLIENT_FIELDS], id="clients-table")
        yield StatusLine()
        yield StudioFooter()

    def on_mount(self) -> None:
        self.query_one("#node", Select).display = False
        self.find_nodes()
        self.load()
        self.sample_vitals()
        self.set_interval(VITALS_EVERY, self.sample_vitals, name="redis-vitals")

    def action_refresh(self) -> None:
        self.load()

    def action_back(self) -> None:
        running = [w for w in self.workers if w.group == "insight-memory" and w.is_running]
        if not running:
            self.dismiss(None)
            return
        self.workers.cancel_group(self, "insight-memory")  # esc stops a walk before it leaves
        sample = self.sample
        self.query_one("#sample-progress", Static).update(
            f"Stopped after {sample.sampled:,} keys: a partial "
            f"{'walk in SCAN order' if sample.kind == 'walk' else 'sample'}, not the whole "
            "keyspace." if sample else "Stopped.")

    # -- cluster nodes ----------------------------------------------------------------------------
    @work(group="insight-nodes", exclusive=True, exit_on_error=False, description="nodes")
    async def find_nodes(self) -> None:
        try:
            nodes = await cluster_nodes(self.service)
        except StudioError:
            return
        if not nodes:
            return
        picker = self.query_one("#node", Select)
        picker.set_options([(f"{name} ({role})", name) for name, role in nodes])
        picker.display = True

    @on(Select.Changed, "#node")
    def _node_chosen(self, event: Select.Changed) -> None:
        node = None if event.value is Select.NULL else str(event.value)
        if node == self.node:
            return
        self.node = node  # INFO, SLOWLOG, clients, MEMORY STATS and vitals now read this node
        self.query_one("#ops", VitalSparkline).clear()
        self.query_one("#memory-vital", VitalSparkline).clear()
        self.load()
        self.sample_vitals()

    # -- overview -------------------------------------------------------------------------------
    @work(group="insight-vitals", exclusive=True, exit_on_error=False, description="vitals")
    async def sample_vitals(self) -> None:
        try:
            figures = await vitals(self.service, self.node)
        except StudioError:
            return  # the status line already says what is wrong; the next tick retries
        self.query_one("#ops", VitalSparkline).add(figures.ops_per_sec)
        self.query_one("#memory-vital", VitalSparkline).add(figures.used_memory)

    @on(CatalogTable.RowChosen, "#keyspace-table")
    def _database_chosen(self, event: CatalogTable.RowChosen) -> None:
        self.dismiss(int(event.key))

    # -- everything else, on open and on r -------------------------------------------------------
    @work(group="insight-load", exclusive=True, exit_on_error=False, description="server info")
    async def load(self) -> None:
        status = self.status_line
        try:
            sections = await info_sections(self.service, self.node)
            stats = await memory_stats(self.service, self.node)
            slow = await slowlog(self.service, node=self.node)
            connected = await clients(self.service, self.node)
        except StudioError as error:
            self.show_error(error)
            return
        rows = {row.db: row for row in keyspace(sections)}
        current = await self.service.current_db()
        rows_shown = [CatalogRow(str(db), (
            f"{db}{' (open)' if db == current else ''}", f"{row.keys:,}", f"{row.expires:,}",
            format_ttl(row.avg_ttl_ms) if row.avg_ttl_ms else "-"), f"db{db}")
            for db, row in sorted(rows.items())]
        if current not in rows:
            rows_shown.insert(0, CatalogRow(str(current), (f"{current} (open)", "0", "0", "-"),
                                            f"db{current}"))
        self.query_one("#keyspace-table", CatalogTable).set_rows(rows_shown)
        figures = Table.grid(padding=(0, 2))
        figures.add_column(style="bold")
        figures.add_column(justify="right")
        for name in MEMORY_FIGURES:
            if name in stats:
                figures.add_row(name, _memory_figure(name, stats[name]))
        self.query_one("#memory-stats", Static).update(figures)
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

    # -- memory analysis --------------------------------------------------------------------
    def action_analyze_memory(self) -> None:
        self._show_memory_tab()
        self.analyze_memory(random=False)

    def action_sample_memory(self) -> None:
        self._show_memory_tab()
        self.analyze_memory(random=True)

    def _show_memory_tab(self) -> None:
        self.query_one("#tabs", TabbedContent).active = "memory"
        # The biggest keys and the prefixes below them scroll with the arrow keys.
        self.query_one("#memory VerticalScroll").focus()

    @work(group="insight-memory", exclusive=True, exit_on_error=False,
          description="memory analysis")
    async def analyze_memory(self, *, random: bool) -> None:
        progress = self.query_one("#sample-progress", Static)
        delimiter = self.studio.settings.redis_delimiter.encode()
        sample = None
        analysis = (random_memory_sample(self.service, size=RANDOM_SAMPLE, delimiter=delimiter)
                    if random else sample_memory(self.service, delimiter=delimiter))
        try:
            async for sample in analysis:
                self.sample = sample
                progress.update(f"{'Sampling' if random else 'Walking'}… {sample.sampled:,} "
                                f"keys, {format_bytes(sample.bytes)} so far (esc stops it).")
                self._draw_sample(sample)
        except StudioError as error:
            self.show_error(error)
            progress.update(error_text(error))
            return
        if sample is None:
            progress.update("No keys.")
        elif random:
            progress.update(f"A random sample of {sample.sampled:,} keys (RANDOMKEY), spread over "
                            f"the keyspace: {format_bytes(sample.bytes)}. s draws another.")
        else:
            progress.update(f"Every key, walked: {format_bytes(sample.bytes)} in "
                            f"{sample.sampled:,} keys. a walks again.")

    def _draw_sample(self, sample: MemorySample) -> None:
        largest = sample.top[0][0] if sample.top else 0
        keys = Table("Biggest keys", "Type", "Memory", "", box=None, padding=(0, 1),
                     header_style="bold")
        for size, key, type_ in sample.top:
            keys.add_row(Text(display_key(key)[:48]), type_, format_bytes(size), bar(size, largest))
        prefixes = sample.top_prefixes()
        most = prefixes[0][1] if prefixes else 0
        by_prefix = Table("Prefix", "Keys", "Memory", "", box=None, padding=(0, 1),
                          header_style="bold")
        delimiter = self.studio.settings.redis_delimiter
        for prefix, size, count in prefixes:
            name = display_key(prefix) + delimiter + "*" if prefix else "(no prefix)"
            by_prefix.add_row(Text(name[:48]), f"{count:,}", format_bytes(size), bar(size, most))
        self.query_one("#top-keys", Static).update(keys)
        self.query_one("#top-prefixes", Static).update(by_prefix)

    # -- slowlog ----------------------------------------------------------------------------------
    def action_reset_slowlog(self) -> None:
        self.app.push_screen(
            ConfirmModal(f"Reset the slowlog of {self.entry.name}?",
                         "SLOWLOG RESET empties the server's slow command log for everyone.",
                         confirm_label="Reset"),
            lambda confirmed: self.reset() if confirmed else None)

    @work(group="insight-reset", exit_on_error=False, description="reset slowlog")
    async def reset(self) -> None:
        try:
            await RedisEdits(self.service).reset_slowlog(self.node)
        except StudioError as error:
            self.show_error(error)
            return
        self.load()

