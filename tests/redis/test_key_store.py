"""The key list's compact store behaves as a list of keys would, at a fraction of the memory."""

from __future__ import annotations

import sys

from hypothesis import given
from hypothesis import strategies as st

from studio_tui.widgets.redis.key_store import KeyStore

keys_ = st.lists(st.binary(max_size=8), max_size=40)


@given(st.lists(keys_, max_size=6), st.data())
def test_pages_read_back_as_one_list_with_removals_and_renames(pages, data):
    store, model = KeyStore(), []
    for page in pages:
        store.extend(page)
        model.extend(page)
    assert list(store) == model and len(store) == len(model) and store == model
    if model:
        start = data.draw(st.integers(0, len(model)))
        stop = data.draw(st.integers(start, len(model)))
        assert store[start:stop] == model[start:stop]
        index = data.draw(st.integers(-len(model), len(model) - 1))
        assert store[index] == model[index]
        victim = data.draw(st.sampled_from(model))
        store.remove(victim)
        model.remove(victim)
        assert list(store) == model
        if model:
            old = data.draw(st.sampled_from(model))
            at = store.replace(old, b"renamed\x00")
            model[model.index(old)] = b"renamed\x00"
            assert at == model.index(b"renamed\x00") and list(store) == model
        gone = set(data.draw(st.lists(st.sampled_from(model), max_size=5))) if model else set()
        store.remove_many(gone)
        model = [key for key in model if key not in gone]
        assert list(store) == model and len(store) == len(model)


def test_a_million_keys_cost_their_length_and_four_bytes_each():
    keys = [f"user:{n}:profile".encode() for n in range(1_000_000)]
    store = KeyStore()
    for start in range(0, len(keys), 1000):
        store.extend(keys[start:start + 1000])
    held = sum(sys.getsizeof(blob) for blob in store._blobs) + \
        sum(sys.getsizeof(offsets) for offsets in store._offsets)
    as_list = sys.getsizeof(keys) + sum(sys.getsizeof(key) for key in keys)
    assert held < 26_000_000 < as_list / 2
    assert store[999_999] == b"user:999999:profile" and b"user:5:profile" in store
