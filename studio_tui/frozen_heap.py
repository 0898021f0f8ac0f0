"""Garbage-collection pauses, handled in one place for the whole app.

A full collection walks every tracked object, and most of them are the app's own long-lived
ones: modules, classes, Textual's widgets and styles, the drivers once imported. Walking them
stalled the UI 90-130 ms right after a keypress that opens a database, and 60-100 ms in the
middle of a big scan. So what exists before the first database is browsed is moved out of the
collector's walks (``gc.freeze()``): after a list is painted, after the drivers are imported
ahead, and just before the first browser is built.

After that nothing is frozen again, and nothing is unfrozen until the app ends: a browser's keys, rows and
documents must stay collectable, so leaving a browser gives its memory back, and no browser can
undo the freezing another one relies on."""

from __future__ import annotations

import gc


class FrozenHeap:
    def __init__(self) -> None:
        self._browsed = False
        self.freezes = 0

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
