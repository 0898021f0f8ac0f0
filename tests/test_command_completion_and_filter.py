"""`:` completion goes through every candidate with tab, and a `/` filter that matches nothing
says so."""

from __future__ import annotations

from pathlib import Path

from studio_tui.widgets.catalog_table import CatalogTable
from ui import QUIET_SETTINGS, open_command_bar, screen_text, seed, settle, studio_app


async def test_tab_goes_through_the_themes_one_by_one(tmp_path: Path):
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        command = await open_command_bar(pilot)
        await pilot.press(*"theme", "space")
        themes = sorted(app.available_themes)
        shown = []
        for _ in range(len(themes) + 1):
            await pilot.press("tab")
            shown.append(command.value)
        assert shown == [f"theme {name}" for name in themes] + [f"theme {themes[0]}"]
        await pilot.press("tab", "enter")  # the second theme
        await settle(pilot)
        assert app.theme == themes[1]


async def test_tab_completes_then_goes_on_to_the_next_match(tmp_path: Path):
    await seed(tmp_path, {"Acme": {"shop": [("orders", "redis://127.0.0.1:1/0"),
                                            ("ordinals", "redis://127.0.0.1:1/1")]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        command = await open_command_bar(pilot)
        await pilot.press(*"open ord", "tab")
        first = command.value
        await pilot.press("tab")
        assert {first, command.value} == {"open orders", "open ordinals"}
        await pilot.press("ctrl+u", *"open ord", "tab")  # a new text: completion anew
        assert command.value == first


async def test_a_filter_that_matches_nothing_says_so_until_cleared(tmp_path: Path):
    await seed(tmp_path, {"Acme": {}, "Globex": {}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"glo")
        await pilot.pause()
        assert app.screen.query_one(CatalogTable).shown_keys != []
        assert "Nothing matches" not in screen_text(app)
        await pilot.press(*"bex zz")
        await pilot.pause()
        assert app.screen.query_one(CatalogTable).shown_keys == []
        assert "Nothing matches 'globex zz' · esc clears the filter" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert "Nothing matches" not in screen_text(app)
        assert len(app.screen.query_one(CatalogTable).shown_keys) == 3
