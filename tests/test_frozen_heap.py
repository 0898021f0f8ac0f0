"""The app's one place for garbage-collection pauses: stacked holders, counted."""

from __future__ import annotations

import gc

from studio_tui.frozen_heap import FrozenHeap


def test_a_browser_closing_on_top_of_another_leaves_the_heap_frozen_for_the_one_below():
    heap, below, above = FrozenHeap(), object(), object()
    try:
        heap.hold(below)
        heap.hold(above)
        heap.release(above)
        assert heap.held and gc.get_freeze_count() > 0
        heap.release(below)
        assert not heap.held and gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


def test_releasing_twice_or_without_a_hold_changes_nothing():
    heap, holder, stranger = FrozenHeap(), object(), object()
    try:
        heap.hold(holder)
        heap.release(stranger)
        assert gc.get_freeze_count() > 0
        heap.release(holder)
        heap.release(holder)
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
