"""Redis key browsing for one database entry: SCAN pages, direct lookups, and per-key details,
every call through the connection manager (breaker, pool, time limit, throttle). It only
reads; the writes are in ``edits.py``. Calls are interactive (Redis's 1 s call timeout) unless
the caller marks them ``long``: work the user started as long work, such as a full scan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from studio_tui.services.errors import NotFoundError, ValidationError
from studio_tui.services.manager import ConnectionManager
from studio_tui.services.redis.keys import has_glob, key_label
from studio_tui.services.redis.models import (
    ItemsPage,
    JsonDocument,
    KeyInfo,
    ScanPage,
    StreamGroup,
    StreamPage,
    ValuePreview,
)
from studio_tui.services.throttle import OpsThrottle
from studio_tui.services.tiers import Tier

DEFAULT_SCAN_COUNT = 1000

# Redis commands per second that a key walk may send, per tier; with SCAN COUNT 1000 each one
# covers about a thousand keys. A cap keeps a full scan of production out of its SLOWLOG and
# from starving it; None would mean no cap.
OPS_CAP: dict[Tier, float | None] = {
    Tier.FREE: 500.0,
    Tier.STARTER: 1000.0,
    Tier.PRO: 2500.0,
    Tier.ENTERPRISE: 5000.0,
}


def is_cluster(client) -> bool:
    return hasattr(client, "get_primaries")


async def _cluster_scan(client, cursor: int, match: bytes | None, count: int,
                        type_: str | None) -> tuple[int, list[bytes]]:
    # cursor = node index + nodes × that node's own cursor; 0 both starts and ends the walk.
    primaries = sorted(client.get_primaries(), key=lambda node: node.name)
    nodes = len(primaries)
    index, node_cursor = cursor % nodes, cursor // nodes
    reply = await client.scan(cursor=node_cursor, match=match, count=count, _type=type_,
                              target_nodes=primaries[index])
    following, keys = reply
    if isinstance(following, dict):  # redis-py keys the cursor by node name
        following = next(iter(following.values()))
    following = int(following)
    if following:
        return index + nodes * following, keys
    return (index + 1 if index + 1 < nodes else 0), keys


async def _pool_db(client) -> int:
    if is_cluster(client):
        return 0
    return int(client.connection_pool.connection_kwargs.get("db") or 0)


def _check_score_bound(bound: str, name: str) -> None:
    number = bound[1:] if bound.startswith("(") else bound
    try:
        float(number)
    except ValueError:
        raise ValidationError(f"The {name} score {bound!r} is not a number, -inf or +inf "
                              "(prefix ( to exclude it).", field_errors={name: "score"}) from None


JSON_LIMIT = 1 << 20
_LENGTH_COMMANDS = {"hash": "HLEN", "list": "LLEN", "set": "SCARD", "zset": "ZCARD",
                    "stream": "XLEN"}
PREVIEW_BYTES = 4096


class RedisService:
    """Stateless apart from its throttle; one per opened Redis entry."""

    def __init__(self, manager: ConnectionManager, database_id: str, *,
                 throttle: OpsThrottle | None = None, db: int | None = None) -> None:
        self.manager = manager
        self.database_id = database_id
        self.db = db  # a logical database other than the URL's, or None for the URL's
        self.throttle = throttle or OpsThrottle(None)

    async def run(self, operation: str, fn, *, write: bool = False, long: bool = False,
                  target: str = "") -> Any:
        """One operation through the ops cap and the connection manager's single path;
        ``long`` gives it the tier's query timeout instead of the call timeout. ``target``:
        the key(s) a write touches, for the audit."""
        await self.throttle.acquire()
        return await self.manager.run(self.database_id, operation, fn, write=write, long=long,
                                      scope=None if self.db is None else str(self.db),
                                      target=target)

    async def key_location(self, key: bytes) -> tuple[int, str] | None:
        """(hash slot, node) of ``key`` on a cluster; None on a single server."""
        async def locate(client) -> tuple[int, str] | None:
            if not is_cluster(client):
                return None
            return client.keyslot(key), client.get_node_from_key(key).name

        return await self.run("CLUSTER KEYSLOT", locate)

    async def is_cluster(self) -> bool:
        async def check(client) -> bool:
            return is_cluster(client)

        return await self.run("CLUSTER?", check)

    async def current_db(self) -> int:
        """The logical database this service addresses (the URL's unless switched)."""
        if self.db is not None:
            return self.db
        return int(await self.run("SELECT?", _pool_db))

    def on_db(self, db: int) -> "RedisService":
        """The same entry, throttle shared, addressing logical database ``db``."""
        return RedisService(self.manager, self.database_id, throttle=self.throttle, db=db)

    async def dbsize(self) -> int:
        """Keys in the database; on a cluster, summed over every primary."""
        async def size(client) -> int:
            if is_cluster(client):
                return int(await client.dbsize(target_nodes=client.PRIMARIES))
            return int(await client.dbsize())

        return await self.run("DBSIZE", size)

    async def scan_page(self, cursor: int = 0, *, match: bytes | None = None,
                        count: int = DEFAULT_SCAN_COUNT, type_: str | None = None,
                        long: bool = False) -> ScanPage:
        """One SCAN call. On a cluster the cursor also says which primary is being walked, so
        one walk covers every node, one after the other."""
        async def scan(client) -> tuple[int, list[bytes]]:
            if is_cluster(client):
                return await _cluster_scan(client, cursor, match, count, type_)
            return await client.scan(cursor=cursor, match=match, count=count, _type=type_)

        next_cursor, keys = await self.run("SCAN", scan, long=long)
        return ScanPage(list(keys), int(next_cursor))

    async def walk(self, *, match: bytes | None = None, count: int = DEFAULT_SCAN_COUNT,
                   type_: str | None = None, cursor: int = 0,
                   long: bool = False) -> AsyncIterator[ScanPage]:
        """Every page of a SCAN, or the single answer of a direct lookup when ``match`` has no
        wildcard (never KEYS). Stop iterating (or cancel the task) to stop the scan. ``cursor``
        resumes a walk where an earlier one stopped (the cursor of the last page it yielded);
        ``long`` gives each SCAN the tier's query timeout, for a full scan the user asked for."""
        if match is not None and not has_glob(match):
            found = await self.lookup(match, type_=type_)
            yield ScanPage([found.key] if found else [], 0)
            return
        while True:
            page = await self.scan_page(cursor, match=match, count=count, type_=type_,
                                        long=long)
            yield page
            if page.done:
                return
            cursor = page.cursor
            await asyncio.sleep(0)  # let the UI breathe between pages

    async def lookup(self, key: bytes, *, type_: str | None = None) -> KeyInfo | None:
        infos = await self.key_infos([key])
        info = infos[0]
        if info.type == "none" or (type_ is not None and info.type != type_):
            return None
        return info

    async def key_infos(self, keys: Sequence[bytes], *, memory: bool = True,
                        long: bool = False) -> list[KeyInfo]:
        """TYPE, PTTL and MEMORY USAGE of ``keys`` in one round trip (for the visible rows)."""
        if not keys:
            return []

        async def pipeline(client) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.type(key)
                pipe.pttl(key)
                if memory:
                    pipe.memory_usage(key, samples=0)
            return await pipe.execute(raise_on_error=False)

        replies = await self.run("TYPE/PTTL/MEMORY", pipeline, long=long)
        step = 3 if memory else 2
        infos = []
        for index, key in enumerate(keys):
            kind, ttl = replies[index * step], replies[index * step + 1]
            used = replies[index * step + 2] if memory else None
            infos.append(KeyInfo(
                key=key,
                type=kind.decode() if isinstance(kind, bytes) else str(kind),
                ttl_ms=int(ttl) if isinstance(ttl, int) else -2,
                memory=used if isinstance(used, int) else None,
            ))
        return infos

    async def preview(self, key: bytes, type_: str) -> ValuePreview:
        """Cheap look at a value, whatever its size: never reads a big value whole."""
        if type_ == "string":
            async def string_head(client) -> tuple[int, bytes]:
                pipe = client.pipeline(transaction=False)
                pipe.strlen(key)
                pipe.getrange(key, 0, PREVIEW_BYTES - 1)
                length, head = await pipe.execute()
                return int(length), bytes(head)

            length, head = await self.run("STRLEN/GETRANGE", string_head)
            return ValuePreview(type_, length, head)
        command = _LENGTH_COMMANDS.get(type_)
        if command is None:
            return ValuePreview(type_, None)
        length = await self.run(command, lambda client: client.execute_command(command, key))
        return ValuePreview(type_, int(length))

    # -- paged values: never more than one page of a big value in memory ------------------------
    async def string_range(self, key: bytes, offset: int, length: int = PREVIEW_BYTES) -> bytes:
        return bytes(await self.run(
            "GETRANGE", lambda client: client.getrange(key, offset, offset + length - 1)))

    async def hash_page(self, key: bytes, cursor: int = 0, *, count: int = 200,
                        match: bytes | None = None) -> ItemsPage:
        next_cursor, items = await self.run(
            "HSCAN", lambda client: client.hscan(key, cursor=cursor, match=match, count=count))
        return ItemsPage([(bytes(f), bytes(v)) for f, v in items.items()], int(next_cursor))

    async def set_page(self, key: bytes, cursor: int = 0, *, count: int = 200,
                       match: bytes | None = None) -> ItemsPage:
        next_cursor, members = await self.run(
            "SSCAN", lambda client: client.sscan(key, cursor=cursor, match=match, count=count))
        return ItemsPage([(bytes(m), None) for m in members], int(next_cursor))

    async def list_page(self, key: bytes, start: int = 0, *, count: int = 200) -> ItemsPage:
        values = await self.run(
            "LRANGE", lambda client: client.lrange(key, start, start + count - 1))
        following = start + len(values) if len(values) == count else 0
        return ItemsPage([(str(start + i).encode(), bytes(v)) for i, v in enumerate(values)],
                         following)

    async def zset_page(self, key: bytes, start: int = 0, *, count: int = 200) -> ItemsPage:
        """By rank, lowest score first; the score is the item's second value."""
        pairs = await self.run("ZRANGE", lambda client: client.zrange(
            key, start, start + count - 1, withscores=True))
        following = start + len(pairs) if len(pairs) == count else 0
        return ItemsPage([(bytes(m), repr(float(s)).encode()) for m, s in pairs], following)

    async def stream_page(self, key: bytes, after: bytes = b"-", *, count: int = 100,
                          newest_first: bool = True) -> StreamPage:
        """Entries from ``after`` (exclusive unless it is the start), newest first by default."""
        async def read(client):
            if newest_first:
                top = b"+" if after == b"-" else b"(" + after
                return await client.xrevrange(key, max=top, min=b"-", count=count)
            low = b"-" if after == b"-" else b"(" + after
            return await client.xrange(key, min=low, max=b"+", count=count)

        entries = await self.run("XRANGE", read)
        items = [(bytes(entry_id), {bytes(f): bytes(v) for f, v in fields.items()})
                 for entry_id, fields in entries]
        return StreamPage(items, items[-1][0] if len(items) == count else None)

    async def zset_by_score(self, key: bytes, low: str = "-inf", high: str = "+inf", *,
                            offset: int = 0, count: int = 200) -> ItemsPage:
        """Members with ``low`` <= score <= ``high`` (a leading "(" excludes the bound, as in
        ZRANGE BYSCORE), lowest first, one LIMIT page at a time."""
        for bound, name in ((low, "min"), (high, "max")):
            _check_score_bound(bound, name)
        pairs = await self.run("ZRANGE BYSCORE", lambda client: client.zrange(
            key, low, high, byscore=True, offset=offset, num=count, withscores=True))
        following = offset + len(pairs) if len(pairs) == count else 0
        return ItemsPage([(bytes(m), repr(float(s)).encode()) for m, s in pairs], following)

    async def stream_groups(self, key: bytes) -> list[StreamGroup]:
        """XINFO GROUPS and, per group, XINFO CONSUMERS, in one round trip after the first."""
        groups = await self.run("XINFO GROUPS", lambda client: client.xinfo_groups(key))
        if not groups:
            return []

        async def consumers(client) -> list:
            pipe = client.pipeline(transaction=False)
            for group in groups:
                pipe.xinfo_consumers(key, group["name"])
            return await pipe.execute()

        per_group = await self.run("XINFO CONSUMERS", consumers)
        return [StreamGroup(
            name=bytes(group["name"]), pending=int(group["pending"]),
            last_delivered=bytes(group["last-delivered-id"]),
            lag=group.get("lag") if isinstance(group.get("lag"), int) else None,
            consumers=[(bytes(c["name"]), int(c["pending"]), int(c["idle"])) for c in members])
            for group, members in zip(groups, per_group)]

    async def json_document(self, key: bytes, *, limit: int = JSON_LIMIT) -> JsonDocument:
        """A RedisJSON document whole when it is small enough, else its top-level shape (keys or
        length), so a huge document never crosses the wire to be looked at."""
        async def read(client) -> JsonDocument:
            size = await client.execute_command("JSON.DEBUG", "MEMORY", key)
            if int(size) <= limit:
                return JsonDocument(int(size), await client.execute_command("JSON.GET", key))
            kind = (await client.execute_command("JSON.TYPE", key)).decode()
            if kind == "object":
                names = await client.execute_command("JSON.OBJKEYS", key)
                return JsonDocument(int(size), None, kind, [bytes(n) for n in names])
            length = await client.execute_command("JSON.ARRLEN", key) if kind == "array" else None
            return JsonDocument(int(size), None, kind, length=length)

        return await self.run("JSON.GET", read)

    # -- whole values, for an editor: refused above a limit before they are read ---------------
    async def string_value(self, key: bytes, *, limit: int) -> bytes:
        """The whole string, for an editor, refused above ``limit`` bytes."""
        length = int(await self.run("STRLEN", lambda client: client.strlen(key)))
        if length > limit:  # checked before GET so a huge value never crosses the wire
            raise ValidationError(f"{key_label(key)} holds {length:,} bytes; the editor opens "
                                  f"values up to {limit:,}.")
        value = await self.run("GET", lambda client: client.get(key))
        if value is None:
            raise NotFoundError(f"{key_label(key)} no longer exists (deleted or expired).")
        return bytes(value)

    async def json_text(self, key: bytes, *, limit: int) -> bytes:
        """The whole document as the server prints it (compact), refused above ``limit`` bytes
        of RedisJSON memory before it is read."""
        async def read(client) -> bytes | None:
            size = int(await client.execute_command("JSON.DEBUG", "MEMORY", key) or 0)
            if size > limit:
                raise ValidationError(f"{key_label(key)} holds a {size:,}-byte document; the "
                                      f"editor opens documents up to {limit:,}.")
            return await client.execute_command("JSON.GET", key)

        text = await self.run("JSON.GET", read)
        if text is None:
            raise NotFoundError(f"{key_label(key)} no longer exists (deleted or expired).")
        return bytes(text)
