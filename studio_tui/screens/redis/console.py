"""`c` in the Redis browser: a console. One command per line, several lines run as one
pipeline, replies rendered by type, history kept; dangerous commands need their name typed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, RichLog, Static, TextArea

from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.screens.base import DatabaseScreen
from studio_tui.services.errors import StudioError
from studio_tui.services.redis.console import ConfirmationRequired, InfoReply, run_console
from studio_tui.services.redis.keys import display_key
from studio_tui.widgets.chrome import Breadcrumb, StudioFooter
from studio_tui.widgets.ordered_input import OrderedTextArea

if TYPE_CHECKING:
    from studio_tui.services.platform.models import DatabaseEntry
    from studio_tui.services.redis.service import RedisService

MAX_ITEMS_SHOWN = 200


def render_reply(reply: Any, indent: int = 0) -> Text:
    """A reply as redis-cli would print it: strings quoted, integers marked, lists numbered."""
    pad = " " * indent
    if isinstance(reply, StudioError):
        return Text(f"{pad}(error) {reply.detail}", style="red")
    if reply is None:
        return Text(f"{pad}(nil)", style="dim")
    if isinstance(reply, bool):
        return Text(f"{pad}OK" if reply else f"{pad}(integer) 0")
    if isinstance(reply, int):
        return Text(f"{pad}(integer) {reply}", style="cyan")
    if isinstance(reply, float):
        return Text(f"{pad}(double) {reply}", style="cyan")
    if isinstance(reply, (bytes, bytearray)):
        return Text(f'{pad}"{display_key(bytes(reply))}"', style="green")
    if isinstance(reply, str):
        return Text(f"{pad}{reply}")
    if isinstance(reply, InfoReply):
        return render_info(reply)
    if isinstance(reply, dict):
        reply = [part for pair in reply.items() for part in pair]
    if isinstance(reply, (list, tuple, set)):
        items = list(reply)
        if not items:
            return Text(f"{pad}(empty array)", style="dim")
        out = Text()
        for number, item in enumerate(items[:MAX_ITEMS_SHOWN], start=1):
            if number > 1:
                out.append("\n")
            out.append(f"{pad}{number}) ")
            out.append(render_reply(item, 0) if not isinstance(item, (list, tuple))
                       else Text("\n").append(render_reply(item, indent + 3)))
        if len(items) > MAX_ITEMS_SHOWN:
            out.append(f"\n{pad}… {len(items) - MAX_ITEMS_SHOWN:,} more", style="dim")
        return out
    return Text(f"{pad}{reply!r}")


def render_info(reply: InfoReply) -> Text:
    """INFO as redis-cli users read it: each section under its "# Name", one ``key: value`` a
    line, the values lined up within the section."""
    out = Text()
    for number, (section, pairs) in enumerate(reply.sections):
        if number:
            out.append("\n\n")
        if section:
            out.append(f"# {section}", style="bold")
        width = max((len(name) for name, _ in pairs), default=0)
        for index, (name, value) in enumerate(pairs):
            if index or section:
                out.append("\n")
            out.append(f"{name}:".ljust(width + 2), style="cyan")
            out.append(value)
    return out if reply.sections else Text("(empty)", style="dim")


class RedisConsoleScreen(DatabaseScreen[None]):
    CSS_PATH = "../../styles/redis_console.tcss"
    inherit_bindings = False  # backspace edits the command; only escape goes back
    BINDINGS = [
        Binding("escape", "back", "Back", id="nav.back"),
        # Not a priority binding: one would run before the text typed ahead of it is in the
        # editor (the editor runs it in its turn instead, see OrderedTextArea).
        Binding("ctrl+r", "run", "Run", id="console.run"),
        Binding("ctrl+up", "history(-1)", "Previous", id="console.history_back"),
        Binding("ctrl+down", "history(1)", "Next", id="console.history_forward"),
    ]

    service: "RedisService"

    def __init__(self, entry: "DatabaseEntry", where: str, service: "RedisService") -> None:
        super().__init__(entry, where, service)
        self.history: list[str] = []
        self._history_at = 0

    def compose(self) -> ComposeResult:
        mode = "read-only" if self.entry.read_only else "read-write"
        yield Header()
        yield Breadcrumb(f"{self.where} › {self.entry.name} › console ({mode})")
        yield RichLog(id="output", wrap=True, markup=False)
        yield OrderedTextArea(id="input", soft_wrap=True, show_line_numbers=False)
        yield Static("ctrl+r runs · one command per line; several lines are one pipeline · "
                     "ctrl+↑/↓ history", id="hint", markup=False)
        yield StudioFooter()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_run(self) -> None:
        text = self.query_one(TextArea).text
        if text.strip():
            self.execute(text, None)

    @work(group="console-run", exclusive=True, exit_on_error=False, description="run commands")
    async def execute(self, text: str, confirmation: str | None) -> None:
        output = self.query_one(RichLog)
        try:
            replies = await run_console(self.service, text, confirmation=confirmation)
        except ConfirmationRequired as required:
            word = required.field_errors["confirm"]
            self.app.push_screen(
                ConfirmModal(f"Run {word} on {self.entry.name}?", required.detail,
                             confirm_label="Run", type_to_confirm=word),
                lambda confirmed: self.execute(text, word) if confirmed else None)
            return
        except StudioError as error:
            self.remember(error)
            output.write(Text.assemble(("> ", "bold"), text.strip()))
            output.write(Text(f"(error) {error.title}: {error.detail}", style="red"))
            return  # the text stays in the editor to fix
        lines = [line for line in text.splitlines() if line.strip()]
        for line, reply in zip(lines, replies, strict=False):
            output.write(Text.assemble(("> ", "bold"), line))
            output.write(render_reply(reply))
        self.history.append(text)
        self._history_at = len(self.history)
        # Take out what ran, and only that: what was typed while it ran stays.
        area = self.query_one(TextArea)
        if area.text.startswith(text):
            area.text = area.text[len(text):]

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._history_at = max(0, min(len(self.history), self._history_at + step))
        area = self.query_one(TextArea)
        area.text = self.history[self._history_at] if self._history_at < len(self.history) else ""
