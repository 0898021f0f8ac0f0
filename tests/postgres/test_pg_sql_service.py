"""The SQL editor's and the server view's services against a real PostgreSQL: statement
splitting, READ ONLY by default, write mode with commit, rollback and a lapsed decision,
refusals on read-only entries, cancel reaching the server, EXPLAIN trees, streamed exports,
completion names, history; and sessions, blockers, cancel and terminate."""

from __future__ import annotations

import asyncio
import csv
import json

import asyncpg
import pytest

import realservers
from pg_grid_data import HOSTILE_COLUMN, HOSTILE_SCHEMA, HOSTILE_TABLE, create_grid_database
from studio_tui.services.errors import (
    NotFoundError,
    StudioError,
    ReadOnlyError,
    ValidationError,
)
from studio_tui.services.postgres import sql as sql_module
from studio_tui.services.postgres.server import ServerService, blocking_chains
from studio_tui.services.postgres.sql import (
    SqlHistory,
    SqlSession,
    split_statements,
    statement_at,
)


@pytest.fixture(scope="module")
def db_url(postgres_server) -> str:
    return create_grid_database(postgres_server.url, "sql_service")


@pytest.fixture
async def entry(catalog, project_id, db_url):
    return await catalog.add_database(project_id, "shop", db_url)


@pytest.fixture
async def session(manager, entry) -> SqlSession:
    return SqlSession(manager, entry.id)


@pytest.fixture
async def raw(db_url):
    connection = await asyncpg.connect(db_url)
    await connection.execute("DROP TABLE IF EXISTS scratch; CREATE TABLE scratch (n int)")
    yield connection
    await connection.close()


async def always(answer: bool):
    async def decide(results) -> bool:
        decide.seen = results
        return answer
    decide.seen = None
    return decide


def test_statements_split_on_semicolons_outside_strings_dollar_quotes_and_comments():
    script = ("select 'a;b' as x;\n"
              "select $$ x; y $$, $fn$ a;$$; $fn$;  -- trailing; comment\n"
              "/* block; comment */ select \"we;ird\" from t;\n"
              "select E'it\\'s;'; -- only a comment ;\n"
              "create function f() returns int language plpgsql as $$ begin return 1; end; $$;\n"
              "select 7")
    texts = [s.text for s in split_statements(script)]
    assert texts[0] == "select 'a;b' as x;"
    assert texts[1].startswith("select $$ x; y $$, $fn$ a;$$; $fn$;")
    assert texts[2].endswith('select "we;ird" from t;')
    assert texts[3].startswith("select E'it\\'s;';")
    assert texts[4].endswith("end; $$;") and texts[5] == "select 7" and len(texts) == 6
    for statement in split_statements(script):
        assert script[statement.start:statement.end] == statement.text
    assert statement_at(script, script.index("we;ird")).text == texts[2]
    assert statement_at(script, len(script)).text == "select 7"
    assert split_statements("  -- nothing\n ; ") == []


async def test_statements_run_read_only_unless_write_mode(session, raw):
    outcome = await session.run("select 1 as one, 'x' as two; select n from scratch",
                                await always(True))
    assert outcome.results[0].columns == ("one", "two") and outcome.results[0].rows == [("1", "x")]
    assert outcome.results[1].status == "SELECT 0" and not outcome.wrote
    with pytest.raises(ReadOnlyError, match="write mode"):
        await session.run("insert into scratch values (1)", await always(True))
    assert await raw.fetchval("select count(*) from scratch") == 0
    shown = await session.run("show statement_timeout", await always(True))
    assert shown.results[0].rows == [("10s",)]  # the free tier's query timeout


async def test_dates_and_times_read_as_postgresql_prints_them(session):
    outcome = await session.run(
        "set local timezone = 'UTC'; select t, t::text, d, d::text, c, c::text, z, z::text "
        "from (select '2024-01-02 03:04:05.5+00'::timestamptz t, '2024-01-02'::date d, "
        "'03:04:05.25'::time c, '2024-01-02 03:04:05'::timestamp z) s", await always(True))
    row = outcome.results[-1].rows[0]
    assert row[0::2] == row[1::2], row


async def test_write_mode_asks_then_commits_or_rolls_back(session, raw):
    await session.set_write_mode(True)
    decide = await always(False)
    outcome = await session.run("insert into scratch select generate_series(1, 3)", decide)
    assert decide.seen[0].status == "INSERT 0 3"
    assert outcome.wrote and not outcome.committed and outcome.note == "Rolled back."
    assert await raw.fetchval("select count(*) from scratch") == 0
    outcome = await session.run("insert into scratch values (7); update scratch set n = 8",
                                await always(True))
    assert outcome.committed and [r.status for r in outcome.results] == ["INSERT 0 1",
                                                                          "UPDATE 1"]
    assert await raw.fetchval("select n from scratch") == 8
    asked = await always(True)
    outcome = await session.run("select * from scratch", asked)
    assert asked.seen is None and not outcome.wrote  # nothing written: nothing to ask


async def test_an_unanswered_write_rolls_back_when_its_time_is_up(session, raw, monkeypatch):
    monkeypatch.setattr(sql_module, "DECISION_WINDOW", 0.3)
    await session.set_write_mode(True)

    async def never(results) -> bool:
        await asyncio.sleep(30)
        return True

    outcome = await session.run("insert into scratch values (1)", never)
    assert not outcome.committed and "rolled back" in outcome.note
    assert outcome.seconds < 0.3  # the statement's time, not the wait for an answer
    assert await raw.fetchval("select count(*) from scratch") == 0


async def test_transaction_control_is_the_editors(session):
    for text in ("begin", "COMMIT", "end", "rollback", "abort", "start transaction read write"):
        with pytest.raises(ValidationError, match="transaction of its own"):
            await session.run(f"select 1; {text}", await always(True))


async def test_a_read_only_entry_refuses_write_mode_in_the_service(catalog, project_id, manager,
                                                                   db_url, raw):
    entry = await catalog.add_database(project_id, "ro", db_url, read_only=True)
    session = SqlSession(manager, entry.id)
    with pytest.raises(ReadOnlyError, match="write mode is refused"):
        await session.set_write_mode(True)
    session.write_mode = True  # even if a screen forgot to ask, the manager refuses the write
    with pytest.raises(ReadOnlyError):
        await session.run("insert into scratch values (1)", await always(True))
    assert await raw.fetchval("select count(*) from scratch") == 0


async def test_cancelling_a_statement_stops_it_on_the_server(session, db_url):
    task = asyncio.create_task(session.run("select pg_sleep(20) /* sql-cancel-probe */",
                                           await always(True)))
    await asyncio.sleep(0.5)
    assert await realservers.postgres_sessions_running(db_url, "sql-cancel-probe", wait=0) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await realservers.postgres_sessions_running(db_url, "sql-cancel-probe") == 0


async def test_explain_shows_a_tree_with_the_costliest_node(session, raw):
    plan = await session.explain("select p.name, count(*) from people p join pairs q "
                                 "on q.a = p.id group by p.name order by 2 desc")
    assert not plan.analyzed and plan.root.node_type == "Sort"
    assert plan.root.detail == "by (count(*)) DESC"  # "Sort at DESC" read as a column named at
    nodes, stack = [], [plan.root]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack += node.children
    assert {"Seq Scan", "Hash Join"} & {n.node_type for n in nodes}
    assert plan.costliest.self_cost == max(n.self_cost for n in nodes)
    analyzed = await session.explain("select count(*) from people", analyze=True)
    assert analyzed.analyzed and analyzed.execution_ms is not None
    assert analyzed.root.actual_rows == 1
    with pytest.raises(ReadOnlyError, match="read-only transaction"):
        await session.explain("update people set age = 0", analyze=True)
    await session.set_write_mode(True)
    before = await raw.fetchval("select count(*) from people where age = 0")
    updated = await session.explain("update people set age = 0", analyze=True)
    assert updated.root.node_type == "ModifyTable" or updated.root.node_type == "Update"
    assert await raw.fetchval("select count(*) from people where age = 0") == before  # rolled back


async def test_export_streams_every_row_to_csv_or_json(session, tmp_path):
    seen = []
    count = await session.export("select id, name, data from people order by id",
                                 tmp_path / "people.csv", "csv", seen.append)
    assert count == 1000 and seen[-1] == 1000
    with open(tmp_path / "people.csv", newline="") as source:
        rows = list(csv.reader(source))
    assert rows[0] == ["id", "name", "data"] and rows[1][:2] == ["1", "person 1"]
    assert json.loads(rows[1][2]) == {"n": 1, "tags": ["a", "b"]} and len(rows) == 1001
    count = await session.export(f'select * from "{HOSTILE_SCHEMA.replace(chr(34), 2 * chr(34))}"'
                                 f'."{HOSTILE_TABLE.replace(chr(34), 2 * chr(34))}" order by id',
                                 tmp_path / "x.json", "json")
    data = json.loads((tmp_path / "x.json").read_text())
    assert count == 4 and data[0] == {"id": "1", HOSTILE_COLUMN: "it's"}
    with pytest.raises(ValidationError, match="returns rows"):
        await session.export("set search_path = public", tmp_path / "y.csv", "csv")


async def test_an_export_outlasts_the_query_timeout_while_each_batch_keeps_it(
        session, tmp_path, monkeypatch):
    from dataclasses import replace

    from studio_tui.services.platform.models import Tier
    from studio_tui.services.tiers import TIER_LIMITS

    monkeypatch.setitem(TIER_LIMITS, Tier.FREE, replace(TIER_LIMITS[Tier.FREE], query_timeout=2.0))
    # Six batches of 500 rows, each waiting 0.4 s on the server (well inside the 2 s limit, even
    # on a busy machine): 2.4 s in all, past the limit.
    slow = ("select n, case when n % 500 = 1 then pg_sleep(0.4)::text end as pause "
            "from generate_series(1, 3000) n")
    assert await session.export(slow, tmp_path / "slow.csv", "csv") == 3000
    with pytest.raises(StudioError, match="(?i)statement timeout|canceling statement"):
        await session.export("select pg_sleep(3)", tmp_path / "stuck.csv", "csv")


async def test_completion_offers_keywords_schemas_tables_and_columns(session):
    names = await session.names()
    assert HOSTILE_SCHEMA in names.schemas and "people" in names.relations["public"]
    word, found = names.complete("SELECT * FROM peo")
    assert word == "peo" and "people" in found
    _, found = names.complete("select na")
    assert "name" not in found  # no table named yet
    _, found = names.complete("select * from people where na")
    assert "name" in found
    _, found = names.complete("select * from public.")
    assert "people" in found and "pairs" in found
    _, found = names.complete("select public.people.")
    assert set(found) >= {"id", "name", "age"}
    _, found = names.complete("sel")
    assert "SELECT" in found
    _, found = names.complete("select * from ")
    assert f'"{HOSTILE_SCHEMA.replace(chr(34), 2 * chr(34))}"' in found


async def test_completion_knows_table_aliases_before_and_after_the_cursor(session):
    names = await session.names()
    hostile = f'"{HOSTILE_SCHEMA.replace(chr(34), 2 * chr(34))}".' \
        f'"{HOSTILE_TABLE.replace(chr(34), 2 * chr(34))}"'
    word, found = names.complete("select p.na", after=" from people p join pairs q on q.a = p.id")
    assert word == "na" and found == ["name"]
    _, found = names.complete("select q.", after=" from people AS p join public.pairs AS q")
    assert set(found) == {"a", "b", "v"}
    _, found = names.complete("select h.", after=f" from {hostile} h")
    assert found == ["id", sql_module.sql_name(HOSTILE_COLUMN)]
    _, found = names.complete("select where.", after=" from people where x")
    assert found == []


def test_export_file_names_need_no_quoting_in_a_shell(tmp_path):
    path = sql_module.export_path(tmp_path, 'postgres (from DATABASE_URL) "x"', "20260101")
    assert path == tmp_path / "exports" / "postgres_from_DATABASE_URL_x-20260101.csv"


def test_history_is_kept_per_database_in_the_data_dir(tmp_path):
    history = SqlHistory.for_database(tmp_path, "db/1")
    history.add("select 1")
    history.add("select 1")
    history.add("select 2\nfrom t")
    again = SqlHistory.for_database(tmp_path, "db/1")
    assert again.entries == ["select 1", "select 2\nfrom t"]
    assert SqlHistory.for_database(tmp_path, "db2").entries == []
    assert (again.path.stat().st_mode & 0o777) == 0o600


# -- the server view --------------------------------------------------------------------------
async def test_sessions_show_who_blocks_whom_and_cancel_and_terminate_work(manager, entry,
                                                                          db_url, raw):
    server = ServerService(manager, entry.id)
    holder = await asyncpg.connect(db_url)
    waiter = await asyncpg.connect(db_url)
    try:
        await raw.execute("insert into scratch values (1)")
        await holder.execute("begin; update scratch set n = 2")
        blocked = asyncio.create_task(waiter.execute("update scratch set n = 3"))
        await asyncio.sleep(0.3)
        backends = await server.activity()
        pids = {b.pid: b for b in backends}
        waiting = pids[waiter.get_server_pid()]
        assert waiting.blocked_by == (holder.get_server_pid(),) and waiting.state == "active"
        assert [waiter.get_server_pid(), holder.get_server_pid()] in blocking_chains(backends)
        locks = await server.locks()
        assert any(not lock.granted and lock.pid == waiter.get_server_pid() for lock in locks)
        await server.signal_backend(waiter.get_server_pid(), "cancel")
        with pytest.raises(asyncpg.QueryCanceledError):
            await blocked
        await server.signal_backend(holder.get_server_pid(), "terminate")
        await asyncio.sleep(0.2)
        with pytest.raises((asyncpg.ConnectionDoesNotExistError, asyncpg.InterfaceError,
                            asyncpg.AdminShutdownError)):
            await holder.fetchval("select 1")
        with pytest.raises(NotFoundError):
            await server.signal_backend(999999, "cancel")
    finally:
        await waiter.close()
        holder.terminate()


async def test_a_read_only_entry_refuses_cancel_and_terminate(catalog, project_id, manager,
                                                              db_url):
    entry = await catalog.add_database(project_id, "ro", db_url, read_only=True)
    server = ServerService(manager, entry.id)
    other = await asyncpg.connect(db_url)
    try:
        for action in ("cancel", "terminate"):
            with pytest.raises(ReadOnlyError):
                await server.signal_backend(other.get_server_pid(), action)
        assert await other.fetchval("select 1") == 1
    finally:
        await other.close()


async def test_overview_and_statements_say_what_they_can(manager, entry, raw):
    server = ServerService(manager, entry.id)
    overview = await server.overview()
    assert overview.database == "sql_service" and overview.size_bytes > 0
    assert overview.max_connections == 200 and overview.version.startswith("PostgreSQL")
    report = await server.statements()
    assert "not installed" in report.unavailable and report.statements == []
    await raw.execute("create extension if not exists pg_stat_statements")
    try:
        report = await server.statements()
        assert "shared_preload_libraries" in report.unavailable
    finally:
        await raw.execute("drop extension pg_stat_statements")
