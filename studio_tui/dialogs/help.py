"""`?`: every key binding of the screen underneath, with its id for remapping, and the commands."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static

from studio_tui.dialogs.base import Dialog

from studio_tui.commands import COMMAND_HELP


class HelpModal(Dialog[None]):
    DEFAULT_CSS = """
    HelpModal #dialog {
        width: 80;
    }
    HelpModal #keys {
        height: auto;
        max-height: 12;
    }
    HelpModal #commands {
        padding-top: 1;
        color: $text-muted;
    }
    """
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self._screen = screen

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Keys on this screen ({type(self._screen).__name__})", id="title",
                        markup=False)
            table = DataTable(cursor_type="row", id="keys")
            table.add_columns("Key", "Does", Text("Id (remap in settings.toml [keys])"))
            seen: set[str] = set()
            # The screen's and the app's own keys first; a focused widget's (cursor keys…) last.
            bindings = sorted(self._screen.active_bindings.items(),
                              key=lambda item: not isinstance(item[1].node, (Screen, App)))
            for key, active in bindings:
                binding = active.binding
                if not binding.description or (binding.id or key) in seen:
                    continue
                seen.add(binding.id or key)
                table.add_row(self.app.get_key_display(binding), binding.description,
                              binding.id or "")
            yield table
            yield Static("\n".join(f"{usage:<22} {text}" for usage, text in COMMAND_HELP),
                         id="commands", markup=False)

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()

    def action_close(self) -> None:
        self.dismiss(None)
