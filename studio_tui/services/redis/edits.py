"""Every write to Redis, each through ``RedisEdits.run``, and none silently overwriting someone
else's change.

Each edit of a value names what the user saw when they chose it (the field's value, the element
at an index, the member's score). WATCH, a check of that expectation, then MULTI/EXEC make check
and write one step: if another client got there first, the edit raises ``ConflictError`` and
writes nothing, and the caller keeps the user's input. Every edit is a write, so read-only
entries refuse it in the connection manager."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from studio_tui.services.errors import (
    ConflictError,
    ConnectionFailedError,
    NotFoundError,
    ServerError,
    ValidationError,
)
from studio_tui.services.redis.insight import node_target
from studio_tui.services.redis.keys import key_label

if TYPE_CHECKING:
    from studio_tui.services.redis.service import RedisService

CREATABLE_TYPES = ("string", "hash", "list", "set", "zset", "stream", "ReJSON-RL")

Check = Callable[[Any], Awaitable[str | None]]  # a problem to report, or None to go ahead
Queue = Callable[[Any], None]


def parse_number(text: str, what: str = "amount") -> int | float:
    """An integer when it reads as one (HINCRBY), else a float (HINCRBYFLOAT)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        raise ValidationError(f"The {what} {text!r} is not a number.",
                              field_errors={what: "a number"}) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValidationError(f"The {what} must be a finite number.",
                              field_errors={what: "a finite number"})
    return number


class RedisEdits:
    """The writes to one entry (one logical database of it), each through ``run``."""

    def __init__(self, service: "RedisService") -> None:
        self.service = service

    async def run(self, operation: str, fn: Callable[[Any], Awaitable[Any]], *,
                  long: bool = False, target: bytes | str = b"") -> Any:
        """The one way a write reaches Redis: the service's ops cap and the connection manager's
        single path, as a write (so a read-only entry refuses it there)."""
        if isinstance(target, bytes):
            target = target.decode(errors="backslashreplace")
        return await self.service.run(operation, fn, write=True, long=long, target=target)

    async def _watched(self, operation: str, key: bytes, check: Check, queue: Queue) -> list:
        from redis.exceptions import WatchError

        async def apply(client) -> list:
            async with client.pipeline(transaction=True) as pipe:
                await pipe.watch(key)
                problem = await check(pipe)
                if problem is not None:
                    raise ConflictError(f"{problem} Nothing was written; your input is kept.")
                pipe.multi()
                queue(pipe)
                try:
                    return await pipe.execute()
                except WatchError as exc:
                    if "occurred while watching" in str(exc):
                        # redis-py's words for a connection lost mid-transaction, not a change
                        # by someone else: the EXEC may have been applied.
                        raise ConnectionFailedError(
                            f"The connection was lost while saving {key_label(key)}: it may "
                            "or may not have been written (reload to see); your input is "
                            "kept.") from None
                    raise ConflictError(f"{key_label(key)} changed while saving. Nothing was "
                                        "written; your input is kept.") from None

        return await self.run(operation, apply)

    # -- whole keys -----------------------------------------------------------------------------
    async def delete(self, keys: Sequence[bytes], *, long: bool = False) -> int:
        """UNLINK (non-blocking on the server); returns how many existed. ``long`` for a
        batch of a bulk delete."""
        if not keys:
            return 0
        named = keys[0] if len(keys) == 1 else f"{len(keys)} keys"
        return int(await self.run("UNLINK", lambda client: client.unlink(*keys), long=long,
                                  target=named))

    async def set_ttl(self, key: bytes, seconds: int | None) -> None:
        """Expire in ``seconds``, or never (PERSIST) when None."""
        if seconds is not None and seconds <= 0:
            raise ValidationError("A TTL is a positive number of seconds.",
                                  field_errors={"ttl": "positive seconds"})

        async def apply(client) -> bool:
            if seconds is None:
                await client.persist(key)
                return bool(await client.exists(key))
            return bool(await client.expire(key, seconds))

        if not await self.run("EXPIRE" if seconds else "PERSIST", apply):
            raise NotFoundError(f"The key {key_label(key)} no longer exists.")

    async def rename(self, key: bytes, new_key: bytes) -> None:
        """RENAMENX: never overwrites an existing key."""
        if not new_key:
            raise ValidationError("A key name cannot be empty.", field_errors={"name": "required"})

        async def apply(client) -> None:
            if not await client.renamenx(key, new_key):  # raised in here, it is logged
                raise ConflictError(f"A key named {key_label(new_key)} already exists; "
                                    "nothing was renamed.")

        try:
            await self.run("RENAME", apply)
        except ServerError as error:
            if "no such key" in error.detail.lower():
                raise NotFoundError(f"The key {key_label(key)} no longer exists.") from None
            raise

    async def store_set_result(self, command: str, store: bytes, keys: Sequence[bytes]) -> int:
        """SINTERSTORE, SUNIONSTORE or SDIFFSTORE (``command`` without STORE) of ``keys`` into
        ``store``; returns how many members the result holds."""
        return int(await self.run(f"{command}STORE", lambda client: client.execute_command(
            f"{command}STORE", store, *keys), long=True))

    async def reset_slowlog(self, node: str | None = None) -> None:
        """Changes server state, so it counts as a write (refused on read-only entries)."""
        await self.run("SLOWLOG RESET", lambda client: client.slowlog_reset(
            **node_target(client, node)))

    @staticmethod
    async def _type_is(pipe, key: bytes, expected: str) -> str | None:
        found = (await pipe.type(key)).decode()
        if found == "none":
            return f"{key_label(key)} no longer exists (deleted or expired)."
        if found != expected:
            return f"{key_label(key)} is now a {found}, not a {expected}."
        return None

    # -- create ---------------------------------------------------------------------------------
    async def create(self, key: bytes, type_: str, *, value: bytes = b"",
                     field: bytes = b"", score: str = "0", ttl: int | None = None) -> None:
        """A new key holding one first item (Redis has no empty collections): the string's
        value, a hash field, a list element, a set member, a scored zset member, a stream entry
        field, or a JSON document. Never replaces an existing key."""
        if not key:
            raise ValidationError("A key name cannot be empty.", field_errors={"key": "required"})
        if type_ not in CREATABLE_TYPES:
            raise ValidationError(f"Unknown type {type_!r}.", field_errors={"type": "unknown"})
        if ttl is not None and ttl <= 0:
            raise ValidationError("A TTL is a positive number of seconds.",
                                  field_errors={"ttl": "positive seconds"})
        if type_ in ("hash", "stream") and not field:
            raise ValidationError(f"A new {type_} needs a first field name.",
                                  field_errors={"field": "required"})
        number = parse_number(score, "score") if type_ == "zset" else 0
        if type_ == "ReJSON-RL":
            try:
                json.loads(value)
            except ValueError as error:
                raise ValidationError(f"Not valid JSON: {error}.",
                                      field_errors={"value": "JSON"}) from None

        async def check(pipe) -> str | None:
            # TYPE, not EXISTS: a cluster client splits EXISTS by slot, which a watched
            # cluster pipeline cannot run.
            if await pipe.type(key) != b"none":
                return f"A key named {key_label(key)} already exists."
            return None

        def queue(pipe) -> None:
            if type_ == "string":
                pipe.set(key, value)
            elif type_ == "hash":
                pipe.hset(key, field, value)
            elif type_ == "list":
                pipe.rpush(key, value)
            elif type_ == "set":
                pipe.sadd(key, value)
            elif type_ == "zset":
                pipe.zadd(key, {value: number})
            elif type_ == "stream":
                pipe.xadd(key, {field: value})
            else:
                pipe.execute_command("JSON.SET", key, "$", value)
            if ttl is not None:
                pipe.expire(key, ttl)

        await self._watched(f"CREATE {type_}", key, check, queue)

    # -- string ---------------------------------------------------------------------------------
    async def string_set(self, key: bytes, value: bytes, *, expected: bytes | None) -> None:
        """Replace a string value, unless it changed since it was read as ``expected`` (None:
        the key must not exist). The TTL is kept."""

        async def check(pipe) -> str | None:
            if await pipe.get(key) == expected:
                return None
            return f"{key_label(key)} was changed by someone else since you loaded it."

        await self._watched("SET", key, check,
                            lambda pipe: pipe.set(key, value, keepttl=True))

    # -- RedisJSON --------------------------------------------------------------------------------
    async def json_set(self, key: bytes, text: bytes, *, expected: bytes) -> None:
        """Replace the document, if the server still holds ``expected`` (as
        ``RedisService.json_text`` read it). The text must be valid JSON; the TTL is kept."""
        try:
            json.loads(text)
        except ValueError as error:
            raise ValidationError(f"Not valid JSON: {error}.",
                                  field_errors={"value": "JSON"}) from None

        async def check(pipe) -> str | None:
            if problem := await self._type_is(pipe, key, "ReJSON-RL"):
                return problem
            if await pipe.execute_command("JSON.GET", key) != expected:
                return f"{key_label(key)} was changed by someone else since you loaded it."
            return None

        await self._watched("JSON.SET", key, check,
                            lambda pipe: pipe.execute_command("JSON.SET", key, "$", text))

    # -- hash -----------------------------------------------------------------------------------
    async def hash_set(self, key: bytes, field: bytes, value: bytes, *,
                       expected: bytes | None) -> None:
        """HSET, if the field still holds ``expected`` (None: the field must be new)."""

        async def check(pipe) -> str | None:
            if problem := await self._type_is(pipe, key, "hash"):
                return problem
            current = await pipe.hget(key, field)
            if current == expected:
                return None
            if expected is None:
                return f"The field {key_label(field)} was added by someone else meanwhile."
            return f"The field {key_label(field)} was changed or removed by someone else."

        await self._watched("HSET", key, check, lambda pipe: pipe.hset(key, field, value))

    async def hash_delete(self, key: bytes, field: bytes, *, expected: bytes) -> None:
        async def check(pipe) -> str | None:
            if problem := await self._type_is(pipe, key, "hash"):
                return problem
            if await pipe.hget(key, field) != expected:
                return f"The field {key_label(field)} was changed or removed by someone else."
            return None

        await self._watched("HDEL", key, check, lambda pipe: pipe.hdel(key, field))

    async def hash_increment(self, key: bytes, field: bytes, amount: str) -> bytes:
        """HINCRBY or HINCRBYFLOAT; an increment commutes with others, so it is not watched."""
        number = parse_number(amount)
        command = "HINCRBY" if isinstance(number, int) else "HINCRBYFLOAT"
        result = await self.run(
            command, lambda client: client.execute_command(command, key, field, number))
        return str(result).encode() if not isinstance(result, bytes) else result

    # -- list -----------------------------------------------------------------------------------
    async def _element_is(self, pipe, key: bytes, index: int, expected: bytes) -> str | None:
        if problem := await self._type_is(pipe, key, "list"):
            return problem
        if await pipe.lindex(key, index) != expected:
            return f"The element at index {index} was changed, moved or removed by someone else."
        return None

    async def list_set(self, key: bytes, index: int, value: bytes, *, expected: bytes) -> None:
        async def check(pipe) -> str | None:
            return await self._element_is(pipe, key, index, expected)

        await self._watched("LSET", key, check, lambda pipe: pipe.lset(key, index, value))

    async def list_push(self, key: bytes, values: Sequence[bytes], *, head: bool) -> None:
        """LPUSH or RPUSH onto an existing list (never creates one behind a deleted key)."""
        if not values:
            raise ValidationError("Nothing to push.", field_errors={"value": "required"})

        async def check(pipe) -> str | None:
            return await self._type_is(pipe, key, "list")

        def queue(pipe) -> None:
            (pipe.lpush if head else pipe.rpush)(key, *values)

        await self._watched("LPUSH" if head else "RPUSH", key, check, queue)

    async def list_insert(self, key: bytes, index: int, value: bytes, *, expected: bytes,
                          before: bool) -> None:
        """LINSERT next to the element at ``index``. LINSERT finds its pivot by value, so it is
        refused when an equal element sits earlier in the list (it would land there instead)."""

        async def check(pipe) -> str | None:
            if problem := await self._element_is(pipe, key, index, expected):
                return problem
            first = await pipe.execute_command("LPOS", key, expected)
            if first is not None and int(first) != index:
                return (f"LINSERT places by value, and an equal element sits earlier, at index "
                        f"{first}; the new element would land there.")
            return None

        await self._watched("LINSERT", key, check, lambda pipe: pipe.linsert(
            key, "BEFORE" if before else "AFTER", expected, value))

    async def list_remove_at(self, key: bytes, index: int, *, expected: bytes) -> None:
        """Remove exactly the element at ``index``: LSET it to a unique marker, then LREM that
        marker, inside one MULTI so nobody sees the marker."""
        marker = b"\x00studio-tui-removed:" + os.urandom(16)

        async def check(pipe) -> str | None:
            return await self._element_is(pipe, key, index, expected)

        def queue(pipe) -> None:
            pipe.lset(key, index, marker)
            pipe.lrem(key, 1, marker)

        await self._watched("LREM", key, check, queue)

    async def list_remove_value(self, key: bytes, value: bytes, count: int = 0) -> int:
        """LREM as Redis defines it: ``count`` occurrences from the head (negative: from the
        tail; 0: all). Returns how many went."""
        return int(await self.run("LREM", lambda client: client.lrem(key, count, value)))

    # -- set ------------------------------------------------------------------------------------
    async def set_add(self, key: bytes, members: Sequence[bytes]) -> int:
        if not members:
            raise ValidationError("Nothing to add.", field_errors={"value": "required"})

        async def check(pipe) -> str | None:
            return await self._type_is(pipe, key, "set")

        replies = await self._watched("SADD", key, check, lambda pipe: pipe.sadd(key, *members))
        return int(replies[0])

    async def set_remove(self, key: bytes, member: bytes) -> None:
        async def check(pipe) -> str | None:
            if problem := await self._type_is(pipe, key, "set"):
                return problem
            if not await pipe.sismember(key, member):
                return f"The member {key_label(member)} was already removed by someone else."
            return None

        await self._watched("SREM", key, check, lambda pipe: pipe.srem(key, member))

    # -- sorted set -----------------------------------------------------------------------------
    async def _score_is(self, pipe, key: bytes, member: bytes,
                        expected: float | None) -> str | None:
        if problem := await self._type_is(pipe, key, "zset"):
            return problem
        current = await pipe.zscore(key, member)
        if current == expected:
            return None
        if expected is None:
            return f"The member {key_label(member)} was added by someone else meanwhile."
        return f"The score of {key_label(member)} was changed, or it was removed, meanwhile."

    async def zset_add(self, key: bytes, member: bytes, score: str, *,
                       expected: float | None) -> None:
        """ZADD a new member (``expected`` None) or a new score for one whose score was
        ``expected``."""
        number = float(parse_number(score, "score"))

        async def check(pipe) -> str | None:
            return await self._score_is(pipe, key, member, expected)

        await self._watched("ZADD", key, check, lambda pipe: pipe.zadd(key, {member: number}))

    async def zset_increment(self, key: bytes, member: bytes, amount: str) -> float:
        number = float(parse_number(amount))
        return float(await self.run(
            "ZINCRBY", lambda client: client.zincrby(key, number, member)))

    async def zset_remove(self, key: bytes, member: bytes, *, expected: float) -> None:
        async def check(pipe) -> str | None:
            return await self._score_is(pipe, key, member, expected)

        await self._watched("ZREM", key, check, lambda pipe: pipe.zrem(key, member))

    # -- stream ---------------------------------------------------------------------------------
    async def stream_add(self, key: bytes, fields: dict[bytes, bytes], *,
                         entry_id: bytes = b"*") -> bytes:
        if not fields or not all(fields):
            raise ValidationError("A stream entry needs at least one named field.",
                                  field_errors={"field": "required"})

        async def check(pipe) -> str | None:
            return await self._type_is(pipe, key, "stream")

        replies = await self._watched("XADD", key, check,
                                      lambda pipe: pipe.xadd(key, fields, id=entry_id))
        return bytes(replies[0])

    async def stream_delete(self, key: bytes, entry_id: bytes) -> None:
        async def check(pipe) -> str | None:
            if problem := await self._type_is(pipe, key, "stream"):
                return problem
            if not await pipe.xrange(key, min=entry_id, max=entry_id, count=1):
                return f"The entry {entry_id.decode()} was already removed by someone else."
            return None

        await self._watched("XDEL", key, check, lambda pipe: pipe.xdel(key, entry_id))
