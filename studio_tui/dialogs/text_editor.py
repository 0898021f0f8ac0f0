"""Edits a few lines of text (a pipeline stage, a batch of operations) in a text area, or in
$EDITOR with ctrl+o; ``check`` reads the text on save, and when it refuses, the reason is shown
and everything typed stays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static, TextArea

from studio_tui.dialogs.base import Dialog
from studio_tui.external_editor import EditorNotStarted, edit_in_editor
from studio_tui.services.errors import StudioError


class TextEditorModal(Dialog[str | None]):
    """Dismisses with the text once ``check(text)`` accepts it (raises nothing), or None."""

    DEFAULT_CSS = """
    TextEditorModal #dialog { width: 100; }
    TextEditorModal TextArea { height: 12; }
    TextEditorModal #hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal.cancel"),
                Binding("ctrl+s", "save", "Save", id="modal.save"),
                Binding("ctrl+o", "external", "$EDITOR", id="modal.external_editor")]

    def __init__(self, title: str, text: str, check: Callable[[str], Any], *,
                 hint: str = "", suffix: str = ".json") -> None:
        super().__init__()
        self._title = title
        self._text = text
        self._check = check
        self._hint = hint
        self._suffix = suffix

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self._title, id="title", markup=False)
            yield TextArea(self._text, id="text", soft_wrap=True, tab_behavior="focus",
                           show_line_numbers=True)
            yield Static(self._hint or "ctrl+s saves · ctrl+o opens $EDITOR · esc cancels",
                         id="hint", markup=False)
            yield Static("", id="error", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        try:
            self._check(self.text)
        except StudioError as error:
            self.remember(error)
            self.query_one("#error", Static).update(
                Text.assemble((error.title, "bold"), ": ", error.detail))
            return
        self.dismiss(self.text)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_external(self) -> None:
        self.edit_outside()

    @work(group="text-editor", exclusive=True, exit_on_error=False, description="$EDITOR")
    async def edit_outside(self) -> None:
        try:
            edited = await edit_in_editor(self.studio_app, self.text.encode(), self._suffix)
        except EditorNotStarted as error:
            self.query_one("#error", Static).update(str(error))
            return
        self.query_one(TextArea).text = edited.decode("utf-8", errors="replace")
        self.action_save()
