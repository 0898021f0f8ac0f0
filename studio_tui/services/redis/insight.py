"""What the Redis server says about itself: INFO by section, keyspace per database, memory (MEMORY
STATS and a sampled scan of the biggest keys and prefixes), SLOWLOG and connected clients."""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from studio_tui.services.errors import StudioError, ValidationError
from studio_tui.services.redis.keys import display_key
from studio_tui.services.redis.service import RedisService, is_cluster

INFO_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                 "keyspace")


@dataclass(frozen=True, slots=True)
class SlowEntry:
    id: int
    at: int  # unix seconds
    micros: int
    command: str
    client: str


def node_target(client, node: str | None = None) -> dict[str, Any]:
    """On a cluster, server-wide commands go to one node: ``node`` (host:port) when given, else
    the first primary by address (the same one every time, so figures compare between
    refreshes). Nothing on a single server."""
    if not is_cluster(client):
        return {}
    if node is not None:
        for candidate in client.get_nodes():
            if candidate.name == node:
                return {"target_nodes": candidate}
        raise ValidationError(f"The cluster has no node {node}.")
    return {"target_nodes": sorted(client.get_primaries(), key=lambda n: n.name)[0]}


async def cluster_nodes(service: RedisService) -> list[tuple[str, str]]:
    """(host:port, "primary" or "replica") of every node, primaries first; [] off a cluster."""
    async def nodes(client) -> list[tuple[str, str]]:
        if not is_cluster(client):
            return []
        found = [(n.name, "primary" if n.server_type == "primary" else "replica")
                 for n in client.get_nodes()]
        return sorted(found, key=lambda item: (item[1] != "primary", item[0]))

    return await service.run("CLUSTER NODES", nodes)


async def info_sections(service: RedisService,
                        node: str | None = None) -> dict[str, dict[str, Any]]:
    """Each INFO section as its own mapping, in one round trip. On a cluster: one node's
    sections (see ``node_target``), the keyspace summed over every primary, and a "cluster"
    section with each primary's key count."""
    async def read(client) -> dict[str, dict[str, Any]]:
        if is_cluster(client):
            return await _cluster_info(client, node)
        pipe = client.pipeline(transaction=False)
        for section in INFO_SECTIONS:
            pipe.info(section)
        replies = await pipe.execute()
        return {section: dict(reply) for section, reply in zip(INFO_SECTIONS, replies,
                                                                strict=True)}

    return await service.run("INFO", read)


async def _cluster_info(client, node: str | None) -> dict[str, dict[str, Any]]:
    target = node_target(client, node)
    sections = {section: dict(await client.info(section, **target))
                for section in INFO_SECTIONS if section != "keyspace"}
    keys = expires = 0
    nodes: dict[str, Any] = {}
    for node in sorted(client.get_primaries(), key=lambda n: n.name):
        figures = (await client.info("keyspace", target_nodes=node)).get("db0", {})
        keys += int(figures.get("keys", 0))
        expires += int(figures.get("expires", 0))
        nodes[node.name] = f"primary · {int(figures.get('keys', 0)):,} keys"
    sections["keyspace"] = {"db0": {"keys": keys, "expires": expires, "avg_ttl": 0}}
    sections["cluster"] = nodes
    return sections


async def slowlog(service: RedisService, count: int = 128,
                  node: str | None = None) -> list[SlowEntry]:
    entries = await service.run("SLOWLOG GET", lambda client: client.slowlog_get(
        count, **node_target(client, node)))
    result = []
    for entry in entries:
        # redis-py hands the command back as bytes even when replies are decoded.
        command = entry.get("command", b"")
        if isinstance(command, (list, tuple)):
            command = b" ".join(bytes(part) for part in command)
        client = entry.get("client_address", b"")
        result.append(SlowEntry(
            id=int(entry["id"]), at=int(entry["start_time"]), micros=int(entry["duration"]),
            command=display_key(bytes(command))[:200],
            client=client.decode() if isinstance(client, bytes) else str(client),
        ))
    return result


async def clients(service: RedisService, node: str | None = None) -> list[dict[str, str]]:
    replies = await service.run("CLIENT LIST", lambda client: client.client_list(
        **node_target(client, node)))
    return [{str(k): str(v) for k, v in reply.items()} for reply in replies]


# -- keyspace and memory ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class KeyspaceRow:
    db: int
    keys: int
    expires: int
    avg_ttl_ms: int


def keyspace(sections: dict[str, dict[str, Any]]) -> list[KeyspaceRow]:
    """INFO keyspace as rows, one per logical database that holds keys."""
    rows = []
    for name, figures in sections.get("keyspace", {}).items():
        if str(name).startswith("db") and isinstance(figures, dict):
            rows.append(KeyspaceRow(int(str(name)[2:]), int(figures.get("keys", 0)),
                                    int(figures.get("expires", 0)),
                                    int(figures.get("avg_ttl", 0))))
    return sorted(rows, key=lambda row: row.db)


async def database_count(service: RedisService) -> int:
    """How many logical databases the server has; 16 when CONFIG is not allowed (managed
    services often rename it) and 1 on a cluster."""
    if await service.is_cluster():
        return 1
    try:
        reply = await service.run("CONFIG GET", lambda c: c.config_get("databases"))
    except StudioError:
        return 16
    return int(reply.get("databases", 16)) if reply else 16


async def memory_stats(service: RedisService, node: str | None = None) -> dict[str, Any]:
    """MEMORY STATS, flattened to scalar figures (the per-db breakdown is in INFO keyspace)."""
    stats = await service.run("MEMORY STATS", lambda client: client.memory_stats(
        **node_target(client, node)))
    return {str(k): v for k, v in stats.items() if isinstance(v, (int, float, str, bytes))}


@dataclass(frozen=True, slots=True)
class Vitals:
    ops_per_sec: int
    used_memory: int
    connected_clients: int


async def vitals(service: RedisService, node: str | None = None) -> Vitals:
    """The figures the overview plots every refresh, from one INFO call."""
    info = await service.run("INFO", lambda client: client.info(**node_target(client, node)))
    return Vitals(int(info.get("instantaneous_ops_per_sec", 0)), int(info.get("used_memory", 0)),
                  int(info.get("connected_clients", 0)))


@dataclass(slots=True)
class MemorySample:
    """Memory of a sample of keys: the biggest ones, and totals per namespace prefix."""

    sampled: int = 0
    bytes: int = 0
    complete: bool = False  # the scan covered the whole keyspace within the limit
    top: list[tuple[int, bytes, str]] = field(default_factory=list)  # (bytes, key, type)
    prefixes: dict[bytes, list[int]] = field(default_factory=dict)  # prefix → [bytes, keys]

    def top_prefixes(self, count: int = 20) -> list[tuple[bytes, int, int]]:
        ranked = sorted(self.prefixes.items(), key=lambda item: (-item[1][0], item[0]))
        return [(prefix, size, keys) for prefix, (size, keys) in ranked[:count]]


async def sample_memory(service: RedisService, *, limit: int = 100_000, delimiter: bytes = b":",
                        top: int = 20, count: int = 1000) -> AsyncIterator[MemorySample]:
    """SCAN up to ``limit`` keys and MEMORY USAGE each (pipelined per page, through the ops
    cap), yielding the running picture after every page. Cancel to stop early."""
    sample = MemorySample()
    heap: list[tuple[int, bytes, str]] = []
    async for page in service.walk(count=count, long=True):
        keys = page.keys[: max(0, limit - sample.sampled)]
        for info in await service.key_infos(keys, long=True):
            size = info.memory or 0
            sample.sampled += 1
            sample.bytes += size
            entry = (size, info.key, info.type)
            if len(heap) < top:
                heapq.heappush(heap, entry)
            elif entry > heap[0]:
                heapq.heapreplace(heap, entry)
            prefix = info.key.split(delimiter, 1)[0] if delimiter in info.key else b""
            totals = sample.prefixes.setdefault(prefix, [0, 0])
            totals[0] += size
            totals[1] += 1
        sample.top = sorted(heap, reverse=True)
        sample.complete = page.done and len(keys) == len(page.keys)
        yield sample
        if sample.sampled >= limit:
            return
