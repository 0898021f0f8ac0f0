"""Operations over many keys: delete everything matching a pattern (preview first, then UNLINK in
batches, stoppable at any point), and set algebra over chosen sets. All of it is long work: its
calls have the tier's query timeout."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from studio_tui.services.errors import ValidationError
from studio_tui.services.redis.keys import key_label

if TYPE_CHECKING:
    from studio_tui.services.redis.edits import RedisEdits
    from studio_tui.services.redis.service import RedisService

SAMPLE_SIZE = 20
DELETE_BATCH = 500
SET_RESULT_LIMIT = 1000


@dataclass(slots=True)
class BulkPreview:
    """What a bulk delete would take, growing page by page while the scan runs."""

    pattern: bytes
    matched: int = 0
    pages: int = 0
    sample: list[bytes] = field(default_factory=list)
    complete: bool = False


@dataclass(slots=True)
class BulkProgress:
    """Where a bulk delete is; the last one yielded is the final report."""

    pattern: bytes
    deleted: int = 0  # keys UNLINK actually removed
    matched: int = 0  # keys the scan handed over (some may have gone by themselves)
    batches: int = 0
    elapsed: float = 0.0
    complete: bool = False


def _require_pattern(pattern: bytes) -> None:
    if not pattern.strip():
        raise ValidationError("A bulk delete needs a pattern.",
                              field_errors={"pattern": "required"})


async def preview_delete(service: "RedisService", pattern: bytes, *, type_: str | None = None,
                         sample: int = SAMPLE_SIZE) -> AsyncIterator[BulkPreview]:
    """A full scan of what ``pattern`` matches: the running count and the first keys, yielded
    after every page so a screen can show progress."""
    _require_pattern(pattern)
    preview = BulkPreview(pattern)
    async for page in service.walk(match=pattern, type_=type_, long=True):
        preview.pages += 1
        preview.matched += len(page.keys)
        room = sample - len(preview.sample)
        if room > 0:
            preview.sample.extend(page.keys[:room])
        preview.complete = page.done
        yield preview


async def delete_matching(edits: "RedisEdits", pattern: bytes, *, type_: str | None = None,
                          batch: int = DELETE_BATCH) -> AsyncIterator[BulkProgress]:
    """UNLINK every key matching ``pattern`` in batches, yielding progress after each batch.
    Cancelling the consuming task stops between batches; what was deleted stays deleted and
    the last progress says how much. SCAN still returns every key that existed throughout, even
    while keys are being removed under it."""
    _require_pattern(pattern)
    progress = BulkProgress(pattern)
    started = time.perf_counter()
    pending: list[bytes] = []

    async def flush() -> None:
        chunk = pending[:batch]
        del pending[:batch]
        progress.deleted += await edits.delete(chunk, long=True)
        progress.batches += 1
        progress.elapsed = time.perf_counter() - started

    async for page in edits.service.walk(match=pattern, type_=type_, long=True):
        pending.extend(page.keys)
        progress.matched += len(page.keys)
        while len(pending) >= batch:
            await flush()
            yield progress
    while pending:
        await flush()
        if pending:
            yield progress
    progress.elapsed = time.perf_counter() - started
    progress.complete = True
    yield progress


SET_OPERATIONS = {"intersection": "SINTER", "union": "SUNION", "difference": "SDIFF"}


@dataclass(frozen=True, slots=True)
class SetAlgebraResult:
    operation: str
    keys: list[bytes]
    count: int  # members in the result
    members: list[bytes]  # the first SET_RESULT_LIMIT of them, sorted (empty when stored)
    stored_in: bytes | None = None


async def set_algebra(edits: "RedisEdits", operation: str, keys: Sequence[bytes], *,
                      store: bytes | None = None,
                      limit: int = SET_RESULT_LIMIT) -> SetAlgebraResult:
    """SINTER, SUNION or SDIFF (the first set minus the others) of ``keys``; with ``store`` the
    *STORE form writes the result to that key (a write: refused on read-only entries)."""
    command = SET_OPERATIONS.get(operation)
    if command is None:
        raise ValidationError(f"Unknown set operation {operation!r}; use one of "
                              f"{', '.join(SET_OPERATIONS)}.", field_errors={"operation": "unknown"})
    if len(keys) < 2:
        raise ValidationError("Set algebra needs at least two sets.",
                              field_errors={"keys": "two or more"})
    if store is not None:
        count = await edits.store_set_result(command, store, keys)
        return SetAlgebraResult(operation, list(keys), count, [], store)
    members = await edits.service.run(command, lambda client: client.execute_command(
        command, *keys), long=True)
    ordered = sorted(bytes(m) for m in members)
    return SetAlgebraResult(operation, list(keys), len(ordered), ordered[:limit])


def describe_keys(keys: Sequence[bytes], most: int = 3) -> str:
    shown = ", ".join(key_label(k) for k in keys[:most])
    return shown + (f" and {len(keys) - most} more" if len(keys) > most else "")
