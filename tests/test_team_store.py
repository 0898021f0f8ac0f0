"""Contract tests of the team-mode store: accounts, members, invitations, sessions, login buckets,
optimistic updates, the hash-chained audit log, and two instances sharing one catalog. Every test
runs on SQLite and on the real PostgreSQL test server (``make_store``/``any_store``)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from catalogstores import StoreFactory, any_store, make_store, pg_catalog_url  # noqa: F401
from conftest import PG_PASSWORD, key_text

from studio_tui.services.errors import ConflictError, NotFoundError, ValidationError, WrongKeyError
from studio_tui.services.kinds import DatabaseKind
from studio_tui.services.platform.migrations import LATEST_VERSION, MIGRATIONS, Variant
from studio_tui.services.platform.models import (
    AuditFilter,
    AuditRecord,
    AuthSession,
    DatabaseEntry,
    Invitation,
    LoginBucket,
    User,
    new_id,
    utc_now,
)
from studio_tui.services.platform.postgres_store import PostgresCatalogStore
from studio_tui.services.platform.rbac import Role
from studio_tui.services.platform.sqlite_store import SqliteCatalogStore
from studio_tui.services.platform.store import CatalogStore
from studio_tui.services.settings import Settings
from studio_tui.services.studio import Studio, make_store as studio_make_store
from studio_tui.services.tiers import Tier


def _at(minutes: float) -> str:
    """An ISO UTC time ``minutes`` from now, in the store's format."""
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat(timespec="seconds")


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(email: str, name: str = "") -> User:
    return User(id=new_id(), email=email, display_name=name or email.split("@")[0],
                password_hash="argon2id$opaque", created_at=utc_now())


def _entry(project_id: str, name: str) -> DatabaseEntry:
    return DatabaseEntry(id=new_id(), project_id=project_id, name=name, kind=DatabaseKind.REDIS,
                         masked_url="redis://h:6379", tier=Tier.FREE, created_at=utc_now(),
                         url_token="v1.token")


async def _raw(store: CatalogStore, sql: str) -> list[tuple]:
    """Straight to the backend's tables, past the store's mapping."""
    if isinstance(store, SqliteCatalogStore):
        with sqlite3.connect(store.path) as conn:
            rows = conn.execute(sql).fetchall()
            conn.commit()
            return rows
    assert isinstance(store, PostgresCatalogStore)
    conn = await asyncpg.connect(store.url)
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def _every_text(store: CatalogStore) -> str:
    tables = ["users", "members", "invitations", "user_sessions", "login_buckets", "audit_log",
              "meta"]
    return "\n".join([repr(await _raw(store, f"SELECT * FROM {t}")) for t in tables])


# -- users ---------------------------------------------------------------------------------------
async def test_users_round_trip_and_emails_are_case_insensitive(any_store: CatalogStore):
    alice = await any_store.create_user(_user("Alice@Example.com", "Alice"))
    assert await any_store.get_user(alice.id) == alice
    assert await any_store.find_user_by_email("  alice@EXAMPLE.com ") == alice
    assert await any_store.find_user_by_email("bob@example.com") is None
    with pytest.raises(ConflictError, match="already exists"):
        await any_store.create_user(_user("ALICE@example.com"))
    with pytest.raises(ValidationError):
        await any_store.create_user(_user("not an email"))
    with pytest.raises(NotFoundError):
        await any_store.get_user("nope")


async def test_update_user_is_optimistic_across_two_instances(make_store: StoreFactory):
    async with make_store() as first, make_store() as second:
        alice = await first.create_user(_user("alice@example.com"))
        seen_by_second = await second.get_user(alice.id)
        totp = "v1.encrypted-totp-secret"
        updated = await first.update_user(replace(alice, totp_secret=totp, banned_at=utc_now()))
        assert updated.version == alice.version + 1
        assert (await second.get_user(alice.id)).totp_secret == totp
        with pytest.raises(ConflictError, match="changed by someone else"):
            await second.update_user(replace(seen_by_second, display_name="Mallory"))
        assert (await second.get_user(alice.id)).display_name == "alice"


async def test_list_and_count_users_leave_deleted_ones_out(any_store: CatalogStore):
    alice = await any_store.create_user(_user("alice@example.com"))
    await any_store.create_user(_user("bob@example.com"))
    await any_store.update_user(replace(alice, deleted_at=utc_now()))
    assert [u.email for u in await any_store.list_users()] == ["bob@example.com"]
    assert await any_store.count_users() == 1
    assert await any_store.count_users(include_deleted=True) == 2
    assert len(await any_store.list_users(include_deleted=True)) == 2


# -- members -------------------------------------------------------------------------------------
async def test_an_organization_always_keeps_an_owner(any_store: CatalogStore):
    org = await any_store.create_organization("Acme")
    alice = await any_store.create_user(_user("alice@example.com"))
    bob = await any_store.create_user(_user("bob@example.com"))
    await any_store.set_member(org.id, alice.id, Role.OWNER)
    await any_store.set_member(org.id, bob.id, Role.DEVELOPER)
    with pytest.raises(ConflictError, match="last owner"):
        await any_store.remove_member(org.id, alice.id)
    with pytest.raises(ConflictError, match="last owner"):
        await any_store.set_member(org.id, alice.id, Role.ADMIN)
    await any_store.set_member(org.id, bob.id, Role.OWNER)
    await any_store.set_member(org.id, alice.id, Role.ADMIN)
    assert await any_store.memberships(alice.id) == {org.id: Role.ADMIN}
    assert [(m.email, m.role) for m in await any_store.list_members(org.id)] == [
        ("alice@example.com", Role.ADMIN), ("bob@example.com", Role.OWNER)]
    with pytest.raises(ConflictError, match="last owner"):
        await any_store.remove_member(org.id, bob.id)
    await any_store.remove_member(org.id, alice.id)
    with pytest.raises(NotFoundError):
        await any_store.remove_member(org.id, alice.id)


async def test_two_instances_removing_the_two_owners_at_once_leave_one(make_store: StoreFactory):
    async with make_store() as first, make_store() as second:
        org = await first.create_organization("Acme")
        owners = [await first.create_user(_user(f"owner{n}@example.com")) for n in range(2)]
        for owner in owners:
            await first.set_member(org.id, owner.id, Role.OWNER)
        results = await asyncio.gather(first.remove_member(org.id, owners[0].id),
                                       second.remove_member(org.id, owners[1].id),
                                       return_exceptions=True)
        assert sum(r is None for r in results) == 1
        assert sum(isinstance(r, ConflictError) for r in results) == 1
        assert [m.role for m in await second.list_members(org.id)] == [Role.OWNER]


# -- invitations ---------------------------------------------------------------------------------
async def test_invitations_are_accepted_once_before_they_expire(any_store: CatalogStore):
    org = await any_store.create_organization("Acme")
    alice = await any_store.create_user(_user("alice@example.com"))
    bob = await any_store.create_user(_user("bob@example.com"))
    token = secrets.token_urlsafe(32)
    invitation = await any_store.create_invitation(Invitation(
        _sha(token), org.id, "bob@example.com", Role.DEVELOPER, alice.id, utc_now(), _at(60)))
    assert await any_store.find_invitation(_sha(token)) == invitation
    assert await any_store.list_invitations(org.id) == [invitation]
    assert token not in await _every_text(any_store)

    member = await any_store.accept_invitation(_sha(token), bob.id)
    assert (member.user_id, member.role) == (bob.id, Role.DEVELOPER)
    assert await any_store.memberships(bob.id) == {org.id: Role.DEVELOPER}
    assert await any_store.list_invitations(org.id) == []
    with pytest.raises(ConflictError, match="already used"):
        await any_store.accept_invitation(_sha(token), bob.id)
    with pytest.raises(NotFoundError):
        await any_store.accept_invitation(_sha("never issued"), bob.id)

    late = await any_store.create_invitation(Invitation(
        _sha("late"), org.id, "carol@example.com", Role.ADMIN, alice.id, _at(-120), _at(-60)))
    with pytest.raises(ConflictError, match="expired"):
        await any_store.accept_invitation(late.token_sha256, bob.id)


# -- sessions ------------------------------------------------------------------------------------
async def test_session_tokens_are_never_stored_in_clear(any_store: CatalogStore):
    alice = await any_store.create_user(_user("alice@example.com"))
    token = secrets.token_urlsafe(32)
    session = await any_store.create_session(AuthSession(
        _sha(token), alice.id, utc_now(), _at(30), utc_now(), "10.0.0.5"))
    assert await any_store.get_session(_sha(token)) == session
    assert await any_store.get_session(token) is None
    stored = await _raw(any_store, "SELECT token_sha256 FROM user_sessions")
    assert stored == [(_sha(token),)]
    assert token not in await _every_text(any_store)


async def test_sessions_slide_expire_and_are_cleaned_up(any_store: CatalogStore):
    alice = await any_store.create_user(_user("alice@example.com"))
    bob = await any_store.create_user(_user("bob@example.com"))
    live = await any_store.create_session(AuthSession(_sha("live"), alice.id, _at(-10), _at(5)))
    await any_store.create_session(AuthSession(_sha("old"), alice.id, _at(-90), _at(-30)))
    await any_store.create_session(AuthSession(_sha("bob1"), bob.id, _at(-5), _at(30)))
    await any_store.create_session(AuthSession(_sha("bob2"), bob.id, _at(-5), _at(30)))

    assert await any_store.touch_session(live.token_sha256, utc_now(), _at(30))
    assert (await any_store.get_session(live.token_sha256)).expires_at == _at(30)
    assert not await any_store.touch_session(_sha("gone"), utc_now(), _at(30))

    assert await any_store.delete_expired_sessions(utc_now()) == 1
    assert await any_store.get_session(_sha("old")) is None
    assert await any_store.delete_user_sessions(bob.id) == 2
    assert await any_store.delete_session(live.token_sha256)
    assert not await any_store.delete_session(live.token_sha256)
    assert await _raw(any_store, "SELECT COUNT(*) FROM user_sessions") == [(0,)]


# -- login buckets -------------------------------------------------------------------------------
def _fail(bucket: LoginBucket | None) -> LoginBucket:
    """One failed attempt: a token spent, a failure counted, a lockout after five."""
    bucket = bucket or LoginBucket("", tokens=10.0, updated_at=utc_now())
    failures = bucket.failures + 1
    return replace(bucket, tokens=bucket.tokens - 1, updated_at=utc_now(), failures=failures,
                   locked_until=_at(15) if failures >= 5 else None)


async def test_a_lockout_survives_a_restart_and_is_shared_by_instances(make_store: StoreFactory):
    key = "account:alice@example.com"
    async with make_store() as first:
        for _ in range(5):
            bucket = await first.update_login_bucket(key, _fail)
        assert (bucket.key, bucket.failures, bucket.tokens) == (key, 5, 5.0)
        assert bucket.locked_until is not None
    async with make_store() as restarted, make_store() as other:
        assert await restarted.get_login_bucket(key) == bucket
        assert await other.get_login_bucket("origin:10.0.0.5") is None
        await asyncio.gather(*(store.update_login_bucket(key, _fail)
                               for store in (restarted, other) for _ in range(25)))
        final = await restarted.get_login_bucket(key)
    assert final.failures == 55  # no read-modify-write was lost between the two instances
    assert final.tokens == pytest.approx(-45.0)


async def test_a_failing_bucket_update_changes_nothing(any_store: CatalogStore):
    await any_store.update_login_bucket("origin:10.0.0.5", _fail)

    def broken(_bucket: LoginBucket | None) -> LoginBucket:
        raise RuntimeError("clock went backwards")

    with pytest.raises(RuntimeError):
        await any_store.update_login_bucket("origin:10.0.0.5", broken)
    assert (await any_store.get_login_bucket("origin:10.0.0.5")).failures == 1


async def test_stale_buckets_are_forgotten_but_not_running_lockouts(any_store: CatalogStore):
    def at(updated: str, locked_until: str | None):
        return lambda _b: LoginBucket("", 3.0, updated, 5, locked_until)

    await any_store.update_login_bucket("origin:old", at(_at(-120), None))
    await any_store.update_login_bucket("origin:old-lock-over", at(_at(-120), _at(-90)))
    await any_store.update_login_bucket("account:locked", at(_at(-120), _at(30)))
    await any_store.update_login_bucket("origin:recent", at(_at(-1), None))
    assert await any_store.delete_stale_login_buckets(_at(-60)) == 2
    assert await any_store.get_login_bucket("origin:old") is None
    assert await any_store.get_login_bucket("account:locked") is not None
    assert await any_store.get_login_bucket("origin:recent") is not None


# -- optimistic catalog updates and concurrent creates -------------------------------------------
async def test_a_stale_database_edit_from_another_instance_is_a_conflict(make_store: StoreFactory):
    async with make_store() as first, make_store() as second:
        org = await first.create_organization("Acme")
        project = await first.create_project(org.id, "shop")
        entry = await first.add_database(_entry(project.id, "cache"))
        stale = await second.get_database(entry.id)
        await first.update_database(replace(entry, tier=Tier.PRO))
        with pytest.raises(ConflictError, match="changed by someone else meanwhile; reload"):
            await second.update_database(replace(stale, read_only=True))
        fresh = await second.get_database(entry.id)
        assert (fresh.tier, fresh.read_only, fresh.version) == (Tier.PRO, False, 2)
        await second.update_database(replace(fresh, read_only=True))

        renamed = await first.rename_organization(org.id, "Acme Corp", version=org.version)
        assert renamed.version == org.version + 1
        with pytest.raises(ConflictError, match="changed by someone else"):
            await second.rename_organization(org.id, "Acme Inc", version=org.version)
        with pytest.raises(ConflictError, match="changed by someone else"):
            await first.rename_project(project.id, "store", version=project.version + 7)
        with pytest.raises(NotFoundError):
            await first.update_database(replace(entry, id="nope"))


async def test_concurrent_creates_make_one_row_and_clear_conflicts(make_store: StoreFactory):
    async with make_store() as first, make_store() as second:
        attempts = [store.create_organization("Acme") for store in (first, second)
                    for _ in range(5)]
        results = await asyncio.gather(*attempts, return_exceptions=True)
        created = [r for r in results if not isinstance(r, BaseException)]
        assert len(created) == 1
        assert all(isinstance(r, ConflictError) and "already exists" in str(r)
                   for r in results if r not in created)
        project = await first.create_project(created[0].id, "shop")
        results = await asyncio.gather(
            *(store.add_database(_entry(project.id, "cache")) for store in (first, second)),
            first.create_user(_user("Alice@X.io")), second.create_user(_user("alice@x.io")),
            return_exceptions=True)
        assert sum(isinstance(r, ConflictError) for r in results) == 2
        assert len(await second.list_databases(project.id)) == 1
        assert await first.count_users() == 1


# -- audit ---------------------------------------------------------------------------------------
async def _audit_some(store: CatalogStore, count: int) -> None:
    for n in range(count):
        await store.append_audit(AuditRecord(
            "SET", "ok", user_id="u1", user_name="alice", org="Acme", project="shop",
            database="cache", target=f"key:{n}", duration_ms=n, operation_id=f"op{n}",
            origin="10.0.0.5", detail="ünïcode ✓"))


async def test_the_audit_chain_verifies_and_links_every_row(any_store: CatalogStore):
    await _audit_some(any_store, 5)
    entries = [e async for e in any_store.iter_audit(batch=2)]
    assert [e.id for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == ""
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:]))
    verification = await any_store.verify_audit_chain()
    assert verification.ok and verification.checked == 5


async def test_an_edited_audit_row_is_found(any_store: CatalogStore):
    await _audit_some(any_store, 5)
    await _raw(any_store, "UPDATE audit_log SET outcome = 'denied' WHERE id = 3")
    verification = await any_store.verify_audit_chain()
    assert not verification.ok
    assert verification.first_broken_id == 3
    assert "edited" in verification.reason


async def test_a_deleted_audit_row_is_found(any_store: CatalogStore):
    await _audit_some(any_store, 5)
    await _raw(any_store, "DELETE FROM audit_log WHERE id = 2")
    verification = await any_store.verify_audit_chain()
    assert (verification.ok, verification.first_broken_id) == (False, 3)
    assert "deleted" in verification.reason


async def test_deleting_the_newest_audit_rows_is_found(any_store: CatalogStore):
    await _audit_some(any_store, 5)
    await _raw(any_store, "DELETE FROM audit_log WHERE id >= 4")
    verification = await any_store.verify_audit_chain()
    assert not verification.ok and verification.checked == 3
    assert "newest rows were deleted" in verification.reason


async def test_two_instances_appending_at_once_keep_one_chain(make_store: StoreFactory):
    async with make_store() as first, make_store() as second:
        await asyncio.gather(*(store.append_audit(AuditRecord(f"op{n}", user_id=store_name))
                               for n in range(40)
                               for store_name, store in (("a", first), ("b", second))))
        verification = await second.verify_audit_chain()
    assert verification.ok and verification.checked == 80


async def test_audit_list_filters_and_pages(any_store: CatalogStore):
    await any_store.append_audit(AuditRecord("GET", user_id="u1", user_name="alice",
                                             database="cache", at="2026-01-01T10:00:00+00:00"))
    await any_store.append_audit(AuditRecord("SET", "denied", user_id="u2", user_name="bob",
                                             database="cache", at="2026-01-02T10:00:00+00:00"))
    await any_store.append_audit(AuditRecord("SET", user_id="u1", user_name="alice",
                                             database="orders", at="2026-01-03T10:00:00+00:00"))
    assert [e.id for e in await any_store.list_audit()] == [3, 2, 1]
    assert [e.id for e in await any_store.list_audit(AuditFilter(user="alice"))] == [3, 1]
    assert [e.id for e in await any_store.list_audit(AuditFilter(user="u2"))] == [2]
    assert [e.id for e in await any_store.list_audit(AuditFilter(action="SET"))] == [3, 2]
    assert [e.id for e in await any_store.list_audit(AuditFilter(database="cache"))] == [2, 1]
    assert [e.id for e in await any_store.list_audit(AuditFilter(outcome="denied"))] == [2]
    window = AuditFilter(since="2026-01-02T00:00:00+00:00", until="2026-01-03T10:00:00+00:00")
    assert [e.id for e in await any_store.list_audit(window)] == [2]
    assert [e.id for e in await any_store.list_audit(limit=1, before_id=3)] == [2]
    assert [e.id for e in await any_store.list_audit(AuditFilter(action="SET", user="alice"),
                                                     before_id=3)] == []


async def test_audit_rows_written_before_the_chain_are_chained_on_upgrade(tmp_path: Path):
    path = tmp_path / "v2.sqlite3"
    with sqlite3.connect(path) as raw:  # a catalog as version 2 left it, with audit rows
        raw.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                    "description TEXT NOT NULL, applied_at TEXT NOT NULL)")
        for version, description, statements in MIGRATIONS[:2]:
            for statement in statements:
                raw.execute(statement.sqlite if isinstance(statement, Variant) else statement)
            raw.execute("INSERT INTO schema_version VALUES (?, ?, ?)",
                        (version, description, utc_now()))
        for n in range(3):
            raw.execute("INSERT INTO audit_log (at, actor, action, target, outcome) "
                        "VALUES (?, 'local', ?, 'cache', 'ok')", (utc_now(), f"old{n}"))
    async with SqliteCatalogStore(path) as store:
        assert await store.schema_version() == LATEST_VERSION
        await store.append_audit(AuditRecord("new", user_id="local"))
        entries = [e async for e in store.iter_audit()]
        assert [(e.id, e.action, e.user_id) for e in entries] == [
            (1, "old0", "local"), (2, "old1", "local"), (3, "old2", "local"), (4, "new", "local")]
        assert (await store.verify_audit_chain()).checked == 4
        assert (await store.verify_audit_chain()).ok


# -- two instances on one catalog ----------------------------------------------------------------
async def test_two_instances_starting_together_migrate_once(make_store: StoreFactory):
    first, second = make_store(), make_store()
    await asyncio.gather(first.open(), second.open())
    try:
        assert await first.schema_version() == await second.schema_version() == LATEST_VERSION
        rows = await _raw(first, "SELECT version FROM schema_version ORDER BY version")
        assert rows == [(v,) for v, _d, _s in MIGRATIONS]
    finally:
        await first.close()
        await second.close()


async def test_two_instances_times_100_concurrent_edits_lose_nothing(make_store: StoreFactory):
    """Each instance adds 100 entries, edits each, and appends a mark to one of ten shared
    entries (optimistic, retried on conflict): every add, edit and mark must be there."""
    async with make_store() as seed:
        org = await seed.create_organization("Acme")
        project = await seed.create_project(org.id, "shop")
        shared = [await seed.add_database(_entry(project.id, f"shared{n}")) for n in range(10)]
    conflicts = 0

    async def edit(store: CatalogStore, instance: str, n: int) -> None:
        nonlocal conflicts
        entry = await store.add_database(_entry(project.id, f"{instance}-{n}"))
        await store.update_database(replace(entry, tags=("edited",), tier=Tier.PRO))
        target = shared[n % len(shared)].id
        while True:
            current = await store.get_database(target)
            try:
                await store.update_database(replace(current, tags=(*current.tags,
                                                                    f"{instance}-{n}")))
                return
            except ConflictError:
                conflicts += 1

    async with make_store() as a, make_store() as b:
        await asyncio.gather(*(edit(store, name, n) for name, store in (("a", a), ("b", b))
                               for n in range(100)))
        entries = await a.list_databases(project.id)
    added = [e for e in entries if not e.name.startswith("shared")]
    assert len(added) == 200
    assert all(e.tags == ("edited",) and e.tier is Tier.PRO and e.version == 2 for e in added)
    marks = [tag for e in entries if e.name.startswith("shared") for tag in e.tags]
    assert sorted(marks) == sorted(f"{i}-{n}" for i in "ab" for n in range(100))
    assert conflicts > 0  # the optimistic path was exercised, not just serialized


# -- team mode through Studio --------------------------------------------------------------------
def _team_settings(tmp_path: Path, name: str, url: str) -> Settings:
    root = tmp_path / name
    return Settings(config_dir=root / "config", data_dir=root / "data", log_dir=root / "log",
                    platform_url=url, import_env_databases=False)


async def test_every_instance_must_hold_the_catalog_key(tmp_path: Path, pg_catalog_url: str):
    team_key = key_text()
    async with Studio(_team_settings(tmp_path, "one", pg_catalog_url),
                      {"STUDIO_TUI_KEY": team_key}) as one:
        # A team catalog takes no edit from someone signed out: the first user signs up.
        await one.sign_up("a@example.com", "long enough pw", org_name="Acme")
        org = next(o for o in await one.catalog.organizations() if o.name == "Acme")
        project = await one.catalog.create_project(org.id, "shop")
        entry = await one.catalog.add_database(project.id, "cache", "redis://:s3cret@cache:6379")
    other = Studio(_team_settings(tmp_path, "two", pg_catalog_url), {"STUDIO_TUI_KEY": key_text()})
    with pytest.raises(WrongKeyError, match="does not match"):
        await other.open()
    async with Studio(_team_settings(tmp_path, "three", pg_catalog_url),
                      {"STUDIO_TUI_KEY": team_key}) as three:
        await three.sign_in("a@example.com", "long enough pw")
        assert three.catalog.database_url(await three.catalog.database(entry.id)) == (
            "redis://:s3cret@cache:6379")


async def test_two_fresh_instances_with_different_keys_agree_on_one(tmp_path: Path,
                                                                      pg_catalog_url: str):
    from studio_tui.services.keys import unlock

    async with PostgresCatalogStore(pg_catalog_url) as a, PostgresCatalogStore(pg_catalog_url) as b:
        results = await asyncio.gather(
            unlock(a, tmp_path / "a" / "key", {"STUDIO_TUI_KEY": key_text()}),
            unlock(b, tmp_path / "b" / "key", {"STUDIO_TUI_KEY": key_text()}),
            return_exceptions=True)
    assert sum(isinstance(r, WrongKeyError) for r in results) == 1


def test_a_platform_url_selects_the_shared_catalog(tmp_path: Path):
    settings = _team_settings(tmp_path, "x", "postgresql://studio:pw@db:5432/catalog")
    assert isinstance(studio_make_store(settings), PostgresCatalogStore)
    assert isinstance(studio_make_store(replace(settings, platform_url=None)), SqliteCatalogStore)
    with pytest.raises(Exception, match="must be a postgresql:// URL") as caught:
        studio_make_store(replace(settings, platform_url="mysql://root:hunter2@db/x"))
    assert "hunter2" not in str(caught.value)


async def test_an_unreachable_shared_catalog_is_a_clear_error_without_the_password():
    from studio_tui.services.platform.sql_store import CatalogUnavailableError

    store = PostgresCatalogStore("postgresql://studio:hunter2@127.0.0.1:1/catalog")
    with pytest.raises(CatalogUnavailableError, match="Cannot open the shared catalog") as caught:
        await store.open()
    assert "hunter2" not in str(caught.value)


async def test_a_dropped_catalog_connection_is_a_studio_error_and_recovers(pg_catalog_url: str):
    from studio_tui.services.platform.sql_store import CatalogUnavailableError

    async with PostgresCatalogStore(pg_catalog_url, min_size=2, max_size=2) as store:
        await store.set_meta("probe", "1")
        admin = await asyncpg.connect(pg_catalog_url)
        try:
            killed = await admin.fetchval(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        finally:
            await admin.close()
        assert killed >= 1
        outcomes = []
        for _ in range(4):  # a dead pooled connection fails once, as a StudioError
            try:
                outcomes.append(await store.get_meta("probe"))
            except CatalogUnavailableError as exc:
                assert "unreachable" in str(exc) and PG_PASSWORD not in str(exc)
                outcomes.append("unavailable")
        # asyncpg may also notice the dead connection and reconnect silently; never a raw error.
        assert set(outcomes) <= {"1", "unavailable"} and outcomes[-1] == "1", outcomes
