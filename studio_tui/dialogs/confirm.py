"""Confirms a destructive action: says what goes and how much, and can ask for the name typed.
The safe choice (Cancel) has the focus; a line says what enter would do, and a cancel says on the
status line that nothing happened."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from studio_tui.dialogs.base import Dialog
from studio_tui.widgets.chrome import StatusLine
from studio_tui.widgets.ordered_input import OrderedInput


# What a confirm label's action leaves undone on a cancel ("Cancelled: nothing deleted.");
# a label not here says "nothing changed"; "" says nothing (a dialog that only informs).
UNDONE = {"Delete": "deleted", "Drop": "dropped", "Remove": "removed", "Kill": "killed",
          "Terminate": "terminated", "Cancel query": "stopped", "Reset": "reset",
          "Run": "run", "Apply": "applied", "Replace": "replaced", "Update": "updated",
          "Suspend": "suspended", "Lift": "lifted", "Done": "", "Close": ""}


class ConfirmModal(Dialog[bool]):
    DEFAULT_CSS = """
    ConfirmModal #hint {
        color: $text-muted;
        text-align: right;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal.cancel")]

    def __init__(self, title: str, detail: str, *, confirm_label: str = "Delete",
                 type_to_confirm: str | None = None) -> None:
        super().__init__()
        self._title = title
        self._detail = detail
        self._confirm_label = confirm_label
        self._expected = type_to_confirm

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="danger"):
            yield Label(self._title, id="title", markup=False)
            yield Static(self._detail, id="detail", markup=False)
            if self._expected is not None:
                yield Label(f"Type {self._expected!r} to confirm:", markup=False)
                yield OrderedInput(placeholder=self._expected, id="typed")
            with Horizontal(id="buttons"):
                yield Button(self._confirm_label, variant="error", id="confirm",
                             disabled=self._expected is not None)
                yield Button("Cancel", id="cancel")
            yield Static("", id="hint", markup=False)

    def on_mount(self) -> None:
        if self._expected is not None:
            self.query_one("#typed", Input).focus()
        else:
            self.query_one("#cancel", Button).focus()  # the safe choice is the default

    def on_descendant_focus(self) -> None:
        self.query_one("#hint", Static).update(self._hint())

    def _hint(self) -> str:
        """What enter does now, and how to reach the other choice."""
        label = self._confirm_label
        focused = self.focused
        if isinstance(focused, Input):
            return f"enter: {label.lower()} once the name matches · esc: cancel"
        if focused is not None and focused.id == "confirm":
            return f"enter: {label.lower()} · tab: Cancel · esc: cancel"
        if self._expected is not None:
            return "enter: cancel · tab: back to the name · esc: cancel"
        return f"enter: cancel · tab/←: {label} · esc: cancel"

    @on(Input.Changed, "#typed")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#confirm", Button).disabled = event.value != self._expected

    @on(Input.Submitted, "#typed")
    def _typed_enter(self, event: Input.Submitted) -> None:
        if event.value == self._expected:
            self.dismiss(True)

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        undone = UNDONE.get(self._confirm_label, "changed")
        below = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else None
        # The screen below says it on its status line (a console has none: its log shows it).
        if undone and below is not None and below.query(StatusLine) and hasattr(below, "say"):
            below.say(f"Cancelled: nothing {undone}.")
        self.dismiss(False)

    # ← and → move between the buttons, as in most dialogs (tab does too).
    def key_left(self) -> None:
        if isinstance(self.focused, Button):
            self.focus_previous(Button)

    def key_right(self) -> None:
        if isinstance(self.focused, Button):
            self.focus_next(Button)
