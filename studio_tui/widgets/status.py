"""How a database's health reads at a glance: a symbol and a word, so it survives 16 colours
and no colour at all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from studio_tui.services.errors import StudioError

STATUS_STYLES = {
    "up": ("●", "green"),
    "degraded": ("◐", "yellow"),
    "down": ("✖", "red"),
    "no answer": ("✖", "red"),
    "checking": ("…", "cyan"),
    "unknown": ("○", "dim"),
}


def status_text(status: str) -> Text:
    symbol, style = STATUS_STYLES.get(status, STATUS_STYLES["unknown"])
    return Text(f"{symbol} {status}", style=style)


def error_text(error: "StudioError") -> Text:
    """How every screen shows a StudioError in a status line: its title in bold red, then why."""
    return Text.assemble((error.title, "bold red"), ": ", error.detail)
