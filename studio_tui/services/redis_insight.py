"""What the Redis server says about itself: INFO by section, SLOWLOG, connected clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio_tui.services.redis_keys import display_key
from studio_tui.services.redis_service import RedisService

INFO_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                 "keyspace")


@dataclass(frozen=True, slots=True)
class SlowEntry:
    id: int
    at: int  # unix seconds
    micros: int
    command: str
    client: str


async def info_sections(service: RedisService) -> dict[str, dict[str, Any]]:
    """Each INFO section as its own mapping, in one round trip."""
    async def read(client) -> list[dict]:
        pipe = client.pipeline(transaction=False)
        for section in INFO_SECTIONS:
            pipe.info(section)
        return await pipe.execute()

    replies = await service.run("INFO", read)
    return {section: dict(reply) for section, reply in zip(INFO_SECTIONS, replies, strict=True)}


async def slowlog(service: RedisService, count: int = 128) -> list[SlowEntry]:
    entries = await service.run("SLOWLOG GET", lambda client: client.slowlog_get(count))
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


async def reset_slowlog(service: RedisService) -> None:
    """Changes server state, so it counts as a write (refused on read-only entries)."""
    await service.run("SLOWLOG RESET", lambda client: client.slowlog_reset(), write=True)


async def clients(service: RedisService) -> list[dict[str, str]]:
    replies = await service.run("CLIENT LIST", lambda client: client.client_list())
    return [{str(k): str(v) for k, v in reply.items()} for reply in replies]
