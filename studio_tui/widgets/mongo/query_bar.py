"""The query bar: filter on its own line, projection, sort, skip and limit under it. Enter in
any field runs the query; up and down in the filter step through this collection's history."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label

from studio_tui.widgets.ordered_input import OrderedInput

FIELDS = ("filter", "projection", "sort", "skip", "limit")


@dataclass(frozen=True, slots=True)
class QueryText:
    """What is typed in the bar, unparsed."""

    filter: str = ""
    projection: str = ""
    sort: str = ""
    skip: str = ""
    limit: str = ""

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FIELDS}


class QueryBar(Vertical):
    DEFAULT_CSS = """
    QueryBar { height: 2; }
    QueryBar Horizontal { height: 1; }
    QueryBar Label { width: auto; color: $text-muted; padding: 0 1 0 0; }
    QueryBar Input { border: none; height: 1; padding: 0 1; background: $boost; width: 1fr; }
    /* Input:focus would give a one-line field a border that hides its text. */
    QueryBar Input:focus { border: none; background: $primary 25%; }
    QueryBar #skip, QueryBar #limit { width: 7; }
    /* Hints, not values: what an empty field means, then an example, in dim italics. */
    QueryBar Input > .input--placeholder { color: $text-disabled; text-style: italic; }
    """
    BINDINGS = [
        Binding("up", "history(1)", "Older query", show=False, id="query.older"),
        Binding("down", "history(-1)", "Newer query", show=False, id="query.newer"),
    ]

    @dataclass
    class Submitted(Message, bubble=True):
        text: QueryText

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.history: list[QueryText] = []  # newest first
        self._position = -1

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("filter")
            yield OrderedInput(placeholder="all documents · e.g. {age: {$gt: 30}}", id="filter")
        with Horizontal():
            yield Label("project")
            yield OrderedInput(placeholder="all · e.g. {name: 1}", id="projection")
            yield Label(" sort")
            yield OrderedInput(placeholder="_id · e.g. {age: -1}", id="sort")
            yield Label(" skip")
            yield OrderedInput(placeholder="none", id="skip", restrict=r"\d*")
            yield Label(" limit")
            yield OrderedInput(placeholder="none", id="limit", restrict=r"\d*")

    @property
    def text(self) -> QueryText:
        return QueryText(**{name: self.query_one(f"#{name}", Input).value for name in FIELDS})

    def set_text(self, text: QueryText) -> None:
        for name in FIELDS:
            self.query_one(f"#{name}", Input).value = getattr(text, name)

    def point_at(self, field: str, column: int) -> None:
        """Put the cursor where a mistake is: ``column`` (1-based) of ``field``."""
        if field not in FIELDS:
            return
        widget = self.query_one(f"#{field}", Input)
        widget.focus()
        widget.cursor_position = max(0, min(len(widget.value), column - 1))

    def focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def set_history(self, history: list[QueryText]) -> None:
        self.history = history
        self._position = -1

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._position = max(-1, min(len(self.history) - 1, self._position + step))
        self.set_text(self.history[self._position] if self._position >= 0 else QueryText())

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._position = -1
        self.post_message(self.Submitted(self.text))
