"""What every screen shares: typed access to the app, the studio and the navigator; the
breadcrumb and the status line; and one way to show a problem (short on the status line, whole
in the error view, `!`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker

from studio_tui.logs import log_failed_worker
from studio_tui.services.errors import StudioError
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, forget_closed_watchers
from studio_tui.widgets.status import error_text

if TYPE_CHECKING:
    from studio_tui.app import StudioApp
    from studio_tui.navigation import Navigator
    from studio_tui.services.platform.models import DatabaseEntry
    from studio_tui.services.studio import Studio

ResultType = TypeVar("ResultType")


class StudioScreen(Screen[ResultType]):
    BINDINGS = [Binding("escape,backspace", "back", "Back", id="nav.back")]
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
        crumbs = self.query(Breadcrumb)
        self.studio_app.problems.add(error, str(crumbs.first().content) if crumbs else "")
        self.say(error_text(error))

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

    def __init__(self, entry: "DatabaseEntry", where: str, service: Any = None) -> None:
        super().__init__()
        self.entry = entry
        self.where = where
        if service is not None:
            self.service = service
