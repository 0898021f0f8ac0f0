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
    """Memory of the keys looked at: the biggest ones, and totals per namespace prefix. ``kind``
    says what was looked at: "walk" (every key, in SCAN order, until ``complete`` or stopped)
    or "random" (keys drawn with RANDOMKEY, spread over the whole keyspace)."""

    kind: str = "walk"
    sampled: int = 0
    bytes: int = 0
    complete: bool = False  # the walk covered the whole keyspace
    top: list[tuple[int, bytes, str]] = field(default_factory=list)  # (bytes, key, type)
    prefixes: dict[bytes, list[int]] = field(default_factory=dict)  # prefix → [bytes, keys]
    # Keys under prefixes past the first MAX_PREFIXES (names like `<uuid>:x`): [bytes, keys].
    other_prefixes: list[int] = field(default_factory=lambda: [0, 0])

    def top_prefixes(self, count: int = 20) -> list[tuple[bytes, int, int]]:
        ranked = sorted(self.prefixes.items(), key=lambda item: (-item[1][0], item[0]))
        return [(prefix, size, keys) for prefix, (size, keys) in ranked[:count]]


MAX_PREFIXES = 10_000


class _Tally:
    """What a memory analysis adds up as key sizes come in."""

    def __init__(self, sample: MemorySample, delimiter: bytes, top: int) -> None:
        self.sample, self.delimiter, self.top = sample, delimiter, top
        self.heap: list[tuple[int, bytes, str]] = []

    def add(self, infos) -> None:
        sample, delimiter = self.sample, self.delimiter
        for info in infos:
            if info.type == "none":
                continue  # gone between the SCAN (or RANDOMKEY) and the MEMORY USAGE
            size = info.memory or 0
            sample.sampled += 1
            sample.bytes += size
            entry = (size, info.key, info.type)
            if len(self.heap) < self.top:
                heapq.heappush(self.heap, entry)
            elif entry > self.heap[0]:
                heapq.heapreplace(self.heap, entry)
            prefix = info.key.split(delimiter, 1)[0] if delimiter in info.key else b""
            totals = sample.prefixes.get(prefix)
            if totals is None:
                totals = sample.other_prefixes if len(sample.prefixes) >= MAX_PREFIXES else \
                    sample.prefixes.setdefault(prefix, [0, 0])
            totals[0] += size
            totals[1] += 1
        sample.top = sorted(self.heap, reverse=True)


async def sample_memory(service: RedisService, *, limit: int | None = None,
                        delimiter: bytes = b":", top: int = 20,
                        count: int = 1000) -> AsyncIterator[MemorySample]:
    """Walk the keyspace (all of it, or the first ``limit`` keys) the way `redis-cli --memkeys`
    does: SCAN, then MEMORY USAGE of each key pipelined per page, through the ops cap, yielding
    the running picture after every page. Cancel to stop; the picture says how far it got."""
    sample = MemorySample()
    tally = _Tally(sample, delimiter, top)
    async for page in service.walk(count=count, long=True):
        keys = page.keys if limit is None else page.keys[: max(0, limit - sample.sampled)]
        tally.add(await service.key_infos(keys, long=True))
        sample.complete = page.done and len(keys) == len(page.keys)
        yield sample
        if limit is not None and sample.sampled >= limit:
            return


async def random_memory_sample(service: RedisService, *, size: int = 10_000,
                               delimiter: bytes = b":", top: int = 20,
                               batch: int = 500) -> AsyncIterator[MemorySample]:
    """``size`` keys drawn with RANDOMKEY (pipelined, through the ops cap), so the sample is
    spread over the whole keyspace instead of its first pages in SCAN order; each drawn key's
    MEMORY USAGE. Yields the running picture; ``kind`` is "random"."""
    async def draw(client) -> list[bytes | None]:
        if is_cluster(client):
            raise ValidationError("A random sample needs one server; on a cluster, walk the "
                                  "keyspace instead (a).")
        async with client.pipeline(transaction=False) as pipe:
            for _ in range(batch):
                pipe.randomkey()
            return await pipe.execute()

    sample = MemorySample(kind="random")
    tally = _Tally(sample, delimiter, top)
    seen: set[bytes] = set()
    draws = 0
    while sample.sampled < size and draws < size * 3:
        keys = [key for key in await service.run("RANDOMKEY", draw, long=True)
                if key is not None and key not in seen]
        draws += batch
        if not keys and not seen:
            break  # an empty database
        seen.update(keys)
        tally.add(await service.key_infos(keys[: size - sample.sampled], long=True))
        yield sample
