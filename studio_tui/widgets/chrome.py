"""The two lines every screen has: where you are (the breadcrumb) and what just happened (the
status line). Styled once, here."""

from __future__ import annotations

from textual.dom import DOMNode
from textual.widgets import Footer, Static


def forget_closed_watchers(watched: DOMNode) -> None:
    """Drop the watchers of ``watched``'s reactives whose widget has gone. Textual drops one only
    when the watched value next changes; a value that never changes (the app's title, the
    footer's compact flag) kept every widget that ever watched it, and its screen, for good."""
    for watchers in vars(watched).get("__watchers", {}).values():
        watchers[:] = [(node, callback) for node, callback in watchers if not node._closing]


class Breadcrumb(Static):
    DEFAULT_CSS = """
    Breadcrumb {
        height: 1;
        padding: 0 1;
        color: $text-accent;
        text-style: bold;
    }
    """

    def __init__(self, text: str = "", *, id: str = "breadcrumb") -> None:  # noqa: A002
        super().__init__(text, id=id, markup=False)


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def __init__(self, text: str = "", *, id: str = "status") -> None:  # noqa: A002
        super().__init__(text, id=id, markup=False)


class StudioFooter(Footer):
    """The footer, without the leak: it is rebuilt whenever the keys change (every return to a
    screen), and each old key stayed registered as a watcher of the footer."""

    async def recompose(self) -> None:
        await super().recompose()
        forget_closed_watchers(self)
