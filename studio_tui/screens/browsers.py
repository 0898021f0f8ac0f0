"""The one table from a database kind to the screen that browses it.

A kind without a browser yet opens on the connection overview. Screens are named by path and
imported when first opened, so start-up pays for none of them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from studio_tui.services.kinds import DatabaseKind

if TYPE_CHECKING:
    from studio_tui.screens.base import DatabaseScreen

BROWSERS: dict[DatabaseKind, str] = {
    DatabaseKind.REDIS: "studio_tui.screens.redis.browser:RedisBrowserScreen",
}
FALLBACK = "studio_tui.screens.database_overview:DatabaseOverviewScreen"


def browser_for(kind: DatabaseKind) -> type["DatabaseScreen"]:
    module, _, name = BROWSERS.get(kind, FALLBACK).partition(":")
    return getattr(importlib.import_module(module), name)
