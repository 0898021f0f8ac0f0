"""`?`: every key of the screen underneath, grouped, with its id for remapping, and the commands;
`enter` on a key runs it (the only way to reach a key a web browser keeps, such as ctrl+w)."""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import DataTable, Label

from studio_tui.dialogs.base import Dialog

from studio_tui.commands import COMMAND_HELP


class HelpModal(Dialog[None]):
    """The screen's own keys first, then those of the list or pane in focus, then the keys that
    work everywhere and the `:` commands: one table that fills the dialog, so most of it fits
    80x24 at once. Textual's own widget keys (page left, copy…) have no id and are left out."""

    DEFAULT_CSS = """
    HelpModal #dialog {
        width: 80;
        height: 100%;
        max-height: 40;
    }
    HelpModal #keys {
        height: 1fr;
    }
    """
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self._screen = screen
        # Row index -> the binding shown there and the node its action runs on.
        self._runnable: dict[int, tuple[Binding, DOMNode]] = {}

    def _groups(self) -> list[tuple[str, list[tuple[Binding, DOMNode, bool]]]]:
        screen_keys: list[tuple[Binding, DOMNode, bool]] = []
        focused_keys: list[tuple[Binding, DOMNode, bool]] = []
        app_keys: list[tuple[Binding, DOMNode, bool]] = []
        seen: set[str] = set()
        for key, active in self._screen.active_bindings.items():
            binding = active.binding
            if not binding.description or not binding.id or binding.id in seen:
                continue
            if binding.tooltip:  # the longer words a screen gives a key, where it has them
                binding = replace(binding, description=binding.tooltip)
            if not active.enabled:  # e.g. a write on a read-only entry
                binding = replace(binding, description=f"{binding.description} (off here)")
            seen.add(binding.id)
            entry = (binding, active.node, active.enabled)
            if isinstance(active.node, App):
                app_keys.append(entry)
            elif isinstance(active.node, Screen):
                screen_keys.append(entry)
            else:
                focused_keys.append(entry)
        return [("On this screen", screen_keys), ("In the list or pane in focus", focused_keys),
                ("Everywhere", app_keys)]

    def compose(self) -> ComposeResult:
        crumbs = self._screen.query("#breadcrumb")
        where = str(crumbs.first().content) if crumbs else type(self._screen).__name__
        with Vertical(id="dialog"):
            yield Label(f"Keys · {where} · enter runs one", id="title", markup=False)
            table = DataTable(cursor_type="row", id="keys")
            # Widths that fit 80 columns; the ids are what settings.toml [keys] remaps.
            table.add_column("Key", width=14)
            table.add_column("Does", width=36)
            table.add_column("Id (to remap)", width=20)
            for title, bindings in self._groups():
                if not bindings:
                    continue
                table.add_row("", Text(title, style="bold"), "")
                for binding, node, enabled in bindings:
                    if enabled and binding.id != "app.help":
                        self._runnable[table.row_count] = (binding, node)
                    table.add_row(self.app.get_key_display(binding), binding.description,
                                  binding.id or "")
            table.add_row("", Text("Commands (press :)", style="bold"), "")
            for usage, text in COMMAND_HELP:
                table.add_row(usage, text, "")
            yield table

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        chosen = self._runnable.get(event.cursor_row)
        if chosen is None:
            return
        binding, node = chosen
        self.dismiss(None)
        # After the dismissal, so the action lands on the screen it belongs to.
        self.app.call_later(self.app.run_action, binding.action, node)
