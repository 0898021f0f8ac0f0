"""Garbage-collection pauses, handled in one place for the whole app.

A full collection walks every tracked object; with a big keyspace on screen that stalls the UI
60-100 ms in the middle of a scan. A browser holds the heap frozen while it is open
(``gc.freeze()`` moves what exists now out of the collector's walks). Holds are counted: the
heap is unfrozen only when the last holder lets go, so a browser closing on top of another
cannot unfreeze the one below."""

from __future__ import annotations

import gc


class FrozenHeap:
    def __init__(self) -> None:
        self._holders: set[int] = set()

    @property
    def held(self) -> bool:
        return bool(self._holders)

    def hold(self, holder: object) -> None:
        self._holders.add(id(holder))
        gc.freeze()  # again for each holder: what it built since is long-lived too

    def release(self, holder: object) -> None:
        if id(holder) not in self._holders:
            return
        self._holders.discard(id(holder))
        if not self._holders:
            gc.unfreeze()
