"""Key walking at scale: the app's Redis service against a raw redis-py + hiredis SCAN loop,
both on the same freshly started server with the same keys, in one run.

    python benchmarks/redis_scan.py [--keys 1000000] [--count 1000] [--rounds 3]

The keys are named as applications name them (`user:42:profile`, five kinds, an id, a field).
Prints: time to the first page (with details of its first 50 keys) on a fresh connection; full
walk keys/s for both and their ratio (goal >= 0.5); event-loop lag p99 while the service walks
(the UI shares that loop; goal <= 50 ms); RSS growth after walking and holding every key
(goal <= 100 MB); the longest SCAN the server's SLOWLOG recorded; and the same walk through
the running app (headless, 120x40) in a fresh process: first rows on screen, keys/s into the
browser's list and namespace tree, the app's event-loop lag p99 while it scans, its RSS growth
with every key held (goal <= 100 MB), and its RSS after each leave (goal: back within 10%).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import realservers  # noqa: E402
import redis.asyncio as redis  # noqa: E402

from studio_tui.services.catalog import Catalog  # noqa: E402
from studio_tui.services.manager import ConnectionManager  # noqa: E402
from studio_tui.services.platform.sqlite_store import SqliteCatalogStore  # noqa: E402
from studio_tui.services.redis.service import RedisService  # noqa: E402
from studio_tui.services.vault import KeyMaterial, Vault  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _scans(slowlog: list[dict]) -> list[int]:
    # redis-py returns the command as bytes even when decoding replies.
    return [entry["duration"] for entry in slowlog
            if bytes(entry["command"]).upper().startswith(b"SCAN")]


async def raw_walk(url: str, count: int) -> tuple[int, float]:
    client = redis.Redis.from_url(url, protocol=2)
    started = time.perf_counter()
    seen, cursor = 0, 0
    while True:
        cursor, keys = await client.scan(cursor=cursor, count=count)
        seen += len(keys)
        if cursor == 0:
            break
    elapsed = time.perf_counter() - started
    await client.aclose()
    return seen, elapsed


async def loop_lag_probe(samples: list[float], stop: asyncio.Event) -> None:
    interval = 0.01
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(interval)
        samples.append(max(0.0, time.perf_counter() - before - interval))


async def ui_walk(url: str, rounds: int) -> dict:
    """The real app, headless at 120x40, in this (fresh) process: open the entry, wait for the
    first rows, then `a` (scan all) walks every key through the browser and its virtual list and
    namespace tree, with a 10 ms ticker on the app's own event loop; then `esc`, and again.
    RSS is read before the first open, with every key held, and after each leave."""
    import gc
    import weakref

    from textual.widgets import Input

    from studio_tui.screens.redis.browser import RedisBrowserScreen
    from studio_tui.widgets.redis.key_list import KeyList
    from ui import QUIET_SETTINGS, seed, settle, studio_app

    result: dict = {"held_mb": [], "left_mb": []}
    with tempfile.TemporaryDirectory() as home:
        await seed(Path(home), {"Bench": {"bench": [("bench", url)]}})
        app = studio_app(Path(home), QUIET_SETTINGS)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.5)
            await pilot.press("colon")
            await pilot.pause(0.2)
            app.screen.query_one(Input).value = "dbs Bench/bench"
            await pilot.press("enter")
            await pilot.pause(1.5)  # the list is shown; drivers imported ahead
            await settle(pilot)
            gc.collect()
            result["start_mb"] = rss_mb()
            # One open and leave of the first page: what the first browser costs once (its
            # styles parsed, its widget classes set up) is not the keys' memory.
            await pilot.press("enter")
            while not (isinstance(app.screen, RedisBrowserScreen)
                       and len(app.screen.query_one(KeyList))):
                await asyncio.sleep(0.001)
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
            await pilot.pause(0.5)
            gc.collect()
            result["warm_mb"] = rss_mb()
            for round_ in range(rounds):
                opened = time.perf_counter()
                await pilot.press("enter")
                while not (isinstance(app.screen, RedisBrowserScreen)
                           and len(app.screen.query_one(KeyList))):
                    await asyncio.sleep(0.001)
                if round_ == 0:
                    result["first_rows_ms"] = (time.perf_counter() - opened) * 1000
                screen = app.screen
                gone = weakref.ref(screen)
                lags: list[float] = []
                stop = asyncio.Event()
                probe = asyncio.create_task(loop_lag_probe(lags, stop))
                started = time.perf_counter()
                await pilot.press("a")
                while screen.scan_state != "done":
                    await asyncio.sleep(0.05)
                elapsed = time.perf_counter() - started
                stop.set()
                await probe
                if round_ == 0:
                    result.update(keys=len(screen.query_one(KeyList)),
                                  rate=len(screen.query_one(KeyList)) / elapsed,
                                  lag_p99_ms=statistics.quantiles(lags, n=100, method="inclusive")[98] * 1000,
                                  lag_max_ms=max(lags) * 1000)
                result["held_mb"].append(rss_mb())
                del screen
                await pilot.press("escape")
                await settle(pilot)
                await pilot.pause(3.0)  # the app gives the memory back by itself, in this time
                result["left_mb"].append(rss_mb())
                result.setdefault("collected", []).append(gone() is None)
    return result


def ui_child(url: str, rounds: int) -> None:
    """``--ui-child``: the app's walk in this fresh process; one JSON line on stdout."""
    import json

    print(json.dumps(asyncio.run(ui_walk(url, rounds))))


def ui_in_fresh_process(url: str, rounds: int) -> dict:
    import json
    import subprocess

    out = subprocess.run([sys.executable, __file__, "--ui-child", url, "--rounds", str(rounds)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


async def populate(client, keys: int) -> None:
    """Names as applications write them: five kinds of object, an id, a field; three levels,
    so the namespace tree has a few namespaces at the top and very many below them."""
    script = """
    local kinds = {'user', 'session', 'cart', 'order', 'product'}
    local fields = {'profile', 'tokens', 'items', 'meta'}
    for i = tonumber(ARGV[1]), tonumber(ARGV[2]) - 1 do
        redis.call('SET', kinds[i % 5 + 1] .. ':' .. math.floor(i / 5) .. ':' ..
                   fields[i % 4 + 1], 'x')
    end
    """
    for start in range(0, keys, 100_000):
        await client.eval(script, 0, start, min(keys, start + 100_000))


async def main_async(keys: int, count: int, rounds: int) -> None:
    server = realservers.start_redis(extra=["--enable-debug-command", "yes"])
    try:
        setup = redis.Redis.from_url(server.url)
        loaded = time.perf_counter()
        await populate(setup, keys)
        print(f"loaded {await setup.dbsize():,} keys in {time.perf_counter() - loaded:.1f}s")
        await setup.slowlog_reset()

        raw_seen, raw_elapsed = await raw_walk(server.url, count)

        with tempfile.TemporaryDirectory() as home:
            async with SqliteCatalogStore(Path(home) / "catalog.sqlite3") as store:
                catalog = Catalog(store, Vault(KeyMaterial(bytes(range(32)), "benchmark")))
                org = await catalog.create_organization("bench")
                project = await catalog.create_project(org.id, "bench")
                entry = await catalog.add_database(project.id, "bench", server.url, tier="pro")
                async with ConnectionManager(catalog) as manager:
                    service = RedisService(manager, entry.id)  # uncapped: measures the path

                    started = time.perf_counter()
                    first = await service.scan_page(0, count=count)
                    await service.key_infos(first.keys[:50])
                    first_page_ms = (time.perf_counter() - started) * 1000

                    rss_before = rss_mb()
                    held: list[bytes] = []
                    lags: list[float] = []
                    stop = asyncio.Event()
                    probe = asyncio.create_task(loop_lag_probe(lags, stop))
                    started = time.perf_counter()
                    async for page in service.walk(count=count):
                        held.extend(page.keys)
                    app_elapsed = time.perf_counter() - started
                    stop.set()
                    await probe
                    rss_growth = rss_mb() - rss_before
                    app_seen = len(set(held))
                    slow = _scans(await setup.slowlog_get(100_000))

                    # Once more with every command logged, to see the longest single SCAN.
                    await setup.config_set("slowlog-log-slower-than", 0)
                    await setup.config_set("slowlog-max-len", 100_000)
                    await setup.slowlog_reset()
                    async for _page in service.walk(count=count):
                        pass
                    scans = _scans(await setup.slowlog_get(100_000))
        await setup.config_set("slowlog-log-slower-than", 10000)
        ui = ui_in_fresh_process(server.url, rounds)
        await setup.aclose()
    finally:
        server.stop()

    raw_rate, app_rate = raw_seen / raw_elapsed, app_seen / app_elapsed
    lag_p99 = statistics.quantiles(lags, n=100, method="inclusive")[98] * 1000 if len(lags) > 2 else 0.0
    print(f"first page ({count} keys + details of 50): {first_page_ms:.1f} ms")
    print(f"raw redis-py+hiredis SCAN COUNT {count}: {raw_rate / 1e6:.2f} M keys/s "
          f"({raw_seen:,} keys)")
    print(f"studio-tui RedisService walk:         {app_rate / 1e6:.2f} M keys/s "
          f"({app_seen:,} distinct keys)")
    print(f"ratio app / raw: {app_rate / raw_rate:.2f} (goal >= 0.5)")
    print(f"event-loop lag while walking: p99 {lag_p99:.1f} ms, max {max(lags) * 1000:.1f} ms "
          f"(goal p99 <= 50 ms)")
    print(f"RSS growth holding {len(held):,} keys: {rss_growth:.0f} MB (goal <= 100 MB)")
    print(f"SLOWLOG at the default 10 ms threshold: {len(slow)} SCAN call(s) logged")
    print(f"longest single SCAN (all {len(scans)} logged): {max(scans) if scans else 0} µs")
    print(f"app UI: first rows on screen {ui['first_rows_ms']:.0f} ms after opening the entry")
    print(f"app UI: scan all {ui['keys']:,} keys into the list at {ui['rate'] / 1e6:.2f} M keys/s "
          f"(ratio to raw {ui['rate'] / raw_rate:.2f})")
    print(f"app UI: event-loop lag while scanning p99 {ui['lag_p99_ms']:.1f} ms, max "
          f"{ui['lag_max_ms']:.1f} ms (goal p99 <= 50 ms)")
    start, warm = ui["start_mb"], ui["warm_mb"]
    print(f"app UI (fresh process): RSS {start:.0f} MB with the list shown, {warm:.0f} MB after "
          f"a first open and leave of the browser (first page only)")
    print(f"app UI: every key in the browser (list and tree) {ui['held_mb'][0] - warm:+.0f} MB "
          f"(goal <= 100 MB)")
    print("app UI: RSS after each open, scan all, leave: " + ", ".join(
        f"{held:.0f} -> {left:.0f} MB" for held, left in zip(ui["held_mb"], ui["left_mb"])))
    print(f"app UI: the browser left was collected: {ui['collected']}")
    back = ui["left_mb"][-1] / warm - 1
    print(f"app UI: after {len(ui['left_mb'])} rounds RSS is {back:+.0%} of the warm start "
          f"(goal within 10%), {ui['left_mb'][-1] / start - 1:+.0%} of the cold one")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ui-child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ui_child:
        ui_child(args.ui_child, args.rounds)
        return
    asyncio.run(main_async(args.keys, args.count, args.rounds))


if __name__ == "__main__":
    main()
