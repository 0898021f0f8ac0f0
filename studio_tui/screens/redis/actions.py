"""What the Redis browser lends its write actions (``key_actions``, ``value_actions``): the
services, and the few ways they reach the user. They see the screen through this and nothing
else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from textual.notifications import SeverityLevel
from textual.screen import ModalScreen

from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.dialogs.fields import Field, FieldsModal, SubmitFields
from studio_tui.services.errors import StudioError

if TYPE_CHECKING:
    from studio_tui.services.redis.edits import RedisEdits
    from studio_tui.services.redis.service import RedisService

ResultType = TypeVar("ResultType")


class OpenDialog(Protocol):  # App.push_screen
    def __call__(self, screen: ModalScreen[ResultType],
                 callback: Callable[[ResultType | None], None]) -> object: ...


class StartWorker(Protocol):  # the screen's run_worker
    def __call__(self, work: Coroutine[Any, Any, None], *, group: str, exclusive: bool,
                 exit_on_error: bool) -> object: ...


class Notify(Protocol):  # the screen's notify
    def __call__(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
                 timeout: float | None = None, markup: bool = True) -> None: ...


@dataclass(frozen=True, slots=True)
class ActionContext:
    """Built by the browser each time a write key is pressed, so it holds the service of the
    logical database browsed now."""

    service: "RedisService"  # reads (the entry's current logical database)
    edits: "RedisEdits"  # every write
    open: OpenDialog
    start: StartWorker
    say: Callable[[str | None], None]  # the status line
    show_error: Callable[[StudioError], None]  # short on the status line, whole behind `!`
    notify: Notify
    # $EDITOR: content and file suffix in, the edited content out (the app suspended meanwhile).
    editor: Callable[[bytes, str], Awaitable[bytes]]
    data_dir: Path  # where text the user could not save is kept
    # Text the user saved in $EDITOR that could not be written (conflict or error): reopened
    # by the next E on that key instead of the server's value.
    unsaved: dict[bytes, bytes]


class WriteActions:
    """The forms, confirmations and background changes every write action uses."""

    def __init__(self, ctx: ActionContext) -> None:
        self.ctx = ctx

    def run(self, change: Awaitable[str | None], *, group: str = "redis-edit",
            exclusive: bool = False) -> None:
        """``change`` in a worker: its message to the status line, a StudioError it raises
        shown as every problem is."""
        async def run() -> None:
            try:
                self.ctx.say(await change)
            except StudioError as error:
                self.ctx.show_error(error)

        self.ctx.start(run(), group=group, exclusive=exclusive, exit_on_error=False)

    def form(self, title: str, fields: list[Field], submit: SubmitFields, *,
             save_label: str = "Save", note: str = "") -> None:
        """A form that stays open, with what was typed, when ``submit`` raises a StudioError;
        the message ``submit`` returns lands on the status line."""
        self.ctx.open(FieldsModal(title, fields, submit, save_label=save_label, note=note),
                      self.ctx.say)

    def confirm(self, title: str, detail: str, change: Callable[[], Awaitable[str]], *,
                confirm_label: str = "Delete") -> None:
        """Ask first (``detail`` says what and how much); run ``change`` only on yes."""
        def then(confirmed: bool | None) -> None:
            if confirmed:
                self.run(change())

        self.ctx.open(ConfirmModal(title, detail, confirm_label=confirm_label), then)
