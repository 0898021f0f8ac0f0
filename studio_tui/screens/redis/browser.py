"""Browse a Redis keyspace of any size: SCAN pages fill a virtual list as you go, a new pattern
cancels the old scan, and details are fetched only for the rows on screen."""

from __future__ import annotations

import asyncio
import time
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Input, Select

from studio_tui.dialogs.fields import Field, FieldsModal
from studio_tui.screens.redis.edit_actions import RedisEditActions
from studio_tui.screens.base import DatabaseScreen
from studio_tui.services.errors import StudioError
from studio_tui.services.platform.models import DatabaseEntry
from studio_tui.services.redis.keys import display_key, parse_key
from studio_tui.services.redis.service import DEFAULT_SCAN_COUNT, OPS_CAP, RedisService
from studio_tui.services.throttle import OpsThrottle
from studio_tui.widgets.redis.key_list import KeyList
from studio_tui.widgets.redis.namespace_tree import NamespaceTree
from studio_tui.widgets.chrome import Breadcrumb, StatusLine
from studio_tui.widgets.redis.value_panel import COLUMNS, ValuePanel, short

TYPES = ["string", "hash", "list", "set", "zset", "stream", "ReJSON-RL"]
# Keys scanned ahead of the last row on screen; scrolling or `m` asks for more.
LOOKAHEAD = 2000
MORE = 10_000
STRING_PAGE = 65_536  # bytes added to a shown string by each "+"
STATUS_EVERY = 0.25  # seconds between scan progress updates


class RedisBrowserScreen(RedisEditActions, DatabaseScreen[None]):
    CSS_PATH = "../../styles/redis_browser.tcss"
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", id="nav.back"),
        Binding("slash", "pattern", "Pattern", id="redis.pattern"),
        Binding("m", "more", "More", id="redis.more"),
        Binding("a", "scan_all", "Scan all", show=False, id="redis.scan_all"),
        Binding("r", "rescan", "Rescan", show=False, id="redis.rescan"),
        Binding("plus", "more_items", "More of value", show=False, id="redis.value_more"),
        Binding("d", "delete_key", "Delete", id="redis.delete"),
        Binding("T", "set_ttl", "TTL", show=False, id="redis.ttl"),
        Binding("R", "rename_key", "Rename", show=False, id="redis.rename"),
        Binding("c", "console", "Console", id="redis.console"),
        Binding("i", "insight", "Server", id="redis.insight"),
        Binding("v", "toggle_tree", "Tree/list", id="redis.tree"),
        Binding("L", "list_namespace", "List namespace", show=False, id="redis.list_namespace"),
        Binding("tab", "switch_pane", "Keys/value", show=False, id="redis.switch_pane"),
        Binding("y", "copy_key", "Copy key", show=False, id="redis.copy_key"),
        Binding("B", "choose_db", "Database", show=False, id="redis.database"),
        Binding("z", "widen_value", "Wide value", show=False, id="redis.widen_value"),
        Binding("N", "new_key", "New key", id="redis.new_key"),
        Binding("e", "edit_item", "Edit", id="redis.edit"),
        Binding("E", "open_editor", "$EDITOR", show=False, id="redis.editor"),
        Binding("n", "add_item", "Add item", show=False, id="redis.add_item"),
        Binding("x", "remove_item", "Remove item", show=False, id="redis.remove_item"),
        Binding("I", "increment", "Increment", show=False, id="redis.increment"),
        Binding("f", "filter_value", "Filter value", show=False, id="redis.filter_value"),
        Binding("D", "bulk_delete", "Bulk delete", show=False, id="redis.bulk_delete"),
        Binding("S", "set_algebra", "Set algebra", show=False, id="redis.set_algebra"),
    ]

    def __init__(self, entry: DatabaseEntry, where: str) -> None:
        super().__init__(entry, where)
        self._target = LOOKAHEAD
        self._scan_all = False
        self._want_more = asyncio.Event()
        # "scanning", "paused" (enough keys for now) or "done"; tests wait on it too.
        self.scan_state = "done"
        self._calls = 0
        self._dbsize: int | None = None
        # Where the next page of the shown value starts: (key, type, cursor/index/offset/id).
        self._value_next: tuple[bytes, str, object] | None = None
        self._string_shown = bytearray()
        self._string_total = 0
        # The key whose value the pane shows, and its type; edits act on it.
        self.shown: tuple[bytes, str] | None = None
        # A MATCH pattern (hash, set) or "min max" score range (zset) narrowing the value.
        self.value_filter = ""
        self._unsaved: dict[bytes, bytes] = {}
        self.cluster: bool | None = None  # known after the first scan starts
        self._status_at = 0.0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(f"{self.where} › {self.entry.name} (redis)")
        with Horizontal(id="filters"):
            yield Input("*", placeholder="pattern, e.g. user:* (no wildcard = exact key)",
                        id="pattern")
            yield Select([(t, t) for t in TYPES], prompt="any type", id="type")
        with Horizontal(id="panes"):
            yield KeyList(id="keys")
            yield NamespaceTree(id="tree")
            yield ValuePanel(id="detail")
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        tree = self.query_one(NamespaceTree)
        tree.reset(self.studio.settings.redis_delimiter.encode())
        tree.display = False
        self.service = RedisService(self.studio.manager, self.entry.id,
                                    throttle=OpsThrottle(OPS_CAP[self.entry.tier]))
        self.query_one(KeyList).focus()
        self.start_scan()

    def parked_groups(self) -> set[str]:
        return {"redis-scan"} if self.scan_state == "paused" else set()

    # -- scanning ---------------------------------------------------------------------------
    def start_scan(self) -> None:
        keys = self.query_one(KeyList)
        keys.clear()
        tree = self.query_one(NamespaceTree)
        tree.reset(tree.index.delimiter)
        self._target = keys.scrollable_content_region.height + LOOKAHEAD
        self._scan_all = False
        self._calls = 0
        self.scan()

    @work(group="redis-scan", exclusive=True, exit_on_error=False, description="scan keys")
    async def scan(self) -> None:
        pattern = self.query_one("#pattern", Input).value.strip() or "*"
        type_value = self.query_one("#type", Select).value
        type_ = None if type_value is Select.NULL else str(type_value)
        keys = self.query_one(KeyList)
        self.scan_state = "scanning"
        try:
            if self.cluster is None:
                self.cluster = await self.service.is_cluster()
            self._dbsize = await self.service.dbsize()
            async for page in self.service.walk(match=parse_key(pattern), type_=type_):
                self._calls += 1
                keys.append(page.keys)
                self.query_one(NamespaceTree).index.add(page.keys)
                pausing = len(keys) >= self._target and not self._scan_all
                self._progress(done=page.done, now=pausing or page.done)
                while len(keys) >= self._target and not self._scan_all and not page.done:
                    self.scan_state = "paused"
                    self._want_more.clear()
                    await self._want_more.wait()
                    self.scan_state = "scanning"
        except StudioError as error:
            self.scan_state = "done"
            self.show_error(error)
            return
        self.scan_state = "done"
        self._progress(done=True, now=True)

    def _progress(self, *, done: bool, now: bool) -> None:
        """Status line (and tree counts) as pages arrive: each repaint costs a layout, so a few
        a second while the scan runs, and always when it pauses or ends."""
        moment = time.monotonic()
        if not now and moment - self._status_at < STATUS_EVERY:
            return
        self._status_at = moment
        tree = self.query_one(NamespaceTree)
        if tree.display:
            tree.refresh_counts()
        self._show_status(done=done)

    def _show_status(self, *, done: bool) -> None:
        found = len(self.query_one(KeyList))
        scanned = min(self._calls * DEFAULT_SCAN_COUNT, self._dbsize or 0)  # COUNT is a hint
        if done:
            progress = f"scan complete over {self._dbsize or 0:,} keys"
        else:
            progress = (f"scanned ≈{scanned:,} of {self._dbsize or 0:,} · paused, m for more"
                        if not self._scan_all and found >= self._target else
                        f"scanning ≈{scanned:,} of {self._dbsize or 0:,}")
        rate = self.service.throttle.current_rate()
        self.say(
            f"{found:,} key(s) found · {progress}{' (all primaries)' if self.cluster else ''} · "
            f"{rate:.0f} ops/s", layout=False)  # one fixed line: no layout needed

    def action_more(self) -> None:
        self._target += MORE
        self._want_more.set()

    def action_scan_all(self) -> None:
        self._scan_all = True
        self._want_more.set()

    def action_rescan(self) -> None:
        self.start_scan()

    def action_pattern(self) -> None:
        self.query_one("#pattern", Input).focus()

    def action_back(self) -> None:
        keys = self.query_one(KeyList)
        if isinstance(self.focused, Input):
            keys.focus()
        elif keys.marked:
            keys.clear_marks()
            self.say("Marks cleared.")
        else:
            self.dismiss()

    @on(KeyList.MarksChanged)
    def _marks_changed(self, event: KeyList.MarksChanged) -> None:
        self.say(
            f"{event.count:,} key(s) marked · d deletes them · S combines sets · esc clears"
            if event.count else "No keys marked.")

    @on(Input.Submitted, "#pattern")
    def _pattern_submitted(self) -> None:
        self.query_one(KeyList).focus()
        self.start_scan()  # exclusive: the old scan is cancelled

    @on(Select.Changed, "#type")
    def _type_changed(self) -> None:
        if self.is_mounted and hasattr(self, "service"):
            self.start_scan()

    # -- details for what is on screen --------------------------------------------------------
    @on(KeyList.VisibleChanged)
    def _visible(self, event: KeyList.VisibleChanged) -> None:
        if event.end + LOOKAHEAD // 2 > self._target:
            self._target = event.end + LOOKAHEAD
            self._want_more.set()
        keys = self.query_one(KeyList)
        missing = [k for k in keys.keys[event.start:event.end] if keys.info(k) is None]
        if missing:
            self.load_infos(missing)

    @work(group="redis-infos", exclusive=True, exit_on_error=False, description="key details")
    async def load_infos(self, keys: list[bytes]) -> None:
        try:
            infos = await self.service.key_infos(keys)
        except StudioError as error:
            self.show_error(error)
            return
        self.query_one(KeyList).set_infos(infos)

    @on(KeyList.Highlighted)
    def _highlighted(self, event: KeyList.Highlighted) -> None:
        if self.query_one(NamespaceTree).display:
            return  # the list is hidden; the tree decides what the value pane shows
        if event.key is None:
            self.query_one(ValuePanel).clear()
            self._value_next = None
            self.shown = None
        else:
            self.load_value(event.key)

    @work(group="redis-value", exclusive=True, exit_on_error=False, description="load value")
    async def load_value(self, key: bytes, *, keep_row: int = 0) -> None:
        await asyncio.sleep(0.05)  # holding a key down moves fast; wait for it to settle
        panel = self.query_one(ValuePanel)
        if self.shown is None or self.shown[0] != key:
            self.value_filter = ""
        try:
            info = self.query_one(KeyList).info(key) or (await self.service.key_infos([key]))[0]
            preview = await self.service.preview(key, info.type)
            location = await self.service.key_location(key) if self.cluster else None
            panel.show(key, info, preview, location)
            self.shown = (key, info.type)
            self._value_next = None
            if info.type == "string":
                self._string_shown = bytearray(preview.head or b"")
                self._string_total = preview.length or 0
                if self._string_total > len(self._string_shown):
                    self._value_next = (key, "string", len(self._string_shown))
            elif info.type == "ReJSON-RL":
                panel.show_json(await self.service.json_document(key))
            elif info.type in COLUMNS:
                self._value_next = (key, info.type, 0 if info.type != "stream" else b"-")
                if info.type == "stream":
                    panel.show_groups(await self.service.stream_groups(key))
                await self._load_page()
                if 0 < keep_row < panel.items.row_count:
                    panel.items.move_cursor(row=keep_row)
        except StudioError as error:
            self.show_error(error)

    def action_more_items(self) -> None:
        if self._value_next is not None:
            self.run_worker(self._load_page(), group="redis-value-more", exclusive=True,
                            exit_on_error=False)

    async def _load_page(self) -> None:
        if self._value_next is None:
            return
        key, type_, position = self._value_next
        panel = self.query_one(ValuePanel)
        service = self.service
        match = parse_key(self.value_filter) if self.value_filter else None
        try:
            if type_ == "string":
                chunk = await service.string_range(key, int(position), STRING_PAGE)
                self._string_shown += chunk
                end = int(position) + len(chunk)
                panel.show_string(bytes(self._string_shown), self._string_total)
                self._value_next = (key, type_, end) if end < self._string_total else None
                return
            if type_ == "stream":
                page = await service.stream_page(key, position)  # type: ignore[arg-type]
                panel.add_items(page.entries, [(short(entry_id), ", ".join(
                    f"{short(f)}={short(v)}" for f, v in fields.items()))
                    for entry_id, fields in page.entries])
                self._value_next = None if page.last_id is None else (key, type_, page.last_id)
                return
            if type_ == "zset" and self.value_filter:
                low, _, high = self.value_filter.partition(" ")
                page = await service.zset_by_score(key, low, high.strip() or "+inf",
                                                   offset=int(position))
            elif type_ in ("hash", "set"):
                fetch = service.hash_page if type_ == "hash" else service.set_page
                page = await fetch(key, int(position), match=match)
            else:
                fetch = service.list_page if type_ == "list" else service.zset_page
                page = await fetch(key, int(position))
        except StudioError as error:
            self.show_error(error)
            return
        panel.add_items(page.items, [tuple(short(part) for part in item if part is not None)
                                     for item in page.items])
        self._value_next = None if page.done else (key, type_, page.next)

    def action_console(self) -> None:
        from studio_tui.screens.redis.console import RedisConsoleScreen

        self.app.push_screen(RedisConsoleScreen(self.entry, self.where, self.service))

    def action_insight(self) -> None:
        from studio_tui.screens.redis.insight import RedisInsightScreen

        self.app.push_screen(RedisInsightScreen(self.entry, self.where, self.service),
                             lambda db: self.switch_db(db) if db is not None else None)

    def switch_db(self, db: int) -> None:
        """Browse logical database ``db`` of the same server (pools per database, one breaker
        and one ops cap for the server)."""
        self.service = self.service.on_db(db)
        self.breadcrumb_line.update(
            f"{self.where} › {self.entry.name} (redis) db {db}")
        self.query_one(ValuePanel).clear()
        self.shown = None
        self._value_next = None
        self.start_scan()

    def action_choose_db(self) -> None:
        async def choose(values: dict[str, str]) -> str:
            db = int(values["db"].split()[0])
            self.switch_db(db)
            return f"Browsing database {db}."

        async def open_form() -> None:
            from studio_tui.services.redis.insight import database_count, info_sections, keyspace

            try:
                rows = {row.db: row.keys for row in keyspace(await info_sections(self.service))}
                count = await database_count(self.service)
                current = await self.service.current_db()
            except StudioError as error:
                self.show_error(error)
                return
            choices = [f"{db} ({rows.get(db, 0):,} keys)" for db in range(count)]
            self.app.push_screen(
                FieldsModal("Logical database", [Field("db", "Database", choices[current]
                                                       if current < count else "",
                                                       choices=choices)],
                            choose, save_label="Open", submit_on_choice=True),
                self.say)

        self.run_worker(open_form(), group="redis-db", exclusive=True, exit_on_error=False)

    def action_copy_key(self) -> None:
        """The key's name, escaped as shown, to the terminal's clipboard (OSC 52; works over
        SSH where the terminal allows it)."""
        key = self.shown[0] if self.shown else self._selected()
        if key is None:
            return
        self.app.copy_to_clipboard(display_key(key))
        self.say(f"Copied {display_key(key)} to the clipboard.")

    def action_widen_value(self) -> None:
        self.query_one("#panes").toggle_class("-wide-value")

    def action_switch_pane(self) -> None:
        panel = self.query_one(ValuePanel)
        if self.focused is panel.items:
            self.query_one(KeyList).focus()
        elif panel.has_class("-collection"):
            panel.items.focus()

    # -- namespace tree ---------------------------------------------------------------------
    def action_toggle_tree(self) -> None:
        tree = self.query_one(NamespaceTree)
        keys = self.query_one(KeyList)
        tree.display = not tree.display
        keys.display = not tree.display
        # The value pane follows whichever view is showing; a value the other view asked for
        # must not land after the switch.
        self.workers.cancel_group(self, "redis-value")
        self.query_one(ValuePanel).clear()
        self._value_next = None
        self.shown = None
        if tree.display:
            tree.refresh_counts()
            tree.root.expand()
            tree.focus()
        else:
            keys.focus()
            if keys.selected_key is not None:
                self.load_value(keys.selected_key)

    @on(NamespaceTree.KeyHighlighted)
    def _tree_key(self, event: NamespaceTree.KeyHighlighted) -> None:
        self.load_value(event.key)

    def action_list_namespace(self) -> None:
        tree = self.query_one(NamespaceTree)
        prefix = tree.highlighted_prefix
        if tree.display and prefix is not None:
            self.query_one("#pattern", Input).value = display_key(
                prefix + tree.index.delimiter) + "*"
            self.action_toggle_tree()
            self.start_scan()
