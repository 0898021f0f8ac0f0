"""How a database's health reads at a glance: a symbol and a word, so it survives 16 colours
and no colour at all."""

from __future__ import annotations

from rich.text import Text

STATUS_STYLES = {
    "up": ("●", "green"),
    "degraded": ("◐", "yellow"),
    "down": ("✖", "red"),
    "checking": ("…", "cyan"),
    "unknown": ("○", "dim"),
}


def status_text(status: str) -> Text:
    symbol, style = STATUS_STYLES.get(status, STATUS_STYLES["unknown"])
    return Text(f"{symbol} {status}", style=style)
