"""Team mode's last gaps, against the real stores (SQLite and the PostgreSQL test server): one
owner when two instances sign up at once, a fresh shared catalog opened by two instances at once,
lifting a suspension, and enabling/disabling two-factor sign-in (its pending secret survives a
restart) from the service and the command line."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest
from catalogstores import StoreFactory, make_store, pg_catalog_url  # noqa: F401
from conftest import key_text
from test_team_cli import studio_tui

from studio_tui.services.catalog import Catalog
from studio_tui.services.errors import (
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
    ValidationError,
)
from studio_tui.services.platform.auth import Accounts, TotpRequiredError, totp_code
from studio_tui.services.platform.models import AuditFilter, User, new_id
from studio_tui.services.platform.rbac import SIGNED_OUT, Role
from studio_tui.services.platform.store import FIRST_USER_TAKEN
from studio_tui.services.settings import Settings
from studio_tui.services.studio import Studio

PASSWORD = "correct horse battery"


def _settings(tmp_path: Path, name: str, url: str) -> Settings:
    root = tmp_path / name
    return Settings(config_dir=root / "config", data_dir=root / "data", log_dir=root / "log",
                    platform_url=url, import_env_databases=False)


def _secret(uri: str) -> bytes:
    b32 = uri.split("secret=")[1].split("&")[0]
    return base64.b32decode(b32 + "=" * (-len(b32) % 8))


async def test_the_store_lets_exactly_one_first_user_in(make_store: StoreFactory):
    async with make_store() as first, make_store() as second:
        results = await asyncio.gather(*(
            store.create_first_user(User(id=new_id(), email=f"u{n}@example.com"))
            for n, store in enumerate((first, second, first, second))), return_exceptions=True)
        assert sum(isinstance(r, User) for r in results) == 1, results
        assert all(isinstance(r, ConflictError) and r.detail == FIRST_USER_TAKEN
                   for r in results if not isinstance(r, User))
        assert await second.count_users(include_deleted=True) == 1


async def test_two_instances_signing_up_at_once_make_one_owner(tmp_path: Path,
                                                               pg_catalog_url: str):
    key = {"STUDIO_TUI_KEY": key_text()}
    async with Studio(_settings(tmp_path, "a", pg_catalog_url), key) as a, \
            Studio(_settings(tmp_path, "b", pg_catalog_url), key) as b:
        results = await asyncio.gather(a.sign_up("a@example.com", PASSWORD, org_name="Acme"),
                                       b.sign_up("b@example.com", PASSWORD, org_name="Bcme"),
                                       return_exceptions=True)
        won = [r for r in results if not isinstance(r, BaseException)]
        lost = [r for r in results if isinstance(r, BaseException)]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], ConflictError) and "signed up first" in str(lost[0])
        owner = won[0]
        orgs = await a.store.list_organizations()
        assert len(orgs) == 1 and owner.actor.role_in(orgs[0].id) is Role.OWNER
        assert await a.store.count_users(include_deleted=True) == 1
        # The loser can now be invited like anyone else.
        winner, loser = (a, b) if a.session else (b, a)
        assert loser.session is None and not await loser.accounts.needs_sign_up()


async def test_two_instances_opening_a_fresh_catalog_agree(make_store: StoreFactory,
                                                           test_vault):
    env = {"REDIS_URL": "redis://cache.example:6379/0"}
    async with make_store() as first, make_store() as second:
        catalogs = [Catalog(store, test_vault) for store in (first, second)]
        await asyncio.gather(*(c.ensure_first_run(env) for c in catalogs))
        orgs = await first.list_organizations()
        assert [o.personal for o in orgs] == [True]
        projects = await first.list_projects(orgs[0].id)
        assert len(projects) == 1
        assert len(await first.list_databases(projects[0].id)) == 1


class Instance:
    def __init__(self, store, vault, clock) -> None:
        self.store = store
        self.actor = SIGNED_OUT
        self.catalog = Catalog(store, vault, lambda: self.actor, origin="bastion")
        self.accounts = Accounts(self.catalog, clock, ("bastion",))


async def test_an_owner_lifts_a_suspension_and_it_is_audited(make_store: StoreFactory,
                                                             test_vault):
    async with make_store() as store:
        one = Instance(store, test_vault, lambda: 1_800_000_000.0)
        owner = await one.accounts.sign_up("owner@example.com", PASSWORD, org_name="Acme")
        org_id = next(iter(owner.actor.memberships))
        one.actor = owner.actor
        token = await one.accounts.invite(org_id, "dev@example.com", Role.DEVELOPER)
        dev = await one.accounts.accept_invitation(token, "dev@example.com", PASSWORD)
        changed = await one.accounts.set_role(org_id, dev.user.id, Role.READ_ONLY)
        assert (changed.email, changed.role) == ("dev@example.com", Role.READ_ONLY)
        [audited] = await store.list_audit(AuditFilter(action="change role"))
        assert audited.target == "dev@example.com"  # who, not an id
        await one.accounts.ban(org_id, dev.user.id)
        assert [m.banned_at is not None for m in await store.list_members(org_id)
                if m.user_id == dev.user.id] == [True]
        with pytest.raises(AuthenticationError, match="suspended"):
            await one.accounts.sign_in("dev@example.com", PASSWORD)
        one.actor = dev.actor  # a developer may not lift it
        with pytest.raises(PermissionDeniedError):
            await one.accounts.unban(org_id, dev.user.id)
        with pytest.raises(PermissionDeniedError, match="may not read the audit log on Acme"):
            await one.catalog.audit_log()
        one.actor = owner.actor
        await one.accounts.unban(org_id, dev.user.id)
        await one.accounts.sign_in("dev@example.com", PASSWORD)
        with pytest.raises(ValidationError, match="not suspended"):
            await one.accounts.unban(org_id, dev.user.id)
        lifted = await store.list_audit(AuditFilter(action="lift suspension"))
        assert sorted(e.outcome for e in lifted) == ["denied", "ok"]
        assert next(e for e in lifted if e.outcome == "ok").target == "dev@example.com"


async def test_totp_pending_secret_survives_a_restart_and_disable_needs_both(
        tmp_path: Path, pg_catalog_url: str):
    key = {"STUDIO_TUI_KEY": key_text()}
    settings = _settings(tmp_path, "a", pg_catalog_url)
    now = 1_800_000_000.0
    async with Studio(settings, key, clock=lambda: now) as first:
        await first.sign_up("a@example.com", PASSWORD, org_name="Acme")
        uri = await first.start_totp()
    secret = _secret(uri)
    # Another process (a restart) confirms the code for the secret shown by the first.
    async with Studio(settings, key, clock=lambda: now) as again:
        await again.resume_session()
        with pytest.raises(ValidationError, match="does not match"):
            await again.confirm_totp("000000" if totp_code(secret, now) != "000000"
                                     else "111111")
        await again.confirm_totp(totp_code(secret, now))
        with pytest.raises(TotpRequiredError):
            await again.accounts.sign_in("a@example.com", PASSWORD)
        with pytest.raises(AuthenticationError, match="password is not right"):
            await again.disable_totp("wrong password!", totp_code(secret, now))
        with pytest.raises(AuthenticationError, match="code is not right"):
            await again.disable_totp(PASSWORD, "000000" if totp_code(secret, now) != "000000"
                                     else "111111")
        await again.disable_totp(PASSWORD, totp_code(secret, now))
        await again.accounts.sign_in("a@example.com", PASSWORD)  # no code asked any more


def test_totp_enable_and_disable_from_the_command_line(tmp_path: Path, pg_catalog_url: str):
    import time

    env = {"STUDIO_PLATFORM_URL": pg_catalog_url, "STUDIO_TUI_KEY": key_text()}
    home = tmp_path / "alice"
    assert studio_tui(home, env, "login", "--email", "alice@example.com",
                      stdin=f"{PASSWORD}\n{PASSWORD}\nAcme\n").returncode == 0
    refused = studio_tui(home, env, "totp", "enable", stdin="000000\n")
    assert refused.returncode != 0 and "does not match" in refused.stderr
    # The URI is shown once per start; a second start replaces the secret. Confirm quickly.
    import subprocess
    import sys
    import os

    full_env = {k: v for k, v in os.environ.items() if not k.startswith("STUDIO_")}
    full_env.update({"STUDIO_TUI_HOME": str(home), **env})
    process = subprocess.Popen([sys.executable, "-m", "studio_tui", "totp", "enable"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=full_env)
    lines = []
    while not any("otpauth://" in line for line in lines):
        lines.append(process.stdout.readline())
    uri = next(line for line in lines if "otpauth://" in line).strip()
    out, err = process.communicate(totp_code(_secret(uri), time.time()) + "\n", timeout=60)
    assert process.returncode == 0, err
    assert "Two-factor sign-in is on" in out
    signed = studio_tui(tmp_path / "bob", env, "login", "--email", "alice@example.com",
                        stdin=f"{PASSWORD}\n{totp_code(_secret(uri), time.time())}\n")
    assert signed.returncode == 0, signed.stderr
    wrong = studio_tui(home, env, "totp", "disable", stdin="wrong password!\n123456\n")
    assert wrong.returncode != 0 and "password is not right" in wrong.stderr
    off = studio_tui(home, env, "totp", "disable",
                     stdin=f"{PASSWORD}\n{totp_code(_secret(uri), time.time())}\n")
    assert off.returncode == 0 and "off" in off.stdout, off.stderr


async def test_two_factor_and_lifting_a_suspension_in_the_app(tmp_path: Path,
                                                              pg_catalog_url: str):
    import time

    from test_team_snapshots import team_env
    from ui import QUIET_SETTINGS, screen_text, settle, studio_app

    from studio_tui.screens.team.members import MembersScreen

    app = studio_app(tmp_path, QUIET_SETTINGS, **team_env(pg_catalog_url))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        form = app.screen
        for name, value in (("email", "olga@example.com"), ("name", "Olga"),
                            ("password", PASSWORD), ("again", PASSWORD), ("org", "Acme")):
            form.query_one(f"#{name}").value = value
        await pilot.press("ctrl+s")
        await settle(pilot)
        studio = app.studio
        await pilot.press("F")
        await settle(pilot)
        note = str(app.screen.query_one("#note").render())
        assert "otpauth://totp/" in note and "shown only now" in note
        secret = _secret(note.split("otpauth://")[1].split("\n\n")[0].replace("\n", ""))
        typed_key = note.split("Or type the key in the app: ")[1].replace("\n", "")
        assert _secret("secret=" + typed_key.replace(" ", "")) == secret
        app.screen.query_one("#code").value = "not a code"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "does not match" in screen_text(app) and studio.session.user.totp_secret is None
        app.screen.query_one("#code").value = totp_code(secret, time.time())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert studio.session.user.totp_secret
        assert (await studio.store.get_user(studio.session.user.id)).totp_secret
        await pilot.press("F")  # now it offers to turn it off: password and code
        await settle(pilot)
        assert "Turn off two-factor" in screen_text(app)
        app.screen.query_one("#password").value = PASSWORD
        app.screen.query_one("#code").value = totp_code(secret, time.time())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not (await studio.store.get_user(studio.session.user.id)).totp_secret

        org_id = next(iter(studio.actor.memberships))
        token = await studio.accounts.invite(org_id, "dev@example.com", Role.DEVELOPER)
        dev = await studio.accounts.accept_invitation(token, "dev@example.com", PASSWORD)
        await studio.accounts.ban(org_id, dev.user.id)
        app.push_screen(MembersScreen(await studio.catalog.organization(org_id)))
        await settle(pilot)
        assert "developer · suspended" in screen_text(app)
        await pilot.press("down" if app.screen.selected_item().email != "dev@example.com"
                          else "home")
        await settle(pilot)
        assert app.screen.selected_item().email == "dev@example.com"
        await pilot.press("u")
        await settle(pilot)
        assert "Lift the suspension of dev@example.com?" in screen_text(app)
        await pilot.click("#confirm")
        await settle(pilot)
        assert "Lifted the suspension of dev@example.com" in screen_text(app)
        assert "suspended" not in screen_text(app)
        await studio.accounts.sign_in("dev@example.com", PASSWORD)


@pytest.mark.parametrize("role, dimmed", [(Role.DEVELOPER, True), (Role.READ_ONLY, True),
                                          (Role.ADMIN, False)])
async def test_catalog_edits_are_dimmed_for_a_role_that_may_not_make_them(tmp_path: Path, role,
                                                                           dimmed):
    from ui import QUIET_SETTINGS, screen_text, seed, settle, studio_app

    from studio_tui.screens.catalog.databases import DatabasesScreen
    from studio_tui.screens.catalog.projects import ProjectsScreen
    from studio_tui.services.platform.rbac import Actor

    await seed(tmp_path, {"Acme": {"shop": [("cache", "redis://cache.example:6379/0")]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        catalog = app.studio.catalog
        [acme] = [o for o in await catalog.organizations() if o.name == "Acme"]
        [shop] = await catalog.projects(acme.id)
        app.studio.set_actor(Actor("u-dev", "dev", memberships={acme.id: role}))
        app.push_screen(DatabasesScreen(acme, shop))
        await settle(pilot)
        for action in ("new", "edit", "delete"):
            assert (app.screen.check_action(action, ()) is None) is dimmed
        assert app.screen.check_action("test", ()) is True  # reading is not an edit
        mode = "read-only role" if role is Role.READ_ONLY else "read-write"
        assert f"{mode}  " in screen_text(app)
        screen = app.screen
        await pilot.press("d")
        await settle(pilot)
        assert (app.screen is screen) is dimmed  # no confirmation offered when dimmed
        if not dimmed:
            assert "Delete 'cache'?" in screen_text(app)
            await pilot.press("escape")
            await settle(pilot)
        app.push_screen(ProjectsScreen(acme))
        await settle(pilot)
        assert (app.screen.check_action("delete", ()) is None) is dimmed


async def test_a_read_only_role_in_the_sql_editor_is_told_its_role_not_write_mode(
        store, test_vault, postgres_server):
    from studio_tui.services.errors import ReadOnlyError
    from studio_tui.services.manager import ConnectionManager
    from studio_tui.services.platform.rbac import Actor
    from studio_tui.services.postgres.sql import SqlSession

    from studio_tui.services.platform.rbac import local_owner

    actor = [local_owner()]
    catalog = Catalog(store, test_vault, lambda: actor[0])
    org = await catalog.create_organization("Acme")
    project = await catalog.create_project(org.id, "shop")
    entry = await catalog.add_database(project.id, "orders", postgres_server.url)
    actor[0] = Actor("u-rita", "rita", memberships={org.id: Role.READ_ONLY})
    await catalog.projects(org.id)  # the lists the UI reads first: the entry's organization
    async with ConnectionManager(catalog) as manager:
        session = SqlSession(manager, entry.id)

        async def never(results) -> bool:
            return False

        with pytest.raises(ReadOnlyError) as refused:
            await session.run("CREATE TABLE rita_try (i int)", never)
        assert "read-only role" in str(refused.value) and "ctrl+w" not in str(refused.value)


async def test_the_audit_log_filters_by_outcome(tmp_path: Path):
    from test_team_snapshots import _seed_local
    from textual.widgets import Select
    from ui import QUIET_SETTINGS, screen_text, settle, studio_app

    await _seed_local(tmp_path)
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        app.screen.query_one("#outcome", Select).value = "denied"
        await pilot.press("ctrl+s")
        await settle(pilot)
        text = screen_text(app)
        assert "2 entries" in text and "outcome denied" in text
        assert "Alice" not in text and "Bob" not in text


async def test_losing_the_sign_up_race_in_the_app_turns_the_form_to_joining(
        tmp_path: Path, pg_catalog_url: str):
    from test_team_snapshots import KEY, team_env
    from ui import QUIET_SETTINGS, screen_text, settle, studio_app

    app = studio_app(tmp_path / "b", QUIET_SETTINGS, **team_env(pg_catalog_url))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "This catalog has no user yet" in screen_text(app)
        # Meanwhile another instance signs up first.
        async with Studio(_settings(tmp_path, "a", pg_catalog_url),
                          {"STUDIO_TUI_KEY": KEY}) as other:
            await other.sign_up("ada@example.com", PASSWORD, org_name="Acme")
        form = app.screen
        for name, value in (("email", "bob@example.com"), ("password", PASSWORD),
                            ("again", PASSWORD)):
            form.query_one(f"#{name}").value = value
        await pilot.press("ctrl+s")
        await settle(pilot)
        text = screen_text(app)
        assert "This catalog already has users: ask an owner or admin" in text
        assert "Join with an invitation" in text and app.studio.session is None
        assert form.query_one("#email").value == "bob@example.com"
