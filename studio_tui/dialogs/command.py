"""`:` opens a one-line prompt at the bottom, k9s style, with completion from the catalog."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

from studio_tui.widgets.ordered_input import OrderedInput

# Runs the command; returns an error message to show, or None when it was done.
RunCommand = Callable[[str], str | None]


class CommandModal(ModalScreen[None]):
    # A bar at the bottom, k9s style.
    DEFAULT_CSS = """
    CommandModal {
        align: center bottom;
        background: transparent;
    }
    CommandModal #command-bar {
        height: auto;
        width: 100%;
        background: $surface;
        dock: bottom;
    }
    CommandModal #error {
        color: $text-error;
        height: auto;
        padding: 0 1;
    }
    CommandModal Input, CommandModal Input:focus {
        border: none;
        height: 1;
        background: $boost;
    }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="command.cancel"),
        Binding("tab", "complete", "Complete", id="command.complete"),
    ]

    def __init__(self, run: RunCommand, suggestions: list[str]) -> None:
        super().__init__()
        self._run = run
        self._suggestions = suggestions
        # What tab goes through, and which one is shown; a new text starts them again.
        self._cycle: list[str] = []
        self._at = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="command-bar"):
            yield Static("", id="error", markup=False)
            yield OrderedInput(placeholder=":dbs  :open <db>  :health  :quit   (Tab completes)",
                               suggester=SuggestFromList(self._suggestions,
                                                         case_sensitive=False),
                               id="command")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def action_complete(self) -> None:
        """Tab completes what is typed with the first suggestion; tab again goes on to the next
        (`:theme <tab> <tab>` goes through the themes)."""
        from studio_tui.commands import completing

        command = self.query_one(Input)
        if self._cycle and command.value == self._cycle[self._at]:
            self._at = (self._at + 1) % len(self._cycle)
        else:
            self._cycle, self._at = completing(command.value, self._suggestions), 0
            if not self._cycle:
                return
        command.value = self._cycle[self._at]
        command.action_end()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        # Close first: the command may push a screen, which must go on top of the one below.
        error = self._run_after_close(event.value)
        if error:
            self.query_one("#error", Static).update(error)

    def _run_after_close(self, text: str) -> str | None:
        from studio_tui.commands import UnknownCommand, parse_command

        try:
            parse_command(text)
        except UnknownCommand as error:
            return str(error)
        self.dismiss(None)
        self.app.call_later(self._run, text)
        return None

    def action_cancel(self) -> None:
        self.dismiss(None)
