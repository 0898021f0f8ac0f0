"""What every screen shares: typed access to the app, the studio and the navigator; the
breadcrumb and the status line; and one way to show a problem (short on the status line, whole
in the error view, `!`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from rich.text import Text
from textual import events
from textual.actions import parse as parse_action
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker

from studio_tui.logs import log_failed_worker
from studio_tui.services.errors import StudioError
from studio_tui.frozen_heap import GIVE_BACK_EVERY
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, forget_closed_watchers
from studio_tui.widgets.status import error_text

if TYPE_CHECKING:
    from studio_tui.app import StudioApp
    from studio_tui.navigation import Navigator
    from studio_tui.services.platform.models import DatabaseEntry
    from studio_tui.services.studio import Studio

ResultType = TypeVar("ResultType")


class StudioScreen(Screen[ResultType]):
    BINDINGS = [Binding("escape,backspace", "back", "Back", id="nav.back"),
                Binding("question_mark", "app.help", "Help", id="app.help")]
    # The binding ids a narrow footer keeps first, most used first (Help always leads: it
    # lists every key); the others follow in order while they fit (widgets/chrome.py).
    FOOTER_PRIORITY: tuple[str, ...] = ()
    @property
    def studio_app(self) -> "StudioApp":
        """The app, typed: the one place a screen reaches for it."""
        return cast("StudioApp", self.app)

    @property
    def studio(self) -> "Studio":
        return self.studio_app.studio

    @property
    def nav(self) -> "Navigator":
        return self.studio_app.nav

    @property
    def breadcrumb_line(self) -> Breadcrumb:
        return self.query_one(Breadcrumb)

    @property
    def status_line(self) -> StatusLine:
        return self.query_one(StatusLine)

    def say(self, message: str | Text | None, *, layout: bool = True) -> None:
        """Put ``message`` on the status line; None (a cancelled form) leaves it as it is.
        ``layout=False`` skips the relayout, for updates many times a second."""
        if message:
            self.status_line.update(message, layout=layout)

    def show_error(self, error: StudioError) -> None:
        """Every problem goes through here: short on the status line, kept whole for `!`."""
        self.remember(error)
        self.say(error_text(error))

    def remember(self, error: StudioError) -> None:
        """Keep the whole problem for `!`, for a screen that shows it its own way."""
        crumbs = self.query(Breadcrumb)
        self.studio_app.problems.add(error, str(crumbs.first().content) if crumbs else "")

    def action_back(self) -> None:
        self.dismiss()

    def on_unmount(self) -> None:
        """Let go of what Textual would keep of this screen after it has gone. Each screen opened
        and left kept about 13,000 objects alive for good, walked by every full collection after
        that (which grew from 10 to 140 ms over a session)."""
        forget_closed_watchers(self.app)  # its Header watched the app's title
        # StylesCache.get_inner_outer is an lru_cache on a method: it holds up to 1024 widgets'
        # style caches, and every line they rendered.
        from textual._styles_cache import StylesCache

        StylesCache.get_inner_outer.cache_clear()

    def on_screen_resume(self) -> None:
        # Back from a screen that was left (it may unmount just after this): its memory goes
        # back once it has really gone.
        self.set_timer(GIVE_BACK_EVERY, self._give_back)

    def _give_back(self) -> None:
        heap = self.studio_app.frozen_heap
        heap.look_for_left_screens()
        if heap.waiting:
            self.set_timer(GIVE_BACK_EVERY, self._give_back)

    def parked_groups(self) -> set[str]:
        """Worker groups that wait on the user rather than on I/O (a scan paused until more keys
        are wanted): a screen with only these running has settled."""
        return set()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        log_failed_worker(event.worker)


class DatabaseScreen(StudioScreen[ResultType]):
    """A screen about one database entry: a kind's browser (opened from ``screens/browsers.py``
    with the entry and where it sits, ``org › project``) or one of its tools, which also get the
    browser's service."""

    # The actions that write, as (action, its first parameter or None): on a read-only entry
    # their keys are dimmed and do nothing (the services refuse the writes in any case).
    WRITE_ACTIONS: frozenset[tuple[str, str | None]] = frozenset()

    def __init__(self, entry: "DatabaseEntry", where: str, service: Any = None) -> None:
        super().__init__()
        self.entry = entry
        self.where = where
        if service is not None:
            self.service = service

    @property
    def write_refusal(self) -> str:
        """Why this entry takes no writes from the user: its read-only flag, or a role that may
        not write ('' when it does)."""
        refusal = getattr(self, "_write_refusal", None)
        if refusal is None:
            refusal = self._write_refusal = self.studio.catalog.write_refusal(self.entry)
        return refusal

    @property
    def read_only(self) -> bool:
        return bool(self.write_refusal)

    @property
    def read_only_note(self) -> str:
        """What the breadcrumb adds for a read-only entry (or a role that cannot write)."""
        if self.entry.read_only:
            return " · read-only"
        return " · read-only role" if self.read_only else ""

    def _is_write(self, action: str, parameters: tuple[object, ...]) -> bool:
        return (action, parameters[0] if parameters else None) in self.WRITE_ACTIONS

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.read_only and self._is_write(action, parameters):
            return None  # shown dimmed: this entry takes no writes
        return True

    def on_key(self, event: events.Key) -> None:
        # A dimmed write key does nothing; say why rather than nothing at all.
        if not self.read_only:
            return  # every key would otherwise pay for the screen's bindings being gathered
        active = self.active_bindings.get(event.key)
        if active is not None and not active.enabled:
            _, name, parameters = parse_action(active.binding.action)
            if self._is_write(name, parameters):
                self.say(f"{self.write_refusal}: "
                         f"{active.binding.description.lower()} is off.")

    def on_unmount(self) -> None:
        # What the browser held (a million keys, say) goes back to the system once the screen
        # has really gone; the screen below looks after it (nothing is scheduled from here: a
        # timer made in this handler keeps this screen alive while it waits).
        self.studio_app.frozen_heap.left(self)
