"""Shows a document save that lost a race: the user's edit beside what is stored now. Nothing
was written; the edit is kept (in the data directory too), and ``then`` says how to get it back:
the next ``e`` reopens a whole-document edit, a field's form stays open under this view."""

from __future__ import annotations

import difflib

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static, TextArea

from studio_tui.dialogs.base import Dialog


NEAR_TOP = 8  # lines
REOPEN = "press e to reopen it on top of the stored version."


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

    def __init__(self, detail: str, mine: str, stored: str | None, kept: str,
                 then: str = REOPEN) -> None:
        super().__init__()
        self._then = then
        self._detail = detail
        self._mine = mine
        self._stored = stored
        self._kept = kept

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="danger"):
            yield Label("Not saved: the document changed meanwhile", id="title")
            yield Static(f"{self._detail}\nAlso kept in {self._kept}; {self._then}",
                         id="detail", markup=False)
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
        if self._stored is None:
            return
        # Both sides open at the first line that differs: in a big document it may be far down.
        mine, stored = self._mine.splitlines(), self._stored.splitlines()
        changes = [opcode for opcode in difflib.SequenceMatcher(
            None, mine, stored, autojunk=False).get_opcodes() if opcode[0] != "equal"]
        if not changes:
            return
        _, mine_line, _, stored_line, _ = changes[0]
        for name, line in (("#mine", mine_line), ("#stored", stored_line)):
            if line > NEAR_TOP:  # near the top, the document's start stays in view
                self.query_one(name, TextArea).move_cursor((line, 0), center=True)
        lines = ", ".join(str(opcode[1] + 1) for opcode in changes[:8])
        more = " …" if len(changes) > 8 else ""
        self.query_one("#title", Label).update(
            f"Not saved: the document changed meanwhile ({len(changes)} difference"
            f"{'s' if len(changes) != 1 else ''}, at your line {lines}{more})")

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
