"""The namespace index: counts per prefix, bounded samples, any delimiter."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from studio_tui.services.redis.namespaces import NamespaceIndex


def test_counts_and_children_per_prefix():
    index = NamespaceIndex(b":")
    index.add([b"user:1:name", b"user:1:mail", b"user:2:name", b"session:9", b"plain"])
    index.add([b"user:3:name"])
    assert index.root.count == 6
    assert [(n.name, n.count) for n in index.top()] == [(b"user", 4), (b"session", 1)]
    user = index.node(b"user")
    assert sorted(user.children) == [b"user:1", b"user:2", b"user:3"]
    assert index.node(b"user:1").keys == [b"user:1:name", b"user:1:mail"]
    assert index.root.keys == [b"plain"]
    assert index.node(b"nope") is None


def test_a_million_keys_under_one_prefix_keep_one_node_and_a_sample():
    index = NamespaceIndex(b":", sample=100)
    index.add([f"user:{n}".encode() for n in range(1_000_000)])
    user = index.node(b"user")
    assert user.count == 1_000_000 and not user.children
    assert len(user.keys) == 100 and user.more_keys == 999_900


def test_another_delimiter():
    index = NamespaceIndex(b"/")
    index.add([b"a/b/c", b"a/d", b"x:y"])
    assert [(n.name, n.count) for n in index.top()] == [(b"a", 2)]
    assert index.root.keys == [b"x:y"]


@given(st.lists(st.binary(max_size=12), max_size=60))
def test_every_key_is_counted_once_at_the_root_and_along_its_path(keys):
    index = NamespaceIndex(b":")
    index.add(keys)
    assert index.root.count == len(keys)
    assert sum(n.count for n in index.root.children.values()) + len(index.root.keys) \
        + index.root.more_keys == len(keys)
    assert index.root.parts == index.root.count


def test_a_namespace_per_key_is_counted_not_listed_past_the_limit():
    index = NamespaceIndex(b":", children=100)
    keys = [f"user:{n}:profile".encode() for n in range(100_000)] + [b"user:7:tokens"]
    index.add(keys)
    user = index.node(b"user")
    assert user.count == 100_001 and len(user.children) == 100
    assert user.unlisted == 100_000 - 100 and index.node(b"user:7").count == 2
    assert user.parts == user.count  # listed + own keys + unlisted add up


@given(st.lists(st.binary(max_size=12), max_size=60), st.integers(1, 4))
def test_every_node_adds_up_whatever_the_limit(keys, limit):
    index = NamespaceIndex(b":", children=limit, sample=2)
    index.add(keys)
    stack = [index.root]
    while stack:
        node = stack.pop()
        assert node.parts == node.count
        stack.extend(node.children.values())
