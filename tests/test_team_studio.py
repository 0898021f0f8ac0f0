"""The opened Studio in team mode (shared PostgreSQL catalog): the actor swapped by sign-in and
sign-out, and a session ended elsewhere (account suspended by an admin) noticed on the next
activity, with the member's new role picked up the same way."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pgservers
from conftest import key_text
from studio_tui.services.platform.rbac import SIGNED_OUT, Role
from studio_tui.services.settings import Settings
from studio_tui.services.studio import Studio

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_roles_and_suspension_reach_another_instance(tmp_path: Path, postgres_server):
    url = await asyncio.to_thread(pgservers.create_database, postgres_server.url,
                                  "team_studio_" + uuid.uuid4().hex[:8])
    key = key_text()
    clock = Clock()

    def studio(name: str) -> Studio:
        env = {"STUDIO_TUI_HOME": str(tmp_path / name), "STUDIO_PLATFORM_URL": url,
               "STUDIO_TUI_KEY": key}
        return Studio(Settings.load(env), env, clock=clock)

    async with studio("olga") as admin, studio("dev") as dev:
        assert admin.actor is SIGNED_OUT and dev.actor is SIGNED_OUT
        await admin.sign_up("olga@example.com", PASSWORD, "Olga", "Acme")
        [org] = await admin.catalog.organizations()
        token = await admin.accounts.invite(org.id, "dev@example.com", Role.DEVELOPER)
        await dev.accept_invitation(token, "dev@example.com", PASSWORD, "Dev")
        assert dev.actor.role_in(org.id) is Role.DEVELOPER

        await admin.accounts.set_role(org.id, dev.session.user.id, Role.READ_ONLY)
        dev.note_activity()  # within the minute: nothing is re-read yet
        await dev.accounts.settle()
        assert dev.actor.role_in(org.id) is Role.DEVELOPER
        clock.now += 61
        dev.note_activity()
        await dev.accounts.settle()
        assert dev.actor.role_in(org.id) is Role.READ_ONLY

        await admin.accounts.ban(org.id, dev.session.user.id)
        clock.now += 61
        dev.note_activity()
        await dev.accounts.settle()
        assert dev.session is None and dev.actor is SIGNED_OUT
        assert "ended" in dev.session_ended or "suspended" in dev.session_ended
        assert not dev.token_file.path.exists()
        assert await dev.catalog.organizations() == []

        await admin.sign_out()
        assert admin.actor is SIGNED_OUT and admin.token_file.read() is None
