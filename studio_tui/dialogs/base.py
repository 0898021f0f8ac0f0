"""What every dialog looks like: centred over a dimmed screen, narrow enough for 80x24, with a
title, an error line and a row of buttons. Each dialog adds its own few rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

from textual.screen import ModalScreen
from textual.worker import Worker

from studio_tui.logs import log_failed_worker

if TYPE_CHECKING:
    from studio_tui.app import StudioApp
    from studio_tui.services.errors import StudioError

ResultType = TypeVar("ResultType")


class Dialog(ModalScreen[ResultType]):
    DEFAULT_CSS = """
    Dialog {
        align: center middle;
        background: $background 60%;
    }
    Dialog #dialog {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    Dialog #dialog.danger {
        border: thick $error;
    }
    Dialog #dialog #title {
        text-style: bold;
        width: 100%;
        padding: 0 0 1 0;
    }
    Dialog #dialog #error {
        color: $text-error;
        height: auto;
    }
    Dialog #dialog #buttons {
        height: auto;
        align-horizontal: right;
        padding-top: 1;
    }
    Dialog #dialog #buttons Button {
        margin-left: 1;
        height: 1;
        min-width: 10;
        border: none;
    }
    Dialog Input {
        border: none;
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    /* Widgets' own :focus rules outrank the plain ones above, so repeat the border here. */
    Dialog Input:focus {
        border: none;
        background: $primary 25%;
    }
    Dialog Input.-invalid, Dialog Input.-invalid:focus {
        border: none;
    }
    Dialog Select > SelectCurrent {
        border: none;
        height: 1;
        padding: 0 1;
    }
    Dialog Select:focus > SelectCurrent {
        border: none;
        background: $primary 25%;
    }
    """

    @property
    def studio_app(self) -> "StudioApp":
        return cast("StudioApp", self.app)

    def remember(self, error: "StudioError") -> None:
        """Keep the whole problem for `!`; the dialog shows it short, where it happened."""
        titles = self.query("#title")
        where = str(titles.first().content) if titles else type(self).__name__
        self.studio_app.problems.add(error, where)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        log_failed_worker(event.worker)
