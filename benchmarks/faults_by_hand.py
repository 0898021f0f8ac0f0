"""Two fault measurements made by hand (docs/RELIABILITY.md, ## Faults), against servers of
their own:

- ``memory``: the app's services under repeated faults through the fault proxy (resets mid-page,
  replies cut short, refused connects, each followed by a good page), per kind; Python heap
  (tracemalloc, after gc) and RSS after a warm-up and after every further block of rounds;
- ``stop``: a server frozen with SIGSTOP (hung, not dead): what a call gets and when, how the
  breaker moves, and what happens once it is thawed with SIGCONT. For PostgreSQL twice: the
  postmaster alone (existing sessions go on serving), then every process of the server.

    PYTHONPATH=. python benchmarks/faults_by_hand.py memory|stop
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "faults"))

import realservers  # noqa: E402
from faultkit import ROWS, Kind  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

from studio_tui.services.catalog import Catalog  # noqa: E402
from studio_tui.services.errors import StudioError  # noqa: E402
from studio_tui.services.kinds import DatabaseKind  # noqa: E402
from studio_tui.services.manager import ConnectionManager  # noqa: E402
from studio_tui.services.platform.sqlite_store import SqliteCatalogStore  # noqa: E402
from studio_tui.services.vault import KeyMaterial, Vault  # noqa: E402

STARTERS = {DatabaseKind.REDIS: realservers.start_redis,
            DatabaseKind.MONGODB: realservers.start_mongo,
            DatabaseKind.POSTGRES: realservers.start_postgres}


async def _catalog(home: Path) -> tuple[SqliteCatalogStore, Catalog, str]:
    store = SqliteCatalogStore(home / "catalog.sqlite3")
    await store.__aenter__()
    catalog = Catalog(store, Vault(KeyMaterial(os.urandom(32), "by hand")))
    org = await catalog.create_organization("Acme")
    project = await catalog.create_project(org.id, "shop")
    return store, catalog, project.id


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


async def memory(rounds: int = 60, block: int = 20, kinds: str = "redis,mongodb,postgres") -> None:
    tracemalloc.start()
    for kind_name, start in STARTERS.items():
        if kind_name.value not in kinds.split(","):
            continue
        server = start()
        kind = Kind(kind_name, server.url)
        await kind.seed()
        proxy = FaultProxy.to(server.url)
        home = Path(tempfile.mkdtemp(prefix="st-soak-"))
        store, catalog, project_id = await _catalog(home)
        try:
            async with ConnectionManager(catalog) as manager:
                entry = await catalog.add_database(project_id, "db", proxy.url(kind.entry_url()))
                breaker = None
                failures = 0

                async def one_round() -> None:
                    nonlocal failures, breaker
                    for fault in ("reset", "close_after", "refuse"):
                        if fault == "reset":
                            proxy.bandwidth(ROWS * 1000 * 4)
                            page = asyncio.create_task(kind.page(manager, entry.id))
                            await asyncio.sleep(0.05)
                            proxy.reset()
                        elif fault == "close_after":
                            proxy.close_after(20_000)
                            page = asyncio.create_task(kind.page(manager, entry.id))
                        else:
                            proxy.refuse()
                            proxy.reset()
                            page = asyncio.create_task(kind.page(manager, entry.id))
                        try:
                            await page
                        except StudioError:
                            failures += 1
                        proxy.normal()
                        breaker = manager.breaker(entry.id)
                        breaker.force_probe()  # keep the breaker out of the way
                        assert await kind.page(manager, entry.id) == ROWS

                for _ in range(block):  # warm-up
                    await one_round()
                gc.collect()
                base_heap, base_rss = tracemalloc.get_traced_memory()[0], _rss_mb()
                line = [f"{kind_name.value}: after warm-up heap {base_heap / 2**20:.2f} MB, "
                        f"RSS {base_rss:.0f} MB"]
                done = block
                while done < rounds + block:
                    for _ in range(block):
                        await one_round()
                    done += block
                    gc.collect()
                    heap = tracemalloc.get_traced_memory()[0]
                    line.append(f"after {done} rounds heap {heap / 2**20:.2f} MB "
                                f"({(heap - base_heap) / 2**10:+.0f} kB), RSS {_rss_mb():.0f} MB")
                print("; ".join(line) + f"; {failures} failed calls in all")
        finally:
            await store.__aexit__(None, None, None)
            shutil.rmtree(home, ignore_errors=True)
            proxy.stop()
            await kind.drop()
            server.stop()


def _processes(server: realservers.RunningServer, *, all_of_it: bool) -> list[int]:
    if not all_of_it:
        return [server.process.pid]
    children = subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True,
                              text=True).stdout.split()
    return [server.process.pid, *map(int, children)]


async def stop() -> None:
    cases = [(DatabaseKind.REDIS, True), (DatabaseKind.MONGODB, True),
             (DatabaseKind.POSTGRES, False), (DatabaseKind.POSTGRES, True)]
    for kind_name, all_of_it in cases:
        server = STARTERS[kind_name]()
        kind = Kind(kind_name, server.url)
        await kind.seed()
        home = Path(tempfile.mkdtemp(prefix="st-stop-"))
        store, catalog, project_id = await _catalog(home)
        label = kind_name.value + ("" if all_of_it else " (postmaster only)")
        try:
            async with ConnectionManager(catalog) as manager:
                entry = await catalog.add_database(project_id, "db", kind.entry_url())
                for _ in range(3):
                    await kind.page(manager, entry.id)  # a warm pool
                frozen = _processes(server, all_of_it=all_of_it)
                for pid in frozen:
                    os.kill(pid, signal.SIGSTOP)
                try:
                    outcomes = []
                    for call in ("page", "ping", "page"):
                        started = time.perf_counter()
                        try:
                            if call == "page":
                                await kind.page(manager, entry.id)
                            else:
                                await kind.ping(manager, entry.id)
                            outcome = "ok"
                        except StudioError as error:
                            outcome = f"{error.code}: {error.detail}"
                        outcomes.append(f"{call} {time.perf_counter() - started:.2f}s {outcome}")
                    # Enough parallel calls to reach the breaker's volume.
                    burst = await asyncio.gather(*(kind.ping(manager, entry.id)
                                                   for _ in range(10)), return_exceptions=True)
                    state = manager.breaker(entry.id).state.name
                    codes = sorted({getattr(e, "code", "ok") for e in burst})
                finally:
                    for pid in frozen:
                        os.kill(pid, signal.SIGCONT)
                manager.breaker(entry.id).force_probe()
                started = time.perf_counter()
                try:
                    await kind.page(manager, entry.id)
                    back = f"first page after SIGCONT in {time.perf_counter() - started:.2f}s"
                except StudioError as error:
                    back = f"first page after SIGCONT failed: {error.code}: {error.detail}"
                print(f"{label}: " + " | ".join(outcomes) + f" | 10 more calls: {codes}, "
                      f"breaker {state} | {back}")
        finally:
            await store.__aexit__(None, None, None)
            shutil.rmtree(home, ignore_errors=True)
            await kind.drop()
            server.stop()


if __name__ == "__main__":
    if sys.argv[1] == "memory" and len(sys.argv) > 2:  # memory ROUNDS BLOCK KINDS
        asyncio.run(memory(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
    else:
        asyncio.run({"memory": memory, "stop": stop}[sys.argv[1]]())
