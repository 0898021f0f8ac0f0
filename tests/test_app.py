"""The app shell, driven with Textual's pilot and kept in snapshots at 80x24 and 120x40."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import OptionList, Static

from conftest import key_text
from studio_tui.app import StudioApp, make_app
from studio_tui.services.errors import WrongKeyError
from studio_tui.services.studio import Studio
from studio_tui.settings import Settings


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {"STUDIO_TUI_HOME": str(home), **extra}


def _app(home: Path, **extra: str) -> StudioApp:
    env = _env(home, **extra)
    return make_app(Settings.load(env), env)


async def _seed(home: Path, *org_names: str) -> None:
    env = _env(home)
    async with Studio(Settings.load(env), env) as studio:
        for name in org_names:
            await studio.catalog.create_organization(name)


async def _loaded(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.app.screen.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_first_run_shows_the_personal_organization(tmp_path: Path, size):
    app = _app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await _loaded(pilot)
        options = app.screen.query_one(OptionList)
        assert options.option_count == 1
        assert "Personal" in str(options.get_option_at_index(0).prompt)
        assert "1 organization(s)" in str(app.screen.query_one("#status", Static).render())
        await pilot.press("q")
    assert app.return_code == 0


async def test_ctrl_c_quits_cleanly(tmp_path: Path):
    app = _app(tmp_path)
    async with app.run_test() as pilot:
        await _loaded(pilot)
        await pilot.press("ctrl+c")
    assert app.return_code == 0
    assert not app.studio.is_open  # the catalog and pools were closed on the way out


async def test_wrong_key_leaves_the_app_with_the_reason(tmp_path: Path):
    await _seed(tmp_path)  # creates the keyfile and the catalog's key check
    app = _app(tmp_path, STUDIO_TUI_KEY=key_text())
    async with app.run_test() as pilot:
        await _loaded(pilot)
    assert app.return_code == 2
    assert isinstance(app.fatal_error, WrongKeyError)
    assert "STUDIO_TUI_KEY" in str(app.fatal_error)


async def test_remapped_quit_key_from_settings(tmp_path: Path):
    (tmp_path / "config").mkdir(parents=True)
    (tmp_path / "config" / "settings.toml").write_text('[keys]\n"app.quit" = "x"\n')
    app = _app(tmp_path)
    async with app.run_test() as pilot:
        await _loaded(pilot)
        await pilot.press("q")
        assert app.is_running
        await pilot.press("x")
    assert app.return_code == 0


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_workspace_snapshot(snap_compare, tmp_path: Path, size):
    asyncio.run(_seed(tmp_path, "Acme Corp", "Globex"))
    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=_loaded)
