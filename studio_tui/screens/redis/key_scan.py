"""Where the Redis browser's key scan is: its filter, its cursor, how many keys it lists before
it pauses, and whether `a` asked for all of them. A scan stopped by an error keeps its cursor,
so that `a` or `m` resumes it there instead of starting over."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing

from studio_tui.services.redis.keys import parse_key
from studio_tui.services.redis.models import ScanPage
from studio_tui.services.redis.service import DEFAULT_SCAN_COUNT, RedisService


class KeyScan:
    def __init__(self) -> None:
        # "scanning", "paused" (enough keys for now), "interrupted" (by an error) or "done";
        # tests wait on it too.
        self.state = "done"
        self.pattern, self.type_ = "*", None
        self.cursor = 0  # where the scan goes on from
        self.resumed_at: int | None = None  # the cursor it last resumed from, if it did
        self.pages = 0
        self.dbsize: int | None = None
        self.target = 0  # keys to list before pausing
        self.everything = False  # `a`: no pause, and long calls (the tier's query timeout)
        self.want_more = asyncio.Event()

    def restart(self, pattern: str, type_: str | None, target: int) -> None:
        self.pattern, self.type_, self.target = pattern, type_, target
        self.cursor, self.resumed_at, self.pages, self.everything = 0, None, 0, False

    def resume(self) -> None:
        """Go on from the cursor of the last page that arrived."""
        self.resumed_at = self.cursor

    def wanted(self, listed: int) -> bool:
        return self.everything or listed < self.target

    async def run(self, service: RedisService, listed: Callable[[], int],
                  arrived: Callable[[ScanPage, bool], None]) -> None:
        """Walk from ``cursor`` until ``listed()`` keys are enough, wait until more are wanted,
        and so on to the end; ``arrived(page, pausing)`` takes each page. Raises StudioError,
        leaving ``cursor`` where to resume."""
        self.state = "scanning"
        self.dbsize = await service.dbsize()
        while not await self._stretch(service, listed, arrived):
            while not self.wanted(listed()):
                self.state = "paused"
                self.want_more.clear()
                await self.want_more.wait()
                self.state = "scanning"
        self.state = "done"

    async def _stretch(self, service: RedisService, listed: Callable[[], int],
                       arrived: Callable[[ScanPage, bool], None]) -> bool:
        """One walk, until enough keys are listed or `a` changes the pace (each walk's SCANs
        are interactive calls, or long ones after `a`); True once the keyspace is covered."""
        long = self.everything
        async with aclosing(service.walk(match=parse_key(self.pattern), type_=self.type_,
                                         cursor=self.cursor, long=long)) as pages:
            async for page in pages:
                self.pages += 1
                self.cursor = page.cursor
                pausing = not self.wanted(listed() + len(page.keys))
                arrived(page, pausing)
                if page.done:
                    return True
                if pausing or self.everything != long:
                    return False
        return True

    def covered(self) -> str:
        scanned = min(self.pages * DEFAULT_SCAN_COUNT, self.dbsize or 0)  # COUNT is a hint
        return f"≈{scanned:,} of {self.dbsize or 0:,}"

    def progress(self) -> str:
        return f"scanned {self.covered()}"

    def describe(self, listed: int, *, done: bool) -> str:
        if done:
            text = f"scan complete over {self.dbsize or 0:,} keys"
        elif self.wanted(listed):
            text = self.progress().replace("scanned", "scanning", 1)
        else:
            text = f"{self.progress()} · paused, m for more"
        if self.resumed_at is not None:
            text += f" (resumed from cursor {self.resumed_at})"
        return text
