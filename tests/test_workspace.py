"""The workspace driven as a user drives it: keys in, screens out, against the real servers."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static

import realservers
from conftest import key_text
from studio_tui.dialogs.command import CommandModal
from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.dialogs.database_form import DatabaseFormModal
from studio_tui.screens.browsers import browser_for
from studio_tui.screens.catalog.databases import DatabasesScreen
from studio_tui.screens.health import HealthScreen
from studio_tui.dialogs.help import HelpModal
from studio_tui.dialogs.name import NameModal
from studio_tui.screens.catalog.organizations import OrganizationsScreen
from studio_tui.screens.catalog.projects import ProjectsScreen
from studio_tui.screens.redis.browser import RedisBrowserScreen
from studio_tui.services.errors import WrongKeyError
from studio_tui.services.kinds import DatabaseKind
from studio_tui.widgets.catalog_table import CatalogTable
from ui import QUIET_SETTINGS, screen_text, seed, settle, studio_app


def cells(app) -> list[list[str]]:
    table = app.screen.query_one(CatalogTable).table
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def status(app) -> str:
    return str(app.screen.query_one("#status", Static).render())


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(c, c) for c in text])


async def fill(pilot, selector: str, value: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = value
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_first_run_lists_the_personal_organization_with_counts(tmp_path: Path, size):
    app = studio_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, OrganizationsScreen)
        assert cells(app) == [["Personal (personal)", "1", "0"]]
        assert "1 organization(s)" in status(app)
        await pilot.press("q")
    assert app.return_code == 0


async def test_ctrl_c_quits_and_closes_the_services(tmp_path: Path):
    app = studio_app(tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("ctrl+c")
    assert app.return_code == 0
    assert not app.studio.is_open


async def test_wrong_key_leaves_the_app_with_the_reason(tmp_path: Path):
    await seed(tmp_path, {})
    app = studio_app(tmp_path, STUDIO_TUI_KEY=key_text())
    async with app.run_test() as pilot:
        await settle(pilot)
    assert app.return_code == 2
    assert isinstance(app.fatal_error, WrongKeyError)
    assert "STUDIO_TUI_KEY" in str(app.fatal_error)


async def test_bindings_are_remapped_from_settings(tmp_path: Path):
    app = studio_app(tmp_path, '[keys]\n"app.quit" = "x"\n"orgs.new" = "a"\n')
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("a")
        assert isinstance(app.screen, NameModal)
        await pilot.press("escape", "q")
        assert app.is_running
        await pilot.press("x")
    assert app.return_code == 0


async def test_create_navigate_add_test_open_back_and_delete(tmp_path: Path, redis_auth_server,
                                                             postgres_server, mongo_server):
    app = studio_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # A new organization…
        await pilot.press("n")
        await type_text(pilot, "Acme Corp")
        await pilot.press("enter")
        await settle(pilot)
        assert ["Acme Corp", "0", "0"] in cells(app)
        # …then into it, and a new project.
        row = [r[0] for r in cells(app)].index("Acme Corp")
        app.screen.query_one(CatalogTable).table.move_cursor(row=row)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        assert "Organizations › Acme Corp" in screen_text(app)
        await pilot.press("n")
        await type_text(pilot, "shop")
        await pilot.press("enter")
        await settle(pilot)
        assert cells(app) == [["shop", "0"]]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DatabasesScreen)

        # Add three entries through the form; the Redis one is tested before saving.
        for name, url in (("cache", redis_auth_server.url), ("orders", postgres_server.url),
                          ("docs", mongo_server.url)):
            await pilot.press("n")
            await settle(pilot)
            assert isinstance(app.screen, DatabaseFormModal)
            await fill(pilot, "#name", name)
            await fill(pilot, "#url", url)
            url_field = app.screen.query_one("#url", Input).value
            assert "s3cret" not in url_field and "s3cret" not in screen_text(app)
            if name == "cache":
                await pilot.press("ctrl+t")
                await settle(pilot)
                assert "✓ Connected" in screen_text(app)
                assert "redis 8." in screen_text(app)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, DatabasesScreen)
        rows = {r[1]: r for r in cells(app)}
        assert set(rows) == {"cache", "orders", "docs"}
        assert all(r[0] == "● up" for r in rows.values()), rows
        assert rows["orders"][2:5] == ["postgres", "free", "read-write"]

        # Open one, see it live, come back.
        table = app.screen.query_one(CatalogTable)
        table.table.move_cursor(row=table.shown_keys.index(
            next(k for k in table.shown_keys if app.screen.items[k].name == "orders")))
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen) is browser_for(DatabaseKind.POSTGRES)
        opened = screen_text(app)
        assert "shop › orders (postgres) › postgres" in opened and "s3cret" not in opened
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DatabasesScreen)

        # Delete it, confirming.
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmModal)
        assert "orders" in screen_text(app) and "not touched" in screen_text(app)
        assert app.screen.focused.id == "cancel"  # the safe choice is the default
        await pilot.press("shift+tab", "enter")
        await settle(pilot)
        assert {r[1] for r in cells(app)} == {"cache", "docs"}
        assert "Deleted the connection 'orders'" in status(app)

        # Back up: the counts follow.
        await pilot.press("escape")
        await settle(pilot)
        assert cells(app) == [["shop", "2"]]
        await pilot.press("escape")
        await settle(pilot)
        assert ["Acme Corp", "1", "2"] in cells(app)


@pytest.mark.parametrize("url, password, expected", [
    ("mysql://db.example.com/x", "", "Unknown scheme mysql://"),
    ("redis://", "", "has no host"),
    ("localhost:6379", "", "starts with a scheme"),
])
async def test_invalid_urls_get_a_message_in_the_form_and_nothing_is_lost(
        tmp_path: Path, url: str, password: str, expected: str):
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.nav.catalog.projects()
        await pilot.press("enter", "enter")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await fill(pilot, "#name", "typed-name")
        await fill(pilot, "#url", url)
        await fill(pilot, "#tags", "prod, eu")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DatabaseFormModal)
        assert expected in screen_text(app)
        assert app.screen.query_one("#url", Input).has_class("-invalid")
        assert app.screen.query_one("#name", Input).value == "typed-name"
        assert app.screen.query_one("#url", Input).value == url
        assert app.screen.query_one("#tags", Input).value == "prod, eu"


async def test_unreachable_host_and_wrong_password_are_told_apart(tmp_path: Path,
                                                                  redis_auth_server):
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await fill(pilot, "#name", "cache")
        cases = [
            (f"redis://127.0.0.1:{realservers.closed_port()}/0", "", "Connection refused"),
            ("redis://nonexistent-host.invalid:6379/0", "", "Host not found"),
            (redis_auth_server.url.split("@")[0].rsplit(":", 1)[0] + "@"
             + redis_auth_server.url.split("@")[1], "not-the-password", "Authentication failed"),
        ]
        for url, password, expected in cases:
            await fill(pilot, "#url", url)
            await fill(pilot, "#password", password)
            await pilot.press("ctrl+t")
            await settle(pilot)
            text = screen_text(app)
            assert expected in text, text
            assert "not-the-password" not in text and "Traceback" not in text
            assert app.screen.query_one("#name", Input).value == "cache"
            assert app.screen.query_one("#password", Input).value == password


async def test_duplicate_names_keep_what_was_typed(tmp_path: Path):
    await seed(tmp_path, {"Acme": {}})
    app = studio_app(tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "Acme")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, NameModal)
        assert "already exists" in screen_text(app)
        assert app.screen.query_one(Input).value == "Acme"


async def test_deleting_an_organization_with_databases_needs_its_name_typed(tmp_path: Path):
    await seed(tmp_path, {"Acme": {"shop": [("cache", "redis://127.0.0.1:1/0")]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one(CatalogTable).table.move_cursor(row=1)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "'Acme' with 1 project(s) and 1 saved database" in screen_text(app)
        assert app.screen.query_one("#confirm").disabled
        await type_text(pilot, "Acm")
        assert app.screen.query_one("#confirm").disabled
        await type_text(pilot, "e")
        await pilot.press("enter")
        await settle(pilot)
        assert cells(app) == [["Personal (personal)", "1", "0"]]
        assert "Deleted 'Acme': 1 project(s), 1 database connection(s)." in status(app)


async def test_slash_filters_every_list_and_escape_clears(tmp_path: Path):
    await seed(tmp_path, {"Acme": {}, "Globex": {}, "Initech": {}})
    app = studio_app(tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "glo")
        await pilot.pause()
        assert [r[0] for r in cells(app)] == ["Globex"]
        await pilot.press("escape")
        await pilot.pause()
        assert len(cells(app)) == 4
        assert isinstance(app.screen, OrganizationsScreen)  # Esc cleared, did not leave


async def test_command_mode_moves_around_and_reports_mistakes(tmp_path: Path):
    await seed(tmp_path, {"Acme": {"shop": [("cache", "redis://127.0.0.1:1/0")]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await settle(pilot)
        assert isinstance(app.screen, CommandModal)
        await type_text(pilot, "bogus")
        await pilot.press("enter")
        assert isinstance(app.screen, CommandModal)
        assert "Unknown command :bogus" in screen_text(app)
        app.screen.query_one(Input).value = ""
        await type_text(pilot, "dbs Acme/sh")
        await pilot.press("tab", "enter")  # Tab completes to Acme/shop
        await settle(pilot)
        assert isinstance(app.screen, DatabasesScreen)
        assert app.screen.project.name == "shop"
        assert [type(s).__name__ for s in app.screen_stack[1:]] == [
            "OrganizationsScreen", "ProjectsScreen", "DatabasesScreen"]

        await pilot.press("colon")
        await type_text(pilot, "open cache")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RedisBrowserScreen)  # a Redis entry opens its browser

        await pilot.press("colon")
        await type_text(pilot, "h")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HealthScreen)

        await pilot.press("colon")
        await type_text(pilot, "orgs")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OrganizationsScreen)

        await pilot.press("colon")
        await type_text(pilot, "q")
        await pilot.press("enter")
        await settle(pilot)
    assert app.return_code == 0


async def test_help_lists_every_binding_of_the_screen_with_its_id(tmp_path: Path):
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpModal)
        table = app.screen.query_one("#keys")
        ids = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        assert {"dbs.new", "dbs.edit", "dbs.delete", "dbs.test", "nav.back", "list.filter",
                "app.command", "app.help", "app.quit"} <= ids
        await pilot.press("escape")
        assert isinstance(app.screen, DatabasesScreen)


async def test_enter_in_help_runs_the_key_under_the_cursor(tmp_path: Path):
    """A key a web browser keeps for itself (ctrl+w, ctrl+t, ctrl+n) is still reachable."""
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)
        await pilot.press("question_mark")
        table = app.screen.query_one("#keys")
        ids = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert ids[0] == ""
        table.move_cursor(row=0)  # a group's title: enter does nothing there
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HelpModal)
        table.move_cursor(row=ids.index("dbs.new"))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DatabaseFormModal)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DatabasesScreen)


async def test_palette_jumps_to_a_database_by_fuzzy_name(tmp_path: Path):
    await seed(tmp_path, {"Acme": {"shop": [("orders-primary",
                                             "postgresql://u@127.0.0.1:1/orders")]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await type_text(pilot, "ordprim")
        await settle(pilot)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen) is browser_for(DatabaseKind.POSTGRES)
        assert app.screen.entry.name == "orders-primary"


async def test_theme_is_remembered_between_runs(tmp_path: Path):
    app = studio_app(tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await type_text(pilot, "theme nord")
        await pilot.press("enter")
        await settle(pilot)
        assert app.theme == "nord"
    again = studio_app(tmp_path)
    async with again.run_test() as pilot:
        await settle(pilot)
        assert again.theme == "nord"


async def test_health_screen_shows_breaker_pool_and_errors_and_probes(tmp_path: Path,
                                                                      redis_server):
    await seed(tmp_path, {"Acme": {"shop": [("cache", redis_server.url),
                                            ("gone", "redis://nonexistent-host.invalid:1/0")]}})
    app = studio_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await type_text(pilot, "dbs Acme/shop")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)
        rows = {r[0]: r for r in cells(app)}
        assert rows["cache"][2:4] == ["● up", "closed"] and rows["cache"][7] != "-"
        assert rows["gone"][2] == "✖ no answer" and rows["gone"][9] == "DNS_FAILED×1"
        app.screen.query_one(CatalogTable).table.move_cursor(
            row=list(rows).index("gone"))
        await pilot.press("p")
        await settle(pilot)
        assert "gone: down (Host not found)" in screen_text(app)
        assert {r[0]: r for r in cells(app)}["gone"][9] == "DNS_FAILED×2"


async def test_renaming_an_organization_and_a_project(tmp_path: Path):
    await seed(tmp_path, {"Acme": {"shop": []}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one(CatalogTable).table.move_cursor(row=1)
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.query_one(Input).value == "Acme"
        await pilot.press("backspace", "backspace", "backspace", "backspace")
        await type_text(pilot, "Initech")
        await pilot.press("enter")
        await settle(pilot)
        assert ["Initech", "1", "0"] in cells(app)
        assert "Saved organization 'Initech'." in status(app)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e", "ctrl+u")
        await type_text(pilot, "store")
        await pilot.press("enter")
        await settle(pilot)
        assert cells(app) == [["store", "0"]]
        assert "Organizations › Initech" in screen_text(app)


async def test_a_list_reloads_after_a_screen_above_it_but_not_after_a_dialog(tmp_path: Path):
    """Closing the command bar or the palette must not reload the list: that reload competed
    with the database they were opening. A screen above may have changed the catalog."""
    await seed(tmp_path, {"Acme": {}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test() as pilot:
        await settle(pilot)
        await app.studio.catalog.create_organization("Globex")  # behind the list's back
        await pilot.press("colon")
        await settle(pilot)
        assert isinstance(app.screen, CommandModal)
        await pilot.press("escape")
        await settle(pilot)
        assert "Globex" not in [row[0] for row in cells(app)]
        await pilot.press("H")
        await settle(pilot)
        assert isinstance(app.screen, HealthScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, OrganizationsScreen)
        assert "Globex" in [row[0] for row in cells(app)]


async def test_a_newcomer_at_80x24_sees_help_the_way_in_and_no_widget_internals(tmp_path: Path):
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "? Help" in screen_text(app).splitlines()[-1]  # the footer, even when cut
        assert "enter opens one" in status(app)
        await pilot.press("enter", "enter")  # Personal › default: no database yet
        await settle(pilot)
        assert "No database yet: n adds one, or set REDIS_URL" in status(app)
        await pilot.press("question_mark")
        await settle(pilot)
        shown = screen_text(app)
        assert "Everywhere" in shown and "app.help" in shown and "dbs.new" in shown
        table = app.screen.query_one("#keys")
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        keys = [row for row in rows if row[0] and not row[0].startswith(":")]
        # Every key listed can be remapped by its id; Textual's own (page left, copy…) are out.
        assert keys and all(row[2] for row in keys)
        assert not any("page" in row[1].lower() for row in rows)


async def test_a_problem_shown_in_a_form_is_kept_whole_for_the_problems_view(tmp_path: Path):
    await seed(tmp_path, {"Acme": {}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NameModal)
        app.screen.query_one(Input).value = "Acme"  # taken
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, NameModal)  # the form stays open with the input
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        shown = screen_text(app)
        assert "Acme" in shown and "New organization" in shown and "code" in shown
