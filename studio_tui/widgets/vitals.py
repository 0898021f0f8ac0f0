"""Server figures over time for any kind's server view: a labelled sparkline that keeps its own
history (a sparkline scales to its own minimum and maximum, so the label says what they are),
and the proportional bar drawn in tables of sizes and shares."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static

HISTORY = 150  # samples kept: five minutes at one every two seconds
BAR_WIDTH = 24


def bar(value: float, largest: float, width: int = BAR_WIDTH) -> Text:
    filled = 0 if largest <= 0 else max(1 if value else 0, round(width * value / largest))
    return Text("█" * filled + "·" * (width - filled), style="cyan")


class VitalSparkline(Horizontal):
    """``name`` and the latest value on the left, its range over the history below it; the
    sparkline of the history beside them. ``show`` formats a value."""

    DEFAULT_CSS = """
    VitalSparkline { height: 3; }
    VitalSparkline > .vital-label { width: 22; padding: 0 1; }
    VitalSparkline > Sparkline { width: 1fr; height: 3; }
    """

    def __init__(self, name: str, show: Callable[[float], str], *, id: str | None = None,
                 history: int = HISTORY, span: str = "/5m") -> None:
        super().__init__(id=id, classes="vital")
        self.label = name
        self.show = show
        self.span = span
        self.history: deque[float] = deque(maxlen=history)

    def compose(self) -> ComposeResult:
        yield Static(self.label, classes="vital-label")
        yield Sparkline([])

    def add(self, value: float) -> None:
        self.history.append(value)
        self.query_one(Sparkline).data = list(self.history)
        width = max(1, 20 - len(self.label) - 1)
        self.query_one(Static).update(
            f"{self.label} {self.show(value):>{width}}\n"
            f"{self.show(min(self.history))}–{self.show(max(self.history))} {self.span}")

    def clear(self) -> None:
        self.history.clear()
        self.query_one(Sparkline).data = []
