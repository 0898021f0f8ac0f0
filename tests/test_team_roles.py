"""Roles enforced in the services, against real Redis, MongoDB and PostgreSQL: every role
against each guarded write (Redis key delete and console, MongoDB delete, PostgreSQL row delete
and SQL write mode, catalog and member edits). A refusal names the role and is audited as denied;
what the role may do goes through."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from studio_tui.services.catalog import Catalog
from studio_tui.services.errors import PermissionDeniedError, ReadOnlyError
from studio_tui.services.manager import ConnectionManager
from studio_tui.services.platform.models import AuditFilter
from studio_tui.services.platform.rbac import Actor, Role

WRITERS = {Role.OWNER, Role.ADMIN, Role.DEVELOPER}


class Team:
    """A catalog whose actor the test swaps, as sign-in does on the Studio."""

    def __init__(self, store, vault) -> None:
        self.actor = Actor("local", "setup", everywhere=Role.OWNER)
        self.catalog = Catalog(store, vault, lambda: self.actor)

    def act_as(self, role: Role | None, org_id: str) -> None:
        self.actor = Actor(f"u-{role}", f"user {role}",
                           memberships={org_id: role} if role else {})


@pytest.fixture
async def team(store, test_vault):
    return Team(store, test_vault)


@pytest.fixture
async def org_and_project(team):
    org = await team.catalog.create_organization("Acme")
    project = await team.catalog.create_project(org.id, "shop")
    return org.id, project.id


@pytest.fixture
async def manager(team):
    async with ConnectionManager(team.catalog) as opened:
        yield opened


@pytest.fixture
async def pg_table(postgres_server):
    table = "team_roles_" + uuid.uuid4().hex[:8]
    connection = await asyncpg.connect(postgres_server.url)
    await connection.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, name text)")
    await connection.execute(f"INSERT INTO {table} VALUES (1, 'a'), (2, 'b')")
    yield connection, table
    await connection.execute(f"DROP TABLE {table}")
    await connection.close()


async def _denied_audit(catalog: Catalog, action: str):
    rows = await catalog.store.list_audit(AuditFilter(action=action, outcome="denied"))
    return rows


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_against_each_guarded_write(team, org_and_project, manager, role,
                                                    redis_server, mongo_server, postgres_server,
                                                    pg_table):
    from studio_tui.services.mongo.edits import MongoEdits
    from studio_tui.services.mongo.service import MongoService
    from studio_tui.services.postgres.edits import RowEdits
    from studio_tui.services.postgres.grid import GridService
    from studio_tui.services.postgres.sql import SqlSession
    from studio_tui.services.redis.console import run_console
    from studio_tui.services.redis.edits import RedisEdits
    from studio_tui.services.redis.service import RedisService

    org_id, project_id = org_and_project
    catalog = team.catalog
    redis_entry = await catalog.add_database(project_id, "cache", redis_server.url)
    mongo_entry = await catalog.add_database(project_id, "docs", mongo_server.url)
    pg_entry = await catalog.add_database(project_id, "orders", postgres_server.url)
    redis = RedisService(manager, redis_entry.id)
    key = f"team:{role}".encode()
    await redis.run("seed", lambda r: r.set(key, "1"), write=True)
    mongo = MongoService(manager, mongo_entry.id)
    db_name = "team_" + uuid.uuid4().hex[:8]
    seeded = await MongoEdits(mongo).insert(db_name, "c", [{"_id": 1}, {"_id": 2}])
    grid = GridService(manager, pg_entry.id)
    shape = await grid.shape("public", pg_table[1])
    rows = (await grid.page(shape)).rows

    team.act_as(role, org_id)
    # Reads are every member's.
    assert await redis.run("GET", lambda r: r.get(key)) == b"1"
    writes = {
        "UNLINK": lambda: RedisEdits(redis).delete([key]),
        "SET": lambda: run_console(redis, f"SET {key.decode()} 2"),
        "delete document": lambda: MongoEdits(mongo).delete(db_name, "c", seeded[0]),
        "delete rows": lambda: RowEdits(grid).delete(shape, rows[:1]),
        "SQL write mode": lambda: SqlSession(manager, pg_entry.id).set_write_mode(True),
    }
    for action, write in writes.items():
        if role in WRITERS:
            await write()
            continue
        with pytest.raises(PermissionDeniedError,
                           match="user read_only has the read-only role, which may not "
                                 "write data on") as refused:
            await write()
        assert not isinstance(refused.value, ReadOnlyError)
        denied = await _denied_audit(catalog, action)
        assert denied and denied[0].user_id == "u-read_only" and denied[0].org == "Acme", action
    if role not in WRITERS:  # nothing was written
        team.act_as(Role.OWNER, org_id)
        assert await redis.run("GET", lambda r: r.get(key)) == b"1"
        assert await pg_table[0].fetchval(f"SELECT count(*) FROM {pg_table[1]}") == 2
    await MongoEdits(mongo).run("drop", lambda c: c.drop_database(db_name))


async def test_catalog_and_member_edits_need_admin(team, org_and_project):
    org_id, project_id = org_and_project
    catalog = team.catalog
    for role in (Role.DEVELOPER, Role.READ_ONLY):
        team.act_as(role, org_id)
        with pytest.raises(PermissionDeniedError, match=f"{role.label} role, which may not "
                                                        "manage organizations"):
            await catalog.create_project(org_id, "more")
        with pytest.raises(PermissionDeniedError, match="manage organizations"):
            await catalog.add_database(project_id, "x", "redis://localhost:1")
    team.act_as(Role.ADMIN, org_id)
    assert (await catalog.create_project(org_id, "more")).name == "more"
    denied = await catalog.store.list_audit(AuditFilter(action="create project",
                                                        outcome="denied"))
    assert {entry.user_id for entry in denied} == {"u-developer", "u-read_only"}


async def test_a_non_member_sees_nothing_and_may_do_nothing(team, org_and_project, manager,
                                                            redis_server):
    org_id, project_id = org_and_project
    entry = await team.catalog.add_database(project_id, "cache", redis_server.url)
    team.act_as(None, org_id)
    assert await team.catalog.organizations() == []
    assert await team.catalog.databases() == []
    with pytest.raises(PermissionDeniedError, match="not a member of the organization"):
        await manager.run(entry.id, "GET", lambda r: r.get("k"))


async def test_the_read_only_flag_still_applies_to_an_owner(team, org_and_project, manager,
                                                            redis_server):
    org_id, project_id = org_and_project
    entry = await team.catalog.add_database(project_id, "frozen", redis_server.url,
                                            read_only=True)
    team.act_as(Role.OWNER, org_id)
    with pytest.raises(ReadOnlyError, match="read-only entry"):
        await manager.run(entry.id, "SET", lambda r: r.set("k", "v"), write=True)
    assert not await team.catalog.writable(entry)


async def test_the_ui_hint_follows_the_role(team, org_and_project, redis_server):
    org_id, project_id = org_and_project
    entry = await team.catalog.add_database(project_id, "cache", redis_server.url)
    team.act_as(Role.READ_ONLY, org_id)
    assert not await team.catalog.writable(entry)
    team.act_as(Role.DEVELOPER, org_id)
    assert await team.catalog.writable(entry)


async def test_two_instances_editing_one_entry_on_a_shared_catalog(postgres_server,
                                                                   test_vault):
    """Both read version 1 of the entry; the second save is refused as a conflict, not lost
    silently, and the audit has both attempts' outcome."""
    import asyncio

    import pgservers
    from studio_tui.services.errors import ConflictError
    from studio_tui.services.platform.postgres_store import PostgresCatalogStore

    url = await asyncio.to_thread(pgservers.create_database, postgres_server.url,
                                  "team_edit_" + uuid.uuid4().hex[:8])
    async with PostgresCatalogStore(url) as first_store, PostgresCatalogStore(url) as second:
        first = Catalog(first_store, test_vault)
        other = Catalog(second, test_vault)
        org = await first.create_organization("Acme")
        project = await first.create_project(org.id, "shop")
        entry = await first.add_database(project.id, "cache", "redis://localhost:6379/0")
        seen_by_first = await first.database(entry.id)
        seen_by_other = await other.database(entry.id)
        saved = await first.update_database(entry.id, name="cache-a",
                                            version=seen_by_first.version)
        with pytest.raises(ConflictError):
            await other.update_database(entry.id, name="cache-b", version=seen_by_other.version)
        assert (await other.database(entry.id)).name == "cache-a"
        assert saved.version == seen_by_first.version + 1


async def test_signed_out_may_not_even_create_an_organization(store, test_vault):
    from studio_tui.services.platform.rbac import SIGNED_OUT

    catalog = Catalog(store, test_vault, SIGNED_OUT)
    with pytest.raises(PermissionDeniedError, match="Nobody is signed in"):
        await catalog.create_organization("Acme")
    assert await store.list_organizations() == []
