"""Team-mode accounts against a real catalog store (SQLite file): sign-up, invitations, sign-in,
session tokens (never stored in clear), expiry, sliding refresh and cleanup, TOTP, suspended
accounts, and login limits that persist across a restart and hold across two instances."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from studio_tui.services.catalog import Catalog
from studio_tui.services.errors import (
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
)
from studio_tui.services.platform.auth import (
    ABSOLUTE_SECONDS,
    IDLE_SECONDS,
    Accounts,
    TokenFile,
    TotpRequiredError,
    hash_password,
    token_sha256,
    totp_code,
    verify_password,
)
from studio_tui.services.platform.login_limits import LoginLockedError
from studio_tui.services.platform.models import AuditFilter
from studio_tui.services.platform.rbac import SIGNED_OUT, Role
from studio_tui.services.platform.sqlite_store import SqliteCatalogStore

PASSWORD = "correct horse battery"
OWNER = "owner@example.com"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Instance:
    """One app instance on the shared catalog file: its own store connection and accounts."""

    def __init__(self, path: Path, vault, clock: Clock) -> None:
        self.store = SqliteCatalogStore(path)
        self.actor = SIGNED_OUT
        self.catalog = Catalog(self.store, vault, lambda: self.actor, origin="bastion")
        self.accounts = Accounts(self.catalog, clock, ("bastion",))

    async def __aenter__(self) -> "Instance":
        await self.store.open()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.accounts.settle()
        await self.store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    return tmp_path / "team.sqlite3"


@pytest.fixture
async def one(catalog_path, test_vault, clock):
    async with Instance(catalog_path, test_vault, clock) as instance:
        yield instance


async def test_passwords_are_salted_scrypt_hashes():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$32768$8$1$")
    assert PASSWORD not in first
    assert verify_password(PASSWORD, first)
    assert not verify_password(PASSWORD + "x", first)
    assert not verify_password(PASSWORD, None)
    assert not verify_password(PASSWORD, "md5$whatever")


async def test_first_user_owns_a_new_org_and_later_ones_need_an_invitation(one, catalog_path):
    assert await one.accounts.needs_sign_up()
    owner = await one.accounts.sign_up(OWNER, PASSWORD, "Olga", "Acme")
    [org] = [o for o in await one.store.list_organizations() if o.name == "Acme"]
    assert owner.actor.role_in(org.id) is Role.OWNER
    with pytest.raises(PermissionDeniedError, match="invitation"):
        await one.accounts.sign_up("eve@example.com", PASSWORD)

    one.actor = owner.actor
    invitation = await one.accounts.invite(org.id, "dev@example.com", Role.READ_ONLY)
    with pytest.raises(PermissionDeniedError, match="another email"):
        await one.accounts.accept_invitation(invitation, "eve@example.com", PASSWORD)
    joined = await one.accounts.accept_invitation(invitation, "Dev@Example.com", PASSWORD, "Dev")
    assert joined.actor.role_in(org.id) is Role.READ_ONLY
    with pytest.raises(ConflictError):  # a one-time token
        await one.accounts.accept_invitation(invitation, "dev@example.com", PASSWORD)

    # A read-only member may not invite or change roles; an admin may not make an owner.
    one.actor = joined.actor
    with pytest.raises(PermissionDeniedError, match="read-only role, which may not manage "
                                                    "members"):
        await one.accounts.invite(org.id, "x@example.com", Role.DEVELOPER)
    one.actor = owner.actor
    await one.accounts.set_role(org.id, joined.user.id, Role.ADMIN)
    one.actor = await one.accounts.actor_of(joined.user)
    with pytest.raises(PermissionDeniedError, match="only an owner"):
        await one.accounts.invite(org.id, "x@example.com", Role.OWNER)
    with pytest.raises(PermissionDeniedError, match="only an owner"):
        await one.accounts.set_role(org.id, owner.user.id, Role.DEVELOPER)
    # Neither the invitation token nor a session token is in the catalog file.
    raw = catalog_path.read_bytes() + (catalog_path.parent / (catalog_path.name + "-wal")
                                       ).read_bytes()
    for token in (invitation, owner.token, joined.token):
        assert token.encode() not in raw
    assert token_sha256(owner.token) == (await one.store.get_session(
        token_sha256(owner.token))).token_sha256


async def test_sessions_expire_slide_and_are_cleaned_up(one, clock):
    owner = await one.accounts.sign_up(OWNER, PASSWORD)
    resumed = await one.accounts.resume(owner.token)
    assert resumed.user.id == owner.user.id
    # Activity slides the idle expiry, written in the background at most once a minute.
    clock.now += IDLE_SECONDS - 60
    one.accounts.touch(owner.token)
    await one.accounts.settle()
    session = await one.store.get_session(token_sha256(owner.token))
    assert session.last_activity_at.startswith("2027")
    clock.now += IDLE_SECONDS - 60
    await one.accounts.resume(owner.token)  # still valid: the touch slid it
    # …but never past the absolute limit.
    while clock.now < 1_800_000_000 + ABSOLUTE_SECONDS + 60:
        clock.now += 3600
        one.accounts.touch(owner.token)
        await one.accounts.settle()
    with pytest.raises(AuthenticationError, match="expired|ended"):
        await one.accounts.resume(owner.token)
    # An idle session is removed by the cleanup at the next sign-in.
    other = await one.accounts.sign_in(OWNER, PASSWORD)
    clock.now += IDLE_SECONDS + 1
    await one.accounts.sign_in(OWNER, PASSWORD)
    assert await one.store.get_session(token_sha256(other.token)) is None


async def test_sign_out_and_password_change_end_sessions(one):
    owner = await one.accounts.sign_up(OWNER, PASSWORD)
    second = await one.accounts.sign_in(OWNER, PASSWORD)
    await one.accounts.sign_out(second.token)
    with pytest.raises(AuthenticationError, match="ended"):
        await one.accounts.resume(second.token)
    changed = await one.accounts.change_password(owner.user.id, PASSWORD, "a new long secret")
    with pytest.raises(AuthenticationError):
        await one.accounts.resume(owner.token)
    assert (await one.accounts.resume(changed.token)).user.id == owner.user.id
    with pytest.raises(AuthenticationError, match="Wrong email or password"):
        await one.accounts.sign_in(OWNER, PASSWORD)
    await one.accounts.sign_in(OWNER, "a new long secret")


async def test_a_suspended_account_is_refused_with_its_sessions(one):
    owner = await one.accounts.sign_up(OWNER, PASSWORD)
    [org] = await one.store.list_organizations()
    one.actor = owner.actor
    token = await one.accounts.invite(org.id, "dev@example.com", Role.DEVELOPER)
    dev = await one.accounts.accept_invitation(token, "dev@example.com", PASSWORD)
    await one.accounts.ban(org.id, dev.user.id)
    with pytest.raises(AuthenticationError, match="ended|suspended"):
        await one.accounts.resume(dev.token)
    with pytest.raises(AuthenticationError, match="suspended"):
        await one.accounts.sign_in("dev@example.com", PASSWORD)


async def test_totp_second_factor(one, clock):
    owner = await one.accounts.sign_up(OWNER, PASSWORD)
    uri = await one.accounts.start_totp(owner.user)
    assert uri.startswith("otpauth://totp/") and "secret=" in uri
    secret_b32 = uri.split("secret=")[1].split("&")[0]
    import base64

    secret = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    await one.accounts.confirm_totp(owner.user.id, totp_code(secret, clock.now))
    stored = await one.store.get_user(owner.user.id)
    assert secret_b32 not in stored.totp_secret  # sealed by the vault
    with pytest.raises(TotpRequiredError):
        await one.accounts.sign_in(OWNER, PASSWORD)
    with pytest.raises(AuthenticationError, match="authenticator code is not right"):
        await one.accounts.sign_in(OWNER, PASSWORD, "000000" if totp_code(
            secret, clock.now) != "000000" else "111111")
    await one.accounts.sign_in(OWNER, PASSWORD, totp_code(secret, clock.now))


async def test_lockout_persists_across_a_restart_and_holds_across_instances(
        catalog_path, test_vault, clock):
    async with Instance(catalog_path, test_vault, clock) as first:
        await first.accounts.sign_up(OWNER, PASSWORD)
        for _ in range(4):
            with pytest.raises(AuthenticationError, match="Wrong email or password"):
                await first.accounts.sign_in(OWNER, "wrong password!")
    # Another instance (and a restart: a new store connection) sees the same run of failures.
    async with Instance(catalog_path, test_vault, clock) as second, \
            Instance(catalog_path, test_vault, clock) as third:
        with pytest.raises(AuthenticationError, match="now locked"):
            await second.accounts.sign_in(OWNER, "wrong password!")
        with pytest.raises(LoginLockedError, match=r"retry after \d+ s") as locked:
            await third.accounts.sign_in(OWNER, PASSWORD)  # even the right password
        assert 250 < locked.value.retry_after <= 300
        clock.now += 301
        await third.accounts.sign_in(OWNER, PASSWORD)
        audit = await third.store.list_audit(AuditFilter(action="sign in"))
        outcomes = [entry.outcome for entry in audit]
        assert outcomes.count("failed") == 5 and "denied" in outcomes and outcomes[0] == "ok"
        assert all(entry.origin == "bastion" for entry in audit)


async def test_the_client_token_file_is_private(tmp_path: Path):
    file = TokenFile(tmp_path / "data" / "session")
    file.write("tok")
    assert file.read() == "tok"
    assert stat.S_IMODE(os.stat(file.path).st_mode) == 0o600
    file.forget()
    assert file.read() is None
