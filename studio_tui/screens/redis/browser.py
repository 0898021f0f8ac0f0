"""Browse a Redis keyspace of any size: SCAN pages fill a virtual list as you go, a new pattern
cancels the old scan, an interrupted scan resumes from its cursor, and details are fetched only
for the rows on screen."""

from __future__ import annotations

import asyncio
import time
from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Header, Input, Select

from studio_tui.dialogs.redis.database_choice import database_choice
from studio_tui.external_editor import edit_in_editor
from studio_tui.screens.base import DatabaseScreen
from studio_tui.screens.redis.console import RedisConsoleScreen
from studio_tui.screens.redis.insight import RedisInsightScreen
from studio_tui.screens.redis.actions import ActionContext
from studio_tui.screens.redis.key_scan import KeyScan
from studio_tui.screens.redis.key_actions import KeyActions, KeyScope
from studio_tui.screens.redis.value_pages import ValuePages
from studio_tui.screens.redis.value_actions import (
    NOTHING_SHOWN,
    VALUE_ACTIONS,
    ShownValue,
    ValueActions,
)
from studio_tui.services.errors import StudioError
from studio_tui.services.platform.models import DatabaseEntry
from studio_tui.services.redis.edits import RedisEdits
from studio_tui.services.redis.keys import display_key
from studio_tui.services.redis.models import ScanPage
from studio_tui.services.redis.service import OPS_CAP, RedisService
from studio_tui.services.throttle import OpsThrottle
from studio_tui.widgets.redis.key_list import KeyList
from studio_tui.widgets.redis.namespace_tree import NamespaceTree
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter
from studio_tui.widgets.ordered_input import OrderedInput
from studio_tui.widgets.redis.value_panel import ValuePanel

TYPES = ["string", "hash", "list", "set", "zset", "stream", "ReJSON-RL"]
# Keys scanned ahead of the last row on screen; scrolling or `m` asks for more.
LOOKAHEAD = 2000
MORE = 10_000
STATUS_EVERY = 0.25  # seconds between scan progress updates


class RedisBrowserScreen(DatabaseScreen[None]):
    CSS_PATH = "../../styles/redis_browser.tcss"
    BINDINGS = [
        Binding("slash", "pattern", "Pattern", id="redis.pattern"),
        Binding("m", "more", "More", id="redis.more"),
        Binding("a", "scan_all", "Scan all", show=False, id="redis.scan_all"),
        Binding("r", "rescan", "Rescan", show=False, id="redis.rescan"),
        Binding("plus", "more_items", "More of value", show=False, id="redis.value_more"),
        Binding("d", "keys('delete')", "Delete", id="redis.delete"),
        Binding("T", "keys('ttl')", "TTL", id="redis.ttl"),
        Binding("R", "keys('rename')", "Rename", show=False, id="redis.rename"),
        Binding("c", "console", "Console", id="redis.console"),
        Binding("i", "insight", "Server", id="redis.insight"),
        Binding("v", "toggle_tree", "Tree/list", id="redis.tree"),
        Binding("L", "list_namespace", "List namespace", show=False, id="redis.list_namespace"),
        Binding("tab", "switch_pane", "Keys/value", show=False, id="redis.switch_pane"),
        Binding("y", "keys('copy')", "Copy key", show=False, id="redis.copy_key"),
        Binding("B", "choose_db", "Database", show=False, id="redis.database"),
        Binding("z", "widen_value", "Wide value", show=False, id="redis.widen_value"),
        Binding("N", "keys('create')", "New key", id="redis.new_key"),
        # What e, E, n, x, I and f do depends on the shown value's type (value_actions).
        Binding("e", "value('edit')", "Edit", id="redis.edit"),
        Binding("E", "value('editor')", "$EDITOR", show=False, id="redis.editor"),
        Binding("n", "value('add')", "Add item", show=False, id="redis.add_item"),
        Binding("x", "value('remove')", "Remove item", show=False, id="redis.remove_item"),
        Binding("I", "value('increment')", "Increment", show=False, id="redis.increment"),
        Binding("f", "value('filter')", "Filter value", show=False, id="redis.filter_value"),
        Binding("D", "keys('bulk_delete')", "Bulk delete", show=False, id="redis.bulk_delete"),
        Binding("S", "keys('set_algebra')", "Set algebra", show=False, id="redis.set_algebra"),
    ]
    FOOTER_PRIORITY = ("redis.pattern", "redis.edit", "redis.new_key", "redis.delete",
                       "redis.ttl", "redis.more", "redis.tree", "redis.console", "redis.insight")

    WRITE_ACTIONS = frozenset(
        [("keys", name) for name in ("delete", "ttl", "rename", "create", "bulk_delete")]
        + [("value", name) for name in ("edit", "editor", "add", "remove", "increment")])

    def __init__(self, entry: DatabaseEntry, where: str) -> None:
        super().__init__(entry, where)
        self.key_scan = KeyScan()
        self.pages = ValuePages()  # the shown value's filter, and where its next page starts
        # The key whose value the pane shows, and its type; edits act on it.
        self.shown: tuple[bytes, str] | None = None
        self._unsaved: dict[bytes, bytes] = {}
        self.cluster: bool | None = None  # known after the first scan starts
        self._status_at = 0.0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(f"{self.where} › {self.entry.name} (redis){self.read_only_note}")
        with Horizontal(id="filters"):
            yield OrderedInput("*", placeholder="pattern, e.g. user:* (no wildcard = exact key)",
                               id="pattern")
            yield Select([(t, t) for t in TYPES], prompt="any type", id="type")
        with Horizontal(id="panes"):
            yield KeyList(id="keys")
            yield NamespaceTree(id="tree")
            yield ValuePanel(id="detail")
        yield StatusLine()
        yield StudioFooter()

    def on_mount(self) -> None:
        tree = self.query_one(NamespaceTree)
        tree.reset(self.studio.settings.redis_delimiter.encode())
        tree.display = False
        self.service = RedisService(self.studio.manager, self.entry.id,
                                    throttle=OpsThrottle(OPS_CAP[self.entry.tier]))
        self.query_one(KeyList).focus()
        self.start_scan()

    @property
    def scan_state(self) -> str:
        """The key scan's: "scanning", "paused", "interrupted" or "done"."""
        return self.key_scan.state

    def parked_groups(self) -> set[str]:
        return {"redis-scan"} if self.scan_state == "paused" else set()

    # -- scanning ---------------------------------------------------------------------------
    def start_scan(self) -> None:
        keys = self.query_one(KeyList)
        keys.clear()
        tree = self.query_one(NamespaceTree)
        tree.reset(tree.index.delimiter)
        self.key_scan.restart(*self._scan_filter(),
                              target=keys.scrollable_content_region.height + LOOKAHEAD)
        self.scan()

    @work(group="redis-scan", exclusive=True, exit_on_error=False, description="scan keys")
    async def scan(self) -> None:
        keys = self.query_one(KeyList)
        try:
            if self.cluster is None:
                self.cluster = await self.service.is_cluster()
            await self.key_scan.run(self.service, lambda: len(keys), self._page_arrived)
        except StudioError as error:
            self.key_scan.state = "interrupted"
            self.show_error(error)  # whole in `!`; here what it did to the scan
            self.say(Text.assemble((f"Scan stopped ({error.title})", "bold red"),
                                   f" at {self.key_scan.covered()} keys · a or m resumes, "
                                   "r restarts"))
            return
        self._progress(done=True, now=True)

    def _page_arrived(self, page: ScanPage, pausing: bool) -> None:
        self.query_one(KeyList).append(page.keys)
        self.query_one(NamespaceTree).index.add(page.keys)
        self._progress(done=page.done, now=pausing or page.done)

    def _scan_filter(self) -> tuple[str, str | None]:
        """The pattern and the type the keys are scanned with."""
        type_value = self.query_one("#type", Select).value
        return (self.query_one("#pattern", Input).value.strip() or "*",
                None if type_value is Select.NULL else str(type_value))

    def _progress(self, *, done: bool, now: bool) -> None:
        """Status line (and tree counts) as pages arrive: each repaint costs a layout, so a few
        a second while the scan runs, and always when it pauses or ends."""
        moment = time.monotonic()
        if not now and moment - self._status_at < STATUS_EVERY:
            return
        self._status_at = moment
        tree = self.query_one(NamespaceTree)
        if tree.display:
            tree.refresh_counts(complete=done)
        self._show_status(done=done)

    def _show_status(self, *, done: bool) -> None:
        found = len(self.query_one(KeyList))
        progress = self.key_scan.describe(found, done=done)
        rate = self.service.throttle.current_rate()
        self.say(
            f"{found:,} key(s) found · {progress}{' (all primaries)' if self.cluster else ''} · "
            f"{rate:.0f} ops/s", layout=False)  # one fixed line: no layout needed

    def action_more(self) -> None:
        self.key_scan.target += MORE
        self._go_on()

    def action_scan_all(self) -> None:
        self.key_scan.everything = True
        self._go_on()

    def _go_on(self) -> None:
        """Wake a paused scan, or resume an interrupted one from its cursor."""
        scan = self.key_scan
        if scan.state != "interrupted":
            scan.want_more.set()
            return
        scan.resume()
        self.say(f"Resuming the scan from cursor {scan.cursor} ({scan.progress()})…")
        self.scan()

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
        if event.end + LOOKAHEAD // 2 > self.key_scan.target:
            self.key_scan.target = event.end + LOOKAHEAD
            self.key_scan.want_more.set()
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
            self._clear_value()
        else:
            self.load_value(event.key)

    @work(group="redis-value", exclusive=True, exit_on_error=False, description="load value")
    async def load_value(self, key: bytes, *, keep_row: int = 0) -> None:
        await asyncio.sleep(0.05)  # holding a key down moves fast; wait for it to settle
        panel = self.query_one(ValuePanel)
        if self.shown is None or self.shown[0] != key:
            self.pages.filter = ""
            self.shown = None
            panel.show_loading(key)  # never the previous key's value while this one is on its way
        try:
            info = self.query_one(KeyList).info(key) or (await self.service.key_infos([key]))[0]
            preview = await self.service.preview(key, info.type)
            location = await self.service.key_location(key) if self.cluster else None
            panel.show(key, info, preview, location)
            self.shown = (key, info.type)
            await self.pages.first(self.service, panel, key, preview, keep_row=keep_row)
        except StudioError as error:
            self.show_error(error)
            panel.show_failed(key, error)

    @work(group="redis-value-more", exclusive=True, exit_on_error=False, description="more")
    async def action_more_items(self) -> None:
        try:
            await self.pages.more(self.service, self.query_one(ValuePanel))
        except StudioError as error:
            self.show_error(error)

    def _clear_value(self) -> None:
        self.query_one(ValuePanel).clear()
        self.pages.next = None
        self.shown = None

    def action_console(self) -> None:
        self.app.push_screen(RedisConsoleScreen(self.entry, self.where, self.service))

    def action_insight(self) -> None:
        self.app.push_screen(RedisInsightScreen(self.entry, self.where, self.service),
                             lambda db: self.switch_db(db) if db is not None else None)

    def switch_db(self, db: int) -> None:
        """Browse logical database ``db`` of the same server (pools per database, one breaker
        and one ops cap for the server)."""
        self.service = self.service.on_db(db)
        self.breadcrumb_line.update(
            f"{self.where} › {self.entry.name} (redis) db {db}{self.read_only_note}")
        self._clear_value()
        self.start_scan()

    def action_choose_db(self) -> None:
        async def open_form() -> None:
            try:
                form = await database_choice(self.service, self.switch_db)
            except StudioError as error:
                self.show_error(error)
                return
            self.app.push_screen(form, self.say)

        self.run_worker(open_form(), group="redis-db", exclusive=True, exit_on_error=False)

    def action_widen_value(self) -> None:
        self.query_one("#panes").toggle_class("-wide-value")

    def action_switch_pane(self) -> None:
        """Between the keys (or the tree) and the value: a collection's table, or the text of
        a string or JSON document, which then scrolls with the arrow and page keys."""
        panel = self.query_one(ValuePanel)
        if self.focused in (panel, panel.items):
            tree = self.query_one(NamespaceTree)
            (tree if tree.display else self.query_one(KeyList)).focus()
        elif panel.has_class("-collection"):
            panel.items.focus()
        elif panel.can_focus:
            panel.focus()

    # -- namespace tree ---------------------------------------------------------------------
    def action_toggle_tree(self) -> None:
        tree = self.query_one(NamespaceTree)
        keys = self.query_one(KeyList)
        tree.display = not tree.display
        keys.display = not tree.display
        # The value pane follows whichever view is showing; a value the other view asked for
        # must not land after the switch.
        self.workers.cancel_group(self, "redis-value")
        self._clear_value()
        if tree.display:
            tree.refresh_counts(complete=self.scan_state == "done")
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

    # -- writes: whole keys (key_actions) and the shown value (value_actions) -------------------
    def _write_context(self) -> ActionContext:
        return ActionContext(
            service=self.service, edits=RedisEdits(self.service), open=self.app.push_screen,
            start=self.run_worker, say=self.say, show_error=self.show_error, notify=self.notify,
            editor=partial(edit_in_editor, self.studio_app),
            data_dir=self.studio.settings.data_dir, unsaved=self._unsaved)

    def action_keys(self, name: str) -> None:
        """d, T, R, N, D, S and y (key_actions)."""
        pattern, type_ = self._scan_filter()
        KeyActions(self._write_context(), KeyScope(
            self.query_one(KeyList), self.entry.name, self.shown, pattern, type_,
            rescan=self.start_scan, show_members=self._show_members,
            copy=self.app.copy_to_clipboard, reload=self.load_value)).perform(name)

    def _show_members(self, title: str, members: list[bytes], count: int) -> None:
        self.query_one(ValuePanel).show_members(title, members, count)
        self.shown = None

    def action_value(self, name: str) -> None:
        """e, E, n, x, I and f, as the shown value's type has them (value_actions)."""
        if self.shown is None:
            self.say(NOTHING_SHOWN.get(name))
            return
        key, type_ = self.shown
        panel = self.query_one(ValuePanel)
        VALUE_ACTIONS.get(type_, ValueActions)(self._write_context(), ShownValue(
            key, type_, panel.selected_item(), self.pages.filter,
            reload=lambda: self.load_value(key, keep_row=panel.items.cursor_row),
            set_filter=self.pages.narrow)).perform(name)
