"""The two lines every screen has: where you are (the breadcrumb) and what just happened (the
status line). Styled once, here."""

from __future__ import annotations

from textual.widgets import Static


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
