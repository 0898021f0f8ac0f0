"""The demo's shop in each browser, at 120x40: the screenshots the README shows. The shop is
loaded into the suite's servers (``demo_shop`` in conftest.py) and registered as the demo does
it; nothing on these screens depends on a port, a clock or a duration."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from textual.widgets import Static
from ui import QUIET_SETTINGS, run_command, screen_text, settle, studio_app

from studio_tui.demo import runner
from studio_tui.screens.mongo.browser import MongoBrowserScreen
from studio_tui.screens.postgres.browser import PostgresBrowserScreen
from studio_tui.screens.redis.browser import RedisBrowserScreen
from studio_tui.widgets.postgres.object_tree import ObjectTree

SIZE = (120, 40)


@pytest.fixture
def demo_home(demo_shop, tmp_path: Path) -> Path:
    asyncio.run(runner.register(tmp_path, demo_shop))
    return tmp_path


async def _open(pilot, entry: str, screen_type):
    await run_command(pilot, f"open {entry}")
    screen = pilot.app.screen
    assert isinstance(screen, screen_type), screen
    await settle(pilot)
    return screen


def test_demo_organizations_snapshot(snap_compare, demo_home):
    async def run_before(pilot):
        await settle(pilot)
        assert "Demo" in screen_text(pilot.app)

    assert snap_compare(studio_app(demo_home, QUIET_SETTINGS), terminal_size=SIZE,
                        run_before=run_before)


def test_demo_redis_browser_snapshot(snap_compare, demo_home):
    async def run_before(pilot):
        screen = await _open(pilot, runner.REDIS_ENTRY, RedisBrowserScreen)
        # The namespace tree (sorted, unlike the scan order of a key list), shop: opened, and
        # the one key under leaderboard: chosen.
        await pilot.press("v", "down", "enter")
        await pilot.press(*["down"] * 7, "enter", "down")
        await settle(pilot)
        await pilot.pause(0.1)  # the value waits for the highlight to settle
        await settle(pilot)
        assert "shop:leaderboard:units-sold" in screen_text(pilot.app)
        status = screen.query_one("#status", Static)
        status.update(re.sub(r" · \d+ ops/s", "", str(status.content)))  # a live rate
        await pilot.pause()

    assert snap_compare(studio_app(demo_home, QUIET_SETTINGS), terminal_size=SIZE,
                        run_before=run_before)


def test_demo_mongo_orders_snapshot(snap_compare, demo_home):
    async def run_before(pilot):
        await _open(pilot, runner.MONGO_ENTRY, MongoBrowserScreen)
        await pilot.press("down", "enter")  # shop.orders, after shop.customers
        await settle(pilot)
        await pilot.press("v")  # the first order as a tree, its line items opened
        await pilot.press(*["down"] * 9, "right", "down", "right")
        await settle(pilot)
        assert "shop.orders" in screen_text(pilot.app)

    assert snap_compare(studio_app(demo_home, QUIET_SETTINGS), terminal_size=SIZE,
                        run_before=run_before)


def test_demo_postgres_browser_snapshot(snap_compare, demo_home):
    async def run_before(pilot):
        screen = await _open(pilot, runner.POSTGRES_ENTRY, PostgresBrowserScreen)
        assert screen.query_one(ObjectTree).select_object("table", "shop", "orders")
        await pilot.pause(0.15)  # the cursor settles before the table's own details are read
        await settle(pilot)
        await pilot.press("1")  # its columns
        await settle(pilot)

    assert snap_compare(studio_app(demo_home, QUIET_SETTINGS), terminal_size=SIZE,
                        run_before=run_before)


def test_demo_postgres_grid_snapshot(snap_compare, demo_home):
    async def run_before(pilot):
        screen = await _open(pilot, runner.POSTGRES_ENTRY, PostgresBrowserScreen)
        assert screen.query_one(ObjectTree).select_object("table", "shop", "orders")
        await pilot.pause(0.15)
        await settle(pilot)
        await pilot.press("enter")  # its rows
        await settle(pilot)

    assert snap_compare(studio_app(demo_home, QUIET_SETTINGS), terminal_size=SIZE,
                        run_before=run_before)
