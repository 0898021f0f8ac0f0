"""The opened service layer as one object: store, vault, catalog and connection manager.

Built by the composition root and shared by the TUI and the headless CLI. Opening is async and
idempotent, so the UI can paint its first frame before the catalog is touched.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import socket
import time
from dataclasses import replace
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from studio_tui.services.errors import ConfigError
from studio_tui.services.platform.rbac import SIGNED_OUT, Actor, local_owner
from studio_tui.services.settings import Settings

Clock = Callable[[], float]

if TYPE_CHECKING:
    from studio_tui.services.platform.auth import Accounts, SignedIn, TokenFile
    from studio_tui.services.catalog import Catalog
    from studio_tui.services.manager import ConnectionManager
    from studio_tui.services.platform.store import CatalogStore


def make_store(settings: Settings) -> "CatalogStore":
    """The shared PostgreSQL catalog when ``platform_url`` is set (team mode), else the
    embedded SQLite file."""
    url = (settings.platform_url or "").strip()
    if url:
        if not url.startswith(("postgresql://", "postgres://")):
            from studio_tui.services.redaction import mask_url

            raise ConfigError(
                f"STUDIO_PLATFORM_URL (catalog.platform_url) must be a postgresql:// URL, "
                f"not {mask_url(url)!r}; unset it to use the embedded catalog."
            )
        # By name, at run time (as drivers are): the kinds' packages must not import asyncpg
        # through the studio.
        postgres_store = importlib.import_module("studio_tui.services.platform.postgres_store")
        return postgres_store.PostgresCatalogStore(url)
    from studio_tui.services.platform.sqlite_store import SqliteCatalogStore

    return SqliteCatalogStore(settings.catalog_path)


def origin_hosts(env: Mapping[str, str]) -> tuple[str, ...]:
    """Where the person acting sits: this host, and the SSH client's address when there is one."""
    ssh_client = env.get("SSH_CLIENT", "").split()
    return (socket.gethostname(), *ssh_client[:1])


def origin_of(env: Mapping[str, str]) -> str:
    return " via ".join(origin_hosts(env))


class Studio:
    def __init__(self, settings: Settings, env: Mapping[str, str] | None = None, *,
                 clock: Clock | None = None) -> None:
        """``clock``: seconds since the epoch (default ``time.time``); tests move it. Sessions
        read it as wall time, the connection manager (breakers, idle pools) as elapsed time."""
        self.settings = settings
        self.env = dict(os.environ if env is None else env)
        self._clock = clock
        # Who acts: the OS user in local mode; in team mode nobody until sign-in.
        self._actor: Actor = SIGNED_OUT if settings.platform_url else local_owner()
        self.origin = origin_of(self.env)
        self._store: "CatalogStore | None" = None  # made in open(): aiosqlite costs start-up time
        self._catalog: Catalog | None = None
        self._manager: ConnectionManager | None = None
        self._accounts: "Accounts | None" = None
        self.session: "SignedIn | None" = None  # team mode, once signed in
        self.session_ended = ""  # why the session ended on the server, when it did
        self._lock = asyncio.Lock()
        self.notices: list[str] = []

    @property
    def team_mode(self) -> bool:
        return bool(self.settings.platform_url)

    @property
    def actor(self) -> Actor:
        """Who acts now: the catalog and the connection manager both read it from here."""
        return self._actor

    def set_actor(self, actor: Actor) -> None:
        """Swapped by sign-in and sign-out."""
        self._actor = actor

    # -- team mode: accounts and the signed-in session -------------------------------------
    @property
    def accounts(self) -> "Accounts":
        if self._accounts is None:
            from studio_tui.services.platform.auth import Accounts

            self._accounts = Accounts(self.catalog, self.clock, origin_hosts(self.env))
        return self._accounts

    @property
    def token_file(self) -> "TokenFile":
        from studio_tui.services.platform.auth import TokenFile

        return TokenFile(self.settings.data_dir / "session")

    def _signed_in(self, signed_in: "SignedIn") -> "SignedIn":
        self.session = signed_in
        self.token_file.write(signed_in.token)
        self.set_actor(signed_in.actor)
        return signed_in

    async def sign_up(self, email: str, password: str, display_name: str = "",
                      org_name: str = "Team") -> "SignedIn":
        return self._signed_in(await self.accounts.sign_up(email, password, display_name,
                                                           org_name))

    async def sign_in(self, email: str, password: str, totp: str = "") -> "SignedIn":
        return self._signed_in(await self.accounts.sign_in(email, password, totp))

    async def accept_invitation(self, token: str, email: str, password: str,
                                display_name: str = "") -> "SignedIn":
        return self._signed_in(await self.accounts.accept_invitation(token, email, password,
                                                                     display_name))

    async def resume_session(self) -> "SignedIn | None":
        """Sign in again with the saved token, if it is still valid. AuthenticationError says
        why not (the token file is then removed)."""
        from studio_tui.services.errors import AuthenticationError

        token = self.token_file.read()
        if token is None:
            return None
        try:
            return self._signed_in(await self.accounts.resume(token))
        except AuthenticationError:
            self.token_file.forget()
            raise

    async def require_session(self) -> None:
        """Headless commands in team mode: the saved session, or an error saying to sign in."""
        if not self.team_mode or self.session is not None:
            return
        from studio_tui.services.errors import AuthenticationError

        if await self.resume_session() is None:
            raise AuthenticationError("Not signed in: run `studio-tui login` first.")

    async def change_password(self, old: str, new: str) -> "SignedIn":
        if self.session is None:
            raise RuntimeError("not signed in")
        return self._signed_in(await self.accounts.change_password(self.session.user.id, old,
                                                                   new))

    def _user_id(self) -> str:
        if self.session is None:
            raise RuntimeError("not signed in")
        return self.session.user.id

    async def start_totp(self) -> str:
        """The otpauth URI of a new pending secret for the signed-in account."""
        self._user_id()
        return await self.accounts.start_totp(self.session.user)

    async def confirm_totp(self, code: str) -> None:
        user = await self.accounts.confirm_totp(self._user_id(), code)
        self.session = replace(self.session, user=user)

    async def disable_totp(self, password: str, code: str) -> None:
        user = await self.accounts.disable_totp(self._user_id(), password, code)
        self.session = replace(self.session, user=user)

    async def sign_out(self) -> None:
        token = self.session.token if self.session else self.token_file.read()
        self.session = None
        self.set_actor(SIGNED_OUT)
        self.token_file.forget()
        if self._manager is not None:  # the pools were opened for the last user
            await self._manager.close()
        if token is not None:
            await self.accounts.sign_out(token)

    async def refresh_actor(self) -> None:
        """Re-read the signed-in user's memberships (a role changed by an admin elsewhere)."""
        if self.session is not None:
            self.set_actor(await self.accounts.actor_of(self.session.user,
                                                        self.session.actor.session_id))

    def note_activity(self) -> None:
        """Called on each user action; cheap, and never waits on the catalog. At most once a
        minute, in the background: slide the session's idle expiry, re-read the user's roles
        (changed by an admin elsewhere), and end the session here if it ended on the server
        (signed out elsewhere, account suspended or deleted): ``session_ended`` says why."""
        if self.session is not None and self.accounts.due(self.session.token):
            self.accounts.background(self._recheck(self.session.token))

    async def _recheck(self, token: str) -> None:
        from studio_tui.services.errors import AuthenticationError, StudioError

        try:
            signed_in = await self.accounts.resume(token)
        except AuthenticationError as error:
            if self.session is not None and self.session.token == token:
                self.session = None
                self.session_ended = error.detail
                self.set_actor(SIGNED_OUT)
                self.token_file.forget()
            return
        except StudioError:  # the catalog is unreachable: the next action tries again
            return
        if self.session is not None and self.session.token == token:
            self.session = signed_in
            self.set_actor(signed_in.actor)

    @property
    def clock(self) -> Clock:
        return self._clock or time.time

    def use_clock(self, clock: Clock) -> None:
        """Replace the clock (tests); an already made connection manager follows it too."""
        self._clock = clock
        if self._manager is not None:
            self._manager.use_clock(clock)

    @property
    def store(self) -> "CatalogStore":
        if self._store is None:
            self._store = make_store(self.settings)
        return self._store

    @property
    def catalog(self) -> "Catalog":
        if self._catalog is None:
            raise RuntimeError("Studio.open() has not completed")
        return self._catalog

    @property
    def manager(self) -> "ConnectionManager":
        if self._manager is None:
            # Made on first use: listing the catalog needs no pools, and start-up is faster.
            from studio_tui.services.manager import ConnectionManager

            self._manager = ConnectionManager(self.catalog, idle_timeout=self.settings.idle_timeout,
                                              clock=self._clock or time.monotonic)
        return self._manager

    @property
    def is_open(self) -> bool:
        return self._catalog is not None

    async def open(self) -> "Studio":
        async with self._lock:
            if self._catalog is not None:
                return self
            # Imported here, after the first frame is on screen, not at start-up.
            from studio_tui.services.catalog import Catalog
            from studio_tui.services.keys import unlock

            await self.store.open()
            try:
                vault = await unlock(self.store, self.settings.key_path, self.env)
                catalog = Catalog(self.store, vault, lambda: self._actor, origin=self.origin)
                if not self.team_mode:  # a team's organizations come from its first sign-up
                    env = self.env if self.settings.import_env_databases else {}
                    self.notices = await catalog.ensure_first_run(env)
            except BaseException:
                await self.store.close()
                raise
            self._catalog = catalog
        return self

    async def close(self) -> None:
        async with self._lock:
            if self._accounts is not None:
                await self._accounts.settle()
            if self._manager is not None:
                await self._manager.close()
                self._manager = None
            self._catalog = None
            if self._store is not None:
                await self._store.close()

    async def __aenter__(self) -> "Studio":
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
