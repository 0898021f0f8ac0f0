"""The PostgreSQL catalog at 10,000 tables: the app against harlequin-postgres, on the same
freshly started server and database, in one run.

    flock /tmp/studio-heavy.lock python benchmarks/pg.py [--tables 10000] [--rounds 5] \
        [--harlequin-python /work/venv-bench/bin/python]

harlequin-postgres runs in its own virtualenv (its Textual is not this project's), in a
subprocess: ``python3 -m venv /work/venv-bench && /work/venv-bench/bin/pip install
harlequin-postgres``. Without it that column is skipped.

Prints, each the median of ``--rounds`` warm runs (and the first, cold, run):
- names: the app's first query and the tree's index, against harlequin's ``get_catalog()``,
  and their ratio (goal <= 1.0x);
- full detail (names, every column, estimates, page-count sizes, constraints, indexes,
  policies, triggers): time and round trips (goal <= 1 s, <= 3);
- exact sizes: one relation (what the detail pane reads), and all of them in one query (what
  the app does not do, and why);
- the same reads through pg-meta, when npm can install it;
- the running app (headless, 120x40, fresh process): time to the tree's first rows and to full
  detail from the moment the entry is opened, the event loop's lag p99 meanwhile (goal
  <= 50 ms), and expanding the 10,000 tables and going to the last one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import realservers  # noqa: E402

BATCH = 2000  # tables per transaction: one transaction cannot lock 10,000

HARLEQUIN = """
import sys, time, json
from harlequin_postgres.adapter import HarlequinPostgresAdapter
url, rounds = sys.argv[1], int(sys.argv[2])
connection = HarlequinPostgresAdapter(conn_str=(url,)).connect()
times = []
for _ in range(rounds + 1):
    started = time.perf_counter()
    catalog = connection.get_catalog()
    times.append(time.perf_counter() - started)
relations = sum(len(schema.children or []) for database in catalog.items
                for schema in (database.children or []))
print(json.dumps({"times": times, "relations": relations}))
"""


async def create_tables(url: str, tables: int) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        for start in range(0, tables, BATCH):
            statements = "".join(
                f"CREATE TABLE t_{i:05} (id bigint PRIMARY KEY, name text, amount numeric,"
                f" created_at timestamptz DEFAULT now(), flags int[]);"
                for i in range(start, min(tables, start + BATCH)))
            async with connection.transaction():
                await connection.execute(statements)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


async def service_timings(url: str, rounds: int, pg_meta: tuple[str, str] | None) -> dict:
    from studio_tui.services.catalog import Catalog
    from studio_tui.services.manager import ConnectionManager
    from studio_tui.services.platform.sqlite_store import SqliteCatalogStore
    from studio_tui.services.postgres.catalog import PostgresCatalog
    from studio_tui.services.postgres.source import open_source
    from studio_tui.services.vault import KeyMaterial, Vault

    result: dict = {}
    with tempfile.TemporaryDirectory() as home:
        async with SqliteCatalogStore(Path(home) / "catalog.sqlite3") as store:
            catalog = Catalog(store, Vault(KeyMaterial(bytes(range(32)), "benchmark")))
            org = await catalog.create_organization("bench")
            project = await catalog.create_project(org.id, "bench")
            entry = await catalog.add_database(project.id, "bench", url, tier="pro",
                                               pg_meta=pg_meta)
            async with ConnectionManager(catalog) as manager:
                opened = await open_source(manager, entry)
                source = opened.source
                reader = PostgresCatalog(source)
                trips: list[str] = []
                fetch = source.fetch

                async def counted(operation, sql, *params, long=False):
                    trips.append(operation)
                    return await fetch(operation, sql, *params, long=long)

                source.fetch = counted
                names, full = [], []
                for _ in range(rounds + 1):
                    started = time.perf_counter()
                    index = await reader.index()
                    names.append(time.perf_counter() - started)
                for _ in range(rounds + 1):
                    trips.clear()
                    started = time.perf_counter()
                    _, details = await reader.everything()
                    full.append(time.perf_counter() - started)
                result.update(
                    mode=source.description, relations=len(index.relations),
                    names_cold_ms=names[0] * 1000, names_ms=median_ms(names[1:]),
                    full_cold_ms=full[0] * 1000, full_ms=median_ms(full[1:]),
                    round_trips=len(trips),
                    columns=sum(len(d.columns) for d in details.values()))
                table = next(o for o in index.relations.values() if o.name == f"t_{len(index.relations) // 2:05}")
                one = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    await reader.exact_sizes(table.oid)
                    one.append(time.perf_counter() - started)
                result["one_exact_size_ms"] = median_ms(one)
                if pg_meta is None:
                    all_sizes = []
                    for _ in range(2):
                        started = time.perf_counter()
                        await source.fetch(
                            "all sizes", "SELECT sum(pg_total_relation_size(oid))::int8 AS s "
                            "FROM pg_class WHERE relkind IN ('r', 'p', 'm')", long=True)
                        all_sizes.append(time.perf_counter() - started)
                    result["all_exact_sizes_ms"] = [t * 1000 for t in all_sizes]
                await source.close()
    return result


def harlequin_timings(python: str, url: str, rounds: int) -> dict | None:
    if not Path(python).exists():
        return None
    out = subprocess.run([python, "-c", HARLEQUIN, url, str(rounds)], capture_output=True,
                         text=True, check=True).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return {"names_cold_ms": data["times"][0] * 1000, "names_ms": median_ms(data["times"][1:]),
            "relations": data["relations"]}


async def loop_lag_probe(samples: list[float], stop: asyncio.Event) -> None:
    interval = 0.01
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(interval)
        samples.append(max(0.0, time.perf_counter() - before - interval))


async def ui_load(url: str) -> dict:
    """The app, headless at 120x40, in this fresh process: open the entry from the databases
    list with a 10 ms ticker on the app's event loop, until every detail is in; then expand
    the 10,000 tables and go to the last."""
    from textual.widgets import Input

    from studio_tui.screens.postgres.browser import PostgresBrowserScreen
    from studio_tui.widgets.postgres.object_tree import ObjectTree
    from ui import QUIET_SETTINGS, seed, settle, studio_app

    result: dict = {}
    with tempfile.TemporaryDirectory() as home:
        await seed(Path(home), {"Bench": {"bench": [("bench", url)]}})
        app = studio_app(Path(home), QUIET_SETTINGS)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.5)
            await pilot.press("colon")
            await pilot.pause(0.2)
            app.screen.query_one(Input).value = "dbs Bench/bench"
            await pilot.press("enter")
            await pilot.pause(1.0)
            await settle(pilot)
            marks: dict[str, float] = {}
            set_index = ObjectTree.set_index

            def timed_set_index(tree, index) -> None:
                set_index(tree, index)
                marks.setdefault("tree", time.perf_counter())

            ObjectTree.set_index = timed_set_index
            lags: list[float] = []
            stop = asyncio.Event()
            probe = asyncio.create_task(loop_lag_probe(lags, stop))
            opened = time.perf_counter()
            await pilot.press("enter")
            while not (isinstance(app.screen, PostgresBrowserScreen)
                       and app.screen.details is not None and app.screen.columns is not None):
                await asyncio.sleep(0.001)
            result["details_ms"] = (time.perf_counter() - opened) * 1000
            result["tree_ms"] = (marks["tree"] - opened) * 1000
            screen = app.screen
            await settle(pilot)
            stop.set()
            await probe
            result.update(lag_p99_ms=statistics.quantiles(lags, n=100, method="inclusive")[98]
                          * 1000, lag_max_ms=max(lags) * 1000, lag_samples=len(lags))
            tree = screen.query_one(ObjectTree)
            tree.cursor = next(i for i, r in enumerate(tree.rows) if r.label == "Tables")
            started = time.perf_counter()
            tree.action_expand()
            result["expand_ms"] = (time.perf_counter() - started) * 1000
            await pilot.pause()
            started = time.perf_counter()
            tree.action_last()
            result["to_last_ms"] = (time.perf_counter() - started) * 1000
            await pilot.pause()
            result["rows"] = len(tree.rows)
    return result


def ui_in_fresh_process(url: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--ui-child", url], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def start_meta(url: str):
    try:
        from pgservers import start_pg_meta
    except ImportError:
        return None
    try:
        return start_pg_meta(url)
    except RuntimeError as exc:  # npm missing, or pg-meta would not start
        print(f"pg-meta skipped: {exc}")
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--harlequin-python", default="/work/venv-bench/bin/python")
    parser.add_argument("--ui-child")
    args = parser.parse_args()
    if args.ui_child:
        print(json.dumps(asyncio.run(ui_load(args.ui_child))))
        return
    server = realservers.start_postgres()
    meta = None
    try:
        from pgservers import create_database

        url = create_database(server.url, "bench")
        started = time.perf_counter()
        asyncio.run(create_tables(url, args.tables))
        print(f"created {args.tables:,} tables in {time.perf_counter() - started:.1f}s")
        ours = asyncio.run(service_timings(url, args.rounds, None))
        theirs = harlequin_timings(args.harlequin_python, url, args.rounds)
        print(f"app, direct: {ours['relations']:,} relations, {ours['columns']:,} columns")
        print(f"  names: {ours['names_ms']:.0f} ms (cold {ours['names_cold_ms']:.0f} ms)")
        if theirs is not None:
            print(f"harlequin-postgres get_catalog: {theirs['names_ms']:.0f} ms "
                  f"(cold {theirs['names_cold_ms']:.0f} ms), {theirs['relations']:,} relations")
            print(f"  ratio app/harlequin: {ours['names_ms'] / theirs['names_ms']:.2f}x")
        print(f"  full detail: {ours['full_ms']:.0f} ms (cold {ours['full_cold_ms']:.0f} ms) "
              f"in {ours['round_trips']} round trips")
        print(f"  exact sizes of one relation: {ours['one_exact_size_ms']:.1f} ms; of all in one "
              f"query: {', '.join(f'{t:.0f}' for t in ours['all_exact_sizes_ms'])} ms")
        meta = start_meta(url)
        if meta is not None:
            via = asyncio.run(service_timings(url, args.rounds, (meta.url, meta.key)))
            print(f"app, {via['mode']}: names {via['names_ms']:.0f} ms (cold "
                  f"{via['names_cold_ms']:.0f}), full detail {via['full_ms']:.0f} ms in "
                  f"{via['round_trips']} round trips, one exact size "
                  f"{via['one_exact_size_ms']:.1f} ms")
        ui = ui_in_fresh_process(url)
        print(f"running app: tree after {ui['tree_ms']:.0f} ms, every detail after "
              f"{ui['details_ms']:.0f} ms; event-loop lag p99 {ui['lag_p99_ms']:.1f} ms "
              f"(max {ui['lag_max_ms']:.1f} ms, {ui['lag_samples']} samples); expanding "
              f"{args.tables:,} tables {ui['expand_ms']:.0f} ms, to the last "
              f"{ui['to_last_ms']:.0f} ms ({ui['rows']:,} rows in the tree)")
    finally:
        if meta is not None:
            meta.stop()
        server.stop()


if __name__ == "__main__":
    main()
