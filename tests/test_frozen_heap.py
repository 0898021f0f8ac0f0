"""The app's one place for garbage-collection pauses: freeze what is long-lived, before any
browser, and never freeze a browser's data."""

from __future__ import annotations

import gc

from studio_tui.frozen_heap import FrozenHeap


def test_what_exists_before_the_first_browser_is_frozen():
    heap = FrozenHeap()
    try:
        long_lived = [object()]
        heap.freeze_long_lived()
        assert gc.get_freeze_count() >= 1 and heap.freezes == 1
        del long_lived
    finally:
        gc.unfreeze()


def test_nothing_is_frozen_once_a_browser_has_been_built():
    heap = FrozenHeap()
    try:
        heap.before_browser()
        frozen = gc.get_freeze_count()
        browser_data = [[n] for n in range(1000)]  # tracked objects a browser would hold
        heap.freeze_long_lived()
        heap.before_browser()
        # Nothing more was frozen (a frozen object may have been freed meanwhile).
        assert gc.get_freeze_count() <= frozen and heap.freezes == 1
        del browser_data
    finally:
        gc.unfreeze()
