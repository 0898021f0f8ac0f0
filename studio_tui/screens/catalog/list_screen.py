"""What the organization, project and database lists share: layout, loading, back, status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Header, Input

from studio_tui.screens.base import StudioScreen
from studio_tui.services.errors import StudioError, VaultError
from studio_tui.services.platform.rbac import Permission
from studio_tui.widgets.catalog_table import CatalogRow, CatalogTable
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter


class CatalogScreen(StudioScreen[None]):
    """Subclasses set COLUMNS and implement ``breadcrumb``, ``fetch_rows`` and ``choose``."""

    COLUMNS: tuple[str, ...] = ()
    IS_ROOT = False
    # Keys typed before the first rows are in (a fast typist, a laggy link, a browser tab) are
    # kept and replayed on the rows, not lost on an empty table: the table's own actions.
    TYPE_AHEAD = {"up": "cursor_up", "down": "cursor_down", "enter": "select_cursor"}
    BINDINGS = [
        Binding("r", "refresh", "Refresh", show=False, id="list.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        # key → the record behind each row (Organization, Project, DatabaseEntry).
        self.items: dict[str, object] = {}
        self._next_status: str | None = None
        self._loaded_once = False
        self._covered_by_screen = False
        self._typed_ahead: list[str] | None = []  # None once the first load has ended

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(self.breadcrumb())
        yield CatalogTable(*self.COLUMNS)
        yield StatusLine("Loading…")
        yield StudioFooter()

    @property
    def rows(self) -> CatalogTable:
        return self.query_one(CatalogTable)

    def breadcrumb(self) -> str:
        raise NotImplementedError

    async def fetch_rows(self) -> list[CatalogRow]:
        raise NotImplementedError

    def choose(self, key: str) -> None:
        """Enter on a row."""

    def summary(self, rows: list[CatalogRow]) -> str:
        return f"{len(rows)} item(s)"

    def on_key(self, event: events.Key) -> None:
        if (self._typed_ahead is not None and event.key in self.TYPE_AHEAD
                and not isinstance(self.app.focused, Input)):  # the filter's enter is its own
            event.stop()
            event.prevent_default()
            self._typed_ahead.append(event.key)

    def _replay_typed_ahead(self) -> None:
        typed, self._typed_ahead = self._typed_ahead or [], None
        table = self.rows.table
        for index, key in enumerate(typed):
            getattr(table, f"action_{self.TYPE_AHEAD[key]}")()
            if key == "enter" and table.row_count:
                # The row opens a screen (a message away): what was typed after the enter is
                # that screen's, handed on when it covers this one.
                self._typed_ahead = typed[index + 1:]
                self.set_timer(1.0, self._stop_typing_ahead)
                return

    def _stop_typing_ahead(self) -> None:
        """The enter opened nothing (an error said why): keys go to the list again."""
        if self.is_current:
            self._typed_ahead = None

    def _hand_on_typed_ahead(self) -> None:
        typed, self._typed_ahead = self._typed_ahead or [], None
        successor = self.app.screen
        if isinstance(successor, CatalogScreen) and successor._typed_ahead is not None:
            successor._typed_ahead[:0] = typed
        else:
            for key in typed:
                self.app.simulate_key(key)

    def on_mount(self) -> None:
        self.rows.focus_table()
        # Paint first, then open the catalog: its imports and I/O would delay the first frame.
        self.call_after_refresh(self.load)

    def on_screen_suspend(self) -> None:
        # A dialog over the list (a form reloads it itself when it saved; the command bar and
        # the palette change nothing) is no reason to reload when it closes: that reload would
        # compete with the database the command bar or the palette is opening.
        self._covered_by_screen = not isinstance(self.app.screen, ModalScreen)
        if self._loaded_once and self._typed_ahead is not None:
            self._hand_on_typed_ahead()

    def on_screen_resume(self) -> None:
        # Coming back from a child screen: counts or names may have changed there.
        if self._loaded_once and self._covered_by_screen:
            self.load()

    def action_refresh(self) -> None:
        self.load()

    # Actions that change the catalog (organizations, projects, database entries): dimmed when
    # the role in ``edited_org_id()`` may not (the services refuse them in any case).
    CATALOG_EDITS: frozenset[str] = frozenset()

    def edited_org_id(self) -> str | None:
        """The organization this list's edits change; None when it is not one (not checked)."""
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back" and self.IS_ROOT:
            return False
        if action in self.CATALOG_EDITS and self.studio.is_open:
            org_id = self.edited_org_id()
            if org_id is not None and not self.studio.catalog.can(Permission.MANAGE_CATALOG,
                                                                  org_id):
                return None  # dimmed: the role may not change the catalog here
        return True

    def action_back(self) -> None:
        if not self.rows.clear_filter() and not self.IS_ROOT:
            self.dismiss()

    @work(group="catalog-load", exclusive=True, exit_on_error=False, description="load the list")
    async def load(self) -> None:
        try:
            await self.studio.open()
            rows = await self.fetch_rows()
        except VaultError as error:
            self.studio_app.fail(error)
            return
        except StudioError as error:
            self._typed_ahead = None  # typed for rows that did not come
            self.show_error(error)
            return
        self._loaded_once = True
        self.rows.set_rows(rows)
        notices, self.studio.notices = self.studio.notices, []  # shown once
        message, self._next_status = self._next_status, None
        self.say(message or (" · ".join(notices) if notices else self.summary(rows)))
        self.after_load(rows)
        if self._typed_ahead is not None:
            self.call_after_refresh(self._replay_typed_ahead)
        # What the app built so far lives as long as the app: keep it out of full collections.
        self.call_after_refresh(self.studio_app.frozen_heap.freeze_long_lived)

    def after_load(self, rows: list[CatalogRow]) -> None:
        """Hook for follow-up work once the rows are on screen."""

    @work(group="catalog-change", exit_on_error=False, description="change the catalog")
    async def run_change(self, change: Callable[[], Awaitable[str]]) -> None:
        """Run a catalog change, then reload; ``change`` returns the message to show."""
        try:
            message = await change()
        except StudioError as error:
            self.show_error(error)
            return
        self._next_status = message
        self.load()

    def selected_item(self) -> object | None:
        key = self.rows.selected_key
        return None if key is None else self.items.get(key)

    @on(CatalogTable.RowChosen)
    def _row_chosen(self, event: CatalogTable.RowChosen) -> None:
        self.choose(event.key)
