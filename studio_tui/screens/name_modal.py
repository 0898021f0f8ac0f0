"""Asks for a name (new or renamed organization or project) and keeps it if saving fails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from studio_tui.services.errors import StudioError

Submit = Callable[[str], Awaitable[Any]]


class NameModal(ModalScreen[Any]):
    """Dismisses with whatever ``submit`` returned, or None when cancelled."""

    CSS_PATH = "../styles/modals.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal.cancel")]

    def __init__(self, title: str, submit: Submit, *, value: str = "",
                 placeholder: str = "name") -> None:
        super().__init__()
        self._title = title
        self._submit = submit
        self._value = value
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self._title, id="title", markup=False)
            yield Input(self._value, placeholder=self._placeholder, id="name")
            yield Static("", id="error", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.save(self.query_one("#name", Input).value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @work(group="name-save", exclusive=True, exit_on_error=False, description="save name")
    async def save(self, name: str) -> None:
        try:
            result = await self._submit(name)
        except StudioError as error:
            message = next(iter(error.field_errors.values()), "") if error.field_errors else ""
            self.query_one("#error", Static).update(
                Text.assemble((error.title, "bold"), ": ", error.detail or message))
            self.query_one("#name", Input).focus()
            return
        self.dismiss(result)
