"""Confirms a destructive action: says what goes and how much, and can ask for the name typed."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from studio_tui.dialogs.base import Dialog
from studio_tui.widgets.ordered_input import OrderedInput


class ConfirmModal(Dialog[bool]):
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

    def on_mount(self) -> None:
        if self._expected is not None:
            self.query_one("#typed", Input).focus()
        else:
            self.query_one("#cancel", Button).focus()  # the safe choice is the default

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
        self.dismiss(False)
