"""Team mode's costs, on freshly started servers, in one run:

    flock /tmp/studio-heavy.lock python benchmarks/team_mode.py [--calls 5000] [--edits 100]

- the permission check (and a signed-in session's activity note) on ``manager.run``: a Redis GET
  through the single path as a signed-in developer, against the same call with the check taken
  out, interleaved in the same run, over the embedded (SQLite) catalog. p50/p99 of each and the
  p99 difference (goal <= 1 ms);
- sign-in itself (scrypt, session row, audit), median;
- two instances sharing one PostgreSQL catalog, each making ``--edits`` entries at once and then
  editing them all at once: entries and edits counted (goal: none lost), audit chain verified.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file's name is the standard library's `platform`: its folder must not come first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import realservers  # noqa: E402

PASSWORD = "benchmark password"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def check_cost(redis_url: str, calls: int) -> dict:
    from studio_tui.services.catalog import Catalog
    from studio_tui.services.manager import ConnectionManager
    from studio_tui.services.platform.auth import Accounts
    from studio_tui.services.platform.rbac import SIGNED_OUT, Role
    from studio_tui.services.platform.sqlite_store import SqliteCatalogStore
    from studio_tui.services.vault import KeyMaterial, Vault

    with tempfile.TemporaryDirectory() as home:
        async with SqliteCatalogStore(Path(home) / "catalog.sqlite3") as store:
            holder = {"actor": SIGNED_OUT}
            catalog = Catalog(store, Vault(KeyMaterial(bytes(range(32)), "benchmark")),
                              lambda: holder["actor"], origin="bench")
            accounts = Accounts(catalog, time.time, ("bench",))
            owner = await accounts.sign_up("owner@example.com", PASSWORD, org_name="Acme")
            holder["actor"] = owner.actor
            [org] = await catalog.organizations()
            project = await catalog.create_project(org.id, "bench")
            entry = await catalog.add_database(project.id, "cache", redis_url)
            invitation = await accounts.invite(org.id, "dev@example.com", Role.DEVELOPER)
            developer = await accounts.accept_invitation(invitation, "dev@example.com", PASSWORD)
            sign_ins = []
            for _ in range(5):
                started = time.perf_counter()
                developer = await accounts.sign_in("dev@example.com", PASSWORD)
                sign_ins.append(time.perf_counter() - started)
            holder["actor"] = developer.actor

            async with ConnectionManager(catalog) as manager:
                checked_authorize = manager.authorize

                async def no_check(*args, **kwargs) -> None:
                    return None

                async def get(client):
                    return await client.get("bench")

                for _ in range(200):  # warm: pool open, caches filled
                    await manager.run(entry.id, "GET", get)
                checked, unchecked = [], []
                for index in range(calls * 2):
                    with_check = index % 2 == 0
                    manager.authorize = checked_authorize if with_check else no_check
                    started = time.perf_counter()
                    if with_check:
                        accounts.touch(developer.token)  # what a signed-in UI adds per action
                    await manager.run(entry.id, "GET", get)
                    (checked if with_check else unchecked).append(time.perf_counter() - started)
                manager.authorize = checked_authorize
            await accounts.settle()
    ms = 1000
    return {
        "calls_each": calls,
        "checked_p50_ms": statistics.median(checked) * ms,
        "checked_p99_ms": percentile(checked, 0.99) * ms,
        "unchecked_p50_ms": statistics.median(unchecked) * ms,
        "unchecked_p99_ms": percentile(unchecked, 0.99) * ms,
        "added_p99_ms": (percentile(checked, 0.99) - percentile(unchecked, 0.99)) * ms,
        "ratio_p99": percentile(checked, 0.99) / percentile(unchecked, 0.99),
        "sign_in_median_ms": statistics.median(sign_ins) * ms,
    }


async def shared_edits(postgres_url: str, edits: int) -> dict:
    import asyncpg

    from studio_tui.services.catalog import Catalog
    from studio_tui.services.platform.postgres_store import PostgresCatalogStore
    from studio_tui.services.vault import KeyMaterial, Vault

    admin = await asyncpg.connect(postgres_url)
    await admin.execute("CREATE DATABASE team_bench")
    await admin.close()
    url = postgres_url.rsplit("/", 1)[0] + "/team_bench"
    vault = Vault(KeyMaterial(bytes(range(32)), "benchmark"))
    async with PostgresCatalogStore(url) as first_store, PostgresCatalogStore(url) as second:
        first, other = Catalog(first_store, vault), Catalog(second, vault)
        org = await first.create_organization("Acme")
        project = await first.create_project(org.id, "shop")

        async def add_many(catalog: Catalog, prefix: str):
            return await asyncio.gather(*(
                catalog.add_database(project.id, f"{prefix}{n}", f"redis://h{n}:6379/0")
                for n in range(edits)))

        started = time.perf_counter()
        made_a, made_b = await asyncio.gather(add_many(first, "a"), add_many(other, "b"))
        added_seconds = time.perf_counter() - started

        async def edit_all(catalog: Catalog, entries):
            return await asyncio.gather(*(
                catalog.update_database(e.id, tags=["edited"], version=e.version)
                for e in entries))

        started = time.perf_counter()
        await asyncio.gather(edit_all(first, made_a), edit_all(other, made_b))
        edited_seconds = time.perf_counter() - started
        stored = await first.databases(project.id)
        verification = await first_store.verify_audit_chain()
        audit = [e async for e in first_store.iter_audit()]
    return {
        "instances": 2, "edits_each": edits,
        "entries_expected": 2 * edits, "entries_stored": len(stored),
        "edits_stored": sum(1 for e in stored if e.tags == ("edited",)),
        "audit_entries": len(audit), "audit_chain_ok": verification.ok,
        "add_seconds": round(added_seconds, 3), "edit_seconds": round(edited_seconds, 3),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--edits", type=int, default=100)
    args = parser.parse_args()
    redis = realservers.start_redis()
    postgres = realservers.start_postgres()
    try:
        result = {"permission_check": await check_cost(redis.url, args.calls),
                  "shared_catalog": await shared_edits(postgres.url, args.edits)}
    finally:
        redis.stop()
        postgres.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
