"""Garbage-collection pauses, handled in one place for the whole app.

A full collection walks every tracked object, and most of them are the app's own long-lived
ones: modules, classes, Textual's widgets and styles, the drivers once imported. Walking them
stalled the UI 90-130 ms right after a keypress that opens a database, and 60-100 ms in the
middle of a big scan. So what exists before the first database is browsed is moved out of the
collector's walks (``gc.freeze()``): after a list is painted, after the drivers are imported
ahead, and just before the first browser is built.

After that nothing is frozen again, and nothing is unfrozen until the app ends: a browser's keys, rows and
documents must stay collectable, so leaving a browser gives its memory back, and no browser can
undo the freezing another one relies on. When a browser closes, what it held is collected and
given back to the system at once."""

from __future__ import annotations

import gc
import weakref

# How often the app looks for screens that have gone, and for how many looks it waits for one.
GIVE_BACK_EVERY, GIVE_BACK_LOOKS = 0.5, 40


class FrozenHeap:
    def __init__(self) -> None:
        self._browsed = False
        self.freezes = 0
        self._left: list[tuple[weakref.ref, int]] = []  # screens left, and looks remaining

    def left(self, screen: object) -> None:
        """``screen`` has been left: give back what it held once it is gone."""
        self._left.append((weakref.ref(screen), GIVE_BACK_LOOKS))

    @property
    def waiting(self) -> bool:
        return bool(self._left)

    def look_for_left_screens(self) -> None:
        """Called every ``GIVE_BACK_EVERY`` seconds while screens left are waiting: collect what
        was left, and hand the memory back once a left screen is really gone."""
        if not self._left:
            return
        gc.collect()
        if any(screen() is None for screen, _ in self._left):
            _trim_malloc()
        self._left = [(screen, looks - 1) for screen, looks in self._left
                      if screen() is not None and looks > 1]

    def freeze_long_lived(self) -> None:
        """Everything alive now is long-lived, unless a browser has been open: then its data
        (or its garbage) would be kept for good, so do nothing."""
        if not self._browsed:
            gc.freeze()
            self.freezes += 1

    def thaw(self) -> None:
        """The app is ending: give everything back (an embedding process, or a test run, goes on
        without it)."""
        if self.freezes:
            gc.unfreeze()
            self.freezes = 0
        self._browsed = False

    def before_browser(self) -> None:
        """Called just before the first (and every) browser is built."""
        self.freeze_long_lived()
        self._browsed = True


def _trim_malloc() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: its allocator decides for itself
        pass
