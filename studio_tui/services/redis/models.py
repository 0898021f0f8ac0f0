"""What the Redis services hand to the UI: plain, frozen dataclasses, no driver objects."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScanPage:
    keys: list[bytes]
    cursor: int  # 0 once the walk has covered the keyspace

    @property
    def done(self) -> bool:
        return self.cursor == 0


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key: bytes
    type: str  # "string", "hash", …, "ReJSON-RL", or "none" if it vanished
    ttl_ms: int  # -1 no expiry, -2 gone
    memory: int | None  # bytes, None when MEMORY USAGE is not allowed


@dataclass(frozen=True, slots=True)
class ValuePreview:
    """How big a value is, in its type's unit, and for strings the first bytes of it."""

    type: str
    length: int | None  # bytes for strings, members/fields/entries for the rest
    head: bytes | None = None


@dataclass(frozen=True, slots=True)
class ItemsPage:
    """One page of a collection: (member or field or index, value or score) pairs, and where
    the next page starts (a cursor or an index; 0 when there is no more)."""

    items: list[tuple[bytes, bytes | None]]
    next: int

    @property
    def done(self) -> bool:
        return self.next == 0


@dataclass(frozen=True, slots=True)
class StreamPage:
    entries: list[tuple[bytes, dict[bytes, bytes]]]
    last_id: bytes | None  # pass as ``after`` for the next page; None when there is no more


@dataclass(frozen=True, slots=True)
class StreamGroup:
    name: bytes
    pending: int
    last_delivered: bytes
    lag: int | None  # None when Redis cannot tell (entries deleted since)
    consumers: list[tuple[bytes, int, int]]  # (name, pending, idle ms)


@dataclass(frozen=True, slots=True)
class JsonDocument:
    size: int  # bytes in RedisJSON's memory
    text: bytes | None  # the whole document, when small enough
    kind: str = ""  # otherwise its top-level type …
    keys: list[bytes] | None = None  # … and its keys (object)
    length: int | None = None  # … or its length (array)
