"""Write mode in the SQL editor: the statements ran and wrote; commit them or roll them back.
The transaction stays open meanwhile, for a limited time."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static

from studio_tui.dialogs.base import Dialog


class CommitModal(Dialog[bool]):
    """True to commit; False (or esc) rolls back."""

    BINDINGS = [Binding("escape,r", "rollback", "Roll back", id="commit.rollback"),
                Binding("c", "commit", "Commit", id="commit.commit")]

    def __init__(self, database: str, statuses: Sequence[str], window: float) -> None:
        super().__init__()
        self._database = database
        self._statuses = list(statuses)
        self._window = window

    def compose(self) -> ComposeResult:
        shown = self._statuses[:8]
        more = len(self._statuses) - len(shown)
        detail = "\n".join(f"  {status}" for status in shown)
        if more:
            detail += f"\n  … and {more} more"
        with Vertical(id="dialog", classes="danger"):
            yield Label(f"Commit these changes to {self._database}?", id="title", markup=False)
            yield Static(f"{detail}\n\nThe transaction is open and holds its locks until you "
                         f"answer; without an answer it rolls back after {self._window:g}s.",
                         id="detail", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Commit (c)", variant="error", id="commit")
                yield Button("Roll back (r)", variant="primary", id="rollback")

    def on_mount(self) -> None:
        self.query_one("#rollback", Button).focus()  # the safe choice is the default

    @on(Button.Pressed, "#commit")
    def action_commit(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#rollback")
    def action_rollback(self) -> None:
        self.dismiss(False)
