"""Team-mode screens at 80x24 and 120x40: sign-in (on a shared PostgreSQL catalog), an
organization's members, the audit log; and a pilot run from sign-up to sign-out."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

import pgservers
from conftest import key_text
from studio_tui.services.platform.models import AuditRecord, User
from studio_tui.services.platform.rbac import Actor, Role
from studio_tui.services.platform.sqlite_store import SqliteCatalogStore
from studio_tui.services.settings import Settings
from studio_tui.services.studio import Studio
from ui import QUIET_SETTINGS, SIZES, screen_text, settle, studio_app

PASSWORD = "correct horse battery"
KEY = key_text()


def team_env(url: str) -> dict[str, str]:
    return {"STUDIO_PLATFORM_URL": url, "STUDIO_TUI_KEY": KEY}


@pytest.fixture(scope="module")
def team_catalog(postgres_server) -> str:
    """A shared catalog whose first user has signed up."""
    url = pgservers.create_database(postgres_server.url, "team_snap_" + uuid.uuid4().hex[:8])

    async def sign_up(home: Path) -> None:
        env = {"STUDIO_TUI_HOME": str(home), **team_env(url)}
        async with Studio(Settings.load(env), env) as studio:
            await studio.sign_up("alice@example.com", PASSWORD, "Alice", "Acme")

    import tempfile

    with tempfile.TemporaryDirectory() as home:
        asyncio.run(sign_up(Path(home)))
    return url


@pytest.mark.parametrize("size", SIZES)
def test_sign_in(snap_compare, tmp_path: Path, team_catalog, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press(*"alice@example.com")

    app = studio_app(tmp_path, QUIET_SETTINGS, **team_env(team_catalog))
    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def _seed_local(home: Path) -> None:
    store = SqliteCatalogStore(home / "data" / "catalog.sqlite3")
    (home / "data").mkdir(parents=True, exist_ok=True)
    async with store:
        org = await store.create_organization("Acme")
        for index, (email, name, role) in enumerate([
                ("alice@example.com", "Alice", Role.OWNER),
                ("bob@example.com", "Bob", Role.DEVELOPER),
                ("rita@example.com", "Rita", Role.READ_ONLY)]):
            user = await store.create_user(User(f"user{index}", email, name,
                                                created_at="2026-11-01T09:00:00+00:00"))
            await store.set_member(org.id, user.id, role)
        for minute, (user, action, database, target, outcome) in enumerate([
                ("Alice", "sign in", "", "alice@example.com", "ok"),
                ("Bob", "UNLINK", "cache", "session:42", "ok"),
                ("Rita", "UNLINK", "cache", "session:42", "denied"),
                ("Rita", "delete rows", "orders", "public.orders", "denied"),
                ("Bob", "update row", "orders", "public.orders", "failed")]):
            await store.append_audit(AuditRecord(
                action=action, outcome=outcome, user_name=user, org="Acme", project="shop",
                database=database, target=target, origin="bastion",
                at=f"2026-11-28T10:0{minute}:00+00:00"))


def _local_app(tmp_path: Path):
    asyncio.run(_seed_local(tmp_path))
    return studio_app(tmp_path, QUIET_SETTINGS)


async def _as_member(pilot, role: Role) -> str:
    await settle(pilot)
    studio = pilot.app.studio
    [org] = [o for o in await studio.store.list_organizations() if o.name == "Acme"]
    studio.set_actor(Actor("user0", "Alice", memberships={org.id: role}))
    return org.id


@pytest.mark.parametrize("size", SIZES)
def test_members(snap_compare, tmp_path: Path, size):
    async def run_before(pilot):
        from studio_tui.screens.team.members import MembersScreen

        org_id = await _as_member(pilot, Role.OWNER)
        pilot.app.push_screen(MembersScreen(await pilot.app.studio.catalog.organization(org_id)))
        await settle(pilot)

    assert snap_compare(_local_app(tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_audit(snap_compare, tmp_path: Path, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)

    assert snap_compare(_local_app(tmp_path), terminal_size=size, run_before=run_before)


async def test_members_screen_refuses_a_non_admin(tmp_path: Path):
    from studio_tui.screens.team.members import MembersScreen

    await _seed_local(tmp_path)
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        org_id = await _as_member(pilot, Role.DEVELOPER)
        screen = MembersScreen(await app.studio.catalog.organization(org_id))
        app.push_screen(screen)
        await settle(pilot)
        assert "only an owner or admin may change them" in screen_text(app)
        assert screen.check_action("invite", ()) is None
        with pytest.raises(Exception, match="developer role, which may not manage members"):
            await app.studio.accounts.set_role(org_id, "user2", Role.ADMIN)
    members = await _members(tmp_path)
    assert members["user2"] is Role.READ_ONLY


async def _members(home: Path) -> dict[str, Role]:
    async with SqliteCatalogStore(home / "data" / "catalog.sqlite3") as store:
        [org] = [o for o in await store.list_organizations() if o.name == "Acme"]
        return {m.user_id: Role(m.role) for m in await store.list_members(org.id)}


async def test_audit_filter_and_export(tmp_path: Path):
    await _seed_local(tmp_path)
    app = studio_app(tmp_path, QUIET_SETTINGS)
    out = tmp_path / "out.jsonl"
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        pilot.app.screen.query_one("#user").value = "Rita"
        await pilot.press("ctrl+s")
        await settle(pilot)
        text = screen_text(app)
        assert "2 entries" in text and "Bob" not in text
        await pilot.press("x")
        await settle(pilot)
        pilot.app.screen.query_one("#path").value = str(out)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert f"Exported 5 entries to {out}" in screen_text(app)
    assert len(out.read_text().splitlines()) == 5


async def test_sign_up_sign_out_and_sign_in_again(tmp_path: Path, postgres_server):
    url = await asyncio.to_thread(pgservers.create_database, postgres_server.url,
                                  "team_flow_" + uuid.uuid4().hex[:8])
    app = studio_app(tmp_path, QUIET_SETTINGS, **team_env(url))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "This catalog has no user yet" in screen_text(app)
        form = app.screen
        for name, value in (("email", "olga@example.com"), ("name", "Olga"),
                            ("password", PASSWORD), ("again", PASSWORD), ("org", "Acme")):
            form.query_one(f"#{name}").value = value
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Acme" in screen_text(app) and app.sub_title == "Olga <olga@example.com>"
        await pilot.press("O")
        await settle(pilot)
        assert "Sign in to the team catalog" in screen_text(app)
        assert app.studio.actor.memberships == {}
        app.screen.query_one("#email").value = "olga@example.com"
        app.screen.query_one("#password").value = "wrong password!"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Wrong email or password" in screen_text(app)
        app.screen.query_one("#password").value = PASSWORD
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Acme" in screen_text(app)
    # The next start resumes the saved session: no sign-in screen.
    again = studio_app(tmp_path, QUIET_SETTINGS, **team_env(url))
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "Organizations" in screen_text(again) and again.studio.session is not None

