"""Helpers for pilot and snapshot tests: a private home, a seeded catalog, a settled screen."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from studio_tui.app import StudioApp, make_app
from studio_tui.screens.base import StudioScreen
from studio_tui.services.studio import Studio
from studio_tui.services.settings import Settings

QUIET_SETTINGS = "[connections]\ncheck_on_list = false\n"
# The two terminal sizes every snapshot is taken at.
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def home_env(home: Path, settings_toml: str | None = None, **extra: str) -> dict[str, str]:
    if settings_toml is not None:
        (home / "config").mkdir(parents=True, exist_ok=True)
        (home / "config" / "settings.toml").write_text(settings_toml)
    return {"STUDIO_TUI_HOME": str(home), **extra}


def studio_app(home: Path, settings_toml: str | None = None, **extra: str) -> StudioApp:
    env = home_env(home, settings_toml, **extra)
    return make_app(Settings.load(env), env)


async def seed(home: Path, orgs: dict[str, dict[str, list[tuple[str, str]]]]) -> None:
    """orgs: {org: {project: [(database name, url)]}}; created beside the personal org."""
    env = home_env(home)
    async with Studio(Settings.load(env), env) as studio:
        catalog = studio.catalog
        for org_name, projects in orgs.items():
            org = await catalog.create_organization(org_name)
            for project_name, databases in projects.items():
                project = await catalog.create_project(org.id, project_name)
                for name, url in databases:
                    await catalog.add_database(project.id, name, url)


def seed_now(home: Path, orgs: dict) -> None:
    asyncio.run(seed(home, orgs))


async def settle(pilot, timeout: float = 20.0) -> None:
    """Wait until no worker of the app or its screens is running, then let the screen repaint.
    Polls rather than awaiting the workers: one may be cancelled (and replaced) meanwhile.
    Workers the screen says are parked (waiting on the user, such as a key scan that paused
    itself with enough keys for now) count as settled."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause()
        parked = app.screen.parked_groups() if isinstance(app.screen, StudioScreen) else set()
        if all(worker.is_finished or worker.group in parked for worker in app.workers):
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError(f"workers still running after {timeout}s: {list(app.workers)}")
    await pilot.pause()


async def open_command_bar(pilot):
    """Press ``:`` once everything has settled; the command bar's Input."""
    from textual.widgets import Input

    from studio_tui.dialogs.command import CommandModal

    await settle(pilot)
    await pilot.press("colon")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CommandModal), pilot.app.screen
    return pilot.app.screen.query_one(Input)


async def run_command(pilot, command: str) -> None:
    """Type ``:command`` and Enter, as a user would, then wait for the result."""
    (await open_command_bar(pilot)).value = command
    await pilot.press("enter")
    await settle(pilot)


async def browse(pilot, pattern: str | None = None):
    """``:open cache`` (a Redis entry); with ``pattern``, the keys matching it are listed and the
    first one's value is shown. The browser screen."""
    from studio_tui.screens.redis.browser import RedisBrowserScreen

    await run_command(pilot, "open cache")
    screen = pilot.app.screen
    assert isinstance(screen, RedisBrowserScreen), screen
    if pattern is not None:
        await list_matching(pilot, pattern)
    return screen


async def list_matching(pilot, pattern: str) -> None:
    """In the open Redis browser, ``/`` ``pattern`` enter; then the first key's value is shown."""
    from textual.widgets import Input

    await pilot.press("slash")
    pilot.app.screen.query_one("#pattern", Input).value = pattern
    await pilot.press("enter")
    await settle(pilot)
    await pilot.pause(0.1)  # the value waits for the highlight to settle
    await settle(pilot)


class SteppedClock:
    """time.monotonic, plus the time the test skips (a breaker's window or reset)."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skipped

    def skip(self, seconds: float) -> None:
        self.skipped += seconds


async def cursor_key_round_trip(app, cursor, limit: float) -> float:
    """Seconds from an up or down key reaching the app to its effect painted, where ``cursor()``
    reads the row the key moves: timed from the key event to a callback after the next
    refresh, not around ``pilot.press``, whose wait for an idle app would be counted too."""
    from textual import events

    before = cursor()
    started = time.perf_counter()
    app.post_message(events.Key("up" if before else "down", None))
    while cursor() == before:
        assert time.perf_counter() - started < limit, "the key did nothing"
        await asyncio.sleep(0.001)
    painted = asyncio.get_running_loop().create_future()
    app.screen.call_after_refresh(painted.set_result, None)
    await painted
    return time.perf_counter() - started


def screen_text(app) -> str:
    """Everything on the terminal right now, as plain text (modals included)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


async def burst(pilot, *keys: str) -> None:
    """Send ``keys`` in one burst, as a paste or a laggy SSH link delivers them: the app gets
    them all before it has handled the first (``pilot.press`` waits for idle after each)."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    driver = pilot.app._driver
    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        try:
            char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(pilot.app)
        driver.send_message(event)
    await pilot.pause()
