"""Export and import at scale: the app's MongoDB transfer service against a raw pymongo cursor
loop doing the same work (canonical Extended JSON lines to a file), both on the same freshly
started MongoDB-wire server with the same documents, in one run.

    flock /tmp/studio-heavy.lock python benchmarks/mongo_export.py [--docs 100000] [--rounds 2]
        [--export-only]

Prints: export documents/s for both and their ratio (goal >= 0.7); RSS during the service's
export, sampled after every batch (goal: flat, i.e. no growth with the documents written);
event-loop lag p99 while the service exports (goal <= 50 ms); import documents/s of the
exported file with RSS; and the same export through the running app (headless, 120x40, the
export screen, in a fresh process): documents/s and the app's event-loop lag p99 (goal
<= 50 ms). The server is not mongod: compare ratios, not absolute rates.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import realservers  # noqa: E402
from mongo import loop_lag_probe  # noqa: E402  (benchmarks/mongo.py, beside this script)
from bson import json_util  # noqa: E402
from pymongo import AsyncMongoClient  # noqa: E402

from studio_tui.services.catalog import Catalog  # noqa: E402
from studio_tui.services.manager import ConnectionManager  # noqa: E402
from studio_tui.services.mongo import transfer  # noqa: E402
from studio_tui.services.mongo.ejson import read_codec_options  # noqa: E402
from studio_tui.services.mongo.scope import MongoScope  # noqa: E402
from studio_tui.services.platform.sqlite_store import SqliteCatalogStore  # noqa: E402
from studio_tui.services.vault import KeyMaterial, Vault  # noqa: E402

DATABASE, COLLECTION = "bench", "orders"


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def p99(samples: list[float]) -> float:
    if len(samples) < 3:
        return 0.0
    return statistics.quantiles(samples, n=100, method="inclusive")[98] * 1000


async def populate(url: str, docs: int) -> None:
    import datetime as dt

    from bson import Decimal128, Int64

    client = AsyncMongoClient(url)
    orders = client[DATABASE][COLLECTION]
    await orders.drop()
    at = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    for start in range(0, docs, 10_000):
        await orders.insert_many([{
            "n": n, "status": ("new", "paid", "shipped")[n % 3], "total": Decimal128(f"{n}.25"),
            "qty": Int64(n % 17), "placed": at + dt.timedelta(minutes=n),
            "customer": {"name": f"customer {n % 997}", "tags": ["a", "b"][: n % 3]},
            "lines": [{"sku": f"s{n}-{i}", "price": i * 1.5} for i in range(n % 4)],
        } for n in range(start, min(docs, start + 10_000))], ordered=False)
    await client.close()


async def raw_export(url: str, path: Path, lags: list[float]) -> tuple[int, float]:
    """What a hand-written exporter does: one cursor, each document to canonical EJSON."""
    client = AsyncMongoClient(url)
    orders = client.get_database(DATABASE, codec_options=read_codec_options())[COLLECTION]
    stop = asyncio.Event()
    probe = asyncio.create_task(loop_lag_probe(lags, stop))
    started = time.perf_counter()
    count = 0
    with path.open("w", encoding="utf-8") as stream:
        cursor = orders.find({}, batch_size=1000)
        async for document in cursor:
            stream.write(json_util.dumps(document, json_options=json_util.CANONICAL_JSON_OPTIONS)
                         + "\n")
            count += 1
    elapsed = time.perf_counter() - started
    stop.set()
    await probe
    await client.close()
    return count, elapsed


@contextlib.asynccontextmanager
async def bench_scope(url: str, collection: str = COLLECTION):
    with tempfile.TemporaryDirectory() as home:
        async with SqliteCatalogStore(Path(home) / "catalog.sqlite3") as store:
            catalog = Catalog(store, Vault(KeyMaterial(bytes(range(32)), "benchmark")))
            org = await catalog.create_organization("bench")
            project = await catalog.create_project(org.id, "bench")
            entry = await catalog.add_database(project.id, "bench", url, tier="pro")
            async with ConnectionManager(catalog) as manager:
                yield MongoScope(manager, entry.id, DATABASE, collection)


async def service_export(scope: MongoScope, path: Path) -> dict:
    rss: list[float] = []
    lags: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.create_task(loop_lag_probe(lags, stop))
    started = time.perf_counter()
    done = 0
    async with contextlib.aclosing(transfer.export_documents(scope, str(path),
                                                             overwrite=True)) as steps:
        async for progress in steps:
            done = progress.done
            rss.append(rss_mb())
    elapsed = time.perf_counter() - started
    stop.set()
    await probe
    return {"docs": done, "elapsed": elapsed, "rss": rss, "lag_p99_ms": p99(lags),
            "lag_max_ms": max(lags) * 1000 if lags else 0.0}


async def service_import(scope: MongoScope, path: Path) -> dict:
    rss: list[float] = []
    lags: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.create_task(loop_lag_probe(lags, stop))
    started = time.perf_counter()
    done = rejected = 0
    async with contextlib.aclosing(transfer.import_documents(scope, str(path))) as steps:
        async for progress in steps:
            done, rejected = progress.done, progress.rejected
            rss.append(rss_mb())
    elapsed = time.perf_counter() - started
    stop.set()
    await probe
    return {"docs": done, "rejected": rejected, "elapsed": elapsed, "rss": rss,
            "lag_p99_ms": p99(lags)}


async def ui_export(url: str) -> dict:
    """The running app, headless at 120x40: the export screen over the first screen, ctrl+s,
    and a 10 ms ticker on the app's own event loop until the export has finished."""
    from textual.widgets import Input

    from studio_tui.screens.mongo.transfer import ExportScreen
    from ui import QUIET_SETTINGS, seed, settle, studio_app

    with tempfile.TemporaryDirectory() as home:
        await seed(Path(home), {"Bench": {"bench": [("bench", url)]}})
        app = studio_app(Path(home), QUIET_SETTINGS)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            entry = await app.studio.catalog.find_database("bench")
            screen = ExportScreen(entry, "Bench › bench", DATABASE, COLLECTION)
            await app.push_screen(screen)
            await settle(pilot)
            target = Path(home) / "ui-export.jsonl"
            screen.query_one("#path", Input).value = str(target)
            lags: list[float] = []
            stop = asyncio.Event()
            probe = asyncio.create_task(loop_lag_probe(lags, stop))
            started = time.perf_counter()
            await pilot.press("ctrl+s")
            await asyncio.sleep(0.2)
            while screen.running(screen.GROUP):
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
            stop.set()
            await probe
            lines = sum(1 for _ in target.open()) if target.exists() else 0
    return {"docs": lines, "elapsed": elapsed, "lag_p99_ms": p99(lags),
            "lag_max_ms": max(lags) * 1000 if lags else 0.0}


def _same_file(first: Path, second: Path) -> bool:
    with first.open("rb") as one, second.open("rb") as other:
        while True:
            a, b = one.read(1 << 20), other.read(1 << 20)
            if a != b:
                return False
            if not a:
                return True


def ui_in_fresh_process(url: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--ui-child", url], capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": str(
                             Path(__file__).resolve().parent.parent)}).stdout
    return json.loads(out.strip().splitlines()[-1])


async def main_async(docs: int, rounds: int, export_only: bool = False) -> None:
    server = realservers.start_mongo()
    try:
        loaded = time.perf_counter()
        await populate(server.url, docs)
        print(f"loaded {docs:,} documents in {time.perf_counter() - loaded:.1f}s")
        with tempfile.TemporaryDirectory(dir="/tmp") as folder:
            raw_file, app_file = Path(folder) / "raw.jsonl", Path(folder) / "app.jsonl"
            raws, apps, raw_lags = [], [], []
            async with bench_scope(server.url) as scope:
                for _ in range(rounds):  # alternated, best of each: the machine is shared
                    raws.append(await raw_export(server.url, raw_file, raw_lags))
                    apps.append(await service_export(scope, app_file))
            imported = None
            if not export_only:
                async with bench_scope(server.url, "imported") as scope:
                    imported = await service_import(scope, app_file)
            same = _same_file(raw_file, app_file)
            size_mb = app_file.stat().st_size / 2**20
        ui = None if export_only else ui_in_fresh_process(server.url)
    finally:
        server.stop()

    raw_count, raw_elapsed = min(raws, key=lambda r: r[1])
    best = min(apps, key=lambda r: r["elapsed"])
    raw_rate, app_rate = raw_count / raw_elapsed, best["docs"] / best["elapsed"]
    rss = best["rss"]
    print(f"export file: {size_mb:.0f} MB of canonical Extended JSON; service output identical "
          f"to the raw loop's: {same}")
    print(f"raw pymongo cursor loop: {raw_rate:,.0f} docs/s ({raw_count:,} docs)")
    print(f"studio-tui export service: {app_rate:,.0f} docs/s ({best['docs']:,} docs)")
    print(f"ratio service / raw: {app_rate / raw_rate:.2f} (goal >= 0.7)")
    tenth = max(1, len(rss) // 10)
    print(f"RSS during the export: {rss[0]:.0f} MB at the start, {max(rss):.0f} MB at most, "
          f"{statistics.mean(rss[-tenth:]):.0f} MB over the last tenth "
          f"(growth first tenth -> last tenth: "
          f"{statistics.mean(rss[-tenth:]) - statistics.mean(rss[:tenth]):+.1f} MB; goal flat)")
    print(f"event-loop lag while exporting (service): p99 {best['lag_p99_ms']:.1f} ms, max "
          f"{best['lag_max_ms']:.1f} ms (goal p99 <= 50 ms); the raw loop, which never yields "
          f"between documents of a batch: p99 {p99(raw_lags):.1f} ms")
    if imported is None or ui is None:
        return
    print(f"import of that file: {imported['docs'] / imported['elapsed']:,.0f} docs/s "
          f"({imported['docs']:,} inserted, {imported['rejected']} rejected), RSS "
          f"{imported['rss'][0]:.0f} -> {max(imported['rss']):.0f} MB, loop lag p99 "
          f"{imported['lag_p99_ms']:.1f} ms")
    print(f"app UI export: {ui['docs'] / ui['elapsed']:,.0f} docs/s ({ui['docs']:,} docs; "
          f"ratio to raw {ui['docs'] / ui['elapsed'] / raw_rate:.2f}), event-loop lag p99 "
          f"{ui['lag_p99_ms']:.1f} ms, max {ui['lag_max_ms']:.1f} ms (goal p99 <= 50 ms)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--export-only", action="store_true",
                        help="skip the import and the app (for a run on 1M documents)")
    parser.add_argument("--ui-child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ui_child:
        print(json.dumps(asyncio.run(ui_export(args.ui_child))))
        return
    asyncio.run(main_async(args.docs, args.rounds, args.export_only))


if __name__ == "__main__":
    main()
