"""What every screen and modal looks like at 80x24 and 120x40, with seeded, deterministic data.

Hosts end in .invalid so every check fails the same way (DNS) and no latency is shown.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from ui import QUIET_SETTINGS, SIZES, run_command, seed_now, settle, studio_app

CATALOG = {
    "Acme Corp": {
        "shop": [("cache", "redis://:pw-not-shown@cache.invalid:6379/0"),
                 ("orders", "postgresql://app:pw-not-shown@orders.invalid:5432/shop"),
                 ("catalog", "mongodb://app:pw-not-shown@docs.invalid:27017/?authSource=admin")],
        "blog": [],
    },
    "Globex": {"intranet": []},
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    seed_now(tmp_path, CATALOG)
    return tmp_path


async def _to_databases(pilot) -> None:
    await run_command(pilot, "dbs Acme Corp/shop")


def _snap(snap_compare, home: Path, size, run_before) -> bool:
    return snap_compare(studio_app(home, QUIET_SETTINGS), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_organizations(snap_compare, home, size):
    assert _snap(snap_compare, home, size, settle)


@pytest.mark.parametrize("size", SIZES)
def test_projects(snap_compare, home, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)

    assert _snap(snap_compare, home, size, run_before)


@pytest.mark.parametrize("size", SIZES)
def test_databases(snap_compare, home, size):
    assert _snap(snap_compare, home, size, _to_databases)


@pytest.mark.parametrize("size", SIZES)
def test_database_form(snap_compare, home, size):
    async def run_before(pilot):
        await _to_databases(pilot)
        await pilot.press("n")
        await settle(pilot)

    assert _snap(snap_compare, home, size, run_before)


@pytest.mark.parametrize("size", SIZES)
def test_database_form_with_an_error(snap_compare, home, size):
    async def run_before(pilot):
        await _to_databases(pilot)
        await pilot.press("n")
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#name", Input).value = "reports"
        screen.query_one("#url", Input).value = "mysql://reports.invalid/db"
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert _snap(snap_compare, home, size, run_before)


@pytest.mark.parametrize("size", SIZES)
def test_edit_form_keeps_the_password_masked(snap_compare, home, size):
    async def run_before(pilot):
        await _to_databases(pilot)
        await pilot.press("e")
        await settle(pilot)

    assert _snap(snap_compare, home, size, run_before)


@pytest.mark.parametrize("size", SIZES)
def test_delete_confirmation(snap_compare, home, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("down", "d")
        await settle(pilot)

    assert _snap(snap_compare, home, size, run_before)


@pytest.mark.parametrize("size", SIZES)
def test_name_prompt(snap_compare, home, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("n", "N", "e", "w")
        await settle(pilot)

    assert _snap(snap_compare, home, size, run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, home, size):
    async def run_before(pilot):
        await _to_databases(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert _snap(snap_compare, home, size, run_before)


@pytest.mark.parametrize("size", SIZES)
def test_command_bar(snap_compare, home, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("colon", "o", "p", "e", "n", "space", "o")
        await settle(pilot)

    assert _snap(snap_compare, home, size, run_before)


@pytest.mark.parametrize("size", SIZES)
def test_database_overview(snap_compare, home, size, monkeypatch):
    # Every kind has a browser now; a kind without one would open on this overview.
    from studio_tui.screens import browsers
    from studio_tui.services.kinds import DatabaseKind

    monkeypatch.delitem(browsers.BROWSERS, DatabaseKind.MONGODB)

    async def run_before(pilot):
        await _to_databases(pilot)
        await pilot.press("down", "enter")  # the second row: catalog, a MongoDB entry
        await settle(pilot)

    assert _snap(snap_compare, home, size, run_before)


@pytest.mark.parametrize("size", SIZES)
def test_browser_of_an_unreachable_database(snap_compare, home, size):
    async def run_before(pilot):
        await _to_databases(pilot)
        await pilot.press("down", "enter")  # catalog: a MongoDB entry on a host that is not
        await settle(pilot)

    assert _snap(snap_compare, home, size, run_before)


@pytest.mark.parametrize("size", SIZES)
def test_health(snap_compare, home, size):
    async def run_before(pilot):
        await _to_databases(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)

    assert _snap(snap_compare, home, size, run_before)


def test_databases_in_a_16_colour_theme(snap_compare, home):
    """ansi-dark uses only the terminal's own 16 colours; statuses keep their symbols."""
    app = studio_app(home, QUIET_SETTINGS + '[ui]\ntheme = "ansi-dark"\n')
    assert snap_compare(app, terminal_size=(80, 24), run_before=_to_databases)
