"""A time limit that holds even against code that swallows a cancel.

``asyncio.timeout`` cancels the task once. Python 3.11's ``asyncio.wait_for`` (which drivers wrap
around their socket writes) returns its result instead of raising when that cancel lands just as
what it awaits completes; the driver then goes on, into a read, a retry, a reconnect, and a call
meant to take 1 s against a hung server takes minutes. This deadline cancels again until the
block ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

RECANCEL_EVERY = 0.1  # seconds between cancels once the deadline has passed


@asynccontextmanager
async def deadline_at(when: float) -> AsyncIterator[None]:
    """Raise TimeoutError out of the block if it has not ended by loop time ``when``. A cancel
    from outside (the user's) still comes out as CancelledError."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None, "a deadline needs a task"
    before = task.cancelling()
    sent = 0

    def expire() -> None:
        nonlocal sent, handle
        sent += 1
        task.cancel()
        handle = loop.call_later(RECANCEL_EVERY, expire)

    handle = loop.call_at(when, expire)
    try:
        yield
    except asyncio.CancelledError:
        if sent:
            others, sent = _take_back(task, sent), 0
            if others == before:
                raise TimeoutError from None
        raise
    finally:
        handle.cancel()
        if sent:  # the block ended all the same (it swallowed every cancel)
            _take_back(task, sent)


def _take_back(task: asyncio.Task, cancels: int) -> int:
    """Withdraw the deadline's own cancel requests; the ones left are someone else's."""
    for _ in range(cancels):
        task.uncancel()
    return task.cancelling()
