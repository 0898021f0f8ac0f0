"""Sizes in bytes as people read them (12B, 3.4K, 1.2M), for any kind's screens."""

from __future__ import annotations


def format_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    for unit in ("B", "K", "M", "G"):
        if size < 1024 or unit == "G":
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1024
    return f"{size:.1f}G"
