"""Helpers of the MongoDB tool screens' pilot and snapshot tests: an app with a seeded entry
on the test server, deterministic data, and a tool screen opened on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from pymongo import MongoClient

from ui import QUIET_SETTINGS, seed, seed_now, settle, studio_app

WHERE = "Acme › shop"
DATABASE = "shopdb"
COLLECTION = "orders"


def fill(url: str, database: str = DATABASE, count: int = 40) -> None:
    """Orders with integer ids (stable on screen), nested fields, an array, odd names."""
    with MongoClient(url) as client:
        client.drop_database(database)
        orders = client[database][COLLECTION]
        orders.insert_many([{
            "_id": n, "status": ["new", "paid", "shipped"][n % 3], "total": n * 2.5,
            "customer": {"name": f"c{n % 7}", "tier": "gold" if n % 5 == 0 else "basic"},
            "placed": dt.datetime(2024, 1, 1 + n % 28, tzinfo=dt.timezone.utc),
            **({"lines": [{"sku": f"s{n}", "qty": 1}]} if n % 2 == 0 else {}),
            **({"promo.code": "X1"} if n % 10 == 0 else {}),
        } for n in range(count)])
        orders.create_index([("status", 1), ("placed", -1)], name="status_placed")
        orders.create_index([("customer.name", 1)], name="customer", sparse=True)


def app_for(tmp_path: Path, url: str):
    """For snapshot tests (plain ``def``)."""
    home = tmp_path / "home"
    seed_now(home, {"Acme": {"shop": [("docs", url)]}})
    return studio_app(home, QUIET_SETTINGS)


async def seeded_app(tmp_path: Path, url: str, **env: str):
    """For pilot tests (``async def``); ``env`` adds to the app's environment ($EDITOR…)."""
    home = tmp_path / "home"
    await seed(home, {"Acme": {"shop": [("docs", url)]}})
    return studio_app(home, QUIET_SETTINGS, **env)


def editor_writing(tmp_path: Path, text: str) -> str:
    """An $EDITOR that replaces the file's text with ``text``."""
    import stat
    import sys

    editor = tmp_path / "editor.py"
    editor.write_text(f"#!{sys.executable}\nimport pathlib, sys\n"
                      f"pathlib.Path(sys.argv[1]).write_text({text!r})\n")
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    return str(editor)


async def open_tool(pilot, make: Callable, *, read_only: bool = False):
    """Push ``make(entry)`` over the app's first screen, and wait for it to load."""
    await settle(pilot)
    catalog = pilot.app.studio.catalog
    entry = await catalog.find_database("docs")
    if read_only:
        entry = await catalog.update_database(entry.id, read_only=True)
    screen = make(entry)
    await pilot.app.push_screen(screen)
    await settle(pilot)
    return screen


def freeze(screen) -> None:
    """Stop the timers of a screen with live figures, for a snapshot."""
    for timer in list(screen._timers):
        timer.stop()
