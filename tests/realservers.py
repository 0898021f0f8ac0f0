"""Real Redis, PostgreSQL and MongoDB-wire servers for the test suite and benchmarks/: the
servers themselves come from studio_tui.demo.servers (shared with `studio-tui demo`); this adds
what only tests need (a closed port, logical databases, a cluster, session probes)."""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass

from studio_tui.demo.servers import (  # noqa: F401  (re-exported for tests and benchmarks)
    HOST,
    RunningServer,
    free_port,
    redis_modules,
    start_mongo,
    start_postgres,
    start_redis,
)


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    return free_port()


def redis_db_url(url: str, db: int) -> str:
    """The same Redis server, logical database ``db``: test modules each take their own, so
    keys of one cannot disturb another."""
    return url.rsplit("/", 1)[0] + f"/{db}"


@dataclass
class RunningCluster:
    """Three Redis primaries sharing the 16384 slots; ``url`` names the first."""

    nodes: list[RunningServer]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def _cluster_port() -> int:
    # The cluster bus listens on port + 10000, which must be free too.
    while True:
        port = free_port()
        if port < 55535:
            with contextlib.suppress(OSError), socket.socket() as probe:
                probe.bind((HOST, port + 10000))
                return port


def start_redis_cluster(size: int = 3) -> RunningCluster:
    import redis

    nodes: list[RunningServer] = []
    try:
        for _ in range(size):
            nodes.append(start_redis(port=_cluster_port(), extra=[
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "2000"]))
        per_node = 16384 // size
        for index, node in enumerate(nodes):
            client = redis.Redis(host=HOST, port=node.port)
            last = 16383 if index == size - 1 else (index + 1) * per_node - 1
            client.execute_command("CLUSTER ADDSLOTSRANGE", index * per_node, last)
            if index:
                client.execute_command("CLUSTER MEET", HOST, nodes[0].port)
            client.close()
        first = redis.Redis(host=HOST, port=nodes[0].port)
        deadline = time.monotonic() + 30
        while first.execute_command("CLUSTER INFO").get("cluster_state") != "ok":
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis cluster did not reach cluster_state:ok in 30s")
            time.sleep(0.1)
        first.close()
    except BaseException:
        for node in nodes:
            node.stop()
        raise
    return RunningCluster(nodes)


async def postgres_sessions_running(url: str, query_text: str, wait: float = 2.5) -> int:
    """Server sessions still running ``query_text`` once ``wait`` seconds have passed (or
    sooner, as soon as there are none), seen from a connection of the caller's own."""
    import asyncio

    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + wait
        while True:
            running = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE $1 "
                "AND state = 'active' AND pid <> pg_backend_pid()", f"%{query_text}%")
            if running == 0 or time.monotonic() > deadline:
                return running
            await asyncio.sleep(0.05)
    finally:
        await connection.close()
