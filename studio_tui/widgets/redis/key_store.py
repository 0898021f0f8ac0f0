"""The key list's memory: keys held page by page, each page one bytes buffer and an array of
offsets into it, so a key costs its own length plus four bytes. A list of a million `bytes`
objects costs about 60 bytes a key more, and gives the collector a million-entry list to walk.
Reads are cheap (a slice of one page); removals rebuild the one page that held the key."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate
from typing import overload


class KeyStore(Sequence[bytes]):
    def __init__(self, keys: Iterable[bytes] = ()) -> None:
        self._blobs: list[bytes] = []
        self._offsets: list[array] = []
        self._starts: list[int] = []  # index of each page's first key
        self._length = 0
        self.extend(list(keys))

    # -- reading --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> bytes: ...

    @overload
    def __getitem__(self, index: slice) -> list[bytes]: ...

    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._length)
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return self._range(start, stop)
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("key index out of range")
        page = bisect_right(self._starts, index) - 1
        offsets, at = self._offsets[page], index - self._starts[page]
        return self._blobs[page][offsets[at]:offsets[at + 1]]

    def _range(self, start: int, stop: int) -> list[bytes]:
        keys: list[bytes] = []
        page = max(0, bisect_right(self._starts, start) - 1)
        while start < stop and page < len(self._blobs):
            blob, offsets, first = self._blobs[page], self._offsets[page], self._starts[page]
            end = min(stop, first + len(offsets) - 1)
            keys.extend(blob[offsets[i - first]:offsets[i - first + 1]] for i in range(start, end))
            start, page = end, page + 1
        return keys

    def _page_keys(self, page: int) -> list[bytes]:
        blob, offsets = self._blobs[page], self._offsets[page]
        return [blob[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]

    def __iter__(self) -> Iterator[bytes]:
        for page in range(len(self._blobs)):
            yield from self._page_keys(page)

    def _find(self, key: bytes) -> tuple[int, int] | None:
        """(page, position in it) of ``key``; a page whose buffer does not contain the bytes at
        all is skipped without splitting it."""
        for page, blob in enumerate(self._blobs):
            if key in blob:
                keys = self._page_keys(page)
                if key in keys:
                    return page, keys.index(key)
        return None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, bytes) and self._find(key) is not None

    def index(self, key: bytes, start: int = 0, stop: int | None = None) -> int:
        found = self._find(key)
        if found is None:
            raise ValueError(f"{key!r} is not held")
        return self._starts[found[0]] + found[1]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (KeyStore, list, tuple)):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"KeyStore({self._length:,} keys in {len(self._blobs)} pages)"

    # -- writing --------------------------------------------------------------------------------
    def extend(self, keys: list[bytes]) -> None:
        if not keys:
            return
        self._starts.append(self._length)
        blob = b"".join(keys)
        self._blobs.append(blob)
        self._offsets.append(_offsets(keys, blob))
        self._length += len(keys)

    def _rebuild(self, page: int, keys: list[bytes]) -> None:
        """Replace one page's keys; later pages move by the difference."""
        removed = len(self._offsets[page]) - 1 - len(keys)
        if keys:
            self._blobs[page] = b"".join(keys)
            self._offsets[page] = _offsets(keys, self._blobs[page])
        else:
            del self._blobs[page], self._offsets[page], self._starts[page]
            page -= 1
        for later in range(page + 1, len(self._starts)):
            self._starts[later] -= removed
        self._length -= removed

    def remove(self, key: bytes) -> None:
        found = self._find(key)
        if found is None:
            raise ValueError(f"{key!r} is not held")
        page, at = found
        keys = self._page_keys(page)
        del keys[at]
        self._rebuild(page, keys)

    def remove_many(self, gone: set[bytes]) -> None:
        for page in reversed(range(len(self._blobs))):
            keys = self._page_keys(page)
            kept = [key for key in keys if key not in gone]
            if len(kept) != len(keys):
                self._rebuild(page, kept)

    def replace(self, old: bytes, new: bytes) -> int | None:
        """Put ``new`` where ``old`` was; its index, or None when ``old`` is not held."""
        found = self._find(old)
        if found is None:
            return None
        page, at = found
        keys = self._page_keys(page)
        keys[at] = new
        self._blobs[page] = b"".join(keys)
        self._offsets[page] = _offsets(keys, self._blobs[page])
        return self._starts[page] + at


def _offsets(keys: list[bytes], blob: bytes) -> array:
    """Where each key starts in ``blob``, and where the last ends: four bytes each."""
    return array("I" if len(blob) < 2**32 else "Q", accumulate(map(len, keys), initial=0))
