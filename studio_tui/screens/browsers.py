"""The one table from a database kind to the screen that browses it.

A kind without a browser yet opens on the connection overview. Screens are named by path and
imported when first opened, so start-up pays for none of them."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from studio_tui.services.kinds import DatabaseKind

if TYPE_CHECKING:
    from studio_tui.screens.base import DatabaseScreen

BROWSERS: dict[DatabaseKind, str] = {
    DatabaseKind.REDIS: "studio_tui.screens.redis.browser:RedisBrowserScreen",
    DatabaseKind.MONGODB: "studio_tui.screens.mongo.browser:MongoBrowserScreen",
    DatabaseKind.POSTGRES: "studio_tui.screens.postgres.browser:PostgresBrowserScreen",
}
FALLBACK = "studio_tui.screens.database_overview:DatabaseOverviewScreen"


def browser_for(kind: DatabaseKind) -> type["DatabaseScreen"]:
    module, _, name = BROWSERS.get(kind, FALLBACK).partition(":")
    return getattr(importlib.import_module(module), name)


def import_browsers(kinds: Iterable[DatabaseKind]) -> None:
    """Import the browsers of ``kinds`` now (blocking: run it in a thread while a list is on
    screen; the first open of a kind then pays for none of its screens' and widgets' modules)."""
    for kind in set(kinds):
        importlib.import_module(BROWSERS.get(kind, FALLBACK).partition(":")[0])
