"""Shows a document save that lost a race: the user's edit beside what is stored now. Nothing
was written; the edit is kept and reopens with the next edit (``e``)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static, TextArea

from studio_tui.dialogs.base import Dialog


class DocumentConflictModal(Dialog[None]):
    DEFAULT_CSS = """
    DocumentConflictModal #dialog { width: 100%; height: 100%; }
    DocumentConflictModal #versions { height: 1fr; }
    DocumentConflictModal .version { width: 1fr; height: 1fr; }
    DocumentConflictModal .version Label { color: $text-muted; text-style: bold; }
    DocumentConflictModal TextArea { height: 1fr; border: round $secondary; }
    DocumentConflictModal #detail { height: auto; }
    """
    BINDINGS = [Binding("escape", "close", "Close", id="modal.cancel")]

    def __init__(self, detail: str, mine: str, stored: str | None, kept: str) -> None:
        super().__init__()
        self._detail = detail
        self._mine = mine
        self._stored = stored
        self._kept = kept

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="danger"):
            yield Label("Not saved: the document changed meanwhile", id="title")
            yield Static(f"{self._detail}\nYour edit is kept (also in {self._kept}); press e to "
                         "reopen it on top of the stored version.", id="detail", markup=False)
            with Horizontal(id="versions"):
                with Vertical(classes="version"):
                    yield Label("your edit")
                    yield TextArea(self._mine, read_only=True, show_line_numbers=False,
                                   id="mine")
                with Vertical(classes="version"):
                    yield Label("stored now" if self._stored is not None else "stored now: deleted")
                    yield TextArea(self._stored or "", read_only=True, show_line_numbers=False,
                                   id="stored")
            with Horizontal(id="buttons"):
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
